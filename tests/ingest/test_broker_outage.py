"""A broker that stops: 503 while it is down, 200 once it is back, and no half-written segment."""

import pytest
from django.conf import settings as django_settings
from sentry_kafka_schemas import get_codec

from ingest.producer import reset_producer
from pipeline.broker import EmbeddedBroker, free_port
from pipeline.topics import ensure_topics
from tests.ingest.builders import replay_parts
from tests.sdk_fixtures import replay_requests


@pytest.fixture
def own_broker(settings):
    """A broker of this test's own, which it may stop and start."""
    broker = EmbeddedBroker(free_port())
    broker.start()
    settings.KAFKA_BOOTSTRAP_SERVERS = broker.bootstrap_servers
    settings.KAFKA_PRODUCE_TIMEOUT_S = 1.5
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

    # Memory storage starts empty: the topics are made again, as devstack does at start.
    own_broker.start()
    ensure_topics()
    response = post(client, second)
    assert response.status_code == 200, response.content

    messages = topic_reader(django_settings.TOPIC_REPLAY_RECORDINGS, 2, timeout_s=3)
    codec = get_codec("ingest-replay-recordings")
    # Only what was accepted after the restart is there (memory storage), and it is whole.
    assert [codec.decode(m.value(), validate=True)["payload"] for m in messages] == [
        replay_parts(second)[2]
    ]
