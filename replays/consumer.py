"""The replays consumer's strategy: decode and detect (compute), then store and publish in
batches (I/O), then commit.

``RunTask(compute)`` → ``ProcessInBatches(process_batch)`` → ``CommitOffsets``. Detection
runs on the consumer's thread, one segment at a time; a worker thread stores a batch of segments
in one transaction (``replay_record_segments``), publishes their occurrences and waits for the
broker's acknowledgements, while the next batch is detected. An offset is committed only after its
segment's rows are in the database and its occurrences on the broker.

A message that can never be processed becomes a ``Refused`` with the reason, and goes to the
dead-letter topic in its place in its batch; the consumer carries on. When the database, the
recordings storage or the broker is unavailable, the batch is tried again after a back-off and
nothing is committed meanwhile; once the next batch is full too, the consumer is pushed back
(``MessageRejected``) and arroyo pauses the partitions.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from arroyo.backends.kafka import KafkaPayload
from arroyo.dlq import InvalidMessage
from arroyo.processing.strategies.abstract import MessageRejected
from arroyo.types import BrokerValue, Message
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection

from pipeline.batches import (
    BatchingStrategyFactory,
    Refused,
    batch_else_one_by_one,
    dead_letter,
)
from pipeline.metrics import SEGMENT_SECONDS, SEGMENTS
from pipeline.steps import Backoff
from replays.click_windows import click_windows_to_publish
from replays.detection.detect import Detection, Segment, decode_segment, detect_clicks
from replays.detection.errors import InvalidSegment
from replays.models import ReplaySegment
from replays.occurrences import OccurrencePublisher, OccurrencesNotPublished, publish_click_windows
from replays.queries import detection_settings_for
from replays.services import (
    RecordingStorageUnavailable,
    replay_mark_published,
    replay_record_segment,
    replay_record_segments,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


# Errors after which the same batch is tried again: the database went away or was busy, another
# consumer stored the same segment at the same moment (a rebalance), the recordings storage could
# not write (a full disk, an unreachable bucket), the broker did not take the occurrences. Any
# other error is a segment's own: the batch is stored one segment at a time, and the segments that
# fail go to the DLQ.
RETRIED_ERRORS = (
    OperationalError,
    InterfaceError,
    IntegrityError,
    RecordingStorageUnavailable,
    OccurrencesNotPublished,
)

# Segments in one transaction, at most; and how long the first of a batch waits for others.
MAX_BATCH_SIZE = 200
MAX_BATCH_TIME_S = 0.01


@dataclass(frozen=True, slots=True)
class ProcessedSegment:
    segment: Segment
    detection: Detection


Processed = ProcessedSegment | Refused


class RecordingsStrategyFactory(BatchingStrategyFactory[ProcessedSegment]):
    retried_errors = RETRIED_ERRORS
    thread_name = "store-segments"

    def __init__(
        self,
        publisher: OccurrencePublisher,
        clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
        max_batch_size: int = MAX_BATCH_SIZE,
        max_batch_time_s: float = MAX_BATCH_TIME_S,
    ) -> None:
        super().__init__(backoff, max_batch_size, max_batch_time_s)
        self.publisher = publisher
        self.clock = clock
        self.max_inflated_bytes = settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES

    # --- compute ---------------------------------------------------------------------------
    def compute(self, message: Message[KafkaPayload]) -> Processed:
        """Decode the message and find its clicks, with the project's current settings."""
        with SEGMENT_SECONDS.labels("detect").time():
            return self._process_segment(message)

    def _process_segment(self, message: Message[KafkaPayload]) -> Processed:
        try:
            segment = decode_segment(message.payload.value, self.max_inflated_bytes)
        except InvalidSegment as exc:
            return Refused(str(exc))
        try:
            project_settings = self._retrying(detection_settings_for, segment.project_id)
        except DatabaseError as exc:
            return Refused(f"the database refused the project lookup: {exc}")
        if project_settings is None:
            return Refused(f"project {segment.project_id} does not exist")
        try:
            detection = detect_clicks(segment, project_settings, self.clock())
        except InvalidSegment as exc:
            return Refused(str(exc))
        except Exception as exc:  # a recording that trips a bug must not stop the partition
            logger.exception("detection failed")
            return Refused(f"detection failed: {type(exc).__name__}: {exc}")
        return ProcessedSegment(segment, detection)

    def _retrying(self, function: Callable[..., T], *args: object) -> T:
        """Call ``function``; if the database is unavailable, wait and ask for a retry."""
        try:
            return function(*args)
        except RETRIED_ERRORS as exc:
            logger.warning("database unavailable, will retry: %s", exc)
            connection.close()
            self.backoff.wait()
            raise MessageRejected from exc

    # --- I/O (the batch thread) ----------------------------------------------------------------
    def process_batch(self, batch: Sequence[BrokerValue[Processed]]) -> list[InvalidMessage]:
        """Store the batch's segments, publish the occurrences that no earlier delivery
        published, and return the messages for the dead-letter topic."""
        started = time.perf_counter()
        dead_letters = [
            dead_letter(value, value.payload.reason)
            for value in batch
            if isinstance(value.payload, Refused)
        ]
        processed: list[BrokerValue[ProcessedSegment]] = [
            value for value in batch if not isinstance(value.payload, Refused)
        ]
        kept, refused = batch_else_one_by_one(
            processed,
            lambda values: replay_record_segments(
                [(value.payload.segment, value.payload.detection) for value in values]
            ),
            lambda value: replay_record_segment(value.payload.segment, value.payload.detection),
            RETRIED_ERRORS,
            "storing",
            "segment",
        )
        dead_letters += refused
        processed = [value for value, _ in kept]
        rows = [row for _, row in kept]
        self._publish(processed, rows)
        if processed:
            per_segment = (time.perf_counter() - started) / len(processed)
            for _ in processed:
                SEGMENT_SECONDS.labels("store").observe(per_segment)
            SEGMENTS.inc(len(processed))
        return sorted(dead_letters, key=lambda each: (each.partition.index, each.offset))

    def _publish(
        self, batch: Sequence[BrokerValue[ProcessedSegment]], rows: Sequence[ReplaySegment]
    ) -> None:
        """Publish the hydration errors of the segments whose rows say they are not out yet (each
        row once: a segment twice in the batch has one row), and every click occurrence of the
        batch's replays whose last build is not out yet (new clicks, and earlier ones whose
        window a segment of this batch filled: the same id again); then mark them."""
        pending = {row.pk: (row, value) for value, row in zip(batch, rows, strict=True)}
        pending = {pk: each for pk, each in pending.items() if not each[0].occurrences_published}
        windows = click_windows_to_publish({row.replay_id for row in rows})
        if not pending and not windows:
            return
        others = [
            occurrence
            for _, value in pending.values()
            for occurrence in value.payload.detection.other_occurrences
        ]
        publish_click_windows(self.publisher, windows, others)
        replay_mark_published(*(row for row, _ in pending.values()))
