"""Backfill the element rows (issue 23: the elements page) from the occurrences already stored.

One project at a time, each in its own transaction (one grouping of its occurrences by their
issue's selector and type), so a large table is not one long transaction; resumable: a project
that has element rows already is skipped (the consumers keep them from the moment this schema
is in), so a migration stopped half way carries on where it stopped when it is run again.
"""

from django.db import migrations, transaction

from issues.aggregates import elements_recomputed, elements_replace


def backfill(apps, schema_editor):
    ElementCount = apps.get_model("issues", "ElementCount")
    Occurrence = apps.get_model("issues", "Occurrence")
    Project = apps.get_model("ingest", "Project")
    for project_id in Project.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            if ElementCount.objects.filter(project_id=project_id).exists():
                continue
            if not Occurrence.objects.filter(project_id=project_id).exists():
                continue
            elements_replace(project_id, elements_recomputed(project_id, apps), apps)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("issues", "0009_element_counts")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
