from django.db import migrations


def create_default_settings(apps, schema_editor):
    """Projects created before this app existed get their settings row with the defaults."""
    Project = apps.get_model("ingest", "Project")
    DetectionSettings = apps.get_model("replays", "DetectionSettings")
    existing = set(DetectionSettings.objects.values_list("project_id", flat=True))
    DetectionSettings.objects.bulk_create(
        DetectionSettings(project_id=pk)
        for pk in Project.objects.values_list("id", flat=True)
        if pk not in existing
    )


class Migration(migrations.Migration):
    dependencies = [("replays", "0001_initial"), ("ingest", "0001_initial")]

    operations = [migrations.RunPython(create_default_settings, migrations.RunPython.noop)]
