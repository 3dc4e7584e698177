"""ProcessInBatches on its own (no broker, no database): when a batch is processed, the order of
dead letters and commits, retries while the database is unavailable, push-back, and the end of an
assignment. The batch function is a stand-in (named for the issues consumer's grouping, its first
user); tests/issues/test_consumer.py and tests/replays/test_consumer.py run the real ones on the
real broker and database."""

import threading
from datetime import UTC, datetime

import pytest
from arroyo.dlq import InvalidMessage
from arroyo.processing.strategies import ProcessingStrategy
from arroyo.processing.strategies.abstract import MessageRejected
from arroyo.types import BrokerValue, FilteredPayload, Message, Partition, Topic, Value
from django.db import OperationalError

from pipeline.batches import ProcessInBatches
from pipeline.steps import Backoff
from tests.consumers import wait_until

TOPIC = Topic("ingest-occurrences")
FIRST, SECOND = Partition(TOPIC, 0), Partition(TOPIC, 1)


class Commits(ProcessingStrategy[object]):
    """The next step: records the offsets it is asked to commit."""

    def __init__(self) -> None:
        self.committed: list[dict[Partition, int]] = []
        self.closed = self.joined = False

    def submit(self, message: Message[object]) -> None:
        self.committed.append(dict(message.committable))

    def poll(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def terminate(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        self.joined = True


class Grouping:
    """A stand-in for a factory's process_batch: records the batches; dead letters on demand."""

    def __init__(self, dead_offsets: tuple[int, ...] = ()) -> None:
        self.batches: list[list[int]] = []
        self.dead_offsets = dead_offsets

    def __call__(self, batch) -> list[InvalidMessage]:
        self.batches.append([value.offset for value in batch])
        return [
            InvalidMessage(value.partition, value.offset, needs_commit=False)
            for value in batch
            if value.offset in self.dead_offsets
        ]


def message(offset: int, partition: Partition = FIRST) -> Message[str]:
    return Message(BrokerValue(f"occurrence {offset}", partition, offset, datetime.now(UTC)))


def strategy(group, size: int = 100, time_s: float = 60.0) -> tuple[ProcessInBatches, Commits]:
    commits = Commits()
    backoff = Backoff(first_s=0.001, max_s=0.001)
    return ProcessInBatches(group, commits, backoff, size, time_s, (OperationalError,)), commits


def poll_until(step: ProcessInBatches, predicate, what: str) -> list[InvalidMessage]:
    """Poll as arroyo's processor does, collecting the dead letters raised, until ``predicate``."""
    raised: list[InvalidMessage] = []

    def poll() -> bool:
        try:
            step.poll()
        except InvalidMessage as exc:
            raised.append(exc)
        return predicate()

    wait_until(poll, timeout_s=10, what=what)
    return raised


def test_a_lone_message_is_grouped_without_more_messages_or_polls():
    """The worker's own clock closes the batch: arroyo's BatchStep would wait for a poll."""
    group = Grouping()
    step, commits = strategy(group, time_s=0.01)
    step.submit(message(0))
    wait_until(lambda: group.batches == [[0]], timeout_s=10, what="the batch grouped")
    assert commits.committed == []  # committed from the consumer's thread, at its next poll
    poll_until(step, lambda: commits.committed == [{FIRST: 1}], "the commit")
    step.close()
    step.join()


def test_a_full_batch_is_grouped_at_once_and_committed_after_its_dead_letters_in_order():
    group = Grouping(dead_offsets=(1, 3))
    step, commits = strategy(group, size=5)
    for offset in range(5):
        step.submit(message(offset))
    raised = poll_until(step, lambda: commits.committed, "the commit")
    assert group.batches == [[0, 1, 2, 3, 4]]
    assert [(exc.partition, exc.offset) for exc in raised] == [(FIRST, 1), (FIRST, 3)]
    assert commits.committed == [{FIRST: 5}]
    step.close()
    step.join()


def test_an_unavailable_database_is_retried_and_nothing_is_committed_meanwhile():
    database_back = threading.Event()
    attempts = []

    def group(batch) -> list[InvalidMessage]:
        attempts.append([value.offset for value in batch])
        if not database_back.is_set():
            raise OperationalError("connection refused (simulated outage)")
        return []

    step, commits = strategy(group, size=2, time_s=0.01)
    step.submit(message(0))
    step.submit(message(1))
    wait_until(lambda: len(attempts) >= 3, timeout_s=10, what="retries")
    # The next batch fills while the worker holds the first; then the consumer is pushed back.
    step.submit(message(2))
    step.submit(message(3))
    with pytest.raises(MessageRejected):
        step.submit(message(4))
    step.poll()
    assert commits.committed == []
    assert {tuple(batch) for batch in attempts} == {(0, 1)}

    database_back.set()
    poll_until(step, lambda: len(commits.committed) == 2, "both batches committed")
    assert commits.committed == [{FIRST: 2}, {FIRST: 4}]
    step.submit(message(4))
    step.close()
    step.join()
    assert commits.committed[-1] == {FIRST: 5}


def test_join_groups_what_is_open_and_commits_it():
    group = Grouping()
    step, commits = strategy(group)
    for offset in range(3):
        step.submit(message(offset))
    step.submit(message(7, SECOND))
    step.close()
    step.join(10)
    assert group.batches == [[0, 1, 2, 7]]
    assert commits.committed == [{FIRST: 3, SECOND: 8}]
    assert commits.closed
    assert commits.joined


def test_join_does_not_commit_a_batch_whose_dead_letters_were_not_sent():
    """They were never handed to arroyo: the batch comes again to the partition's next owner,
    where its occurrences count once and its dead letters are sent."""
    group = Grouping(dead_offsets=(1,))
    step, commits = strategy(group)
    for offset in range(3):
        step.submit(message(offset))
    step.close()
    step.join(10)
    assert group.batches == [[0, 1, 2]]
    assert commits.committed == []


def test_a_filtered_message_commits_with_its_batch_and_never_moves_an_offset_back():
    group = Grouping()
    step, commits = strategy(group)
    step.submit(message(5))
    step.submit(Message(Value(FilteredPayload(), {FIRST: 3, SECOND: 9})))
    step.close()
    step.join(10)
    assert group.batches == [[5]]
    assert commits.committed == [{FIRST: 6, SECOND: 9}]


def test_a_batch_of_filtered_messages_only_is_committed_without_grouping():
    group = Grouping()
    step, commits = strategy(group, time_s=0.01)
    step.submit(Message(Value(FilteredPayload(), {FIRST: 4})))
    poll_until(step, lambda: commits.committed == [{FIRST: 4}], "the commit")
    assert group.batches == []
    step.close()
    step.join()


def test_a_crash_of_the_batch_thread_stops_the_consumer():
    def group(batch) -> list[InvalidMessage]:
        raise KeyError("a bug")

    step, _commits = strategy(group, time_s=0.01)
    step.submit(message(0))
    with pytest.raises(RuntimeError, match="batch thread crashed"):
        wait_until(lambda: step.poll(), timeout_s=10, what="the crash")
