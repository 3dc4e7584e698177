"""The elements page's time ranges read whole weeks' rows and at most three days' rows (issue 23,
part f: flat with the project's size), sorted and paged by the database: the same answers as the
issues' occurrences give, for ranges that span weeks, starting on every weekday, with issues not
shown, by every sort, page by page; and the migration that adds the weekly rows fills them."""

from datetime import UTC, date, datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps as live_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from issues.aggregates import (
    aggregates_check,
    element_weeks_of,
    week_clicks,
    week_of,
)
from issues.element_rows import RangeRows, range_rows
from issues.filters import PERIODS, range_days
from issues.models import (
    ElementDayCount,
    ElementWeekCount,
    Issue,
    IssueType,
    Occurrence,
)
from issues.queries import ELEMENT_SORTS, element_click_counts, shown
from issues.services import NoiseThreshold
from tests.issues.builders import another_click, record, store_fixture_replay

PROJECT_ID = 42
BUY = "body > button#buy.btn.primary"
COLUMNS = {IssueType.DEAD_CLICK: "dead", IssueType.RAGE_CLICK: "rage", IssueType.SLOW_CLICK: "slow"}


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def on_element(base: dict, selector: str, when: datetime) -> dict:
    """A click of ``base``'s type on another element (a new issue), at ``when``."""
    click = another_click(base, timestamp=when.timestamp())
    click["fingerprint"] = [f"test {base['type']} {selector}"]
    click["subtitle"] = selector
    click["evidence_data"]["selector"] = selector
    return click


def expected(first_day: date | None, sort: str) -> list[dict]:
    """The page's rows from the shown issues and their occurrences (the reference): clicks from
    ``first_day`` (all when None), the element's issues and last click over all time."""
    rows: dict[str, dict] = {}
    for issue in Issue.objects.filter(shown(), project_id=PROJECT_ID).exclude(selector=""):
        row = rows.setdefault(
            issue.selector,
            {"selector": issue.selector, "dead": 0, "rage": 0, "slow": 0, "total": 0},
        )
        clicks = Occurrence.objects.filter(issue=issue)
        if first_day is not None:
            clicks = clicks.filter(timestamp__gte=at(first_day, 0))
        n = clicks.count()
        if issue.type in COLUMNS:
            row[COLUMNS[issue.type]] += n
        row["total"] += n
        row["issue_count"] = row.get("issue_count", 0) + 1
        row["last_seen"] = max(row.get("last_seen", issue.last_seen), issue.last_seen)
    kept = [row for row in rows.values() if row["total"] > 0]
    for column in reversed(ELEMENT_SORTS[sort]):
        name = column.removeprefix("-")
        kept.sort(key=lambda row, name=name: row[name], reverse=column.startswith("-"))
    return kept


def page_rows(user, period: str = "", sort: str = "total") -> list[dict]:
    return [
        {key: row[key] for key in ("selector", "dead", "rage", "slow", "total", "issue_count")}
        | {"last_seen": row["last_seen"]}
        for row in element_click_counts(user, PROJECT_ID, sort, period)
    ]


@pytest.fixture
def user(django_user_model, organization):
    user = django_user_model.objects.create_user("dev")
    organization.members.add(user)
    return user


# --- Pure ------------------------------------------------------------------------------------


def test_a_range_is_whole_weeks_and_at_most_three_days_added_or_taken_out():
    monday = date(2026, 11, 2)
    assert range_rows(monday) == RangeRows(monday, monday, monday, -1)  # no day
    thursday = monday + timedelta(days=3)
    assert range_rows(thursday) == RangeRows(monday, monday, thursday, -1)  # Mon-Wed out
    friday = monday + timedelta(days=4)
    next_monday = monday + timedelta(days=7)
    assert range_rows(friday) == RangeRows(next_monday, friday, next_monday, 1)  # Fri-Sun in
    for offset in range(14):
        first_day = monday + timedelta(days=offset)
        rows = range_rows(first_day)
        assert rows.first_week.weekday() == 0
        assert 0 <= (rows.days_to - rows.days_from).days <= 3
        # The weeks less (or plus) the days start exactly at first_day.
        start = rows.days_to if rows.days_sign < 0 else rows.days_from
        assert start == first_day


def test_weekly_rows_add_up_the_daily_rows_of_each_week_per_element():
    assert week_of(date(2026, 11, 8)) == date(2026, 11, 2)  # a Sunday: its Monday
    assert week_of(date(2026, 11, 9)) == date(2026, 11, 9)
    assert week_clicks(IssueType.RAGE_CLICK, 3) == (0, 3, 0, 3)
    assert week_clicks(IssueType.ERROR_CLICK, 2) == (0, 0, 0, 2)  # in the total only
    days = {
        (1, date(2026, 11, 2), BUY, IssueType.DEAD_CLICK): 2,
        (1, date(2026, 11, 8), BUY, IssueType.SLOW_CLICK): 1,
        (1, date(2026, 11, 9), BUY, IssueType.DEAD_CLICK): 4,
        (1, date(2026, 11, 9), "a#other", IssueType.DEAD_CLICK): 1,
    }
    assert element_weeks_of(days) == {
        (1, date(2026, 11, 2), BUY): (2, 0, 1, 3),
        (1, date(2026, 11, 9), BUY): (4, 0, 0, 4),
        (1, date(2026, 11, 9), "a#other"): (1, 0, 0, 1),
    }


# --- The page's answers ---------------------------------------------------------------------------

# Clicks over seven weeks before NOW (Nov 24, a Tuesday, the fixture's day), on three elements.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def clicks_over_weeks() -> list[dict]:
    occurrences = store_fixture_replay(PROJECT_ID)  # Nov 24
    dead_buy, slow = occurrences[0], occurrences[2]
    for days_ago in (0, 1, 2, 3, 4, 5, 6, 8, 9, 13, 15, 20, 27, 29, 31, 40, 45):
        record(another_click(dead_buy, timestamp=(NOW - timedelta(days=days_ago)).timestamp()))
    for days_ago in (2, 5, 12, 16, 33):
        when = NOW - timedelta(days=days_ago, hours=3)
        record(on_element(slow, "body > aside > a#help", when))
    record(on_element(dead_buy, "body > footer > a#old", NOW - timedelta(days=50)))
    return occurrences


@pytest.mark.django_db
def test_ranges_spanning_weeks_from_every_weekday_give_the_occurrences_answers(
    sdk_project, user, settings
):
    clicks_over_weeks()
    assert [line for line in aggregates_check(PROJECT_ID) if line.startswith("element")] == []
    assert ElementWeekCount.objects.filter(selector=BUY).count() >= 7
    # "Now" on each day of a week: each range starts on another weekday.
    for days_later in range(7):
        now = NOW + timedelta(days=days_later)
        settings.ISSUES_NOW = now
        for period in PERIODS:
            first_day, _ = range_days(now - PERIODS[period], now)
            for sort in ELEMENT_SORTS:
                assert page_rows(user, period, sort) == expected(first_day, sort), (
                    now,
                    period,
                    sort,
                )
    for sort in ELEMENT_SORTS:
        assert page_rows(user, "", sort) == expected(None, sort)


@pytest.mark.django_db
def test_unshown_issues_leave_a_range_spanning_weeks(sdk_project, user, settings):
    occurrences = clicks_over_weeks()
    settings.ISSUES_NOW = NOW
    two = NoiseThreshold(occurrences=2)
    # Below the noise threshold: a rage click on BUY twenty days ago (a new issue), and a quiet
    # element; held back by the creation quota: the slow clicks on the help link.
    record(on_element(occurrences[1], BUY, NOW - timedelta(days=20)), noise=two)
    record(on_element(occurrences[0], "body > div#quiet", NOW - timedelta(days=9)), noise=two)
    help_issue = Issue.objects.get(selector="body > aside > a#help")
    Issue.objects.filter(pk=help_issue.pk).update(shown_at=timezone.now() + timedelta(hours=1))
    for period in ("", *PERIODS):
        first_day = None
        if period:
            first_day, _ = range_days(NOW - PERIODS[period], NOW)
        for sort in ELEMENT_SORTS:
            rows = page_rows(user, period, sort)
            assert rows == expected(first_day, sort), (period, sort)
            assert "body > div#quiet" not in {row["selector"] for row in rows}
            assert "body > aside > a#help" not in {row["selector"] for row in rows}


@pytest.mark.django_db
def test_the_page_is_sliced_by_the_database_and_counts_every_row(
    sdk_project, user, client, settings
):
    occurrences = store_fixture_replay(PROJECT_ID)
    settings.ISSUES_NOW = NOW
    settings.ISSUES_PAGE_SIZE = 2
    for number in range(5):
        record(on_element(occurrences[0], f"body > ul > li#item-{number}", NOW - timedelta(days=2)))
    everything = expected(range_days(NOW - PERIODS["7d"], NOW)[0], "last_seen")
    assert len(everything) == 9  # the fixture's four elements and these five
    rows = element_click_counts(user, PROJECT_ID, "last_seen", "7d")
    rows.expect(2, 2)
    assert rows.count() == len(everything)
    assert list(rows[2:4]) == [
        {key: row[key] for key in ("selector", "dead", "rage", "slow", "total", "issue_count")}
        | {"last_seen": row["last_seen"]}
        for row in everything[2:4]
    ]
    client.force_login(user)
    url = reverse("issues:elements", args=[PROJECT_ID])
    selectors = [row["selector"] for row in everything]
    for number in (1, 2, 3, 4, 5):
        page = client.get(url, {"period": "7d", "sort": "last_seen", "page": number})
        shown_rows = [row["selector"] for row in page.context["rows"]]
        assert shown_rows == selectors[(number - 1) * 2 : number * 2]
        assert page.context["page"].paginator.count == len(everything)
    # The last page, shorter than the others, is read by the query that counted.
    rows = element_click_counts(user, PROJECT_ID, "last_seen", "7d")
    rows.expect(8, 2)
    with CaptureQueriesContext(connection) as queries:
        assert [row["selector"] for row in rows[8:9]] == selectors[8:]
    assert len(queries) == 0
    # Past the last page: the last page (Paginator.get_page), counted without a row to count on.
    page = client.get(url, {"period": "7d", "sort": "last_seen", "page": 99})
    assert page.context["page"].number == 5
    assert [row["selector"] for row in page.context["rows"]] == selectors[8:]


@pytest.mark.django_db
def test_check_aggregates_reports_tampered_weekly_rows_and_fix_repairs_them(sdk_project):
    store_fixture_replay(PROJECT_ID)
    ElementWeekCount.objects.filter(selector=BUY).update(dead=9, total=9)
    lines = [line for line in aggregates_check(PROJECT_ID) if line.startswith("element")]
    assert len(lines) == 1
    assert lines[0].startswith(f"element week (42, datetime.date(2026, 11, 23), '{BUY}')")
    assert "stored (9, 1, 0, 9), occurrences give (1, 1, 0, 2)" in lines[0]
    aggregates_check(PROJECT_ID, fix=True)
    assert aggregates_check(PROJECT_ID) == []


# --- The migration ---------------------------------------------------------------------------

BEFORE = [("issues", "0012_filter_value_first_seen")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_weekly_rows_from_the_daily_ones(sdk_project):
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        old_day = apps.get_model("issues", "ElementDayCount")
        for day, selector, kind, times in [
            (date(2026, 11, 1), "button#a", "replay_dead_click", 2),  # a Sunday
            (date(2026, 11, 2), "button#a", "replay_dead_click", 3),  # the next Monday
            (date(2026, 11, 4), "button#a", "replay_rage_click", 1),
            (date(2026, 11, 4), "button#a", "replay_error_click", 4),
            (date(2026, 11, 5), "button#b", "replay_slow_click", 5),
        ]:
            old_day.objects.create(
                project_id=PROJECT_ID, day=day, selector=selector, type=kind, times=times
            )
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    def weeks() -> list[tuple]:
        return sorted(
            ElementWeekCount.objects.values_list(
                "week", "selector", "dead", "rage", "slow", "total"
            )
        )

    filled = [
        (date(2026, 10, 26), "button#a", 2, 0, 0, 2),
        (date(2026, 11, 2), "button#a", 3, 1, 0, 8),
        (date(2026, 11, 2), "button#b", 0, 0, 5, 5),
    ]
    assert weeks() == filled
    assert ElementDayCount.objects.count() == 5  # the daily rows stay
    backfill = import_module("issues.migrations.0013_element_weeks").backfill
    # Run again (a migration resumed): the same rows, nothing doubles.
    backfill(live_apps, None)
    assert weeks() == filled
    ElementWeekCount.objects.all().delete()
    backfill(live_apps, None)
    assert weeks() == filled
