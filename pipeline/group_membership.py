"""A consumer that stays in its group: lost membership is a rebalance, not a reason to exit.

arroyo's Kafka consumer raises on any commit error but a few coordinator hiccups, and on any
error a poll returns but end-of-partition and transport ones; its ``StreamProcessor`` then stops
and the consumer process exits. These are not reasons to stop:

- *The group membership is gone* (``UNKNOWN_MEMBER_ID``, ``ILLEGAL_GENERATION``,
  ``REBALANCE_IN_PROGRESS``, KIP-848's ``STALE_MEMBER_EPOCH``, a lost assignment) when a commit
  is refused: the session timed out (a broker restart, a coordinator that moved, a process that
  stalled past ``session.timeout.ms``) or a rebalance started. librdkafka revokes the assignment
  and rejoins on its next poll; arroyo's revocation closes the strategy and drops the offsets it
  had staged for the revoked partitions. The work done since the last commit is not committed,
  so it comes again to whichever consumer then owns the partition, and the pipeline's idempotent
  writes absorb it. This is Kafka's rebalance, handled as one.
- *The coordinator is unreachable for now* (transport errors, timeouts, no coordinator yet): the
  staged offsets stay staged and the next commit carries them. arroyo itself retries a commit
  waiting for its coordinator three times, a second apart, then raises ``RetryException`` from the
  last error: a broker that takes longer to come back (Apache Kafka restarts in seconds, Tansu
  in a tenth of one) is the same case. Nothing is committed for work not
  done, since arroyo stages only what its strategy has finished.
- *A poll that says the consumer left the group* (``_MAX_POLL_EXCEEDED``: the loop did not poll
  within ``max.poll.interval.ms``) or one of the errors above: librdkafka rejoins on the next
  poll, so the poll is treated as one that returned nothing.

- *A broker that went away while the group was assigning* (a leader killed, its handle destroyed:
  ``_DESTROY_BROKER``; leadership moving): arroyo's assignment callback looks up the committed
  offsets and, for a partition never committed, its low watermark; an exception there leaves
  arroyo's consumer in its error state for good and the process exits. Those two lookups are
  retried, with backoff, for up to ``LOOKUP_RETRY_S``; the next broker to lead the partition
  answers them.

Anything else (authorization, a fatal or unknown error) still stops the consumer, loudly.
"""

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from arroyo.backends.kafka import KafkaConsumer, KafkaPayload
from arroyo.errors import ConsumerError, RecoverableError
from arroyo.types import BrokerValue, Partition
from arroyo.utils.retries import RetryException
from confluent_kafka import KafkaError, KafkaException

from pipeline.metrics import GROUP_ERRORS

logger = logging.getLogger(__name__)

MEMBERSHIP_LOST = frozenset(
    {
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.STALE_MEMBER_EPOCH,
        KafkaError._ASSIGNMENT_LOST,
        KafkaError._MAX_POLL_EXCEEDED,
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

# Errors an offset lookup made while assigning is retried on: the broker it asked is gone or no
# longer leads, and another one will answer.
LOOKUP_TRANSIENT = COORDINATOR_AWAY | {
    KafkaError._DESTROY_BROKER,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_LEADER_FOR_PARTITION,
}
LOOKUP_RETRY_S = 30.0
LOOKUP_FIRST_WAIT_S = 0.2
LOOKUP_MAX_WAIT_S = 2.0

# arroyo's poll raises ConsumerError(str(KafkaError)): "KafkaError{code=NAME,val=N,str="..."}".
ERROR_VALUE = re.compile(r"^KafkaError\{code=\w+,val=(-?\d+),")


def error_kind(code: int) -> str | None:
    """``"membership_lost"``, ``"coordinator_away"``, or None for an error to stop on."""
    if code in MEMBERSHIP_LOST:
        return "membership_lost"
    if code in COORDINATOR_AWAY:
        return "coordinator_away"
    return None


def commit_failure_kind(error: BaseException) -> str | None:
    """The kind of a failed commit's exception (``error_kind``), None when it is not one;
    arroyo's ``RetryException`` is judged by the error it gave up on."""
    if isinstance(error, RetryException):
        error = error.__cause__
    if not isinstance(error, KafkaException) or not error.args:
        return None
    kafka_error = error.args[0]
    if not isinstance(kafka_error, KafkaError) or kafka_error.fatal():
        return None
    return error_kind(kafka_error.code())


def poll_error_kind(error: ConsumerError) -> str | None:
    """The kind of an error arroyo raised from a poll (``error_kind``), None when it is not one
    or is one of arroyo's own kinds (end of partition, offset out of range, transport)."""
    if type(error) is not ConsumerError or not error.args:
        return None
    match = ERROR_VALUE.match(str(error.args[0]))
    return error_kind(int(match.group(1))) if match else None


def lookup_is_transient(error: BaseException) -> bool:
    """Whether a failed offset lookup is worth asking again (``LOOKUP_TRANSIENT``, or an error
    librdkafka marks retriable); never a fatal one."""
    if not isinstance(error, KafkaException) or not error.args:
        return False
    kafka_error = error.args[0]
    if not isinstance(kafka_error, KafkaError) or kafka_error.fatal():
        return False
    return kafka_error.code() in LOOKUP_TRANSIENT or kafka_error.retriable()


def retried_lookup(
    lookup: Callable[[], Any],
    what: str,
    retry_s: float = LOOKUP_RETRY_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Any:
    """``lookup()``, asked again after a transient failure (doubling waits from
    ``LOOKUP_FIRST_WAIT_S`` up to ``LOOKUP_MAX_WAIT_S``) until ``retry_s`` have passed; then,
    or on any other error, the failure is raised."""
    deadline = clock() + retry_s
    wait = LOOKUP_FIRST_WAIT_S
    while True:
        try:
            return lookup()
        except KafkaException as failure:
            if not lookup_is_transient(failure) or clock() + wait > deadline:
                raise
            GROUP_ERRORS.labels("lookup_retried").inc()
            logger.warning("%s failed (%s): asking again in %.1f s", what, failure.args[0], wait)
            sleep(wait)
            wait = min(wait * 2, LOOKUP_MAX_WAIT_S)


class RetriedOffsetLookups:
    """librdkafka's consumer as arroyo's assignment callback sees it: its committed-offset and
    watermark lookups retried through a broker's absence (``retried_lookup``); every other
    attribute is the consumer's own."""

    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)

    def committed(self, *args: Any, **kwargs: Any) -> Any:
        return retried_lookup(
            lambda: self._consumer.committed(*args, **kwargs), "committed offsets lookup"
        )

    def get_watermark_offsets(self, *args: Any, **kwargs: Any) -> Any:
        return retried_lookup(
            lambda: self._consumer.get_watermark_offsets(*args, **kwargs), "watermark lookup"
        )


class RejoiningConsumer(KafkaConsumer):
    """arroyo's Kafka consumer whose failed commits and polls of the kinds above are logged and
    counted instead of raised: arroyo carries on as after a commit, or after an empty poll; and
    whose offset lookups while assigning are retried through a broker's absence."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # arroyo keeps librdkafka's consumer in a private attribute and calls it from its
        # assignment callback; the proxy is the one place we reach in.
        self._KafkaConsumer__consumer = RetriedOffsetLookups(self._KafkaConsumer__consumer)

    def commit_offsets(self) -> Mapping[Partition, int] | None:
        try:
            return super().commit_offsets()
        except (KafkaException, RetryException) as failure:
            kind = commit_failure_kind(failure)
            if kind is None:
                raise
            error = failure.__cause__ if isinstance(failure, RetryException) else failure
            GROUP_ERRORS.labels(kind).inc()
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

    def poll(self, timeout: float | None = None) -> BrokerValue[KafkaPayload] | None:
        try:
            return super().poll(timeout)
        except ConsumerError as error:
            kind = poll_error_kind(error)
            if kind is None:
                raise
            GROUP_ERRORS.labels(kind).inc()
            logger.warning("poll: %s; rejoining the group and carrying on", error)
            raise RecoverableError(str(error)) from error
