"""/healthz, /readyz and /metrics, as documented in the README ("Deploy"), against the real broker
and database; and the readiness checks against a database and a broker that are not there."""

import pytest
from django.db import connections
from prometheus_client import REGISTRY

from pipeline import health
from pipeline.broker import free_port
from tests.sdk_fixtures import other_requests, replay_requests


def envelopes(outcome: str, reason: str) -> float:
    labels = {"outcome": outcome, "reason": reason}
    return REGISTRY.get_sample_value("replay_issues_envelopes_total", labels) or 0.0


def test_healthz_answers_without_touching_database_or_broker(client, settings):
    settings.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{free_port()}"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ok_when_the_database_broker_and_topic_answer(client, recordings_topic):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_is_503_and_names_the_broker_when_it_is_unreachable(client, settings):
    settings.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{free_port()}"
    settings.READYZ_BROKER_TIMEOUT_S = 0.5
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("broker unreachable at 127.0.0.1:")


@pytest.mark.django_db
def test_readyz_is_503_when_the_recordings_topic_was_never_created(client, settings, kafka_broker):
    settings.TOPIC_REPLAY_RECORDINGS = "never-created-topic"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "topic never-created-topic missing" in response.json()["checks"]["broker"]


@pytest.fixture
def unreachable_database():
    """A second connection alias to a database that is not there: a SQLite file in a missing
    directory, or a PostgreSQL port nobody listens on."""
    broken = dict(connections.settings["default"])
    if broken["ENGINE"].endswith("sqlite3"):
        broken["NAME"] = "/nonexistent-directory/replay-issues.sqlite3"
    else:
        broken["PORT"] = str(free_port())
        broken["OPTIONS"] = {**broken.get("OPTIONS", {}), "connect_timeout": 2}
    connections.settings["unreachable"] = broken
    yield "unreachable"
    connections["unreachable"].close()
    del connections.settings["unreachable"]


def test_the_database_check_reports_an_unreachable_database(
    unreachable_database, django_db_blocker
):
    with django_db_blocker.unblock():
        problem = health.database_problem(unreachable_database)
    assert problem is not None
    assert problem.startswith("database unreachable:")


@pytest.mark.django_db
def test_metrics_count_accepted_and_refused_envelopes_by_reason(
    client, sdk_project, recordings_topic
):
    accepted, malformed = envelopes("accepted", ""), envelopes("rejected", "malformed")
    forbidden = envelopes("rejected", "forbidden")
    for sdk_request in (*replay_requests()[:2], *other_requests()):
        response = client.post(
            sdk_request.path, data=sdk_request.body, content_type="text/plain;charset=UTF-8"
        )
        assert response.status_code == 200, response.content
    path = replay_requests()[0].path
    assert client.post(path, data=b"not an envelope", content_type="text/plain").status_code == 400
    wrong_key = path.replace(sdk_project.public_key, "f" * 32)
    assert client.post(wrong_key, data=b"{}\n", content_type="text/plain").status_code == 403

    assert envelopes("accepted", "") == accepted + 2 + len(other_requests())
    assert envelopes("rejected", "malformed") == malformed + 1
    assert envelopes("rejected", "forbidden") == forbidden + 1

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert 'replay_issues_envelopes_total{outcome="rejected",reason="malformed"}' in text
    for name in (
        "replay_issues_segments_processed_total",
        "replay_issues_segment_processing_seconds",
        "replay_issues_occurrences_produced",
        "replay_issues_dlq_messages",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in text


def test_metrics_need_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert response.status_code == 200
