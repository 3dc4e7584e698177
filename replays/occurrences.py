"""The Kafka edge of replays: publish occurrences on ``ingest-occurrences``, wait for acks."""

import orjson
from arroyo.backends.abstract import Producer
from arroyo.backends.kafka import KafkaPayload
from arroyo.types import Topic

from issues.fingerprints import occurrence_hashes
from replays.detection.occurrence import Occurrence


class OccurrencePublisher:
    def __init__(self, producer: Producer[KafkaPayload], topic: str, timeout_s: float) -> None:
        self.producer = producer
        self.topic = Topic(topic)
        self.timeout_s = timeout_s

    def publish(self, occurrences: list[Occurrence]) -> None:
        """Send them all, keyed by their primary hash (what a new issue is made under: one
        issue's occurrences stay in order on one partition, on every page of a strongly
        identified element); return once the broker has every one, else raise what went wrong."""
        futures = [
            self.producer.produce(
                self.topic,
                KafkaPayload(
                    occurrence_hashes(occurrence.type, occurrence.fingerprint)[0].encode(),
                    orjson.dumps(occurrence.to_dict()),
                    [],
                ),
            )
            for occurrence in occurrences
        ]
        for future in futures:
            future.result(timeout=self.timeout_s)
