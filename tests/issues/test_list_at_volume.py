"""The issue list at volume (issue 23): its search and value filters can use their indexes, its
time ranges read the daily rows, and the release order (resolved in the next release) is read
from the project's filter values; each with the answers it had when it read the occurrences."""

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps as live_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from issues.aggregates import aggregates_check
from issues.filters import IssueFilter, range_days
from issues.models import Issue, IssueStatus, IssueValueCount, ProjectFilterValue
from issues.services import issue_set_status
from tests.issues.builders import another_click, fixture_occurrences, record

PROJECT_ID = 42
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def click(sdk_project, settings) -> dict:
    settings.ISSUES_NOW = NOW
    return fixture_occurrences()[0]


def clicked(click: dict, at: datetime, **fields) -> Issue:
    recorded = record(another_click(click, timestamp=at.timestamp(), **fields))
    return Issue.objects.get(pk=recorded.issue_id)


def listed(data: str) -> list[int]:
    issues = Issue.objects.filter(project_id=PROJECT_ID, is_visible=True)
    return [issue.pk for issue in IssueFilter(QueryDict(data), queryset=issues).qs]


# --- Pure ----------------------------------------------------------------------------------------


def test_a_range_holds_the_utc_days_it_touches():
    assert range_days(NOW - timedelta(hours=24), NOW) == (
        datetime(2026, 11, 23).date(),
        datetime(2026, 11, 24).date(),
    )
    # A custom range ends at the start of the day after its last day: that day is not in it.
    end = datetime(2026, 11, 24, tzinfo=UTC)
    assert range_days(end - timedelta(days=2), end)[1] == datetime(2026, 11, 23).date()


# --- Time ranges read the daily rows -------------------------------------------------------------


@pytest.mark.django_db
def test_time_ranges_filter_and_sort_by_the_daily_rows_without_reading_occurrences(click):
    old = clicked(click, NOW - timedelta(days=10))
    for hours in (1, 2, 3):
        clicked(click, NOW - timedelta(days=10, hours=hours))
    clicked(click, NOW - timedelta(hours=1))  # the same issue, once in the last day
    other_click = next(o for o in fixture_occurrences() if o["fingerprint"] != click["fingerprint"])
    recent = clicked(other_click, NOW - timedelta(hours=2))
    clicked(other_click, NOW - timedelta(hours=3), user={"id": "another-user"})

    with CaptureQueriesContext(connection) as queries:
        assert listed("period=7d&sort=times_seen") == [recent.pk, old.pk]
        assert listed("sort=times_seen")[:2] == [old.pk, recent.pk]  # any time: 5 against 2
        assert listed("period=7d&sort=users") == [recent.pk, old.pk]
        assert listed("period=custom&until=2026-11-14") == [old.pk]
        assert listed("period=custom&since=2026-11-15&until=2026-11-22") == []
    assert not [q for q in queries.captured_queries if "issues_occurrence" in q["sql"]]


@pytest.mark.django_db
def test_24_hours_is_whole_utc_days_as_the_counts_are(click):
    # 30 hours before 10:00 is 04:00 the day before: on one of the range's days.
    issue = clicked(click, NOW - timedelta(hours=30))
    assert issue.pk in listed("period=24h")
    assert issue.pk not in listed("period=custom&since=2026-11-24")


# --- The search and the value filters can use their indexes --------------------------------------


@pytest.mark.django_db
def test_a_search_of_a_short_id_and_words_finds_both(click):
    issue = clicked(click, NOW - timedelta(hours=1))
    word = issue.selector.split("#")[-1][:6]
    assert listed(f"query={issue.short_id}") == [issue.pk]
    assert issue.pk in listed(f"query={word}")
    assert listed("query=NOPE-999999") == []
    # A slug no project has: the short id part finds nothing, the words still search.
    assert listed("query=nosuchproject-1") == []


def listed_plan(data: str) -> str:
    issues = Issue.objects.filter(project_id=PROJECT_ID, is_visible=True)
    return IssueFilter(QueryDict(data), queryset=issues).qs[:25].explain()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm: PostgreSQL only")
def test_on_postgresql_the_search_and_the_filters_can_be_index_scans(click):
    clicked(click, NOW - timedelta(hours=1), environment="staging")
    search = IssueFilter(QueryDict("query=shop-1")).filter_query  # a short id, and a word
    matching = IssueValueCount.objects.filter(field="environment", value="staging", times__gt=0)
    with connection.cursor() as cursor:
        # A handful of rows: the planner would scan them; forbid it to see that it can do
        # without (the index expressions must be the ones Django writes).
        cursor.execute("SET LOCAL enable_seqscan = off")
        search_plan = search(Issue.objects.all(), "query", "shop-1").explain()
        filter_plan = matching.values("issue").explain()
        first_seen_plan = listed_plan("sort=first_seen")
    assert "issue_first_seen_idx" in first_seen_plan
    for name in ("selector", "culprit", "title", "url", "route", "component"):
        assert f"issue_search_{name}_trgm" in search_plan
    # The short id's part (an index on the issue's own columns) joins them in one BitmapOr.
    assert "BitmapOr" in search_plan
    assert "Seq Scan" not in search_plan
    assert "issue_value_filter_idx" in filter_plan


# --- The release order is read from the filter values --------------------------------------------


@pytest.mark.django_db
def test_releases_first_seen_is_kept_and_resolve_in_next_release_reads_it(click):
    clicked(click, NOW - timedelta(days=2), release="build-b")
    # build-a arrives later but was clicked earlier: it is the older release.
    issue = clicked(click, NOW - timedelta(days=3), release="build-a")
    clicked(click, NOW - timedelta(days=1), release="build-a")
    first = dict(
        ProjectFilterValue.objects.filter(field="release").values_list("value", "first_seen")
    )
    assert first["build-a"] == NOW - timedelta(days=3)
    assert first["build-b"] == NOW - timedelta(days=2)
    assert aggregates_check(PROJECT_ID) == []

    with CaptureQueriesContext(connection) as queries:
        issue_set_status(issue, IssueStatus.RESOLVED, in_next_release=True)
    assert not [q for q in queries.captured_queries if "issues_occurrence" in q["sql"]]
    issue.refresh_from_db()
    assert issue.resolved_in_release == "build-b"
    clicked(click, NOW, release="build-a")
    assert Issue.objects.get(pk=issue.pk).status == IssueStatus.RESOLVED
    clicked(click, NOW, release="build-c")
    assert Issue.objects.get(pk=issue.pk).status == IssueStatus.UNRESOLVED


@pytest.mark.django_db
def test_check_aggregates_reports_a_first_seen_later_than_the_occurrences_and_fixes_it(click):
    clicked(click, NOW - timedelta(days=2), release="build-a")
    row = ProjectFilterValue.objects.filter(field="release", value="build-a")
    row.update(first_seen=NOW)
    lines = aggregates_check(PROJECT_ID)
    assert [line for line in lines if "stored first seen" in line]
    aggregates_check(PROJECT_ID, fix=True)
    assert aggregates_check(PROJECT_ID) == []
    assert row.get().first_seen == NOW - timedelta(days=2)
    # Earlier than the occurrences (theirs deleted) is not a difference: a release keeps its place.
    row.update(first_seen=NOW - timedelta(days=9))
    assert aggregates_check(PROJECT_ID) == []


BEFORE = [("issues", "0011_issue_search_indexes")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_first_seen_from_the_occurrences(sdk_project):
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        old_issue, old_occurrence, old_value = (
            apps.get_model("issues", name) for name in ("Issue", "Occurrence", "ProjectFilterValue")
        )
        issue = old_issue.objects.create(
            project_id=PROJECT_ID,
            fingerprint_hash="a" * 32,
            fingerprint=["fp"],
            type="replay_dead_click",
            title="Dead Click",
            first_seen=NOW - timedelta(days=3),
            last_seen=NOW,
            times_seen=2,
            short_number=1,
        )
        for days, release in ((3, "shop@1"), (1, "shop@1"), (0, "shop@2")):
            old_occurrence.objects.create(
                occurrence_id=f"{days:032x}",
                issue=issue,
                project_id=PROJECT_ID,
                timestamp=NOW - timedelta(days=days),
                release=release,
            )
        for release, days in (("shop@1", 1), ("shop@2", 0), ("gone", 5)):
            old_value.objects.create(
                project_id=PROJECT_ID,
                field="release",
                value=release,
                last_seen=NOW - timedelta(days=days),
            )
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    first = dict(
        ProjectFilterValue.objects.filter(field="release").values_list("value", "first_seen")
    )
    # From the occurrences; a value without any left takes its last seen.
    assert first == {
        "shop@1": NOW - timedelta(days=3),
        "shop@2": NOW,
        "gone": NOW - timedelta(days=5),
    }
    # Run again (resumed): nothing left to write, nothing changes.
    import_module("issues.migrations.0012_filter_value_first_seen").backfill(live_apps, None)
    assert (
        dict(ProjectFilterValue.objects.filter(field="release").values_list("value", "first_seen"))
        == first
    )
