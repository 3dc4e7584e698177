"""The issues consumer's strategy: decode and validate (compute), then group (I/O), then commit.

``RunTask(decode)`` → ``RunTask(group)`` → ``CommitOffsets``. An offset is committed only once its
occurrence is grouped, in the transaction that counts it. An occurrence delivered twice (a
rebalance, a replayed topic, a producer that retried) is found by its id and counted once. A message
that can never be grouped goes to the dead-letter topic; an unavailable database pauses the
partition and the same message is tried again (``MessageRejected``).
"""

import logging
from collections.abc import Mapping

from arroyo.backends.kafka import KafkaPayload
from arroyo.dlq import InvalidMessage
from arroyo.processing.strategies import CommitOffsets, ProcessingStrategy, RunTask
from arroyo.processing.strategies.abstract import MessageRejected, ProcessingStrategyFactory
from arroyo.types import Commit, Message, Partition
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection

from issues.occurrence_message import InvalidOccurrence, OccurrenceRecord, decode_occurrence
from issues.selectors import noise_threshold_for
from issues.services import issue_record_occurrence
from pipeline.steps import Backoff, invalid_message

logger = logging.getLogger(__name__)

# The database went away or was busy, or a concurrent consumer made the same issue at the same
# moment: the same message is tried again. Any other error is the message's own: to the DLQ.
RETRIED_ERRORS = (OperationalError, InterfaceError, IntegrityError)


class OccurrencesStrategyFactory(ProcessingStrategyFactory[KafkaPayload]):
    def __init__(self, backoff: Backoff | None = None) -> None:
        self.backoff = backoff or Backoff()

    def create_with_partitions(
        self, commit: Commit, partitions: Mapping[Partition, int]
    ) -> ProcessingStrategy[KafkaPayload]:
        return RunTask(self.decode, RunTask(self.group, CommitOffsets(commit)))

    # --- compute ---------------------------------------------------------------------------
    def decode(self, message: Message[KafkaPayload]) -> OccurrenceRecord:
        try:
            return decode_occurrence(message.payload.value)
        except InvalidOccurrence as exc:
            raise invalid_message(message, str(exc)) from None

    # --- I/O -------------------------------------------------------------------------------
    def group(self, message: Message[OccurrenceRecord]) -> None:
        """Group the occurrence into its issue, with the project's noise threshold."""
        record = message.payload
        project_id = record.occurrence.project_id
        try:
            noise = noise_threshold_for(project_id)
            if noise is None:
                raise invalid_message(message, f"project {project_id} does not exist")
            issue_record_occurrence(record, noise)
        except RETRIED_ERRORS as exc:
            logger.warning("database unavailable, will retry: %s", exc)
            connection.close()
            self.backoff.wait()
            raise MessageRejected from exc
        except DatabaseError as exc:  # DataError and the like: this message's values
            raise invalid_message(message, f"the database refused the occurrence: {exc}") from None
        except InvalidMessage:
            raise
        except Exception as exc:  # an occurrence that trips a bug must not block its partition
            logger.exception("grouping the occurrence failed")
            raise invalid_message(
                message, f"grouping failed: {type(exc).__name__}: {exc}"
            ) from None
        self.backoff.reset()
