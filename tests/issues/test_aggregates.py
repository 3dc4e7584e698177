"""The aggregates kept at write time (issues.aggregates): equal to a recomputation from the
occurrences after concurrent consumers, re-delivery, resolve and regress, and purge; repaired and
reported by check_aggregates; backfilled by the migration from existing occurrences."""

import io
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps as live_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum
from django.utils import timezone

from issues.aggregates import (
    Counted,
    Recomputed,
    aggregates_check,
    differences,
    increments_of,
    occurrence_values,
)
from issues.models import (
    Issue,
    IssueDayCount,
    IssueStatus,
    IssueType,
    IssueValueCount,
    Occurrence,
    ProjectFilterValue,
)
from issues.queries import (
    daily_occurrence_counts,
    issue_counts_between,
    project_filter_choices,
    project_status_counts,
)
from issues.services import issue_set_status
from replays.models import Replay
from replays.services import replay_purge_expired
from tests.consumers import produce, start_occurrences_consumer, wait_until
from tests.issues.builders import (
    another_click,
    fixture_occurrences,
    occurrence_message,
    record,
    store_fixture_replay,
)

PROJECT_ID = 42
NOV_20 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def check(project_id: int = PROJECT_ID) -> list[str]:
    return aggregates_check(project_id)


# --- Pure ------------------------------------------------------------------------------------


def test_increments_sum_a_batch_per_row_and_keep_the_latest_filter_time():
    values = occurrence_values("https://x.test/orders/12?a=1", None, "Chrome", "Linux", "", "prod")
    assert values == {
        "page": "/orders/{id}",
        "browser": "Chrome",
        "os": "Linux",
        "release": "",
        "environment": "prod",
    }
    later = NOV_20 + timedelta(hours=13)  # the next UTC day
    increments = increments_of(
        [
            Counted(1, 10, NOV_20, True, values),
            Counted(1, 10, later, False, values),
            Counted(1, 10, NOV_20, False, values),
        ]
    )
    assert increments.times == {(10, date(2026, 11, 20)): 2, (10, date(2026, 11, 21)): 1}
    assert increments.new_users[(10, date(2026, 11, 20))] == 1
    assert increments.values[(10, "page", "/orders/{id}")] == 3
    assert increments.values[(10, "release", "")] == 3
    # An empty value is a breakdown row ("none") but never a filter choice.
    assert increments.filters == {
        (1, "environment", "prod"): later,
        (1, "browser", "Chrome"): later,
    }


def test_differences_name_each_row_and_tolerate_values_of_deleted_occurrences():
    stored = Recomputed(
        days={(1, date(2026, 11, 20)): (2, 1)},
        filters={(1, "release", "old"): NOV_20, (1, "release", "new"): NOV_20},
    )
    recomputed = Recomputed(
        days={(1, date(2026, 11, 20)): (3, 1)},
        filters={(1, "release", "new"): NOV_20 + timedelta(days=1)},
    )
    lines = differences(stored, recomputed)
    assert len(lines) == 2
    assert lines[0].startswith("day (1, datetime.date(2026, 11, 20)): stored (2, 1)")
    assert lines[1].startswith("filter (1, 'release', 'new')")
    assert differences(recomputed, recomputed) == []


# --- Written by the consumer's transaction ----------------------------------------------------


@pytest.mark.django_db
def test_recorded_occurrences_equal_a_recomputation_and_redelivery_adds_nothing(sdk_project):
    occurrences = store_fixture_replay(PROJECT_ID)
    base = occurrences[0]
    for day in range(3):
        for environment in ("production", "staging"):
            record(
                another_click(
                    base,
                    timestamp=(NOV_20 + timedelta(days=day)).timestamp(),
                    environment=environment,
                    user={"id": f"user-{day}"},
                )
            )
    assert check() == []
    issue = Issue.objects.get(fingerprint=base["fingerprint"])
    before = list(IssueDayCount.objects.order_by("issue", "day").values_list())
    # Delivered again: recorded before, so nothing is counted.
    for occurrence in occurrences:
        assert record(occurrence) is None
    assert list(IssueDayCount.objects.order_by("issue", "day").values_list()) == before
    assert check() == []

    series = daily_occurrence_counts([issue.pk], days=5, last_day=date(2026, 11, 24))
    assert series[issue.pk] == [2, 2, 2, 0, 1]
    # Nov 21 to 22: four clicks by user-1 and user-2; at most the users counted up to Nov 22.
    since, until = NOV_20 + timedelta(days=1), NOV_20 + timedelta(days=2)
    assert issue_counts_between([issue.pk], since, until) == {issue.pk: (4, 3)}
    assert issue_counts_between([issue.pk], since.replace(year=2025), until.replace(year=2025)) == {
        issue.pk: (0, 0)
    }
    assert project_filter_choices(sdk_project.project)["environment"][:2] == [
        "staging",  # the fixture's clicks are the latest (Nov 24)
        "production",
    ]


@pytest.mark.django_db
def test_resolve_regress_ignore_and_delete_move_the_status_counts(sdk_project):
    store_fixture_replay(PROJECT_ID)
    project = sdk_project.project
    assert project_status_counts(project) == {IssueStatus.UNRESOLVED: 5}
    rage = Issue.objects.get(type=IssueType.RAGE_CLICK)
    slow = Issue.objects.get(type=IssueType.SLOW_CLICK)
    issue_set_status(rage, IssueStatus.RESOLVED)
    issue_set_status(slow, IssueStatus.IGNORED)
    assert project_status_counts(project) == {
        IssueStatus.UNRESOLVED: 3,
        IssueStatus.RESOLVED: 1,
        IssueStatus.IGNORED: 1,
    }
    issue_set_status(rage, IssueStatus.RESOLVED)  # again: no change
    assert project_status_counts(project)[IssueStatus.RESOLVED] == 1
    # A click after the resolution reopens it (the consumer's transaction moves the count).
    rage_click = next(o for o in fixture_occurrences() if o["type"] == 5002)
    recorded = record(another_click(rage_click, timestamp=timezone.now().timestamp() + 60))
    assert recorded.regressed
    assert project_status_counts(project) == {IssueStatus.UNRESOLVED: 4, IssueStatus.IGNORED: 1}
    assert check() == []
    Issue.objects.filter(pk=slow.pk).delete()
    assert project_status_counts(project) == {IssueStatus.UNRESOLVED: 4}
    assert check() == []


@pytest.mark.django_db
def test_purging_replays_keeps_the_aggregates_right(sdk_project):
    store_fixture_replay(PROJECT_ID)
    Replay.objects.update(created_at=timezone.now() - timedelta(days=400))
    assert replay_purge_expired(timezone.now()).replays == 1
    assert Occurrence.objects.count() == 5  # issues and occurrences outlive their replays
    assert check() == []
    assert IssueValueCount.objects.filter(field="browser", value="Chrome").count() == 5


@pytest.mark.django_db
def test_check_aggregates_reports_a_tampered_row_and_fix_repairs_it(sdk_project):
    store_fixture_replay(PROJECT_ID)
    call_command("check_aggregates", stdout=io.StringIO())
    IssueDayCount.objects.filter(pk=IssueDayCount.objects.order_by("pk").first().pk).update(times=7)
    ProjectFilterValue.objects.filter(field="release").delete()
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 differences"):
        call_command("check_aggregates", "--project", str(PROJECT_ID), stdout=out)
    assert "stored (7, 1), occurrences give (1, 1)" in out.getvalue()
    assert "filter (42, 'release', 'shop@1.4.2')" in out.getvalue()
    out = io.StringIO()
    call_command("check_aggregates", "--fix", stdout=out)
    assert "2 differences fixed" in out.getvalue()
    assert check() == []
    with pytest.raises(CommandError, match="no project 999"):
        call_command("check_aggregates", "--project", "999", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_two_consumers_keep_aggregates_equal_to_a_recomputation(
    sdk_project, occurrences_topic, occurrences_dlq_topic
):
    """Clicks over three days, two environments and browsers, each published twice over every
    partition, grouped by two consumers of one group: the aggregates equal a recomputation."""
    base = fixture_occurrences()
    clicks = [
        another_click(
            base[index % len(base)],
            timestamp=(NOV_20 + timedelta(days=index % 3, minutes=index)).timestamp(),
            environment=("production", "staging")[index % 2],
            user={"id": f"user-{index % 9}"},
            contexts={"browser": {"name": ("Chrome", "Firefox", "Safari")[index % 3]}},
        )
        for index in range(150)
    ]
    values = [occurrence_message(click) for click in clicks] * 2
    group = f"test-aggregates-{uuid.uuid4().hex[:8]}"
    first = start_occurrences_consumer(group)
    second = start_occurrences_consumer(group)
    try:
        produce(occurrences_topic, values, key=lambda: uuid.uuid4().bytes)
        wait_until(lambda: Occurrence.objects.count() == 150, timeout_s=60, what="occurrences")
        time.sleep(1)  # let the duplicates that were still in flight land
    finally:
        first.stop()
        second.stop()
    assert Occurrence.objects.count() == 150
    assert check() == []
    assert sum(IssueDayCount.objects.values_list("times", flat=True)) == 150
    browsers = dict(
        IssueValueCount.objects.filter(field="browser")
        .values_list("value")
        .annotate(n=Sum("times"))
    )
    assert browsers == {"Chrome": 50, "Firefox": 50, "Safari": 50}
    assert project_status_counts(sdk_project.project) == {IssueStatus.UNRESOLVED: 5}


# --- The backfill migration -------------------------------------------------------------------

BEFORE = [("issues", "0005_likely_cause_and_impact")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_the_aggregates_from_existing_occurrences(sdk_project):
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        old_issue, old_occurrence, old_user = (
            apps.get_model("issues", name) for name in ("Issue", "Occurrence", "IssueUser")
        )
        for number in range(3):
            issue = old_issue.objects.create(
                project_id=PROJECT_ID,
                fingerprint_hash=f"{number:032x}",
                fingerprint=[f"fp-{number}"],
                type="replay_dead_click",
                title="Dead Click",
                selector=f"button#b{number}",
                status="resolved" if number == 2 else "unresolved",
                is_visible=number != 1,
                first_seen=NOV_20,
                last_seen=NOV_20 + timedelta(days=1),
                times_seen=2,
                users_seen=1,
                short_number=number + 1,
            )
            old_user.objects.create(issue=issue, user_key=f"user-{number}", first_seen=NOV_20)
            for day in range(2):
                old_occurrence.objects.create(
                    occurrence_id=f"{number:016x}{day:016x}",
                    issue=issue,
                    project_id=PROJECT_ID,
                    timestamp=NOV_20 + timedelta(days=day),
                    environment="production",
                    release=f"shop@{day}",
                    browser="Firefox",
                    url="https://shop.test/orders/77",
                    evidence={"route": "/orders/:id"} if day else {},
                )
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    assert check() == []
    issue = Issue.objects.get(fingerprint_hash=f"{0:032x}")
    assert daily_occurrence_counts([issue.pk], days=2, last_day=date(2026, 11, 21)) == {
        issue.pk: [1, 1]
    }
    assert sorted(
        IssueValueCount.objects.filter(issue=issue, field="page").values_list("value", "times")
    ) == [("/orders/:id", 1), ("/orders/{id}", 1)]
    assert project_filter_choices(sdk_project.project)["release"] == ["shop@1", "shop@0"]
    assert project_status_counts(sdk_project.project) == {
        IssueStatus.UNRESOLVED: 1,
        IssueStatus.RESOLVED: 1,
    }
    # Run again (a migration resumed): the batches already done are skipped, nothing doubles.
    import_module("issues.migrations.0007_issue_aggregates_backfill").backfill(live_apps, None)
    assert check() == []
