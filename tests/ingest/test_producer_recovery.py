"""Ingest's producer after a fatal error: it is replaced, and ingest answers 200 again.

An idempotent producer's id lives in the broker. A broker that comes back without it (here: the
embedded broker on memory storage, restarted with idempotence forced on; on Apache Kafka, an id
expired by ``transactional.id.expiration.ms`` or a truncated log) answers UNKNOWN_PRODUCER_ID,
which librdkafka makes fatal: the producer can send nothing more, and it raises the error from
the delivery thread's ``poll``. Before, that ended the thread and every later envelope waited
for an acknowledgement in vain (503 until the process restarted)."""

import time

import pytest

from ingest.producer import reset_producer
from pipeline.broker import EmbeddedBroker, free_port
from pipeline.topics import ensure_topics
from tests.sdk_fixtures import replay_requests


@pytest.fixture
def idempotent_on_a_forgetful_broker(settings):
    broker = EmbeddedBroker(free_port())
    broker.start()
    settings.KAFKA_BOOTSTRAP_SERVERS = broker.bootstrap_servers
    settings.KAFKA_PRODUCER_IDEMPOTENCE = True
    settings.KAFKA_PRODUCE_TIMEOUT_S = 1.5
    reset_producer()
    ensure_topics()
    yield broker
    reset_producer()
    broker.stop()


def post(client, sdk_request) -> int:
    return client.post(sdk_request.path, data=sdk_request.body, content_type="text/plain")


@pytest.mark.usefixtures("sdk_project")
def test_a_fatal_producer_error_replaces_the_producer_and_ingest_recovers(
    client, idempotent_on_a_forgetful_broker, caplog
):
    broker = idempotent_on_a_forgetful_broker
    sdk_request = replay_requests()[0]
    assert post(client, sdk_request).status_code == 200

    # A message sent while the broker is down, then a broker that has forgotten its producer id.
    broker.stop()
    assert post(client, sdk_request).status_code == 503
    broker.start()
    ensure_topics()
    answers = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = post(client, sdk_request)
        answers.append(response.status_code)
        if response.status_code == 200:
            break
    assert answers[-1] == 200, answers
    assert set(answers) <= {200, 503}, answers
    # Once replaced, the producer keeps working.
    assert [post(client, sdk_request).status_code for _ in range(3)] == [200, 200, 200]
    assert "replacing the Kafka producer after a fatal error" in caplog.text
