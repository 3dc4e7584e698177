"""The migrations of short ids and the creation quota, from the previous schema with data."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ingest.models import Project
from issues.models import Issue, IssueUser, Occurrence
from issues.queries import shown
from replays.models import DetectionSettings

BEFORE = [
    ("ingest", "0003_project_org"),
    ("issues", "0002_issue_type_from_registry"),
    ("replays", "0003_hydration_errors"),
]
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def migrate_to(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_existing_projects_get_slugs_and_their_issues_numbers_in_first_seen_order():
    executor = MigrationExecutor(connection)
    after = executor.loader.graph.leaf_nodes()
    try:
        migrate_to(BEFORE)
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        organization = old.get_model("organizations", "Organization")
        project = old.get_model("ingest", "Project")
        issue = old.get_model("issues", "Issue")
        occurrence = old.get_model("issues", "Occurrence")
        issue_user = old.get_model("issues", "IssueUser")
        settings = old.get_model("replays", "DetectionSettings")
        for org_id in (5, 6):
            organization.objects.create(id=org_id, name=f"Org {org_id}", slug=f"org-{org_id}")
        for project_id, name, org_id in ((1, "Shop", 5), (2, "Shop", 5), (3, "Shop", 6)):
            project.objects.create(id=project_id, name=name, org_id=org_id)
        settings.objects.create(project_id=1, noise_threshold=2)
        # Made in another order than first seen: pk 10 was seen last, pk 12 first.
        rows = [
            (10, 1, 3, "resolved", True),
            (11, 1, 2, "unresolved", True),
            (12, 1, 1, "ignored", False),
            (13, 3, 1, "unresolved", True),
        ]
        for pk, project_id, hours, status, visible in rows:
            issue.objects.create(
                pk=pk,
                project_id=project_id,
                fingerprint_hash=f"{pk:032d}",
                type="replay_dead_click",
                title="Dead Click",
                status=status,
                is_visible=visible,
                first_seen=T0 + timedelta(hours=hours),
                last_seen=T0 + timedelta(hours=hours),
                times_seen=pk,
                users_seen=1,
            )
            occurrence.objects.create(
                occurrence_id=f"o{pk}",
                issue_id=pk,
                project_id=project_id,
                timestamp=T0 + timedelta(hours=hours),
            )
            issue_user.objects.create(issue_id=pk, user_key=f"u{pk}", first_seen=T0)

        migrate_to(after)
    finally:
        migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert list(Project.objects.order_by("id").values_list("slug", "issue_counter")) == [
        ("shop", 3),
        ("shop-2", 0),
        ("shop", 1),
    ]
    numbered = {
        issue.pk: (issue.short_id, issue.status, issue.times_seen, issue.users_seen)
        for issue in Issue.objects.select_related("project")
    }
    assert numbered == {
        12: ("SHOP-1", "ignored", 12, 1),
        11: ("SHOP-2", "unresolved", 11, 1),
        10: ("SHOP-3", "resolved", 10, 1),
        13: ("SHOP-1", "unresolved", 13, 1),
    }
    assert dict(Occurrence.objects.values_list("occurrence_id", "issue_id")) == {
        "o10": 10,
        "o11": 11,
        "o12": 12,
        "o13": 13,
    }
    assert IssueUser.objects.count() == 4
    # What was shown stays shown (no quota applies to it); what the noise held stays held.
    assert sorted(Issue.objects.filter(shown()).values_list("pk", flat=True)) == [10, 11, 13]
    assert Issue.objects.get(pk=12).held_by() == "noise"
    # Existing detection settings take the default quota; the noise threshold is kept.
    kept = DetectionSettings.objects.get(project_id=1)
    assert (kept.noise_threshold, kept.issue_quota, kept.issue_quota_window_s) == (2, 5, 3600)
    # The next issue of project 1 follows on.
    new = Issue.objects.create(
        project_id=1,
        fingerprint_hash="f" * 32,
        type="replay_dead_click",
        title="Dead Click",
        first_seen=T0,
        last_seen=T0,
    )
    assert new.short_id == "SHOP-4"
