"""The replay-errors consumer: decode (compute), then store in batches (I/O), then commit.

``RunTask(compute)`` → ``ProcessInBatches(process_batch)`` → ``CommitOffsets``, as the issues
consumer. Each batch is one INSERT that skips the events already stored, so a re-delivered event
(a rebalance, a replayed topic, the SDK or a producer that retried) is kept once. An offset is
committed only once its batch is stored. A message that can never be stored goes to the
dead-letter topic with the reason: one that cannot be decoded, one for a project that does not
exist, one that the database refuses (the batch is then stored one event at a time, so the others
are kept). An unavailable database makes the worker back off and try the same batch again.

An event that arrives after its click's segment changes the click's window: storing it builds the
window again (``replay_error_events_record``), and the batch's replays' windows not yet published
go out on ``ingest-occurrences`` before the offsets are committed, as the replays consumer
publishes them (``publish_click_windows``); a broker that does not take them makes the batch be
tried again (the events are stored once, the windows wait unpublished).
"""

from collections.abc import Sequence

from arroyo.backends.kafka import KafkaPayload
from arroyo.dlq import InvalidMessage
from arroyo.types import BrokerValue, Message
from django.conf import settings
from django.db import InterfaceError, OperationalError

from ingest.models import Project
from pipeline.batches import (
    BatchingStrategyFactory,
    Refused,
    batch_else_one_by_one,
    dead_letter,
)
from pipeline.steps import Backoff
from replay_errors.event_message import ErrorEventRecord, InvalidErrorEvent, decode_error_event
from replay_errors.services import replay_error_events_record
from replays.click_windows import click_windows_to_publish
from replays.occurrences import OccurrencePublisher, OccurrencesNotPublished, publish_click_windows
from replays.queries import replay_pks_of

# The database went away or was busy, or the broker did not take the windows: the same batch is
# tried again.
RETRIED_ERRORS = (OperationalError, InterfaceError, OccurrencesNotPublished)

# Events in one INSERT, at most; and how long the first of a batch waits for others.
MAX_BATCH_SIZE = 500
MAX_BATCH_TIME_S = 0.05

Decoded = ErrorEventRecord | Refused
Batch = Sequence[BrokerValue[Decoded]]


class ErrorEventsStrategyFactory(BatchingStrategyFactory[ErrorEventRecord]):
    retried_errors = RETRIED_ERRORS
    thread_name = "store-error-events"

    def __init__(
        self,
        publisher: OccurrencePublisher,
        backoff: Backoff | None = None,
        max_batch_size: int = MAX_BATCH_SIZE,
        max_batch_time_s: float = MAX_BATCH_TIME_S,
        max_event_bytes: int | None = None,
    ) -> None:
        super().__init__(backoff, max_batch_size, max_batch_time_s)
        self.publisher = publisher
        self.max_event_bytes = max_event_bytes or settings.REPLAY_ERROR_EVENT_MAX_JSON_BYTES

    # --- compute ---------------------------------------------------------------------------
    def compute(self, message: Message[KafkaPayload]) -> Decoded:
        try:
            return decode_error_event(message.payload.value, self.max_event_bytes)
        except InvalidErrorEvent as exc:
            return Refused(str(exc))

    # --- I/O -------------------------------------------------------------------------------
    def process_batch(self, batch: Batch) -> list[InvalidMessage]:
        """Store the batch's events in one INSERT, publish the click windows they changed; return
        the messages for the dead-letter topic. Raises one of ``RETRIED_ERRORS`` when the
        database or the broker is unavailable."""
        project_ids = {
            value.payload.project_id for value in batch if not isinstance(value.payload, Refused)
        }
        known = set(Project.objects.filter(pk__in=project_ids).values_list("pk", flat=True))
        storable: list[BrokerValue[ErrorEventRecord]] = []
        invalid: list[InvalidMessage] = []
        for value in batch:
            if isinstance(value.payload, Refused):
                invalid.append(dead_letter(value, value.payload.reason))
            elif value.payload.project_id not in known:
                project_id = value.payload.project_id
                invalid.append(dead_letter(value, f"project {project_id} does not exist"))
            else:
                storable.append(value)

        def store(values: Sequence[BrokerValue[ErrorEventRecord]]) -> list[None]:
            replay_error_events_record([value.payload for value in values])
            return [None] * len(values)

        def store_one(value: BrokerValue[ErrorEventRecord]) -> None:
            replay_error_events_record([value.payload])

        kept, refused = batch_else_one_by_one(
            storable, store, store_one, RETRIED_ERRORS, "storing", "error event"
        )
        invalid.extend(refused)
        # Every kept event's replay, not only those whose windows changed now: a batch tried again
        # after the broker refused finds its windows built and still unpublished.
        replays = {(value.payload.project_id, value.payload.replay_id.hex) for value, _ in kept}
        if replays:
            publish_click_windows(self.publisher, click_windows_to_publish(replay_pks_of(replays)))
        return sorted(invalid, key=lambda each: (each.partition.index, each.offset))
