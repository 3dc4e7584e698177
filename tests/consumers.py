"""Run a real consumer (arroyo over the real broker) in a thread of the test process."""

import threading
import time
import uuid
from collections.abc import Callable

from arroyo.backends.kafka import KafkaProducer
from arroyo.processing import StreamProcessor
from confluent_kafka import Consumer, Producer, TopicPartition
from django.conf import settings
from django.db import connections

from issues.consumer import OccurrencesStrategyFactory
from pipeline.consumers import build_processor, consumer_producer_config
from pipeline.kafka import client_config
from replay_errors.consumer import ErrorEventsStrategyFactory
from replays.consumer import RecordingsStrategyFactory
from replays.occurrences import OccurrencePublisher


class ConsumerThread:
    def __init__(self, processor: StreamProcessor, producer: KafkaProducer, group_id: str) -> None:
        self.processor = processor
        self.group_id = group_id
        self.producer = producer
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="consumer", daemon=True)

    def _run(self) -> None:
        try:
            self.processor.run()
        except BaseException as exc:  # reported by stop()
            self.error = exc
        finally:
            connections.close_all()  # this thread's connections, before the test DB goes

    def start(self) -> "ConsumerThread":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.processor.signal_shutdown()
        self.thread.join(30)
        self.producer.close().result(timeout=10)
        assert not self.thread.is_alive(), "the consumer did not stop"
        if self.error is not None:
            raise AssertionError(f"the consumer crashed: {self.error!r}") from self.error


def start_recordings_consumer(
    group_id: str | None = None,
    factory_wrapper: Callable[[RecordingsStrategyFactory], RecordingsStrategyFactory] | None = None,
) -> ConsumerThread:
    """A ``consume_recordings`` as the command builds it, on the topics the settings name."""
    producer = KafkaProducer(consumer_producer_config())
    publisher = OccurrencePublisher(
        producer, settings.TOPIC_OCCURRENCES, settings.REPLAYS_PRODUCE_TIMEOUT_S
    )
    factory = RecordingsStrategyFactory(publisher)
    if factory_wrapper is not None:
        factory = factory_wrapper(factory)
    group_id = group_id or f"test-replays-{uuid.uuid4().hex[:8]}"
    processor = build_processor(
        topic=settings.TOPIC_REPLAY_RECORDINGS,
        group_id=group_id,
        factory=factory,
        dlq_topic=settings.TOPIC_REPLAY_RECORDINGS_DLQ,
        dlq_producer=producer,
    )
    return ConsumerThread(processor, producer, group_id).start()


def start_occurrences_consumer(
    group_id: str | None = None, factory: OccurrencesStrategyFactory | None = None
) -> ConsumerThread:
    """A ``consume_occurrences`` as the command builds it, on the topics the settings name
    (``factory``: one with batch sizes or a back-off of the test's own)."""
    producer = KafkaProducer(consumer_producer_config())
    group_id = group_id or f"test-issues-{uuid.uuid4().hex[:8]}"
    processor = build_processor(
        topic=settings.TOPIC_OCCURRENCES,
        group_id=group_id,
        factory=factory or OccurrencesStrategyFactory(),
        dlq_topic=settings.TOPIC_OCCURRENCES_DLQ,
        dlq_producer=producer,
    )
    return ConsumerThread(processor, producer, group_id).start()


def start_error_events_consumer(
    group_id: str | None = None, factory: ErrorEventsStrategyFactory | None = None
) -> ConsumerThread:
    """A ``consume_replay_events`` as the command builds it, on the topics the settings name."""
    producer = KafkaProducer(consumer_producer_config())
    group_id = group_id or f"test-replay-errors-{uuid.uuid4().hex[:8]}"
    processor = build_processor(
        topic=settings.TOPIC_EVENTS,
        group_id=group_id,
        factory=factory
        or ErrorEventsStrategyFactory(
            OccurrencePublisher(
                producer, settings.TOPIC_OCCURRENCES, settings.REPLAYS_PRODUCE_TIMEOUT_S
            )
        ),
        dlq_topic=settings.TOPIC_EVENTS_DLQ,
        dlq_producer=producer,
    )
    return ConsumerThread(processor, producer, group_id).start()


def produce(
    topic: str, values: list[bytes], key: bytes | Callable[[], bytes] = b"one-partition"
) -> None:
    """Publish ``values`` in order, all with ``key`` (so on one partition), or each with a key of
    its own when ``key`` is a function."""
    producer = Producer(client_config())
    for value in values:
        producer.produce(topic, value=value, key=key() if callable(key) else key)
    assert producer.flush(10) == 0


def wait_until(
    predicate: Callable[[], object],
    timeout_s: float = 20.0,
    what: str = "",
    diagnosis: Callable[[], str] | None = None,
) -> None:
    """Wait for ``predicate``; on a timeout, fail saying ``what`` was awaited and, when given,
    ``diagnosis()`` as it is then (a process's state and last lines, say)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    message = f"timed out after {timeout_s:g}s waiting for {what or predicate}"
    if diagnosis is not None:
        message += f"\n{diagnosis()}"
    raise AssertionError(message)


def committed_offsets(group: str, topic: str) -> int:
    """The offsets ``group`` committed on ``topic``, summed over its partitions."""
    reader = Consumer(client_config(**{"group.id": group, "enable.auto.commit": False}))
    try:
        partitions = reader.list_topics(topic, timeout=10).topics[topic].partitions
        offsets = reader.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return sum(max(tp.offset, 0) for tp in offsets)
    finally:
        reader.close()
