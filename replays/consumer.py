"""The replays consumer's strategy: decode and detect (compute), then store and publish (I/O),
then commit.

``RunTask(process_segment)`` → ``RunTask(store_segment)`` → ``CommitOffsets``. An offset is
committed only after its segment's rows are in the database and its occurrences on the broker.
A message that can never be processed becomes an ``InvalidMessage``: arroyo puts it on the
dead-letter topic and the consumer carries on. When the database or the broker is unavailable,
the step raises ``MessageRejected``: arroyo pauses the partitions and submits the same message
again later, so nothing is skipped and nothing is committed meanwhile.
"""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from arroyo.backends.kafka import KafkaPayload
from arroyo.processing.strategies import CommitOffsets, ProcessingStrategy, RunTask
from arroyo.processing.strategies.abstract import MessageRejected, ProcessingStrategyFactory
from arroyo.types import Commit, Message, Partition
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection

from pipeline.metrics import OCCURRENCES, SEGMENT_SECONDS, SEGMENTS
from pipeline.steps import Backoff, invalid_message
from replays.detection.detect import Detection, Segment, decode_segment, detect_clicks
from replays.detection.errors import InvalidSegment
from replays.occurrences import OccurrencePublisher
from replays.selectors import detection_settings_for
from replays.services import (
    RecordingStorageUnavailable,
    replay_mark_published,
    replay_record_segment,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Errors after which the same message is tried again: the database went away or was busy,
# another consumer stored the same segment at the same moment (a rebalance), or the recordings
# storage could not write (a full disk). Any other error is this message's own: to the DLQ.
RETRIED_ERRORS = (OperationalError, InterfaceError, IntegrityError, RecordingStorageUnavailable)


@dataclass(frozen=True, slots=True)
class ProcessedSegment:
    segment: Segment
    detection: Detection


class RecordingsStrategyFactory(ProcessingStrategyFactory[KafkaPayload]):
    def __init__(
        self,
        publisher: OccurrencePublisher,
        clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
    ) -> None:
        self.publisher = publisher
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.max_inflated_bytes = settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES

    def create_with_partitions(
        self, commit: Commit, partitions: Mapping[Partition, int]
    ) -> ProcessingStrategy[KafkaPayload]:
        return RunTask(self.process_segment, RunTask(self.store_segment, CommitOffsets(commit)))

    # --- compute ---------------------------------------------------------------------------
    def process_segment(self, message: Message[KafkaPayload]) -> ProcessedSegment:
        """Decode the message and find its clicks, with the project's current settings."""
        with SEGMENT_SECONDS.labels("detect").time():
            return self._process_segment(message)

    def _process_segment(self, message: Message[KafkaPayload]) -> ProcessedSegment:
        try:
            segment = decode_segment(message.payload.value, self.max_inflated_bytes)
        except InvalidSegment as exc:
            raise invalid_message(message, str(exc)) from None
        try:
            project_settings = self._retrying(detection_settings_for, segment.project_id)
        except DatabaseError as exc:
            raise invalid_message(
                message, f"the database refused the project lookup: {exc}"
            ) from None
        if project_settings is None:
            raise invalid_message(message, f"project {segment.project_id} does not exist")
        try:
            detection = detect_clicks(segment, project_settings, self.clock())
        except InvalidSegment as exc:
            raise invalid_message(message, str(exc)) from None
        except Exception as exc:  # a recording that trips a bug must not stop the partition
            logger.exception("detection failed")
            raise invalid_message(
                message, f"detection failed: {type(exc).__name__}: {exc}"
            ) from None
        return ProcessedSegment(segment, detection)

    # --- I/O -------------------------------------------------------------------------------
    def store_segment(self, message: Message[ProcessedSegment]) -> None:
        """Store the segment, then publish its occurrences unless a previous delivery did."""
        with SEGMENT_SECONDS.labels("store").time():
            self._store_segment(message)
        SEGMENTS.inc()

    def _store_segment(self, message: Message[ProcessedSegment]) -> None:
        processed = message.payload
        segment = processed.segment
        try:
            stored = self._retrying(replay_record_segment, segment, processed.detection)
        except MessageRejected:
            raise
        except DatabaseError as exc:  # DataError and the like: this segment's values, not the DB
            raise invalid_message(message, f"the database refused the segment: {exc}") from None
        except Exception as exc:  # a segment that trips a bug must not block its partition
            logger.exception("storing the segment failed")
            raise invalid_message(message, f"storing failed: {type(exc).__name__}: {exc}") from None
        if not stored.occurrences_published:
            occurrences = processed.detection.occurrences
            try:
                self.publisher.publish(occurrences)
            except Exception as exc:
                logger.warning("occurrences not published, will retry: %s", exc)
                self.backoff.wait()
                raise MessageRejected from exc
            for occurrence in occurrences:
                OCCURRENCES.labels(occurrence.click_type.value).inc()
            self._retrying(replay_mark_published, stored)
        self.backoff.reset()

    def _retrying(self, function: Callable[..., T], *args: object) -> T:
        """Call ``function``; if the database is unavailable, wait and ask for a retry."""
        try:
            return function(*args)
        except RETRIED_ERRORS as exc:
            logger.warning("database or storage unavailable, will retry: %s", exc)
            connection.close()
            self.backoff.wait()
            raise MessageRejected from exc
