"""``ProjectFilterValue.first_seen``: when the project first saw each filter value, so that the
order of its releases (an issue resolved in the next release) is read from these rows, not
grouped from every occurrence (issue 23).

Backfilled from the occurrences one project at a time, each in its own transaction; resumable
(only the rows still without a first seen are written). A value whose occurrences are gone takes
its last seen.
"""

from django.db import migrations, models, transaction

from issues.aggregates import project_recomputed


def backfill(apps, schema_editor):
    ProjectFilterValue = apps.get_model("issues", "ProjectFilterValue")
    missing = ProjectFilterValue.objects.filter(first_seen__isnull=True)
    for project_id in missing.order_by().values_list("project_id", flat=True).distinct():
        with transaction.atomic():
            first_seen = project_recomputed(project_id, apps).filters_first
            rows = list(missing.filter(project_id=project_id))
            for row in rows:
                row.first_seen = first_seen.get((project_id, row.field, row.value), row.last_seen)
            ProjectFilterValue.objects.bulk_update(rows, ["first_seen"], batch_size=500)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("issues", "0011_issue_search_indexes")]

    operations = [
        migrations.AddField(
            model_name="projectfiltervalue",
            name="first_seen",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="projectfiltervalue",
            name="first_seen",
            field=models.DateTimeField(
                help_text="The earliest occurrence with this value: the order of the project's "
                "releases (resolved in the next release)."
            ),
        ),
    ]
