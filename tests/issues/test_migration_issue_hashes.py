"""Migration issues 0004_issue_hashes: every issue made before it is found by its fingerprint hash
after it, with its counts, users, status and occurrences unchanged."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from issues.models import Issue, IssueHash, IssueUser, Occurrence
from replays.detection.fingerprint import fingerprint_hash, legacy_parts
from tests.issues.builders import another_click, fixture_occurrences, record

BEFORE = [("issues", "0002_issue_type_from_registry")]
SEEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_existing_issues_get_their_hash_and_keep_everything(sdk_project):
    old_fingerprints = [
        legacy_parts(occurrence["fingerprint"][1]) for occurrence in fixture_occurrences()
    ]
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        old_issue, old_occurrence, old_user = (
            apps.get_model("issues", name) for name in ("Issue", "Occurrence", "IssueUser")
        )
        for number, fingerprint in enumerate(old_fingerprints):
            issue = old_issue.objects.create(
                project_id=sdk_project.project_id,
                fingerprint_hash=fingerprint_hash(fingerprint),
                fingerprint=fingerprint,
                type=fingerprint[0],
                title="Dead Click",
                status="resolved" if number == 1 else "unresolved",
                first_seen=SEEN,
                last_seen=SEEN,
                times_seen=number + 2,
                users_seen=1,
            )
            old_user.objects.create(issue=issue, user_key=f"user-{number}", first_seen=SEEN)
            old_occurrence.objects.create(
                occurrence_id=f"{number:032x}",
                issue=issue,
                project_id=sdk_project.project_id,
                timestamp=SEEN,
            )
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    issues = list(Issue.objects.order_by("pk"))
    assert [issue.times_seen for issue in issues] == [2, 3, 4, 5, 6]
    assert [issue.status for issue in issues][:2] == ["unresolved", "resolved"]
    assert IssueUser.objects.count() == Occurrence.objects.count() == 5
    assert all(issue.occurrences.count() == 1 for issue in issues)
    assert sorted(IssueHash.objects.values_list("issue_id", "hash")) == sorted(
        (issue.pk, issue.fingerprint_hash) for issue in issues
    )
    # A version 2 occurrence joins the issue that version 1 made.
    dead_click = fixture_occurrences()[0]
    joined = record(another_click(dead_click))
    assert joined.issue_id == issues[0].pk
    assert not joined.issue_created
    assert Issue.objects.count() == 5
    assert Issue.objects.get(pk=issues[0].pk).times_seen == 3
