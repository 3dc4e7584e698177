"""Which failed offset commits a consumer carries on from (pipeline/commit_failures.py). The
consumers' behaviour on the real broker is in tests/pipeline/test_faults.py (a broker restart, a
consumer stalled past its session)."""

import pytest
from confluent_kafka import KafkaError, KafkaException

from pipeline.commit_failures import commit_failure_kind


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
