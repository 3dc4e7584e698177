"""The issues consumer's strategy: decode and validate (compute), then group in batches (I/O), then
commit.

``RunTask(decode)`` → ``GroupInBatches(group_batch)`` → ``CommitOffsets``. Occurrences are grouped
a batch at a time, each batch in one transaction (``issue_record_occurrences``: a few queries for
the batch instead of a few for each occurrence), by a worker thread that takes a batch when it is
full, or when the first of it has waited ``max_batch_time_s`` and the worker is free. The worker's
own clock closes a batch, so a lone occurrence becomes an issue within that time although no other
message comes (arroyo's ``BatchStep`` closes a batch only when the processor polls it, after a
consumer poll that waits up to a second on a quiet topic). Under load, the next batch fills while
the worker groups one: batches grow with the load.

An offset is committed only once its batch's transaction has committed. An occurrence delivered
twice (a rebalance, a replayed topic, a producer that retried; also twice in one batch) is found by
its id and counted once. A message that can never be grouped goes to the dead-letter topic with the
reason: one that cannot be decoded, and one that the database refuses (the batch is then grouped
again one occurrence at a time, so the others are kept). An unavailable database makes the worker
back off and try the same batch again; the consumer is pushed back (``MessageRejected``) once the
next batch is full.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from arroyo.backends.kafka import KafkaPayload
from arroyo.dlq import InvalidMessage
from arroyo.processing.strategies import CommitOffsets, ProcessingStrategy, RunTask
from arroyo.processing.strategies.abstract import MessageRejected, ProcessingStrategyFactory
from arroyo.types import BrokerValue, Commit, FilteredPayload, Message, Partition, Value
from django.db import DatabaseError, InterfaceError, OperationalError, connection

from issues.occurrence_message import InvalidOccurrence, OccurrenceRecord, decode_occurrence
from issues.selectors import noise_threshold_for
from issues.services import NoiseThreshold, issue_record_occurrence, issue_record_occurrences
from pipeline.steps import Backoff, invalid_message

logger = logging.getLogger(__name__)

# The database went away or was busy: the same batch is tried again. Any other error is an
# occurrence's own (a concurrent consumer's insert of the same occurrence is no error: it counts
# once): the batch is grouped one occurrence at a time and the ones that fail go to the DLQ.
RETRIED_ERRORS = (OperationalError, InterfaceError)

# Occurrences in one transaction, at most; and how long the first of a batch waits for others.
MAX_BATCH_SIZE = 500
MAX_BATCH_TIME_S = 0.01


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A message that the decode step refused, on its way to the dead-letter topic.

    It goes there from the grouping step, in its place among its batch's messages: arroyo finds a
    dead letter's bytes among the messages not yet committed, and forgets those before it, so one
    partition's dead letters must be raised in offset order.
    """

    reason: str


Decoded = OccurrenceRecord | Undecodable
Batch = Sequence[BrokerValue[Decoded]]


class OccurrencesStrategyFactory(ProcessingStrategyFactory[KafkaPayload]):
    def __init__(
        self,
        backoff: Backoff | None = None,
        max_batch_size: int = MAX_BATCH_SIZE,
        max_batch_time_s: float = MAX_BATCH_TIME_S,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.max_batch_size = max_batch_size
        self.max_batch_time_s = max_batch_time_s

    def create_with_partitions(
        self, commit: Commit, partitions: Mapping[Partition, int]
    ) -> ProcessingStrategy[KafkaPayload]:
        return RunTask(
            self.decode,
            GroupInBatches(
                self.group_batch,
                CommitOffsets(commit),
                self.backoff,
                self.max_batch_size,
                self.max_batch_time_s,
            ),
        )

    # --- compute ---------------------------------------------------------------------------
    def decode(self, message: Message[KafkaPayload]) -> Decoded:
        try:
            return decode_occurrence(message.payload.value)
        except InvalidOccurrence as exc:
            return Undecodable(str(exc))

    # --- I/O -------------------------------------------------------------------------------
    def group_batch(self, batch: Batch) -> list[InvalidMessage]:
        """Group the batch's occurrences in one transaction, each with its project's noise
        threshold; return the messages for the dead-letter topic. Raises one of
        ``RETRIED_ERRORS`` when the database is unavailable: the batch is tried again then (what
        it has written is found again and counts once)."""
        noise: dict[int, NoiseThreshold | None] = {}
        groupable: list[BrokerValue[OccurrenceRecord]] = []
        invalid: list[InvalidMessage] = []
        for value in batch:
            if isinstance(value.payload, Undecodable):
                invalid.append(_dead_letter(value, value.payload.reason))
                continue
            project_id = value.payload.occurrence.project_id
            if project_id not in noise:
                noise[project_id] = noise_threshold_for(project_id)
            if noise[project_id] is None:
                invalid.append(_dead_letter(value, f"project {project_id} does not exist"))
            else:
                groupable.append(value)
        thresholds = {project_id: each for project_id, each in noise.items() if each is not None}
        try:
            issue_record_occurrences([value.payload for value in groupable], thresholds)
        except RETRIED_ERRORS:
            raise
        except Exception as exc:  # one occurrence's values, or a bug: find which, keep the rest
            logger.warning(
                "grouping a batch of %d failed (%s: %s); grouping it one occurrence at a time",
                len(groupable),
                type(exc).__name__,
                exc,
            )
            invalid.extend(self.group_one_by_one(groupable, thresholds))
        return sorted(invalid, key=lambda each: (each.partition.index, each.offset))

    def group_one_by_one(
        self, batch: Sequence[BrokerValue[OccurrenceRecord]], noise: Mapping[int, NoiseThreshold]
    ) -> list[InvalidMessage]:
        """Group each occurrence in its own transaction; those that fail are dead letters."""
        invalid = []
        for value in batch:
            record = value.payload
            try:
                issue_record_occurrence(record, noise[record.occurrence.project_id])
            except RETRIED_ERRORS:
                raise
            except DatabaseError as exc:  # DataError and the like: this message's values
                invalid.append(_dead_letter(value, f"the database refused the occurrence: {exc}"))
            except Exception as exc:  # an occurrence that trips a bug must not block its partition
                logger.exception("grouping the occurrence failed")
                invalid.append(_dead_letter(value, f"grouping failed: {type(exc).__name__}: {exc}"))
        return invalid


def _dead_letter(value: BrokerValue[Decoded], reason: str) -> InvalidMessage:
    exc = invalid_message(Message(value), reason)
    # Its offset is committed with its batch's: arroyo must not commit it again on its own (a
    # later, lower commit would move the partition's offset back).
    exc.needs_commit = False
    return exc


@dataclass
class _OpenBatch:
    values: list[BrokerValue[Decoded]] = field(default_factory=list)
    committable: dict[Partition, int] = field(default_factory=dict)
    timestamp: datetime | None = None
    started: float = field(default_factory=time.monotonic)
    size: int = 0  # messages in it, filtered ones included


@dataclass
class _GroupedBatch:
    committable: dict[Partition, int]
    timestamp: datetime | None
    dead_letters: deque[InvalidMessage]


class GroupInBatches(ProcessingStrategy[FilteredPayload | Decoded]):
    """Collects occurrences into batches that a worker thread groups, then commits each batch's
    offsets once it is grouped, in order.

    The worker holds one batch at a time while the next one fills; when that one is full too,
    ``submit`` waits a moment, then pushes back with ``MessageRejected``. Dead letters found by the
    worker are raised from ``poll`` (arroyo sends them to the DLQ) before their batch's offsets
    are committed. A batch whose dead letters are still unsent at ``join`` is not committed: its
    messages come again to whoever consumes the partition next, and count once.
    """

    def __init__(
        self,
        group_batch: Callable[[Batch], list[InvalidMessage]],
        next_step: ProcessingStrategy[None],
        backoff: Backoff,
        max_batch_size: int,
        max_batch_time_s: float,
    ) -> None:
        self.group_batch = group_batch
        self.next_step = next_step
        self.backoff = backoff
        self.max_batch_size = max_batch_size
        self.max_batch_time_s = max_batch_time_s
        self._changed = threading.Condition()
        self._open: _OpenBatch | None = None
        self._grouped: deque[_GroupedBatch] = deque()
        self._offsets: dict[Partition, int] = {}  # the highest offset to commit per partition
        self._closed = False  # no more messages: the worker takes what is open at once
        self._stopped = False  # the worker gives up on what it holds
        self._worker_error: BaseException | None = None
        self._worker = threading.Thread(target=self._work, name="group-occurrences", daemon=True)
        self._worker.start()

    # --- the consumer's thread ----------------------------------------------------------------
    def submit(self, message: Message[FilteredPayload | Decoded]) -> None:
        assert not self._closed
        with self._changed:
            self._raise_worker_error()
            if self._open is not None and self._open.size >= self.max_batch_size:
                self._changed.wait_for(self._open_has_room, timeout=self.max_batch_time_s)
                if not self._open_has_room():
                    raise MessageRejected
            if self._open is None:
                self._open = _OpenBatch()
                self._changed.notify_all()  # the worker starts the batch's clock
            batch = self._open
            batch.size += 1
            batch.timestamp = message.timestamp
            if not isinstance(message.payload, FilteredPayload):
                batch.values.append(message.value)
            for partition, offset in message.committable.items():
                # A filtered message may come after a later one's.
                if offset > self._offsets.get(partition, -1):
                    self._offsets[partition] = batch.committable[partition] = offset
            if batch.size >= self.max_batch_size:
                self._changed.notify_all()

    def poll(self) -> None:
        self._raise_worker_error()
        self._commit_grouped()
        self.next_step.poll()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def terminate(self) -> None:
        with self._changed:
            self._closed = self._stopped = True
            self._changed.notify_all()
        self.next_step.terminate()

    def join(self, timeout: float | None = None) -> None:
        """Group what is open and in hand (within ``timeout``), commit what is grouped."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.close()
        self._worker.join(timeout)
        if self._worker.is_alive():
            logger.warning("grouping did not finish in %ss: its messages will come again", timeout)
            with self._changed:
                self._stopped = True
                self._changed.notify_all()
        self._raise_worker_error()
        with self._changed:
            while self._grouped and not self._grouped[0].dead_letters:
                self._commit(self._grouped.popleft())
            if self._grouped:
                logger.warning(
                    "dead letters not sent before the partitions were released: %d batches are "
                    "not committed and will come again",
                    len(self._grouped),
                )
        self.next_step.close()
        self.next_step.join(None if deadline is None else max(deadline - time.monotonic(), 0))

    def _commit_grouped(self) -> None:
        """Commit the grouped batches in order; a batch's dead letters are raised first, one a
        call (arroyo sends each to the DLQ, then polls again)."""
        while True:
            with self._changed:
                if not self._grouped:
                    return
                grouped = self._grouped[0]
                if grouped.dead_letters:
                    raise grouped.dead_letters.popleft()
                self._grouped.popleft()
            self._commit(grouped)

    def _commit(self, grouped: _GroupedBatch) -> None:
        if grouped.committable:
            self.next_step.submit(Message(Value(None, grouped.committable, grouped.timestamp)))

    def _open_has_room(self) -> bool:
        return self._open is None or self._open.size < self.max_batch_size

    def _raise_worker_error(self) -> None:
        if self._worker_error is not None:
            raise RuntimeError("the grouping thread crashed") from self._worker_error

    # --- the worker's thread ------------------------------------------------------------------
    def _work(self) -> None:
        try:
            while (batch := self._next_batch()) is not None:
                dead_letters = self._group(batch)
                with self._changed:
                    if dead_letters is not None:
                        self._grouped.append(
                            _GroupedBatch(batch.committable, batch.timestamp, deque(dead_letters))
                        )
                    self._changed.notify_all()
        except BaseException as exc:  # reported to the consumer's thread, which stops
            logger.exception("the grouping thread crashed")
            self._worker_error = exc
        finally:
            connection.close()  # this thread's own

    def _next_batch(self) -> _OpenBatch | None:
        """The open batch once it is full, old enough, or the last; None when there is no more."""
        with self._changed:
            while not self._stopped:
                batch = self._open
                if batch is None:
                    if self._closed:
                        return None
                    self._changed.wait()
                    continue
                wait_s = batch.started + self.max_batch_time_s - time.monotonic()
                if batch.size >= self.max_batch_size or wait_s <= 0 or self._closed:
                    self._open = None
                    self._changed.notify_all()  # room for the next batch
                    return batch
                self._changed.wait(wait_s)
            return None

    def _group(self, batch: _OpenBatch) -> list[InvalidMessage] | None:
        """The batch's dead letters once it is grouped; None if the strategy stopped first."""
        while not self._stopped:
            try:
                dead_letters = self.group_batch(batch.values) if batch.values else []
            except RETRIED_ERRORS as exc:
                logger.warning("database unavailable, will retry: %s", exc)
                connection.close()
                self.backoff.wait()
                continue
            self.backoff.reset()
            return dead_letters
        return None
