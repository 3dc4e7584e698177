"""The issues consumer's strategy: decode and validate (compute), then group in batches (I/O), then
commit.

``RunTask(compute)`` → ``ProcessInBatches(process_batch)`` → ``CommitOffsets``. Occurrences are
grouped a batch at a time, each batch in one transaction (``issue_record_occurrences``: a few
queries for the batch instead of a few for each occurrence), by a worker thread that takes a batch
when it is full, or when the first of it has waited ``max_batch_time_s`` and the worker is free. The
worker's own clock closes a batch, so a lone occurrence becomes an issue within that time although
no other message comes (arroyo's ``BatchStep`` closes a batch only when the processor polls it,
after a consumer poll that waits up to a second on a quiet topic). Under load, the next batch fills
while the worker groups one: batches grow with the load.

An offset is committed only once its batch's transaction has committed. An occurrence delivered
twice (a rebalance, a replayed topic, a producer that retried; also twice in one batch) is found by
its id and counted once. A message that can never be grouped goes to the dead-letter topic with the
reason: one that cannot be decoded, and one that the database refuses (the batch is then grouped
again one occurrence at a time, so the others are kept). An unavailable database makes the worker
back off and try the same batch again; the consumer is pushed back (``MessageRejected``) once the
next batch is full.
"""

import logging
from collections.abc import Sequence

from arroyo.backends.kafka import KafkaPayload
from arroyo.dlq import InvalidMessage
from arroyo.types import BrokerValue, Message
from django.db import InterfaceError, OperationalError

from issues.occurrence_message import InvalidOccurrence, OccurrenceRecord, decode_occurrence
from issues.queries import creation_quota_for, noise_threshold_for
from issues.services import NoiseThreshold, issue_record_occurrence, issue_record_occurrences
from pipeline.batches import (
    BatchingStrategyFactory,
    Refused,
    batch_else_one_by_one,
    dead_letter,
)
from pipeline.steps import Backoff

logger = logging.getLogger(__name__)

# The database went away or was busy: the same batch is tried again. Any other error is an
# occurrence's own (a concurrent consumer's insert of the same occurrence is no error: it counts
# once): the batch is grouped one occurrence at a time and the ones that fail go to the DLQ.
RETRIED_ERRORS = (OperationalError, InterfaceError)

# Occurrences in one transaction, at most; and how long the first of a batch waits for others.
MAX_BATCH_SIZE = 500
MAX_BATCH_TIME_S = 0.01


Decoded = OccurrenceRecord | Refused
Batch = Sequence[BrokerValue[Decoded]]


class OccurrencesStrategyFactory(BatchingStrategyFactory[OccurrenceRecord]):
    retried_errors = RETRIED_ERRORS
    thread_name = "group-occurrences"

    def __init__(
        self,
        backoff: Backoff | None = None,
        max_batch_size: int = MAX_BATCH_SIZE,
        max_batch_time_s: float = MAX_BATCH_TIME_S,
    ) -> None:
        super().__init__(backoff, max_batch_size, max_batch_time_s)

    # --- compute ---------------------------------------------------------------------------
    def compute(self, message: Message[KafkaPayload]) -> Decoded:
        try:
            return decode_occurrence(message.payload.value)
        except InvalidOccurrence as exc:
            return Refused(str(exc))

    # --- I/O -------------------------------------------------------------------------------
    def process_batch(self, batch: Batch) -> list[InvalidMessage]:
        """Group the batch's occurrences in one transaction, each with its project's noise
        threshold and creation quota; return the messages for the dead-letter topic. Raises one of
        ``RETRIED_ERRORS`` when the database is unavailable: the batch is tried again then (what
        it has written is found again and counts once)."""
        noise: dict[int, NoiseThreshold | None] = {}
        groupable: list[BrokerValue[OccurrenceRecord]] = []
        invalid: list[InvalidMessage] = []
        for value in batch:
            if isinstance(value.payload, Refused):
                invalid.append(dead_letter(value, value.payload.reason))
                continue
            project_id = value.payload.occurrence.project_id
            if project_id not in noise:
                noise[project_id] = noise_threshold_for(project_id)
            if noise[project_id] is None:
                invalid.append(dead_letter(value, f"project {project_id} does not exist"))
            else:
                groupable.append(value)
        thresholds = {project_id: each for project_id, each in noise.items() if each is not None}
        quotas = {project_id: creation_quota_for(project_id) for project_id in thresholds}

        def group(values: Sequence[BrokerValue[OccurrenceRecord]]) -> list[None]:
            issue_record_occurrences([value.payload for value in values], thresholds, quotas)
            return [None] * len(values)

        def group_one(value: BrokerValue[OccurrenceRecord]) -> None:
            project_id = value.payload.occurrence.project_id
            issue_record_occurrence(value.payload, thresholds[project_id], quotas[project_id])

        _, refused = batch_else_one_by_one(
            groupable, group, group_one, RETRIED_ERRORS, "grouping", "occurrence"
        )
        invalid.extend(refused)
        return sorted(invalid, key=lambda each: (each.partition.index, each.offset))
