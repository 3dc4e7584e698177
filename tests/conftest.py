"""Shared fixtures: a real broker for the session (Tansu, or Apache Kafka with TEST_KAFKA=apache),
topics of each test's own, projects."""

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from django.conf import settings as django_settings

from ingest.models import Project, ProjectKey
from ingest.producer import reset_producer
from ingest.queries import forget_cached_keys
from ingest.rate_limits import forget_exceeded
from issues.queries import forget_cached_noise_thresholds
from organizations.models import Organization
from pipeline.broker import EmbeddedBroker
from pipeline.kafka import client_config
from pipeline.topics import TopicSpec, ensure_topics, schema_topic_config
from replays.queries import forget_cached_settings
from tests.brokers import client_settings, engine, new_broker, use_broker
from tests.sdk_fixtures import sdk_requests

# CI's second pass (TEST_ENGINE_DEPENDENT_ONLY=1) runs only the tests that touch the database or
# the broker.
pytest_plugins = ("tests.engine_dependent",)


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test starts with nothing cached from another test's database."""
    forget_cached_keys()
    forget_exceeded()
    forget_cached_settings()
    forget_cached_noise_thresholds()


def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(django_settings.TEST_TMP_DIR, ignore_errors=True)


def pytest_report_header(config) -> str:
    database = django_settings.DATABASES["default"]
    return (
        f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database.get('HOST') or ''}; "
        f"broker: {engine()} (TEST_KAFKA)"
    )


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[EmbeddedBroker]:
    """A real broker that every client of this session uses: the embedded Tansu, or Apache Kafka
    (TEST_KAFKA=apache; data in a temporary directory, removed at the end)."""
    data_dir = Path(tempfile.mkdtemp(prefix="kafka-", dir=django_settings.TEST_TMP_DIR))
    broker = new_broker(data_dir)
    broker.start()
    previous = {name: getattr(django_settings, name) for name in client_settings(broker)}
    use_broker(django_settings, broker)
    reset_producer()
    yield broker
    reset_producer()
    for name, value in previous.items():
        setattr(django_settings, name, value)
    broker.stop()


def create_topic(prefix: str, schema_topic: str = "ingest-replay-recordings") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    ensure_topics([TopicSpec(name, schema_topic_config(schema_topic))])
    return name


@pytest.fixture
def recordings_topic(kafka_broker: EmbeddedBroker, settings) -> str:
    """A fresh ``ingest-replay-recordings`` topic for this test alone."""
    settings.TOPIC_REPLAY_RECORDINGS = create_topic("ingest-replay-recordings")
    return settings.TOPIC_REPLAY_RECORDINGS


@pytest.fixture
def recordings_dlq_topic(kafka_broker: EmbeddedBroker, settings) -> str:
    settings.TOPIC_REPLAY_RECORDINGS_DLQ = create_topic("ingest-replay-recordings-dlq")
    return settings.TOPIC_REPLAY_RECORDINGS_DLQ


@pytest.fixture
def occurrences_topic(kafka_broker: EmbeddedBroker, settings) -> str:
    settings.TOPIC_OCCURRENCES = create_topic("ingest-occurrences", "ingest-occurrences")
    return settings.TOPIC_OCCURRENCES


@pytest.fixture
def occurrences_dlq_topic(kafka_broker: EmbeddedBroker, settings) -> str:
    settings.TOPIC_OCCURRENCES_DLQ = create_topic("ingest-occurrences-dlq", "ingest-occurrences")
    return settings.TOPIC_OCCURRENCES_DLQ


@pytest.fixture
def events_topic(kafka_broker: EmbeddedBroker, settings) -> str:
    """A fresh ``ingest-events`` topic (error events that name a replay) for this test alone."""
    settings.TOPIC_EVENTS = create_topic("ingest-events", "ingest-events")
    return settings.TOPIC_EVENTS


@pytest.fixture
def events_dlq_topic(kafka_broker: EmbeddedBroker, settings) -> str:
    settings.TOPIC_EVENTS_DLQ = create_topic("ingest-events-dlq", "ingest-events")
    return settings.TOPIC_EVENTS_DLQ


def read_messages(topic: str, count: int, timeout_s: float = 10.0) -> list:
    """Read ``topic`` from the beginning until ``count`` messages arrived or the time is up."""
    consumer = Consumer(
        client_config(**{"group.id": f"test-{uuid.uuid4().hex}", "enable.auto.commit": False})
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        messages = []
        deadline = time.monotonic() + timeout_s
        while len(messages) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                messages.append(message)
        return messages
    finally:
        consumer.close()


@pytest.fixture
def topic_reader() -> Callable[..., list]:
    return read_messages


@pytest.fixture
def organization(db) -> Organization:
    """The organization (org_id 7) that owns the SDK fixtures' project; add a user to its
    ``members`` to let them see it."""
    return Organization.objects.create(id=7, name="Acme", slug="acme")


@pytest.fixture
def sdk_project(organization) -> ProjectKey:
    """The project and key that the captured SDK requests were sent to."""
    first = sdk_requests()[0]
    project = Project.objects.create(id=first.project_id, name="shop", org=organization)
    return ProjectKey.objects.create(project=project, public_key=first.public_key)
