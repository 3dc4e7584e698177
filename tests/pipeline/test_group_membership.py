"""Which failed commits and polls a consumer carries on from (pipeline/group_membership.py). The
consumers on the real broker are in tests/pipeline/test_faults.py (a broker restart, a consumer
stalled past its session, a loop that does not poll within max.poll.interval.ms)."""

import pytest
from arroyo.errors import ConsumerError, EndOfPartition, OffsetOutOfRange
from arroyo.types import Partition, Topic
from arroyo.utils.retries import RetryException
from confluent_kafka import KafkaError, KafkaException

from pipeline.group_membership import (
    RejoiningConsumer,
    RetriedOffsetLookups,
    commit_failure_kind,
    poll_error_kind,
    retried_lookup,
)


@pytest.mark.parametrize(
    "code",
    [
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.STALE_MEMBER_EPOCH,
        KafkaError._ASSIGNMENT_LOST,
    ],
)
def test_a_lost_membership_is_a_rebalance(code):
    assert commit_failure_kind(KafkaException(KafkaError(code))) == "membership_lost"


@pytest.mark.parametrize(
    "code",
    [
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError._WAIT_COORD,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
        KafkaError._ALL_BROKERS_DOWN,
    ],
)
def test_an_unreachable_coordinator_is_waited_out(code):
    assert commit_failure_kind(KafkaException(KafkaError(code))) == "coordinator_away"


@pytest.mark.parametrize(
    "error",
    [
        KafkaException(KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED)),
        KafkaException(KafkaError(KafkaError.OFFSET_METADATA_TOO_LARGE)),
        KafkaException(KafkaError(KafkaError.UNKNOWN_MEMBER_ID, fatal=True)),
        KafkaException("not a KafkaError"),
        KafkaException(),
        RuntimeError("no Kafka at all"),
    ],
)
def test_anything_else_stops_the_consumer(error):
    assert commit_failure_kind(error) is None


def test_a_coordinator_away_for_longer_than_arroyos_own_retries_is_waited_out():
    """arroyo retries a commit waiting for its coordinator 3 times, a second apart, then raises
    RetryException from the last error (an Apache Kafka restart takes longer than that)."""
    given_up = RetryException()
    given_up.__cause__ = KafkaException(KafkaError(KafkaError._WAIT_COORD))
    assert commit_failure_kind(given_up) == "coordinator_away"
    assert commit_failure_kind(RetryException()) is None


def arroyo_poll_error(code: int, text: str) -> ConsumerError:
    """What arroyo's KafkaConsumer.poll raises for an error message it has no class for."""
    return ConsumerError(str(KafkaError(code, text)))


def test_a_poll_that_left_the_group_is_carried_on_from():
    error = arroyo_poll_error(
        KafkaError._MAX_POLL_EXCEEDED, "Application maximum poll interval (6000ms) exceeded"
    )
    assert poll_error_kind(error) == "membership_lost"
    assert poll_error_kind(arroyo_poll_error(KafkaError._ALL_BROKERS_DOWN, "down")) == (
        "coordinator_away"
    )


@pytest.mark.parametrize(
    "error",
    [
        arroyo_poll_error(KafkaError.TOPIC_AUTHORIZATION_FAILED, "not allowed"),
        arroyo_poll_error(KafkaError.UNKNOWN_TOPIC_OR_PART, "no such topic"),
        ConsumerError("something else"),
        ConsumerError(),
        # arroyo's own kinds are arroyo's to handle
        EndOfPartition(Partition(Topic("t"), 0), 3),
        OffsetOutOfRange(str(KafkaError(KafkaError._MAX_POLL_EXCEEDED))),
    ],
)
def test_other_poll_errors_stop_the_consumer(error):
    assert poll_error_kind(error) is None


class FlakyLookup:
    """A lookup that fails with ``errors`` in turn, then answers."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return (0, 42)


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


@pytest.mark.parametrize(
    "code",
    [
        KafkaError._DESTROY_BROKER,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
        KafkaError._ALL_BROKERS_DOWN,
    ],
)
def test_an_offset_lookup_through_a_broker_gone_is_asked_again(code):
    """The CI failure this guards: a broker killed while the group assigned partitions made
    arroyo's watermark lookup raise _DESTROY_BROKER, and the consumer process exited."""
    lookup = FlakyLookup(KafkaException(KafkaError(code)), KafkaException(KafkaError(code)))
    clock = FakeClock()
    assert retried_lookup(lookup, "watermark lookup", sleep=clock.sleep, clock=clock) == (0, 42)
    assert lookup.calls == 3
    assert clock.sleeps == [0.2, 0.4]


def test_an_offset_lookup_gives_up_at_its_deadline():
    lookup = FlakyLookup(*[KafkaException(KafkaError(KafkaError._TRANSPORT))] * 100)
    clock = FakeClock()
    with pytest.raises(KafkaException):
        retried_lookup(lookup, "watermark lookup", retry_s=10, sleep=clock.sleep, clock=clock)
    assert clock.now <= 10
    assert max(clock.sleeps) == 2.0


@pytest.mark.parametrize(
    "error",
    [
        KafkaException(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)),
        KafkaException(KafkaError(KafkaError._DESTROY_BROKER, fatal=True)),
        KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION)),
    ],
)
def test_an_offset_lookup_failing_otherwise_is_not_retried(error):
    lookup = FlakyLookup(error)
    clock = FakeClock()
    with pytest.raises(KafkaException):
        retried_lookup(lookup, "watermark lookup", sleep=clock.sleep, clock=clock)
    assert lookup.calls == 1
    assert clock.sleeps == []


def test_the_consumer_arroyo_assigns_with_retries_its_lookups():
    consumer = RejoiningConsumer(
        {
            "bootstrap.servers": "127.0.0.1:1",
            "group.id": "g",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
        }
    )
    try:
        inner = consumer._KafkaConsumer__consumer
        assert isinstance(inner, RetriedOffsetLookups)
        assert callable(inner.poll)
    finally:
        consumer.close()
