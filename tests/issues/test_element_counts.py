"""The element rows (issue 23: the elements page), kept at write time: equal to a recomputation
from the occurrences after re-delivery, concurrent consumers, deletion and purge; repaired by
check_aggregates; backfilled by the migration; and the elements page's answers read from them,
the same as from the issues, over any time and over the issue list's ranges."""

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
from django.urls import reverse
from django.utils import timezone

from ingest.models import Project
from issues.aggregates import Counted, aggregates_check, increments_of, occurrence_values
from issues.models import (
    ElementCount,
    ElementDayCount,
    ElementWeekCount,
    Issue,
    IssueType,
    Occurrence,
)
from issues.queries import element_click_counts, shown
from issues.services import NoiseThreshold
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
BUY = "body > button#buy.btn.primary"
CART = "body > nav > a#cart"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # the day after the fixture's clicks


def check() -> list[str]:
    return aggregates_check(PROJECT_ID)


def element_differences() -> list[str]:
    return [line for line in check() if line.startswith("element")]


def element_rows() -> list[tuple]:
    return sorted(ElementCount.objects.values_list("selector", "type", "times", "issues")) + sorted(
        ElementDayCount.objects.values_list("selector", "type", "day", "times")
    )


def on_element(base: dict, selector: str, when: datetime) -> dict:
    """A click of ``base``'s type on another element (a new issue), at ``when``."""
    click = another_click(base, timestamp=when.timestamp())
    click["fingerprint"] = [f"test {base['type']} {selector}"]
    click["subtitle"] = selector
    click["evidence_data"]["selector"] = selector
    return click


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def from_the_issues() -> list[dict]:
    """The elements page's rows as they were computed before the element rows: the project's
    shown issues grouped by selector (the reference the aggregates must give)."""
    rows: dict[str, dict] = {}
    columns = {
        IssueType.DEAD_CLICK: "dead",
        IssueType.RAGE_CLICK: "rage",
        IssueType.SLOW_CLICK: "slow",
    }
    for issue in Issue.objects.filter(shown(), project_id=PROJECT_ID).exclude(selector=""):
        row = rows.setdefault(
            issue.selector,
            {"selector": issue.selector, "dead": 0, "rage": 0, "slow": 0, "total": 0},
        )
        row[columns[issue.type]] += issue.times_seen
        row["total"] += issue.times_seen
        row["issue_count"] = row.get("issue_count", 0) + 1
        row["last_seen"] = max(row.get("last_seen", issue.last_seen), issue.last_seen)
    return sorted(
        rows.values(),
        key=lambda row: (-row["total"], -row["last_seen"].timestamp(), row["selector"]),
    )


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


@pytest.fixture
def frozen(settings):
    settings.ISSUES_NOW = NOW


# --- Pure ------------------------------------------------------------------------------------


def test_increments_count_each_elements_clicks_issues_days_and_last_click():
    values = occurrence_values("https://x.test/", None, "Chrome", "Linux", "", "prod")
    later = at(20, 23)
    increments = increments_of(
        [
            Counted(1, 10, at(20), True, values, BUY, IssueType.DEAD_CLICK, new_issue=True),
            Counted(1, 10, later, False, values, BUY, IssueType.DEAD_CLICK),
            Counted(1, 11, at(21), False, values, BUY, IssueType.RAGE_CLICK, new_issue=True),
            # A type without an element (a hydration error) has no element row.
            Counted(1, 12, at(21), False, values, "", IssueType.HYDRATION_ERROR, new_issue=True),
        ]
    )
    dead, rage = (1, BUY, IssueType.DEAD_CLICK), (1, BUY, IssueType.RAGE_CLICK)
    assert increments.element_times == {dead: 2, rage: 1}
    assert increments.element_issues == {dead: 1, rage: 1}
    assert increments.element_seen == {dead: later, rage: at(21)}
    assert increments.element_days == {
        (1, date(2026, 11, 20), BUY, IssueType.DEAD_CLICK): 2,
        (1, date(2026, 11, 21), BUY, IssueType.RAGE_CLICK): 1,
    }


# --- Written by the consumer's transaction ----------------------------------------------------


@pytest.mark.django_db
def test_recorded_clicks_equal_a_recomputation_and_redelivery_adds_nothing(sdk_project):
    occurrences = store_fixture_replay(PROJECT_ID)
    for day in (10, 20, 20):
        record(another_click(occurrences[0], timestamp=at(day).timestamp()))
    assert check() == []
    assert ElementCount.objects.get(selector=BUY, type=IssueType.DEAD_CLICK).times == 4
    assert ElementCount.objects.get(selector=BUY, type=IssueType.DEAD_CLICK).issues == 1
    assert (
        ElementDayCount.objects.get(
            selector=BUY, type=IssueType.DEAD_CLICK, day=date(2026, 11, 20)
        ).times
        == 2
    )
    before = element_rows()
    for occurrence in occurrences:
        assert record(occurrence) is None
    assert element_rows() == before
    assert check() == []


@pytest.mark.django_db
def test_deleting_issues_takes_their_clicks_out_of_their_elements(sdk_project):
    occurrences = store_fixture_replay(PROJECT_ID)
    record(on_element(occurrences[0], CART, at(20)))  # a second dead click issue on the cart
    cart_issues = Issue.objects.filter(selector=CART).order_by("first_seen")
    older, newer = list(cart_issues)
    cart = ElementCount.objects.get(selector=CART)
    assert (cart.times, cart.issues, cart.last_seen) == (2, 2, newer.last_seen)
    newer.delete()  # the element's last click goes with it
    cart = ElementCount.objects.get(selector=CART)
    assert (cart.times, cart.issues, cart.last_seen) == (1, 1, older.last_seen)
    assert check() == []
    # Both of BUY's issues at once (one deletion, the signals of each seeing the other).
    Issue.objects.filter(selector=BUY).delete()
    assert not ElementCount.objects.filter(selector=BUY).exists()
    assert not ElementDayCount.objects.filter(selector=BUY).exists()
    assert not ElementWeekCount.objects.filter(selector=BUY).exists()
    assert check() == []
    # A project's deletion takes its rows and puts none back.
    Project.objects.filter(pk=PROJECT_ID).delete()
    assert ElementCount.objects.count() == ElementDayCount.objects.count() == 0
    assert ElementWeekCount.objects.count() == 0


@pytest.mark.django_db
def test_purging_replays_keeps_the_element_rows_right(sdk_project):
    store_fixture_replay(PROJECT_ID)
    Replay.objects.update(created_at=timezone.now() - timedelta(days=400))
    assert replay_purge_expired(timezone.now()).replays == 1
    assert check() == []
    assert ElementCount.objects.aggregate(n=Sum("times"))["n"] == 5


@pytest.mark.django_db
def test_check_aggregates_reports_tampered_element_rows_and_fix_repairs_them(sdk_project):
    store_fixture_replay(PROJECT_ID)
    ElementDayCount.objects.filter(selector=BUY, type=IssueType.DEAD_CLICK).update(times=9)
    ElementCount.objects.filter(selector=CART).delete()
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 differences"):
        call_command("check_aggregates", "--project", str(PROJECT_ID), stdout=out)
    assert "element day (42, datetime.date(2026, 11, 24), 'body > button#buy" in out.getvalue()
    assert "stored 9, occurrences give 1" in out.getvalue()
    assert f"element (42, '{CART}', 'replay_dead_click'): stored None" in out.getvalue()
    out = io.StringIO()
    call_command("check_aggregates", "--fix", stdout=out)
    assert "2 differences fixed" in out.getvalue()
    assert check() == []


@pytest.mark.django_db(transaction=True)
def test_two_consumers_keep_the_element_rows_equal_to_a_recomputation(
    sdk_project, occurrences_topic, occurrences_dlq_topic
):
    """Clicks on the five elements and on new ones over three days, each published twice,
    grouped by two consumers of one group: the element rows equal a recomputation."""
    base = fixture_occurrences()
    clicks = []
    for index in range(90):
        when = at(20 + index % 3) + timedelta(minutes=index)
        click = base[index % len(base)]
        if index % 10 == 0:
            clicks.append(on_element(click, f"body > div#new-{index % 4}", when))
        else:
            clicks.append(another_click(click, timestamp=when.timestamp()))
    values = [occurrence_message(click) for click in clicks] * 2
    group = f"test-elements-{uuid.uuid4().hex[:8]}"
    first = start_occurrences_consumer(group)
    second = start_occurrences_consumer(group)
    try:
        produce(occurrences_topic, values, key=lambda: uuid.uuid4().bytes)
        wait_until(lambda: Occurrence.objects.count() == 90, timeout_s=60, what="occurrences")
        time.sleep(1)  # let the duplicates that were still in flight land
    finally:
        first.stop()
        second.stop()
    assert Occurrence.objects.count() == 90
    assert check() == []
    assert ElementDayCount.objects.aggregate(n=Sum("times"))["n"] == 90
    assert ElementCount.objects.aggregate(n=Sum("issues"))["n"] == Issue.objects.count()


# --- The elements page reads them --------------------------------------------------------------


@pytest.mark.django_db
def test_the_elements_page_gives_the_issues_answers_over_any_time_and_ranges(
    sdk_project, user, frozen
):
    occurrences = store_fixture_replay(PROJECT_ID)  # Nov 24
    dead_buy = occurrences[0]
    for day in (10, 20, 24):
        record(another_click(dead_buy, timestamp=at(day).timestamp()))
    record(on_element(dead_buy, "body > footer > a#old", datetime(2026, 10, 1, tzinfo=UTC)))
    assert page_rows(user) == from_the_issues()
    rows = {row["selector"]: row for row in page_rows(user)}
    assert (rows[BUY]["dead"], rows[BUY]["rage"], rows[BUY]["total"]) == (4, 1, 5)
    # 24 hours before Nov 25 10:00 is Nov 24: whole UTC days from there.
    rows = {row["selector"]: row for row in page_rows(user, "24h")}
    assert (rows[BUY]["dead"], rows[BUY]["rage"], rows[BUY]["total"]) == (2, 1, 3)
    assert "body > footer > a#old" not in rows
    assert rows[BUY]["issue_count"] == 2  # the element's issues, as the link lists them
    rows = {row["selector"]: row for row in page_rows(user, "7d")}
    assert rows[BUY]["dead"] == 3
    rows = {row["selector"]: row for row in page_rows(user, "30d")}
    assert rows[BUY]["dead"] == 4
    assert "body > footer > a#old" not in rows
    assert "body > footer > a#old" in {row["selector"] for row in page_rows(user)}
    # A range's sort: by its counts.
    assert next(row["selector"] for row in page_rows(user, "24h", "slow")) == (
        "body > button#slowok.btn"
    )
    # Another organization's member sees nothing.
    outsider = type(user).objects.create_user("outsider")
    assert list(element_click_counts(outsider, PROJECT_ID)) == []


@pytest.mark.django_db
def test_issues_not_shown_leave_the_elements_page_as_they_leave_the_issue_list(
    sdk_project, user, frozen
):
    occurrences = store_fixture_replay(PROJECT_ID)
    dead_buy, slow = occurrences[0], occurrences[2]
    two = NoiseThreshold(occurrences=2)
    # Below the noise threshold: a new element, and a new issue on BUY.
    record(on_element(dead_buy, "body > div#quiet", at(24)), noise=two)
    record(on_element(slow, BUY, at(24)), noise=two)
    assert not Issue.objects.get(selector="body > div#quiet").is_visible
    for period in ("", "24h", "30d"):
        rows = {row["selector"]: row for row in page_rows(user, period)}
        assert "body > div#quiet" not in rows
        assert (rows[BUY]["slow"], rows[BUY]["total"], rows[BUY]["issue_count"]) == (0, 2, 2)
    # Past it: counted, the click before with it.
    record(on_element(dead_buy, "body > div#quiet", at(24, 13)), noise=two)
    rows = {row["selector"]: row for row in page_rows(user, "24h")}
    assert rows["body > div#quiet"]["dead"] == 2
    # Held back by the creation quota (shown later): out, and the element's last click is
    # its shown issues'.
    rage = Issue.objects.get(type=IssueType.RAGE_CLICK)
    Issue.objects.filter(pk=rage.pk).update(shown_at=timezone.now() + timedelta(hours=1))
    rows = {row["selector"]: row for row in page_rows(user, "", "last_seen")}
    dead = Issue.objects.get(selector=BUY, type=IssueType.DEAD_CLICK)
    assert (rows[BUY]["rage"], rows[BUY]["total"], rows[BUY]["last_seen"]) == (
        0,
        1,
        dead.last_seen,
    )
    assert page_rows(user) == from_the_issues()


@pytest.mark.django_db
def test_the_elements_page_offers_the_ranges(sdk_project, user, frozen, client):
    occurrences = store_fixture_replay(PROJECT_ID)
    record(another_click(occurrences[0], timestamp=at(10).timestamp()))
    client.force_login(user)
    url = reverse("issues:elements", args=[PROJECT_ID])
    page = client.get(url).content.decode()
    assert 'data-testid="filter-period"' in page
    assert '<option value="7d"' in page
    page = client.get(url, {"period": "7d", "sort": "dead"}).content.decode()
    assert '<option value="7d" selected>' in page
    assert 'data-testid="dead-count">1<' in page
    assert 'data-testid="dead-count">2<' not in page
    assert 'data-testid="dead-count">2<' in client.get(url, {"sort": "dead"}).content.decode()
    # An unknown range is any time.
    assert client.get(url, {"period": "1y"}).status_code == 200
    ElementDayCount.objects.all().delete()
    ElementWeekCount.objects.all().delete()
    page = client.get(url, {"period": "24h"}).content.decode()
    assert "No clicks in this time range" in page


# --- The backfill migration -------------------------------------------------------------------

BEFORE = [("issues", "0008_issue_status_details_and_activity")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_the_element_rows_from_existing_occurrences(sdk_project):
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        old_issue, old_occurrence = (apps.get_model("issues", n) for n in ("Issue", "Occurrence"))
        for number, (kind, selector) in enumerate(
            [
                ("replay_dead_click", "button#a"),
                ("replay_rage_click", "button#a"),
                ("replay_dead_click", "button#b"),
                ("replay_hydration_error", ""),
            ]
        ):
            issue = old_issue.objects.create(
                project_id=PROJECT_ID,
                fingerprint_hash=f"{number:032x}",
                fingerprint=[f"fp-{number}"],
                type=kind,
                title="Click",
                selector=selector,
                is_visible=True,
                first_seen=at(20),
                last_seen=at(21, number),
                times_seen=2,
                users_seen=1,
                short_number=number + 1,
            )
            for day in range(2):
                old_occurrence.objects.create(
                    occurrence_id=f"{number:016x}{day:016x}",
                    issue=issue,
                    project_id=PROJECT_ID,
                    timestamp=at(20 + day, number if day else 12),
                )
    finally:
        # (The issues made at 0008 have no daily rows: 0007's backfill ran before them.)
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    assert element_differences() == []
    assert sorted(ElementCount.objects.values_list("selector", "type", "times", "issues")) == [
        ("button#a", "replay_dead_click", 2, 1),
        ("button#a", "replay_rage_click", 2, 1),
        ("button#b", "replay_dead_click", 2, 1),
    ]
    assert ElementCount.objects.get(selector="button#b").last_seen == at(21, 2)
    assert ElementDayCount.objects.filter(day=date(2026, 11, 21)).count() == 3
    backfill = import_module("issues.migrations.0010_element_counts_backfill").backfill
    # Run again (a migration resumed): a project done is skipped, nothing doubles.
    backfill(live_apps, None)
    assert element_differences() == []
    # A project not done yet is filled.
    ElementCount.objects.all().delete()
    ElementDayCount.objects.all().delete()
    backfill(live_apps, None)
    assert element_differences() == []
    assert ElementCount.objects.count() == 3
