"""issue_record_occurrence(s) and issue_set_status on the real database (SQLite or PostgreSQL)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from issues.models import Issue, IssueStatus, IssueUser, Occurrence
from issues.occurrence_message import decode_occurrence
from issues.services import NoiseThreshold, issue_record_occurrences, issue_set_status
from tests.issues.builders import another_click, fixture_occurrences, occurrence_message, record


@pytest.fixture
def dead_click(sdk_project) -> dict:
    return fixture_occurrences()[0]


def test_an_occurrence_makes_an_issue_with_its_element_and_page(dead_click):
    recorded = record(dead_click)
    assert recorded.issue_created
    issue = Issue.objects.get(pk=recorded.issue_id)
    assert (issue.type, issue.title, issue.level) == ("replay_dead_click", "Dead Click", "warning")
    assert issue.selector == issue.subtitle == "body > button#buy.btn.primary"
    assert issue.culprit == "http://127.0.0.1:18766/index.html"
    assert issue.metadata["attributes"] == {
        "id": "buy",
        "class": "btn primary",
        "testId": "buy-button",
    }
    assert issue.fingerprint == dead_click["fingerprint"]
    clicked = datetime.fromtimestamp(dead_click["evidence_data"]["timestamp"], UTC)
    assert issue.first_seen == issue.last_seen == clicked
    assert (issue.times_seen, issue.users_seen, issue.is_visible) == (1, 1, True)


def test_the_occurrences_tags_are_stored_bounded(dead_click):
    ours = dict(dead_click["event"]["tags"])
    click = another_click(
        dead_click, tags={**ours, "plan": "pro", "long": "v" * 201, "nested": {"a": 1}}
    )
    record(click)
    stored = Occurrence.objects.get(occurrence_id=click["id"])
    assert stored.tags == {**ours, "plan": "pro"}
    record(dead_click)
    assert Occurrence.objects.get(occurrence_id=dead_click["id"]).tags == ours


def test_the_same_occurrence_twice_counts_once(dead_click):
    assert record(dead_click) is not None
    assert record(dead_click) is None
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (1, 1)
    assert Occurrence.objects.count() == 1


def test_users_are_counted_once_each_and_clicks_without_a_user_count_no_user(dead_click):
    record(dead_click)
    record(another_click(dead_click))  # the same user, u-77, in another replay
    record(another_click(dead_click, user={"email": "bo@example.com"}))
    record(another_click(dead_click, user={}))
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (4, 2)
    assert set(IssueUser.objects.values_list("user_key", flat=True)) == {"u-77", "bo@example.com"}


def test_first_and_last_seen_follow_the_clicks_whatever_their_order(dead_click):
    record(dead_click)
    clicked = dead_click["evidence_data"]["timestamp"]
    record(another_click(dead_click, timestamp=clicked - 3600))
    record(another_click(dead_click, timestamp=clicked + 60))
    issue = Issue.objects.get()
    assert issue.first_seen == datetime.fromtimestamp(clicked - 3600, UTC)
    assert issue.last_seen == datetime.fromtimestamp(clicked + 60, UTC)


def test_a_resolved_issue_reopens_on_a_newer_click_only(dead_click):
    issue = Issue.objects.get(pk=record(dead_click).issue_id)
    issue_set_status(issue, IssueStatus.RESOLVED)
    issue.refresh_from_db()
    assert issue.resolved_at is not None
    late = record(
        another_click(dead_click, timestamp=(issue.resolved_at - timedelta(1)).timestamp())
    )
    assert not late.regressed
    assert Issue.objects.get().status == IssueStatus.RESOLVED
    new = record(another_click(dead_click, timestamp=timezone.now().timestamp() + 1))
    assert new.regressed
    issue.refresh_from_db()
    assert issue.status == IssueStatus.UNRESOLVED
    assert issue.regressed_at is not None
    assert issue.resolved_at is None


def test_an_ignored_issue_stays_ignored(dead_click):
    issue = Issue.objects.get(pk=record(dead_click).issue_id)
    issue_set_status(issue, IssueStatus.IGNORED)
    record(another_click(dead_click, timestamp=timezone.now().timestamp() + 1))
    issue.refresh_from_db()
    assert (issue.status, issue.times_seen) == (IssueStatus.IGNORED, 2)


def test_an_unknown_status_is_refused(dead_click):
    issue = Issue.objects.get(pk=record(dead_click).issue_id)
    with pytest.raises(ValueError, match="unknown status 'done'"):
        issue_set_status(issue, "done")


@pytest.mark.parametrize(
    ("noise", "clicks_to_show"),
    [
        (NoiseThreshold(occurrences=3), 3),
        (NoiseThreshold(occurrences=100, users=2), 2),
        (NoiseThreshold(occurrences=1), 1),
    ],
)
def test_the_noise_threshold_holds_the_issue_back_until_it_is_reached(
    dead_click, noise, clicks_to_show
):
    for index in range(clicks_to_show):
        click = another_click(dead_click, user={"id": f"user-{index}"})
        assert not Issue.objects.filter(is_visible=True).exists()
        record(click, noise)
    assert Issue.objects.get().is_visible


@pytest.mark.django_db(transaction=True)
def test_threads_recording_the_same_clicks_at_once_count_each_once(sdk_project):
    """Four writers race over the same 60 occurrences (each of 3 issues, 5 users): the row lock
    (PostgreSQL) or the write lock (SQLite) keeps every counter exact."""
    base = fixture_occurrences()[:3]
    clicks = [
        another_click(base[index % 3], user={"id": f"user-{index % 5}"}) for index in range(60)
    ]
    errors: list[BaseException] = []

    def writer(order: list[dict]) -> None:
        try:
            for click in order:
                record(click)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    orders = [clicks, clicks[::-1], clicks[30:] + clicks[:30], clicks[15:] + clicks[:15]]
    threads = [threading.Thread(target=writer, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Occurrence.objects.count() == 60
    for issue in Issue.objects.all():
        assert (issue.times_seen, issue.users_seen) == (20, 5)


# --- a batch of occurrences in one transaction ---------------------------------------------------


def records(clicks: list[dict]) -> list:
    return [decode_occurrence(occurrence_message(click)) for click in clicks]


def test_a_batch_counts_as_its_occurrences_recorded_one_after_another(sdk_project):
    """Three issues, users met again, a click without a user, clicks out of order."""
    base = fixture_occurrences()[:3]
    clicked = base[0]["evidence_data"]["timestamp"]
    clicks = [
        another_click(
            base[index % 3],
            user={"id": f"user-{index % 4}"} if index % 5 else {},
            timestamp=clicked + (index * 37) % 11 - 5,
        )
        for index in range(30)
    ]
    results = issue_record_occurrences(records(clicks))

    assert [result.issue_created for result in results] == [True] * 3 + [False] * 27
    for index, occurrence in enumerate(base):
        mine = clicks[index::3]
        issue = Issue.objects.get(pk=results[index].issue_id)
        assert issue.fingerprint == occurrence["fingerprint"]
        assert {result.issue_id for result in results[index::3]} == {issue.pk}
        users = {c["event"]["user"]["id"] for c in mine if c["event"]["user"]}
        times = [c["evidence_data"]["timestamp"] for c in mine]
        assert (issue.times_seen, issue.users_seen) == (10, len(users))
        assert issue.first_seen == datetime.fromtimestamp(min(times), UTC)
        assert issue.last_seen == datetime.fromtimestamp(max(times), UTC)
        assert issue.is_visible
        # A user's first click in the batch is when the issue first saw them.
        for user in users:
            first = next(c for c in mine if c["event"]["user"].get("id") == user)
            issue_user = IssueUser.objects.get(issue=issue, user_key=user)
            assert issue_user.first_seen == datetime.fromtimestamp(
                first["evidence_data"]["timestamp"], UTC
            )
    assert Occurrence.objects.count() == 30
    occurrence = Occurrence.objects.get(occurrence_id=clicks[7]["id"])
    assert occurrence.issue_id == results[7].issue_id
    assert occurrence.user_id == clicks[7]["event"]["user"].get("id", "")
    assert occurrence.evidence == clicks[7]["evidence_data"]
    assert occurrence.received_at is not None


def test_an_occurrence_twice_in_a_batch_or_recorded_before_counts_once(dead_click):
    before = another_click(dead_click, user={"id": "before"})
    record(before)
    again = another_click(dead_click, user={"id": "again"})
    results = issue_record_occurrences(records([again, before, again, dead_click]))

    assert [result is None for result in results] == [False, True, True, False]
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (3, 3)
    assert Occurrence.objects.count() == 3


def test_a_batch_reopens_a_resolved_issue_at_its_first_newer_click(dead_click):
    issue = Issue.objects.get(pk=record(dead_click).issue_id)
    issue_set_status(issue, IssueStatus.RESOLVED)
    issue.refresh_from_db()
    late = (issue.resolved_at - timedelta(hours=1)).timestamp()
    new = timezone.now().timestamp() + 1
    results = issue_record_occurrences(
        records([another_click(dead_click, timestamp=at) for at in (late, new, new, late)])
    )
    assert [result.regressed for result in results] == [False, True, False, False]
    issue.refresh_from_db()
    assert (issue.status, issue.resolved_at, issue.times_seen) == (IssueStatus.UNRESOLVED, None, 5)
    assert issue.regressed_at is not None


def test_a_batch_keeps_an_ignored_issue_ignored(dead_click):
    issue = Issue.objects.get(pk=record(dead_click).issue_id)
    issue_set_status(issue, IssueStatus.IGNORED)
    later = timezone.now().timestamp() + 1
    results = issue_record_occurrences(records([another_click(dead_click, timestamp=later)]))
    assert not results[0].regressed
    issue.refresh_from_db()
    assert (issue.status, issue.times_seen) == (IssueStatus.IGNORED, 2)


def test_a_batch_applies_each_project_noise_threshold(dead_click):
    held = NoiseThreshold(occurrences=4, users=3)
    project_id = dead_click["project_id"]
    same_user = [another_click(dead_click) for _ in range(2)]
    issue_record_occurrences(records(same_user), {project_id: held})
    assert not Issue.objects.get().is_visible
    others = [another_click(dead_click, user={"id": f"other-{n}"}) for n in range(2)]
    issue_record_occurrences(records(others), {project_id: held})
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen, issue.is_visible) == (4, 3, True)


def test_an_occurrence_recorded_before_under_another_fingerprint_makes_no_issue(dead_click):
    record(dead_click)
    moved = {**dead_click, "fingerprint": ["another", "element"]}
    assert issue_record_occurrences(records([moved])) == [None]
    assert Issue.objects.count() == 1
    assert Issue.objects.get().times_seen == 1


def test_more_users_in_a_batch_than_one_statement_may_look_up_count_once_each(dead_click):
    """SQLite takes 999 parameters a statement (as Django counts): 1,200 users are looked up in
    more than one."""
    users = [{"id": f"user-{n}"} for n in range(1200)]
    issue_record_occurrences(records([another_click(dead_click, user=user) for user in users]))
    issue_record_occurrences(records([another_click(dead_click, user=user) for user in users]))
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (2400, 1200)
    assert IssueUser.objects.count() == 1200


def test_an_empty_batch_changes_nothing(sdk_project):
    assert issue_record_occurrences([]) == []
    assert not Issue.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_threads_recording_overlapping_batches_at_once_count_each_once(sdk_project):
    """Four writers race over the same 90 occurrences in batches of 7 to 25 (each batch holds
    some clicks twice): locks and the occurrence ids keep every counter exact."""
    base = fixture_occurrences()
    clicks = [
        another_click(base[index % 5], user={"id": f"user-{index % 6}"}) for index in range(90)
    ]
    errors: list[BaseException] = []

    def writer(order: list[dict], size: int) -> None:
        try:
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                issue_record_occurrences(records(batch + batch[:2]))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    orders = [(clicks, 7), (clicks[::-1], 25), (clicks[45:] + clicks[:45], 10), (clicks, 13)]
    threads = [threading.Thread(target=writer, args=order) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Occurrence.objects.count() == 90
    assert Issue.objects.count() == 5
    for issue in Issue.objects.all():
        assert (issue.times_seen, issue.users_seen) == (18, 6)
        assert IssueUser.objects.filter(issue=issue).count() == 6
