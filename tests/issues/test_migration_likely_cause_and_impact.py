"""Migrations issues 0005_likely_cause_and_impact and replays 0006_exposure: issues made before
keep everything, count their distinct replays, and have no likely cause nor exposure yet (their
occurrences were stored before either was read); the next occurrence fills them in."""

import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from issues.models import Issue, Occurrence
from tests.issues.builders import another_click, fixture_occurrences, record

BEFORE = [
    ("issues", "0004_issue_hashes"),
    ("replays", "0005_segment_replay_event_and_preview_runs"),
]
SEEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_existing_issues_keep_their_data_and_count_their_replays(sdk_project):
    replays = [uuid.uuid4(), uuid.uuid4()]
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        old_issue = apps.get_model("issues", "Issue")
        old_occurrence = apps.get_model("issues", "Occurrence")
        for number in range(2):
            issue = old_issue.objects.create(
                project_id=sdk_project.project_id,
                fingerprint_hash=f"{number:032x}",
                fingerprint=["replay_dead_click", f"body > button#b{number}", "/"],
                type="replay_dead_click",
                title="Dead Click",
                first_seen=SEEN,
                last_seen=SEEN,
                times_seen=3,
                users_seen=2,
            )
            # Issue 0: three clicks in two replays; issue 1: three clicks without a replay id.
            for click in range(3):
                old_occurrence.objects.create(
                    occurrence_id=f"{number}{click:031x}",
                    issue=issue,
                    project_id=sdk_project.project_id,
                    timestamp=SEEN,
                    replay_id=replays[min(click, 1)] if number == 0 else None,
                    evidence={"selector": f"body > button#b{number}"},
                )
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    issues = list(Issue.objects.order_by("fingerprint_hash"))
    assert [(i.times_seen, i.users_seen) for i in issues] == [(3, 2), (3, 2)]
    assert [i.replays_seen for i in issues] == [2, 0]
    assert all(i.likely_cause is None and i.page_sessions is None for i in issues)
    assert all(i.element_clicks is None and i.impact == 0.0 for i in issues)
    assert Occurrence.objects.count() == 6

    # The stage carries on from there.
    click = fixture_occurrences()[0]
    record(click)
    record(another_click(click))
    made = Issue.objects.get(occurrences__occurrence_id=click["id"])
    assert made.replays_seen == 2
