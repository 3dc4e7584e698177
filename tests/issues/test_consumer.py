"""The issues consumer on the real broker and database: occurrences in, issues counted once each,
bad messages to the dead-letter topic, resolved issues reopened by a new click; batches with
duplicates, an occurrence the database refuses, database outages, consumers side by side."""

import threading
import time
import uuid
from datetime import timedelta

import orjson
import pytest
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from issues import consumer as consumer_module
from issues import services
from issues.consumer import OccurrencesStrategyFactory
from issues.models import Issue, IssueStatus, IssueUser, Occurrence
from issues.services import issue_set_status
from pipeline.steps import Backoff
from replays.models import DetectionSettings
from tests.consumers import (
    ConsumerThread,
    committed_offsets,
    produce,
    start_occurrences_consumer,
    wait_until,
)
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


# --- batches ----------------------------------------------------------------------------------


def start_consumer(factory: OccurrencesStrategyFactory, group_id: str | None = None):
    """A ``consume_occurrences`` as the command builds it, with ``factory``'s batch sizes."""
    return start_occurrences_consumer(group_id, factory)


def one_batch_of(size: int) -> OccurrencesStrategyFactory:
    """A factory whose first batch is the first ``size`` messages: it waits for them all."""
    factory = OccurrencesStrategyFactory(max_batch_size=size, max_batch_time_s=60)
    grouped = factory.process_batch
    factory.batch_sizes = []

    def process_batch(batch):
        factory.batch_sizes.append(len(batch))
        return grouped(batch)

    factory.process_batch = process_batch
    return factory


def committed(consumer: ConsumerThread) -> int:
    """The offsets the consumer's group committed on the occurrences topic."""
    return committed_offsets(consumer.group_id, settings.TOPIC_OCCURRENCES)


def test_an_occurrence_delivered_twice_in_one_batch_counts_once(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader
):
    first = fixture_occurrences()[0]
    clicks = [another_click(first, user={"id": f"user-{n % 3}"}) for n in range(6)]
    values = [occurrence_message(c) for c in [*clicks, clicks[0], clicks[4], clicks[0]]]
    produce(occurrences_topic, values)
    factory = one_batch_of(len(values))
    consumer = start_consumer(factory)
    try:
        wait_until(lambda: committed(consumer) == len(values), what="the batch committed")
    finally:
        consumer.stop()

    assert factory.batch_sizes == [len(values)]
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (6, 3)
    assert Occurrence.objects.count() == 6
    assert topic_reader(occurrences_dlq_topic, 1, timeout_s=1) == []


def poison(monkeypatch, occurrence_ids: set[str]) -> None:
    """The database refuses these occurrences (a segment id below 0 fails its CHECK constraint,
    on SQLite and PostgreSQL), as it would a value that decoding let through."""
    make_row = services._occurrence

    def refused_row(issue, record):
        row = make_row(issue, record)
        if record.occurrence.id in occurrence_ids:
            row.segment_id = -1
        return row

    monkeypatch.setattr(services, "_occurrence", refused_row)


def test_an_occurrence_the_database_refuses_goes_to_the_dlq_and_its_batch_is_kept(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader, monkeypatch
):
    first = fixture_occurrences()[0]
    clicks = [another_click(first, user={"id": f"user-{n}"}) for n in range(5)]
    poison(monkeypatch, {clicks[2]["id"]})
    values = [occurrence_message(c) for c in clicks]
    values.insert(4, b"\xff not json")
    produce(occurrences_topic, values)
    factory = one_batch_of(len(values))
    consumer = start_consumer(factory)
    try:
        wait_until(lambda: committed(consumer) == len(values), what="the batch committed")
        dead_letters = topic_reader(occurrences_dlq_topic, 2, timeout_s=10)
        # The partition goes on: the next batch.
        markers = [another_click(first, user={"id": "marker"}) for _ in values]
        produce(occurrences_topic, [occurrence_message(m) for m in markers])
        wait_until(lambda: committed(consumer) == 2 * len(values), what="the next batch")
    finally:
        consumer.stop()

    assert factory.batch_sizes == [len(values)] * 2
    assert [m.value() for m in dead_letters] == [values[2], values[4]]
    reasons = [dict(m.headers())["reason"].decode() for m in dead_letters]
    assert reasons[0].startswith("the database refused the occurrence")
    assert "not a valid occurrence" in reasons[1]
    assert [dict(m.headers())["original_offset"] for m in dead_letters] == [b"2", b"4"]
    kept = {o["id"] for o in clicks + markers} - {clicks[2]["id"]}
    assert set(Occurrence.objects.values_list("occurrence_id", flat=True)) == kept
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (4 + len(markers), 5)
    assert len(topic_reader(occurrences_dlq_topic, 3, timeout_s=1)) == 2


def test_a_database_outage_in_a_batch_commits_nothing_and_counts_each_once_after(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader, monkeypatch
):
    """The outage strikes inside the batch's transaction, after its occurrences were written."""
    database_back = threading.Event()
    attempts = []
    save_counts = services._save_counts

    def save_counts_when_the_database_is_back(issues):
        attempts.append(1)
        if not database_back.is_set():
            raise OperationalError("server closed the connection unexpectedly (simulated)")
        save_counts(issues)

    monkeypatch.setattr(services, "_save_counts", save_counts_when_the_database_is_back)
    first = fixture_occurrences()[0]
    clicks = [another_click(first, user={"id": f"user-{n % 2}"}) for n in range(4)]
    produce(occurrences_topic, [occurrence_message(c) for c in clicks])
    consumer = start_consumer(OccurrencesStrategyFactory(Backoff(0.01, 0.05)))
    try:
        wait_until(lambda: len(attempts) >= 4, what="retries during the outage")
        assert committed(consumer) == 0
        assert not Occurrence.objects.exists()
        assert not Issue.objects.exists()
        database_back.set()
        wait_until(lambda: committed(consumer) == 4, what="the commit after the outage")
    finally:
        consumer.stop()

    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (4, 2)
    assert Occurrence.objects.count() == 4
    assert topic_reader(occurrences_dlq_topic, 1, timeout_s=1) == []


def test_an_outage_while_a_batch_is_grouped_one_by_one_keeps_what_was_stored_and_counts_once(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader, monkeypatch
):
    """A poisoned occurrence makes the batch go one occurrence at a time; the database goes away
    after two were stored on their own; the batch is grouped again: each counts once, and the
    poisoned one reaches the DLQ once."""
    first = fixture_occurrences()[0]
    clicks = [another_click(first, user={"id": f"user-{n}"}) for n in range(5)]
    poison(monkeypatch, {clicks[3]["id"]})
    stored_alone = []
    record_one = consumer_module.issue_record_occurrence

    def record_one_then_fail(record, noise, quota):
        if len(stored_alone) == 2:
            stored_alone.append("outage")
            raise OperationalError("the database system is shutting down (simulated)")
        result = record_one(record, noise, quota)
        stored_alone.append(record.occurrence.id)
        return result

    monkeypatch.setattr(consumer_module, "issue_record_occurrence", record_one_then_fail)
    values = [occurrence_message(c) for c in clicks]
    produce(occurrences_topic, values)
    factory = one_batch_of(len(values))
    factory.backoff = Backoff(0.01, 0.05)
    consumer = start_consumer(factory)
    try:
        wait_until(lambda: committed(consumer) == len(values), what="the batch committed")
        dead_letters = topic_reader(occurrences_dlq_topic, 2, timeout_s=2)
    finally:
        consumer.stop()

    assert stored_alone[:3] == [clicks[0]["id"], clicks[1]["id"], "outage"]
    assert [m.value() for m in dead_letters] == [values[3]]
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (4, 4)
    assert Occurrence.objects.count() == 4


def test_a_message_with_a_nul_character_goes_to_the_dlq_before_the_database(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader
):
    good = fixture_occurrences()[0]
    with_nul = another_click(good, release="shop\x00")
    bad = orjson.dumps(with_nul)
    produce(occurrences_topic, [bad, occurrence_message(good)])
    consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() == 1, what="the good occurrence")
        dead_letters = topic_reader(occurrences_dlq_topic, 1, timeout_s=10)
    finally:
        consumer.stop()

    assert [m.value() for m in dead_letters] == [bad]
    assert "NUL character" in dict(dead_letters[0].headers())["reason"].decode()


def test_two_consumers_with_small_batches_count_every_occurrence_once(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader
):
    """Each click published twice in a row (so often twice in one batch) and again later, over
    every partition, to two consumers of one group grouping batches of at most 7."""
    base = fixture_occurrences()
    clicks = [
        another_click(base[index % len(base)], user={"id": f"user-{index % 4}"})
        for index in range(120)
    ]
    values = [occurrence_message(click) for click in clicks for _ in range(2)]
    values += [occurrence_message(click) for click in clicks[::3]]
    group = f"test-issues-{uuid.uuid4().hex[:8]}"
    first = start_consumer(OccurrencesStrategyFactory(max_batch_size=7), group)
    second = start_consumer(OccurrencesStrategyFactory(max_batch_size=7), group)
    try:
        produce(occurrences_topic, values, key=lambda: uuid.uuid4().bytes)
        wait_until(lambda: Occurrence.objects.count() == 120, timeout_s=60, what="occurrences")
        wait_until(lambda: committed(first) == len(values), timeout_s=30, what="all committed")
    finally:
        first.stop()
        second.stop()

    assert Occurrence.objects.count() == 120
    for index, occurrence in enumerate(base):
        issue = Issue.objects.get(fingerprint=occurrence["fingerprint"])
        mine = clicks[index :: len(base)]
        users = {c["event"]["user"]["id"] for c in mine}
        assert (issue.times_seen, issue.users_seen) == (len(mine), len(users))
        assert IssueUser.objects.filter(issue=issue).count() == len(users)
    assert topic_reader(occurrences_dlq_topic, 1, timeout_s=1) == []
