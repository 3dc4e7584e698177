"""Offset commits that fail because the group moved on, or because the coordinator is away.

arroyo's Kafka consumer raises on any commit error but a few coordinator hiccups, and its
``StreamProcessor`` then stops: the consumer process exits. Two kinds of failure are not reasons to
stop:

- *The group membership is gone* (``UNKNOWN_MEMBER_ID``, ``ILLEGAL_GENERATION``,
  ``REBALANCE_IN_PROGRESS``, KIP-848's ``STALE_MEMBER_EPOCH``, a lost assignment): the session
  timed out (a broker restart, a coordinator that moved, a process that stalled past
  ``session.timeout.ms``) or a rebalance started. librdkafka revokes the assignment and rejoins on
  its next poll; arroyo's revocation closes the strategy and drops the offsets it had staged for
  the revoked partitions. The work done since the last commit is not committed, so it comes again
  to whichever consumer then owns the partition, which the pipeline's idempotent writes absorb.
  This is Kafka's rebalance, handled as one.
- *The coordinator is unreachable for now* (transport errors, timeouts, no coordinator yet): the
  staged offsets stay staged and the next commit carries them. Nothing is committed for work not
  done, since arroyo stages only what its strategy has finished.

Anything else (authorization, a fatal or unknown error) still stops the consumer, loudly.
"""

import logging
from collections.abc import Mapping

from arroyo.backends.kafka import KafkaConsumer
from arroyo.types import Partition
from confluent_kafka import KafkaError, KafkaException

from pipeline.metrics import COMMIT_FAILURES

logger = logging.getLogger(__name__)

MEMBERSHIP_LOST = frozenset(
    {
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.STALE_MEMBER_EPOCH,
        KafkaError._ASSIGNMENT_LOST,
    }
)

COORDINATOR_AWAY = frozenset(
    {
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.NETWORK_EXCEPTION,
        KafkaError._WAIT_COORD,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
        KafkaError._ALL_BROKERS_DOWN,
    }
)


def commit_failure_kind(error: BaseException) -> str | None:
    """``"membership_lost"``, ``"coordinator_away"``, or None for a failure to stop on."""
    if not isinstance(error, KafkaException) or not error.args:
        return None
    kafka_error = error.args[0]
    if not isinstance(kafka_error, KafkaError) or kafka_error.fatal():
        return None
    if kafka_error.code() in MEMBERSHIP_LOST:
        return "membership_lost"
    if kafka_error.code() in COORDINATOR_AWAY:
        return "coordinator_away"
    return None


class RebalanceTolerantConsumer(KafkaConsumer):
    """arroyo's Kafka consumer whose failed commits of the two kinds above are logged and
    counted instead of raised (arroyo then carries on as after a commit)."""

    def commit_offsets(self) -> Mapping[Partition, int] | None:
        try:
            return super().commit_offsets()
        except KafkaException as error:
            kind = commit_failure_kind(error)
            if kind is None:
                raise
            COMMIT_FAILURES.labels(kind).inc()
            if kind == "membership_lost":
                logger.warning(
                    "offset commit refused, this consumer is no longer in the group (%s): "
                    "rejoining; the work since the last commit will be consumed again",
                    error.args[0].str(),
                )
            else:
                logger.warning(
                    "offset commit failed, the group coordinator is unavailable (%s): "
                    "the offsets stay staged for the next commit",
                    error.args[0].str(),
                )
            return {}
