"""Dead-letter topics: the original bytes, with headers that say why and where they came from."""

from concurrent.futures import Future

from arroyo.backends.abstract import Producer
from arroyo.backends.kafka import KafkaPayload
from arroyo.dlq import DlqLimit, DlqLimitState, DlqProducer
from arroyo.types import BrokerValue, Topic

from pipeline.metrics import DLQ_MESSAGES

MAX_REASON_BYTES = 1000


class ReasonedDlqProducer(DlqProducer[KafkaPayload]):
    """Like arroyo's ``KafkaDlqProducer``, and also writes the reason and the source topic.

    Headers: ``reason``, ``original_topic``, ``original_partition``, ``original_offset``.
    """

    def __init__(self, producer: Producer[KafkaPayload], topic: Topic) -> None:
        self.producer = producer
        self.topic = topic

    def produce(
        self, value: BrokerValue[KafkaPayload], reason: str | None = None
    ) -> Future[BrokerValue[KafkaPayload]]:
        headers = [
            *value.payload.headers,
            ("reason", (reason or "invalid message").encode()[:MAX_REASON_BYTES]),
            ("original_topic", value.partition.topic.name.encode()),
            ("original_partition", str(value.partition.index).encode()),
            ("original_offset", str(value.offset).encode()),
        ]
        payload = KafkaPayload(value.payload.key, value.payload.value, headers)
        DLQ_MESSAGES.labels(self.topic.name).inc()
        return self.producer.produce(self.topic, payload)

    @classmethod
    def build_initial_state(cls, limit: DlqLimit | None, assignment: dict) -> DlqLimitState:
        # As arroyo's Kafka DLQ producer: assume the offsets before the assignment were valid.
        return DlqLimitState(limit, last_invalid_offsets={p: o - 1 for p, o in assignment.items()})
