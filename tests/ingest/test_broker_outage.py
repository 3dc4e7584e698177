"""A broker that stops: 503 while it is down, 200 once it is back, and no half-written segment.

On the suite's engine (tests/brokers.py): Tansu with memory storage, which comes back empty, or
Apache Kafka, which comes back with its log directory and so with what it acknowledged."""

import pytest
from django.conf import settings as django_settings
from sentry_kafka_schemas import get_codec

from ingest.producer import reset_producer
from pipeline.topics import ensure_topics
from tests.brokers import new_broker, on_apache_kafka, use_broker
from tests.ingest.builders import replay_parts
from tests.sdk_fixtures import replay_requests


@pytest.fixture
def own_broker(settings, tmp_path):
    """A broker of this test's own, which it may stop and start."""
    broker = new_broker(tmp_path / "kafka")
    broker.start()
    use_broker(settings, broker)
    # A quick 503 while it is down. Apache Kafka's first acknowledgement after a restart takes up
    # to 1.5 s by itself (the client's reconnect backoff, then its idempotent producer's new
    # epoch; measured), so there the answer may take the suite's 3 s.
    settings.KAFKA_PRODUCE_TIMEOUT_S = 3.0 if on_apache_kafka() else 1.5
    reset_producer()
    ensure_topics()
    yield broker
    reset_producer()
    broker.stop()


def post(client, sdk_request):
    return client.post(sdk_request.path, data=sdk_request.body, content_type="text/plain")


@pytest.mark.usefixtures("sdk_project")
def test_broker_down_then_back(client, own_broker, topic_reader):
    first, second = replay_requests()[:2]
    assert post(client, first).status_code == 200

    own_broker.stop()
    response = post(client, second)
    assert response.status_code == 503
    assert "broker" in response.json()["detail"]
    assert response["X-Sentry-Error"]

    # Memory storage starts empty: the topics are made again, as devstack does at start (on
    # Apache Kafka they are still there: ensure_topics is idempotent).
    own_broker.start()
    ensure_topics()
    response = post(client, second)
    assert response.status_code == 200, response.content

    messages = topic_reader(django_settings.TOPIC_REPLAY_RECORDINGS, 3, timeout_s=3)
    codec = get_codec("ingest-replay-recordings")
    # What was accepted after the restart is there, whole; what was accepted before it too on a
    # broker that keeps its log (Kafka), not on memory storage (Tansu). The refused one never is.
    accepted = [first, second] if own_broker.durable else [second]
    payloads = sorted(codec.decode(m.value(), validate=True)["payload"] for m in messages)
    assert payloads == sorted(replay_parts(request)[2] for request in accepted)
