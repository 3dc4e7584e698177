"""Weekly element rows beside the daily ones, one row an element a week with its clicks of each
type (issue 23: the elements page's ranges), filled from the daily rows already stored.

One project at a time, each in its own transaction (one grouping of its daily rows by week,
inserted a thousand rows at a time), so a large table is not one long transaction. Each project's
weekly rows are replaced by the sums of its daily rows, so running it again (a migration stopped
half way) gives the same rows, never doubled ones; ``check_aggregates`` compares them with the
occurrences as it compares the daily ones.
"""

import django.db.models.deletion
from django.db import migrations, models, transaction

from issues.aggregates import element_weeks_replace


def backfill(apps, schema_editor):
    ElementDayCount = apps.get_model("issues", "ElementDayCount")
    Project = apps.get_model("ingest", "Project")
    for project_id in Project.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            if ElementDayCount.objects.filter(project_id=project_id).exists():
                element_weeks_replace(project_id, apps)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ingest", "0004_project_slug_and_issue_counter"),
        ("issues", "0012_filter_value_first_seen"),
    ]

    operations = [
        migrations.CreateModel(
            name="ElementWeekCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("week", models.DateField(help_text="The week's Monday (UTC).")),
                ("selector", models.CharField(max_length=1024)),
                ("dead", models.PositiveIntegerField(default=0)),
                ("rage", models.PositiveIntegerField(default=0)),
                ("slow", models.PositiveIntegerField(default=0)),
                ("total", models.PositiveIntegerField(default=0)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="element_week_counts",
                        to="ingest.project",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("project", "week", "selector"),
                        name="unique_element_week_count",
                    )
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
