"""Migration issues 0008_issue_status_details_and_activity: the issues made before it keep their
status and counters, are ignored for good as before (no condition), and have no activity yet."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from issues.models import Issue, IssueActivity

BEFORE = [("issues", "0007_issue_aggregates_backfill")]
SEEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_existing_issues_keep_their_status_and_counters(sdk_project):
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        old_issue = executor.loader.project_state(BEFORE).apps.get_model("issues", "Issue")
        for number, status in enumerate(["unresolved", "resolved", "ignored"]):
            old_issue.objects.create(
                project_id=sdk_project.project_id,
                fingerprint_hash=f"{number:032x}",
                type="replay_dead_click",
                title="Dead Click",
                status=status,
                first_seen=SEEN,
                last_seen=SEEN,
                resolved_at=SEEN if status == "resolved" else None,
                times_seen=number + 2,
                users_seen=number + 1,
                short_number=number + 1,
            )
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    rows = list(
        Issue.objects.order_by("pk").values_list(
            "status",
            "times_seen",
            "users_seen",
            "resolved_at",
            "resolved_in_release",
            "ignore_until",
            "ignore_count",
            "ignore_user_count",
        )
    )
    assert rows == [
        ("unresolved", 2, 1, None, "", None, None, None),
        ("resolved", 3, 2, SEEN, "", None, None, None),
        ("ignored", 4, 3, None, "", None, None, None),
    ]
    assert not IssueActivity.objects.exists()
