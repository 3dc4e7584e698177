"""The reads that the web UI added to issues.queries, on the SDK's captured replay."""

import io
import uuid
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from issues.models import Issue, IssueStatus, IssueType
from issues.queries import (
    daily_occurrence_counts,
    element_click_counts,
    issue_breakdowns,
    latest_clicks_on,
    project_filter_choices,
    projects_with_open_issue_counts,
    replay_clicks,
    replay_for,
    replay_recording,
)
from replays.models import Replay
from tests.issues.builders import FIXTURE_REPLAY_ID, another_click, record, store_fixture_replay

FIXTURE_DAY = date(2026, 11, 24)  # when the SDK's captures were clicked
BUY = "body > button#buy.btn.primary"


@pytest.fixture
def user(django_user_model, organization):
    """A member of the organization that owns project 42."""
    user = django_user_model.objects.create_user("dev")
    organization.members.add(user)
    return user


@pytest.fixture
def stored(sdk_project) -> list[dict]:
    return store_fixture_replay(42)


def test_daily_counts_put_each_click_on_its_utc_day_in_one_query(stored, django_assert_num_queries):
    dead = Issue.objects.get(type=IssueType.DEAD_CLICK, selector=BUY)
    rage = Issue.objects.get(type=IssueType.RAGE_CLICK)
    earlier = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC).timestamp()
    record(another_click(stored[0], timestamp=earlier))
    record(another_click(stored[0], timestamp=earlier))
    with django_assert_num_queries(1):
        series = daily_occurrence_counts([dead.pk, rage.pk], last_day=FIXTURE_DAY)
    assert series[dead.pk] == [0] * 9 + [2, 0, 0, 0, 1]
    assert series[rage.pk] == [0] * 13 + [1]


def test_daily_counts_leave_out_clicks_outside_the_window(stored):
    dead = Issue.objects.get(type=IssueType.DEAD_CLICK, selector=BUY)
    assert daily_occurrence_counts([dead.pk], days=14, last_day=date(2026, 11, 23)) == {
        dead.pk: [0] * 14
    }
    assert daily_occurrence_counts([dead.pk], days=3, last_day=date(2026, 11, 25)) == {
        dead.pk: [0, 1, 0]
    }
    assert daily_occurrence_counts([]) == {}


def test_breakdowns_count_values_most_first(stored):
    dead = Issue.objects.get(type=IssueType.DEAD_CLICK, selector=BUY)
    record(
        another_click(
            stored[0], environment="production", contexts={"browser": {"name": "Firefox"}}
        )
    )
    record(another_click(stored[0], environment="production"))
    breakdowns = {b.field: b for b in issue_breakdowns(dead)}
    assert breakdowns["environment"].top == [("production", 2), ("staging", 1)]
    assert breakdowns["environment"].total == 3
    assert breakdowns["browser"].top == [("Chrome", 2), ("Firefox", 1)]
    assert breakdowns["release"].top == [("shop@1.4.2", 3)]


def test_the_page_breakdown_folds_ids_queries_and_fragments_and_prefers_the_route(stored):
    """A strong identity's issue spans pages: where its occurrences were clicked."""
    dead = Issue.objects.get(type=IssueType.DEAD_CLICK, selector=BUY)
    for url, route in [
        ("https://shop.example.com/orders/12?x=1#top", None),
        ("https://shop.example.com/orders/345#items", None),
        ("https://shop.example.com/orders/9", "/orders/:id"),
        ("/cart", None),
    ]:
        click = another_click(stored[0])
        click["evidence_data"].update(url=url, route=route)
        record(click)
    breakdown = next(b for b in issue_breakdowns(dead) if b.field == "page")
    assert breakdown.top == [
        ("/orders/{id}", 2),
        ("/cart", 1),
        ("/index.html", 1),
        ("/orders/:id", 1),
    ]
    assert breakdown.total == 5


def test_filter_choices_are_the_projects_distinct_values(stored, sdk_project):
    assert project_filter_choices(sdk_project.project) == {
        "environment": ["staging"],
        "release": ["shop@1.4.2"],
        "browser": ["Chrome"],
    }


def test_element_click_counts_sum_each_selectors_issues(stored, user):
    rows = {row["selector"]: row for row in element_click_counts(user, 42)}
    assert rows[BUY]["dead"] == 1
    assert rows[BUY]["rage"] == 1
    assert rows[BUY]["slow"] == 0
    assert rows[BUY]["total"] == 2
    assert rows[BUY]["issue_count"] == 2
    assert rows["body > button#slowok.btn"]["slow"] == 1
    assert len(rows) == 4
    # Hidden issues (below the noise threshold) do not count; resolved ones do.
    Issue.objects.filter(type=IssueType.RAGE_CLICK).update(is_visible=False)
    Issue.objects.filter(type=IssueType.DEAD_CLICK).update(status=IssueStatus.RESOLVED)
    rows = {row["selector"]: row for row in element_click_counts(user, 42)}
    assert rows[BUY]["total"] == 1


def test_latest_clicks_on_gives_each_selectors_newest_click(stored, user):
    latest = latest_clicks_on(user, 42, [BUY, "body > nav > a#cart", "nothing"])
    assert set(latest) == {BUY, "body > nav > a#cart"}
    assert latest[BUY].issue.type == IssueType.RAGE_CLICK  # clicked after the dead click
    assert latest_clicks_on(user, 42, []) == {}


def test_replay_reads(stored, user, sdk_project):
    replay = replay_for(user, 42, uuid.UUID(FIXTURE_REPLAY_ID))
    assert replay is not None
    assert replay_for(user, 43, uuid.UUID(FIXTURE_REPLAY_ID)) is None
    assert [click.issue.type for click in replay_clicks(replay)] == [
        IssueType.DEAD_CLICK,
        IssueType.RAGE_CLICK,
        IssueType.SLOW_CLICK,
        IssueType.DEAD_CLICK,
        IssueType.DEAD_CLICK,
    ]
    recording = replay_recording(replay)
    assert recording.missing_segments == []
    assert len(recording.events) > 7


def test_replay_recording_reports_unreadable_files(stored):
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    replay = Replay.objects.get(replay_id=FIXTURE_REPLAY_ID)
    storage = storages["recordings"]
    segment = replay.segments.get(segment_id=1)
    storage.delete(segment.recording)
    storage.save(segment.recording, ContentFile(b"not zlib"))
    storage.delete(replay.segments.get(segment_id=5).recording)
    assert replay_recording(replay).missing_segments == [1, 5]


def test_projects_with_open_issue_counts(stored, user):
    Issue.objects.filter(type=IssueType.SLOW_CLICK).update(status=IssueStatus.RESOLVED)
    Issue.objects.filter(type=IssueType.RAGE_CLICK).update(is_visible=False)
    # Raw UPDATEs pass by the services that keep the status counts: the check's repair.
    call_command("check_aggregates", "--project", "42", "--fix", stdout=io.StringIO())
    [project] = projects_with_open_issue_counts(user)
    assert project.open_issues == 3
