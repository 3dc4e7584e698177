"""A strategy step that runs a stage's I/O on batches of messages, in a worker thread.

``RunTask(compute)`` → ``ProcessInBatches(process_batch)`` → ``CommitOffsets``: the compute step
turns each message into a value (or a ``Refused`` with the reason), and ``process_batch`` does the
I/O for a whole batch at once (a few queries in one transaction instead of a few per message),
returning the batch's dead letters. Every consumer of ours is built so
(``BatchingStrategyFactory``).

Why not arroyo's ``BatchStep``: it closes a batch only when the processor polls it, which on a
quiet topic comes after a consumer poll that waits up to a second; and it passes dead letters
through at once, which would commit offsets of messages still waiting in the batch.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from arroyo.backends.kafka import KafkaPayload
from arroyo.dlq import InvalidMessage
from arroyo.processing.strategies import CommitOffsets, ProcessingStrategy, RunTask
from arroyo.processing.strategies.abstract import MessageRejected, ProcessingStrategyFactory
from arroyo.types import BrokerValue, Commit, FilteredPayload, Message, Partition, Value
from django.db import DatabaseError, connection

from pipeline.steps import Backoff, invalid_message

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Refused:
    """A message that the compute step refused, on its way to the dead-letter topic.

    It goes there from the batch step, in its place among its batch's messages: arroyo finds a
    dead letter's bytes among the messages not yet committed, and forgets those before it, so one
    partition's dead letters must be raised in offset order.
    """

    reason: str


def dead_letter(value: BrokerValue[object], reason: str) -> InvalidMessage:
    exc = invalid_message(Message(value), reason)
    # Its offset is committed with its batch's: arroyo must not commit it again on its own (a
    # later, lower commit would move the partition's offset back).
    exc.needs_commit = False
    return exc


@dataclass
class _OpenBatch:
    values: list[BrokerValue[T | Refused]] = field(default_factory=list)
    committable: dict[Partition, int] = field(default_factory=dict)
    timestamp: datetime | None = None
    started: float = field(default_factory=time.monotonic)
    size: int = 0  # messages in it, filtered ones included


@dataclass
class _DoneBatch:
    committable: dict[Partition, int]
    timestamp: datetime | None
    dead_letters: deque[InvalidMessage]


class ProcessInBatches(ProcessingStrategy[FilteredPayload | T | Refused], Generic[T]):
    """Collects messages into batches that a worker thread processes, then commits each batch's
    offsets once it is processed, in order.

    ``process_batch`` raising one of ``retried_errors`` (the database or the broker is
    unavailable) gets the same batch again after a back-off, without a commit; whatever else it
    raises stops the consumer. The worker holds one batch at a time while the next one fills; when
    that one is full too, ``submit`` waits a moment, then pushes back with ``MessageRejected``.
    Dead letters found by the worker are raised from ``poll`` (arroyo sends them to the DLQ)
    before their batch's offsets are committed. A batch whose dead letters are still unsent at
    ``join`` is not committed: its messages come again to whoever consumes the partition next,
    and count once.
    """

    def __init__(
        self,
        process_batch: Callable[[Sequence[BrokerValue[T | Refused]]], list[InvalidMessage]],
        next_step: ProcessingStrategy[None],
        backoff: Backoff,
        max_batch_size: int,
        max_batch_time_s: float,
        retried_errors: tuple[type[Exception], ...],
        thread_name: str = "process-batches",
    ) -> None:
        self.process_batch = process_batch
        self.retried_errors = retried_errors
        self.next_step = next_step
        self.backoff = backoff
        self.max_batch_size = max_batch_size
        self.max_batch_time_s = max_batch_time_s
        self._changed = threading.Condition()
        self._open: _OpenBatch | None = None
        self._done: deque[_DoneBatch] = deque()
        self._offsets: dict[Partition, int] = {}  # the highest offset to commit per partition
        self._closed = False  # no more messages: the worker takes what is open at once
        self._stopped = False  # the worker gives up on what it holds
        self._worker_error: BaseException | None = None
        self._worker = threading.Thread(target=self._work, name=thread_name, daemon=True)
        self._worker.start()

    # --- the consumer's thread ----------------------------------------------------------------
    def submit(self, message: Message[FilteredPayload | T | Refused]) -> None:
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
        self._commit_done()
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
        """Process what is open and in hand (within ``timeout``), commit what is done."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.close()
        self._worker.join(timeout)
        if self._worker.is_alive():
            logger.warning("a batch did not finish in %ss: its messages will come again", timeout)
            with self._changed:
                self._stopped = True
                self._changed.notify_all()
        self._raise_worker_error()
        with self._changed:
            while self._done and not self._done[0].dead_letters:
                self._commit(self._done.popleft())
            if self._done:
                logger.warning(
                    "dead letters not sent before the partitions were released: %d batches are "
                    "not committed and will come again",
                    len(self._done),
                )
        self.next_step.close()
        self.next_step.join(None if deadline is None else max(deadline - time.monotonic(), 0))

    def _commit_done(self) -> None:
        """Commit the processed batches in order; a batch's dead letters are raised first, one a
        call (arroyo sends each to the DLQ, then polls again)."""
        while True:
            with self._changed:
                if not self._done:
                    return
                done = self._done[0]
                if done.dead_letters:
                    raise done.dead_letters.popleft()
                self._done.popleft()
            self._commit(done)

    def _commit(self, done: _DoneBatch) -> None:
        if done.committable:
            self.next_step.submit(Message(Value(None, done.committable, done.timestamp)))

    def _open_has_room(self) -> bool:
        return self._open is None or self._open.size < self.max_batch_size

    def _raise_worker_error(self) -> None:
        if self._worker_error is not None:
            raise RuntimeError("the batch thread crashed") from self._worker_error

    # --- the worker's thread ------------------------------------------------------------------
    def _work(self) -> None:
        try:
            while (batch := self._next_batch()) is not None:
                dead_letters = self._process(batch)
                with self._changed:
                    if dead_letters is not None:
                        self._done.append(
                            _DoneBatch(batch.committable, batch.timestamp, deque(dead_letters))
                        )
                    self._changed.notify_all()
        except BaseException as exc:  # reported to the consumer's thread, which stops
            logger.exception("the batch thread crashed")
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

    def _process(self, batch: _OpenBatch) -> list[InvalidMessage] | None:
        """The batch's dead letters once it is processed; None if the strategy stopped first."""
        while not self._stopped:
            try:
                dead_letters = self.process_batch(batch.values) if batch.values else []
            except self.retried_errors as exc:
                logger.warning("batch not processed (%s), will retry: %s", type(exc).__name__, exc)
                connection.close()
                self.backoff.wait()
                continue
            self.backoff.reset()
            return dead_letters
        return None


def batch_else_one_by_one(
    values: Sequence[BrokerValue[T]],
    process_batch: Callable[[Sequence[BrokerValue[T]]], Sequence[R]],
    process_one: Callable[[BrokerValue[T]], R],
    retried_errors: tuple[type[Exception], ...],
    action: str,
    thing: str,
) -> tuple[list[tuple[BrokerValue[T], R]], list[InvalidMessage]]:
    """Process the values as one batch; if that fails on anything but an outage (one value the
    database refuses, or a bug), process them one at a time instead, so that only the values that
    fail again become dead letters. Returns each kept value with its result, and the dead letters.

    ``action`` and ``thing`` name the work in logs and reasons ("storing", "segment")."""
    try:
        return list(zip(values, process_batch(values), strict=True)), []
    except retried_errors:
        raise
    except Exception as exc:
        logger.warning(
            "%s a batch of %d failed (%s: %s); %s it one %s at a time",
            action,
            len(values),
            type(exc).__name__,
            exc,
            action,
            thing,
        )
    kept, dead_letters = [], []
    for value in values:
        try:
            result = process_one(value)
        except retried_errors:
            raise
        except DatabaseError as exc:  # DataError and the like: this message's values
            dead_letters.append(dead_letter(value, f"the database refused the {thing}: {exc}"))
        except Exception as exc:  # a message that trips a bug must not block its partition
            logger.exception("%s the %s failed", action, thing)
            dead_letters.append(dead_letter(value, f"{action} failed: {type(exc).__name__}: {exc}"))
        else:
            kept.append((value, result))
    return kept, dead_letters


class BatchingStrategyFactory(ProcessingStrategyFactory[KafkaPayload], Generic[T]):
    """The strategy of every consumer of ours: ``RunTask(compute)`` →
    ``ProcessInBatches(process_batch)`` → ``CommitOffsets``. A stage says what it computes per
    message (``compute``: a value, or a ``Refused`` with the reason), what it does per batch
    (``process_batch``: the I/O, returning the dead letters), which errors get the same batch again
    (``retried_errors``) and its worker thread's name."""

    retried_errors: tuple[type[Exception], ...] = ()
    thread_name = "process-batches"

    def __init__(
        self, backoff: Backoff | None, max_batch_size: int, max_batch_time_s: float
    ) -> None:
        self.backoff = backoff or Backoff()
        self.max_batch_size = max_batch_size
        self.max_batch_time_s = max_batch_time_s

    def compute(self, message: Message[KafkaPayload]) -> T | Refused:
        raise NotImplementedError

    def process_batch(self, batch: Sequence[BrokerValue[T | Refused]]) -> list[InvalidMessage]:
        raise NotImplementedError

    def create_with_partitions(
        self, commit: Commit, partitions: Mapping[Partition, int]
    ) -> ProcessingStrategy[KafkaPayload]:
        return RunTask(
            self.compute,
            ProcessInBatches(
                self.process_batch,
                CommitOffsets(commit),
                # The batch worker's own back-off: the compute step may be waiting on
                # ``self.backoff`` at the same moment (a database lookup of its own).
                Backoff(self.backoff.first_s, self.backoff.max_s),
                self.max_batch_size,
                self.max_batch_time_s,
                self.retried_errors,
                thread_name=self.thread_name,
            ),
        )
