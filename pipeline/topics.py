"""The pipeline's topics and their creation at start-up.

Each topic is created with the ``topic_creation_config`` that sentry-kafka-schemas lists for it, so
our topics are configured as Sentry's are. A dead-letter topic takes its source topic's config: it
carries the same bytes, and the schemas package does not list the DLQs.
"""

import logging
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic
from django.conf import settings
from sentry_kafka_schemas import get_topic

from pipeline.kafka import client_config

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    config: dict[str, str]


def schema_topic_config(schema_topic: str) -> dict[str, str]:
    """The topic-level configs that sentry-kafka-schemas lists for ``schema_topic``."""
    creation = get_topic(schema_topic).get("topic_creation_config") or {}
    return {key: str(value) for key, value in creation.items()}


def pipeline_topics() -> list[TopicSpec]:
    """Every topic the pipeline produces to or consumes from, under its configured name."""
    recordings = schema_topic_config("ingest-replay-recordings")
    occurrences = schema_topic_config("ingest-occurrences")
    events = schema_topic_config("ingest-events")
    return [
        TopicSpec(settings.TOPIC_REPLAY_RECORDINGS, recordings),
        TopicSpec(settings.TOPIC_REPLAY_RECORDINGS_DLQ, recordings),
        TopicSpec(settings.TOPIC_OCCURRENCES, occurrences),
        TopicSpec(settings.TOPIC_OCCURRENCES_DLQ, occurrences),
        TopicSpec(settings.TOPIC_EVENTS, events),
        TopicSpec(settings.TOPIC_EVENTS_DLQ, events),
    ]


def ensure_topics(
    topics: list[TopicSpec] | None = None,
    partitions: int | None = None,
    timeout_s: float = 15.0,
) -> list[str]:
    """Create the topics that do not exist yet; return the names created. Idempotent."""
    topics = pipeline_topics() if topics is None else topics
    partitions = partitions or settings.KAFKA_TOPIC_PARTITIONS
    admin = AdminClient(client_config())
    futures = admin.create_topics(
        [
            NewTopic(t.name, partitions, settings.KAFKA_TOPIC_REPLICATION_FACTOR, config=t.config)
            for t in topics
        ],
        request_timeout=timeout_s,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        else:
            created.append(name)
            logger.info("created topic %s (%d partitions)", name, partitions)
    return created
