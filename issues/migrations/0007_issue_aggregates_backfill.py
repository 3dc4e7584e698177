"""Backfill the aggregates (issue 23) from the occurrences already stored.

In batches of issues, each in its own transaction, so a large table is not one long
transaction; resumable: a batch whose counted issues all have their daily rows is skipped, so a
migration stopped half way (a deploy cancelled, a timeout) carries on where it stopped when it is
run again. The per project rows (filter values, status counts) come last, one project at a time.
"""

from django.db import migrations, transaction
from django.db.models import Exists, OuterRef

from issues.aggregates import (
    issues_recomputed,
    issues_replace,
    project_recomputed,
    project_replace,
)

BATCH_ISSUES = 500


def backfill(apps, schema_editor):
    Issue = apps.get_model("issues", "Issue")
    IssueDayCount = apps.get_model("issues", "IssueDayCount")
    Project = apps.get_model("ingest", "Project")
    ids = list(Issue.objects.filter(times_seen__gt=0).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH_ISSUES):
        batch = ids[start : start + BATCH_ISSUES]
        with transaction.atomic():
            missing = (
                Issue.objects.filter(pk__in=batch)
                .exclude(Exists(IssueDayCount.objects.filter(issue_id=OuterRef("pk"))))
                .exists()
            )
            if missing:
                issues_replace(batch, issues_recomputed(batch, apps), apps)
    for project_id in Project.objects.order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            project_replace(project_id, project_recomputed(project_id, apps), apps)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("issues", "0006_issue_aggregates")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
