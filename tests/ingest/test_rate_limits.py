"""Rate limits per project key, set in the admin: 429 in the format the SDK itself parses."""

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from django.db import OperationalError
from django.urls import reverse

from ingest import rate_limits
from ingest.errors import RateLimited
from ingest.models import KeyRateWindow, ProjectKey
from ingest.rate_limits import RateLimit, enforce, retry_after, window_of
from tests.ingest.builders import replay_envelope, replay_parts
from tests.sdk_fixtures import replay_requests

ROOT = Path(__file__).resolve().parents[2]
SDK_CORE = ROOT / "node_modules" / "@sentry" / "core"


def post(client, body: bytes | None = None, path: str | None = None, **headers):
    sdk_request = replay_requests()[0]
    return client.post(
        path or sdk_request.path,
        data=sdk_request.body if body is None else body,
        content_type="text/plain;charset=UTF-8",
        headers=headers,
    )


def set_limit_in_admin(admin_client, key: ProjectKey, count: int, window_s: int) -> None:
    response = admin_client.post(
        reverse("admin:ingest_projectkey_change", args=[key.pk]),
        {
            "project": key.project_id,
            "public_key": key.public_key,
            "label": key.label,
            "is_active": "on",
            "rate_limit_count": count,
            "rate_limit_window_s": window_s,
        },
    )
    assert response.status_code == 302, response.content
    key.refresh_from_db()
    assert (key.rate_limit_count, key.rate_limit_window_s) == (count, window_s)


def sdk_reads(headers: dict[str, str], status: int, now_ms: int) -> dict:
    """What @sentry/core's transport (the version the fixtures were captured with) makes of an
    answer: its rate-limit table, and which data categories it would hold back a second later."""
    script = """
const core = require(process.argv[1]);
const [headers, status, now] = JSON.parse(process.argv[2]);
const limits = core.updateRateLimits({}, {statusCode: status, headers}, now);
const category = core.envelopeItemTypeToDataCategory;
const held = (type) => core.isRateLimited(limits, category(type), now + 1000);
console.log(JSON.stringify({limits, replay_recording: held("replay_recording"),
  replay_event: held("replay_event"), event: held("event")}));
"""
    lowered = {name.lower(): value for name, value in headers.items()}
    out = subprocess.run(
        ["node", "-e", script, str(SDK_CORE), json.dumps([lowered, status, now_ms])],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(out.stdout)


def test_windows_and_retry_after():
    assert window_of(119.9, 60) == 1
    assert window_of(120.0, 60) == 2
    assert retry_after(119.9, 1, 60) == 1
    assert retry_after(60.0, 1, 60) == 60
    assert retry_after(61.5, 1, 60) == 59
    limited = RateLimited(17)
    assert limited.status == 429
    assert limited.headers == {"Retry-After": "17", "X-Sentry-Rate-Limits": "17:replay:key"}


@pytest.mark.django_db
def test_a_key_without_a_limit_is_never_counted(client, sdk_project, recordings_topic):
    for _ in range(3):
        assert post(client).status_code == 200
    assert not KeyRateWindow.objects.exists()


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
@pytest.mark.django_db
def test_a_limit_set_in_the_admin_answers_429_that_the_sdk_obeys(
    admin_client, client, sdk_project, recordings_topic, topic_reader
):
    if not SDK_CORE.exists():
        pytest.skip("@sentry/core is not installed (make setup runs npm ci)")
    # A window of an hour: the test cannot straddle two windows.
    set_limit_in_admin(admin_client, sdk_project, count=3, window_s=3600)

    statuses = [post(client).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]

    refused = post(client)
    assert refused.status_code == 429
    assert "rate limit" in refused.json()["detail"]
    assert refused["X-Sentry-Error"]
    seconds = int(refused["Retry-After"])
    assert 1 <= seconds <= 3600
    assert refused["X-Sentry-Rate-Limits"] == f"{seconds}:replay:key"

    now_ms = int(time.time() * 1000)
    sdk = sdk_reads(dict(refused.items()), 429, now_ms)
    # The SDK holds back replay envelopes (both items) for Retry-After seconds, and nothing else.
    assert sdk["limits"] == {"replay": now_ms + seconds * 1000}
    assert sdk["replay_recording"] is True
    assert sdk["replay_event"] is True
    assert sdk["event"] is False

    # Only the accepted envelopes were published. One row counts the window, up to the first
    # refusal: after it, this process refuses the key until the window ends without a query.
    assert len(topic_reader(recordings_topic, 4, timeout_s=2)) == 3
    assert KeyRateWindow.objects.get(key=sdk_project).count == 4

    # Another key of the same project has no limit and is not held back.
    other = ProjectKey.objects.create(project=sdk_project.project)
    path = replay_requests()[0].path.replace(sdk_project.public_key, other.public_key)
    assert post(client, path=path).status_code == 200


@pytest.mark.django_db
def test_the_key_in_the_envelope_header_is_limited_too(client, sdk_project, recordings_topic):
    sdk_project.rate_limit_count = 1
    sdk_project.rate_limit_window_s = 3600
    sdk_project.save()
    # No key in the URL: the envelope header's DSN carries it (what Relay forwards, and SDKs
    # with a tunnel send).
    headers, _, _ = replay_parts()
    dsn = f"http://{sdk_project.public_key}@testserver/{sdk_project.project_id}"
    body = replay_envelope(headers={**headers, "dsn": dsn})
    path = f"/api/{sdk_project.project_id}/envelope/"
    assert post(client, body, path=path).status_code == 200
    assert post(client, body, path=path).status_code == 429


@pytest.mark.django_db
def test_the_next_window_accepts_again_and_old_windows_are_deleted(
    client, sdk_project, recordings_topic
):
    sdk_project.rate_limit_count = 1
    sdk_project.rate_limit_window_s = 1
    sdk_project.save()
    # Start just after a window begins, so two posts fall in the same one.
    time.sleep(1 - time.time() % 1 + 0.01)
    assert post(client).status_code == 200
    refused = post(client)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    time.sleep(1 - time.time() % 1 + 0.01)
    assert post(client).status_code == 200
    assert KeyRateWindow.objects.filter(key=sdk_project).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_are_counted_exactly(live_server, sdk_project, recordings_topic):
    sdk_project.rate_limit_count = 25
    sdk_project.rate_limit_window_s = 3600
    sdk_project.save()
    sdk_request = replay_requests()[0]
    statuses: list[int] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        with requests.Session() as session:
            for _ in range(n):
                response = session.post(
                    live_server.url + sdk_request.path,
                    data=sdk_request.body,
                    headers=sdk_request.client_headers,
                    timeout=30,
                )
                with lock:
                    statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(8,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 25 + [429] * 15


def test_counting_that_fails_lets_the_envelope_through(monkeypatch):
    """A database outage must not lose what the SDK sent: the envelope goes on uncounted."""

    def broken(key_id: int, window: int) -> int:
        raise OperationalError("database is down")

    monkeypatch.setattr(rate_limits, "count_envelope", broken)
    rate_limits.forget_exceeded()
    enforce(1, RateLimit(count=0, window_s=60))
