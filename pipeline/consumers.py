"""Wiring of our arroyo consumers: Kafka consumer and producer configs, the DLQ, the run loop.

Each stage's management command hands its strategy factory to ``build_processor``; the factory
and what it calls are importable and testable without this module.
"""

import logging
import signal
from collections.abc import Callable, Mapping
from pathlib import Path

import sentry_sdk
from arroyo.backends.kafka import KafkaPayload, KafkaProducer
from arroyo.backends.kafka.configuration import build_kafka_consumer_configuration
from arroyo.commit import CommitPolicy
from arroyo.dlq import DlqLimit, DlqPolicy
from arroyo.processing import StreamProcessor
from arroyo.processing.strategies import Healthcheck, ProcessingStrategy
from arroyo.processing.strategies.abstract import ProcessingStrategyFactory
from arroyo.types import Commit, Partition, Topic
from django.conf import settings

from pipeline.dlq import ReasonedDlqProducer
from pipeline.group_membership import RejoiningConsumer
from pipeline.kafka import MAX_MESSAGE_BYTES, client_config, producer_config
from pipeline.offset_gaps import GapRefetchingConsumer

logger = logging.getLogger(__name__)

# Occurrences and DLQ messages are few and a segment waits for them: don't hold them back.
PRODUCER_LINGER_MS = 1


def consumer_producer_config() -> dict:
    """The producer a consumer sends its output and its dead letters with."""
    return producer_config(**{"linger.ms": PRODUCER_LINGER_MS})


def consumer_config(group_id: str) -> dict:
    """Manual commits only (arroyo commits what its strategy has finished); a new group starts
    from the earliest offset, so nothing published before the first consumer started is skipped."""
    return build_kafka_consumer_configuration(
        client_config(),
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        override_params={
            "session.timeout.ms": settings.KAFKA_SESSION_TIMEOUT_MS,
            "fetch.message.max.bytes": MAX_MESSAGE_BYTES,
            "fetch.wait.max.ms": settings.KAFKA_FETCH_WAIT_MAX_MS,
            "max.poll.interval.ms": settings.KAFKA_MAX_POLL_INTERVAL_MS,
            # The classic group protocol's eager assignor, never cooperative-sticky: arroyo's
            # Python StreamProcessor closes its strategy (and drops the offsets it staged) on every
            # revocation and makes a new one for the whole assignment, and it asserts that a
            # paused consumer only resumes through a full revocation (its TODOs on
            # cooperative-sticky in arroyo/processing/processor.py). With eager rebalancing every
            # member gives up all its partitions and gets its share anew, which is exactly that
            # model. KIP-848's protocol (group.protocol=consumer) is left out: Tansu has no such
            # group protocol, and ours must run on both brokers.
            "partition.assignment.strategy": "range",
        },
    )


class PipelineConsumer(GapRefetchingConsumer, RejoiningConsumer):
    """arroyo's Kafka consumer as our consumers run it: it fetches again when offsets skip
    (``offset_gaps``) and carries on through a lost group membership (``group_membership``)."""


def pipeline_consumer(group_id: str) -> RejoiningConsumer:
    """The consumer for ``group_id``: without the offset-gap guard when
    ``KAFKA_OFFSET_GAP_WAIT_S`` is 0 (Apache Kafka, whose offsets never skip on our topics)."""
    config = consumer_config(group_id)
    if settings.KAFKA_OFFSET_GAP_WAIT_S <= 0:
        return RejoiningConsumer(config)
    return PipelineConsumer(config, settings.KAFKA_OFFSET_GAP_WAIT_S)


class HealthcheckedFactory(ProcessingStrategyFactory[KafkaPayload]):
    """Puts arroyo's ``Healthcheck`` in front of a stage's strategy: the file is touched (at most
    once a second) each time the processor polls the strategy, so its age says whether the loop
    is alive. It is also touched at start, before the first assignment.

    A consumer with no partitions (more consumers than partitions) has no strategy to poll, and
    its file grows old: run no more consumers than partitions."""

    def __init__(self, factory: ProcessingStrategyFactory[KafkaPayload], path: Path) -> None:
        self.factory = factory
        self.path = path
        path.touch()

    def create_with_partitions(
        self, commit: Commit, partitions: Mapping[Partition, int]
    ) -> ProcessingStrategy[KafkaPayload]:
        strategy = self.factory.create_with_partitions(commit, partitions)
        return Healthcheck(str(self.path), strategy)


class AnnouncedFactory(ProcessingStrategyFactory[KafkaPayload]):
    """Calls ``announce`` with the partitions each time the consumer gets an assignment, before
    the stage's strategy is made: the command prints it, whatever the log level, so a supervisor
    (``devstack``) can tell when the consumer holds its partitions."""

    def __init__(
        self,
        factory: ProcessingStrategyFactory[KafkaPayload],
        announce: Callable[[Mapping[Partition, int]], None],
    ) -> None:
        self.factory = factory
        self.announce = announce

    def create_with_partitions(
        self, commit: Commit, partitions: Mapping[Partition, int]
    ) -> ProcessingStrategy[KafkaPayload]:
        self.announce(partitions)
        return self.factory.create_with_partitions(commit, partitions)


def build_processor(
    topic: str,
    group_id: str,
    factory: ProcessingStrategyFactory[KafkaPayload],
    dlq_topic: str,
    dlq_producer: KafkaProducer,
    healthcheck_file: Path | None = None,
) -> StreamProcessor[KafkaPayload]:
    """A stream processor over ``topic`` whose invalid messages go to ``dlq_topic``."""
    if healthcheck_file is not None:
        factory = HealthcheckedFactory(factory, healthcheck_file)
    return StreamProcessor(
        consumer=pipeline_consumer(group_id),
        topic=Topic(topic),
        processor_factory=factory,
        dlq_policy=DlqPolicy(ReasonedDlqProducer(dlq_producer, Topic(dlq_topic)), DlqLimit()),
        commit_policy=CommitPolicy(settings.KAFKA_COMMIT_INTERVAL_S, None),
    )


def run_until_signalled(processor: StreamProcessor, on_stop: Callable[[], None]) -> None:
    """Run until SIGINT or SIGTERM, then finish the work in hand, commit, and close."""

    def shutdown(signum: int, _frame: object) -> None:
        logger.info("signal %d: shutting down after the work in hand", signum)
        processor.signal_shutdown()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    try:
        processor.run()
    except Exception:
        # Reported here, and flushed before the process exits (no-op without SENTRY_DSN).
        sentry_sdk.capture_exception()
        raise
    finally:
        on_stop()
        sentry_sdk.flush(timeout=5)
