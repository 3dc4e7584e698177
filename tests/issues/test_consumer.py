"""The issues consumer on the real broker and database: occurrences in, issues counted once each,
bad messages to the dead-letter topic, resolved issues reopened by a new click."""

import time
import uuid
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from issues.models import Issue, IssueStatus, IssueUser, Occurrence
from issues.services import issue_set_status
from replays.models import DetectionSettings
from tests.consumers import produce, start_occurrences_consumer, wait_until
from tests.issues.builders import another_click, fixture_occurrences, occurrence_message

pytestmark = pytest.mark.django_db(transaction=True)


def fixture_summary() -> list[tuple[str, str, int, int]]:
    return sorted(
        (issue.type, issue.selector, issue.times_seen, issue.users_seen)
        for issue in Issue.objects.all()
    )


EXPECTED_FIXTURE_ISSUES = sorted(
    [
        ("replay_dead_click", "body > button#buy.btn.primary", 1, 1),
        ("replay_rage_click", "body > button#buy.btn.primary", 1, 1),
        ("replay_slow_click", "body > button#slowok.btn", 1, 1),
        ("replay_dead_click", "body > nav > a#cart", 1, 1),
        ("replay_dead_click", 'body > input#submit[type="submit"]', 1, 1),
    ]
)


def test_the_fixture_occurrences_become_five_issues_and_a_second_delivery_changes_nothing(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader
):
    occurrences = fixture_occurrences()
    produce(occurrences_topic, [occurrence_message(o) for o in occurrences])
    consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() == 5, what="five occurrences")
        assert fixture_summary() == EXPECTED_FIXTURE_ISSUES
        # The same five again, as after a rebalance or a replayed topic.
        produce(occurrences_topic, [occurrence_message(o) for o in occurrences])
        marker = another_click(occurrences[0], user={"id": "u-marker"})
        produce(occurrences_topic, [occurrence_message(marker)])
        wait_until(lambda: Occurrence.objects.count() == 6, what="the marker occurrence")
    finally:
        consumer.stop()

    assert Occurrence.objects.count() == 6
    dead_buy = Issue.objects.get(type="replay_dead_click", selector="body > button#buy.btn.primary")
    assert (dead_buy.times_seen, dead_buy.users_seen) == (2, 2)
    others = fixture_summary()
    others.remove(("replay_dead_click", "body > button#buy.btn.primary", 2, 2))
    assert [other[2:] for other in others] == [(1, 1)] * 4
    assert topic_reader(occurrences_dlq_topic, 1, timeout_s=1) == []

    issue = Issue.objects.get(type="replay_slow_click")
    assert issue.culprit == "http://127.0.0.1:18766/index.html"
    assert issue.metadata["selector"] == "body > button#slowok.btn"
    assert issue.metadata["text"] == "Save"
    assert issue.status == IssueStatus.UNRESOLVED
    assert issue.is_visible
    occurrence = issue.occurrences.get()
    assert occurrence.replay_id.hex == "40196c4efd834eedaa8e1947c813b364"
    assert (occurrence.user_id, occurrence.release, occurrence.environment) == (
        "u-77",
        "shop@1.4.2",
        "staging",
    )
    assert (occurrence.browser, occurrence.os) == ("Chrome", "Linux")


def test_two_consumers_in_one_group_count_every_occurrence_once(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader
):
    """Clicks on the same elements spread over every partition (random keys), each published
    twice, consumed by two consumers of one group: each is counted once, users too."""
    base = fixture_occurrences()
    clicks = []
    for index in range(150):
        occurrence = base[index % len(base)]
        clicks.append(another_click(occurrence, user={"id": f"user-{index % 7}"}))
    values = [occurrence_message(click) for click in clicks] * 2
    group = f"test-issues-{uuid.uuid4().hex[:8]}"
    first = start_occurrences_consumer(group)
    second = start_occurrences_consumer(group)
    try:
        produce(occurrences_topic, values, key=lambda: uuid.uuid4().bytes)
        wait_until(lambda: Occurrence.objects.count() == 150, timeout_s=60, what="150 occurrences")
        time.sleep(1)  # let the duplicates that were still in flight land
    finally:
        first.stop()
        second.stop()

    assert Occurrence.objects.count() == 150
    for index, occurrence in enumerate(base):
        issue = Issue.objects.get(fingerprint=occurrence["fingerprint"])
        expected = [c for i, c in enumerate(clicks) if i % len(base) == index]
        users = {c["event"]["user"]["id"] for c in expected}
        assert issue.times_seen == len(expected)
        assert issue.users_seen == len(users) == IssueUser.objects.filter(issue=issue).count()
    assert topic_reader(occurrences_dlq_topic, 1, timeout_s=1) == []


def test_an_invalid_message_goes_to_the_dlq_and_the_next_one_is_processed(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader
):
    good = fixture_occurrences()[0]
    off_schema = {**good, "id": uuid.uuid4().hex}
    del off_schema["fingerprint"]
    unknown_type = {**another_click(good), "type": 9999}
    unknown_project = {**another_click(good), "project_id": 4242}
    bad = [
        b"\xff not json",
        orjson.dumps(off_schema),
        orjson.dumps(unknown_type),
        orjson.dumps(unknown_project),
    ]
    produce(occurrences_topic, [*bad, occurrence_message(good)])
    consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() == 1, what="the good occurrence")
        dead_letters = topic_reader(occurrences_dlq_topic, len(bad), timeout_s=10)
    finally:
        consumer.stop()

    assert [m.value() for m in dead_letters] == bad
    reasons = [dict(m.headers())["reason"].decode() for m in dead_letters]
    assert "not a valid occurrence" in reasons[0]
    assert "not a valid occurrence" in reasons[1]
    assert "unknown issue type 9999" in reasons[2]
    assert "project 4242 does not exist" in reasons[3]
    assert all(
        dict(m.headers())["original_topic"] == occurrences_topic.encode() for m in dead_letters
    )
    assert Issue.objects.get().times_seen == 1


def test_a_new_click_reopens_a_resolved_issue(
    sdk_project, occurrences_topic, occurrences_dlq_topic
):
    first = fixture_occurrences()[0]
    produce(occurrences_topic, [occurrence_message(first)])
    consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() == 1, what="the first occurrence")
        issue = issue_set_status(Issue.objects.get(), IssueStatus.RESOLVED)
        # A click from before the fix (a late segment) does not reopen it; a new one does.
        resolved_at = issue.resolved_at
        before = another_click(first, timestamp=(resolved_at - timedelta(hours=1)).timestamp())
        produce(occurrences_topic, [occurrence_message(before)])
        wait_until(lambda: Occurrence.objects.count() == 2, what="the late occurrence")
        assert Issue.objects.get().status == IssueStatus.RESOLVED
        after = another_click(first, timestamp=timezone.now().timestamp() + 1)
        produce(occurrences_topic, [occurrence_message(after)])
        wait_until(lambda: Occurrence.objects.count() == 3, what="the new occurrence")
    finally:
        consumer.stop()

    issue = Issue.objects.get()
    assert issue.status == IssueStatus.UNRESOLVED
    assert issue.resolved_at is None
    assert issue.regressed_at is not None
    assert issue.times_seen == 3


def test_the_noise_threshold_holds_an_issue_back_until_it_is_reached(
    sdk_project, occurrences_topic, occurrences_dlq_topic
):
    DetectionSettings.objects.filter(project=sdk_project.project).update(noise_threshold=3)
    first = fixture_occurrences()[0]
    clicks = [first, another_click(first), another_click(first)]
    consumer = start_occurrences_consumer()
    try:
        produce(occurrences_topic, [occurrence_message(c) for c in clicks[:2]])
        wait_until(lambda: Occurrence.objects.count() == 2, what="two occurrences")
        assert not Issue.objects.get().is_visible
        produce(occurrences_topic, [occurrence_message(clicks[2])])
        wait_until(lambda: Occurrence.objects.count() == 3, what="the third occurrence")
    finally:
        consumer.stop()
    assert Issue.objects.get().is_visible
