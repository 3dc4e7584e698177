"""``POST /api/<project_id>/occurrences/`` on the real broker: the envelope endpoint's key
authentication, limits, CORS and encodings; every refusal of a body; and an occurrence without
replay fields grouped by the real issues consumer, listed by the API and shown on its page."""

import gzip
import time
import uuid

import orjson
import pytest
import requests
import yaml
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from sentry_kafka_schemas import get_codec

from ingest.models import KeyRateWindow, ProjectKey
from issues import presentation
from issues.models import Issue, Occurrence
from pipeline.topics import ensure_topics
from replays.detection.fingerprint import fingerprint_hash
from tests.consumers import start_occurrences_consumer, wait_until
from tests.ingest.builders import ENCODERS, assert_cors_preflight
from tests.ingest.test_broker_outage import own_broker  # noqa: F401 (a fixture)
from tests.ingest.test_endpoint import assert_refused, other_project  # noqa: F401 (a fixture)
from tests.ingest.test_endpoint import post as post_envelope
from tests.ingest.test_rate_limits import set_limit_in_admin
from tests.sdk_fixtures import replay_requests

PROJECT_ID = 42


def minimal_occurrence(**fields) -> dict:
    """The least a sender must give: an id, a fingerprint, a registered type and a time. The
    project comes from the URL; title, level and the rest take the type's defaults."""
    return {
        "id": uuid.uuid4().hex,
        "fingerprint": ["checkout-button-unresponsive"],
        "type": 5001,
        "event": {"timestamp": time.time()},
        **fields,
    }


def backend_occurrence() -> dict:
    """What a mobile app's back end might send: no replay, no selector, no URL."""
    return minimal_occurrence(
        issue_title="Checkout button does nothing",
        culprit="CheckoutScreen",
        level="error",
        evidence_data={"screen": "CheckoutScreen", "waited_ms": 9000},
        evidence_display=[
            {"name": "Screen", "value": "CheckoutScreen", "important": True},
            {"name": "Waited", "value": "9000 ms", "important": False},
        ],
        event={
            "event_id": uuid.uuid4().hex,
            "timestamp": time.time(),
            "platform": "android",
            "environment": "production",
            "release": "shop-android@4.2.0",
            "user": {"id": "u-17"},
            "tags": {"screen": "checkout"},
        },
    )


def key() -> str:
    return replay_requests()[0].public_key


def path(project_id: int = PROJECT_ID, query: str | None = None) -> str:
    query = f"sentry_key={key()}" if query is None else query
    return f"/api/{project_id}/occurrences/" + (f"?{query}" if query else "")


def post(client, body: bytes | dict, url: str | None = None, **headers):
    data = orjson.dumps(body) if isinstance(body, dict) else body
    return client.post(url or path(), data=data, content_type="application/json", headers=headers)


def published(topic_reader, topic: str, count: int = 1) -> list:
    return topic_reader(topic, count, timeout_s=3 if count else 1)


@pytest.mark.usefixtures("sdk_project")
def test_an_accepted_occurrence_is_on_the_topic_keyed_by_its_fingerprint(
    client, occurrences_topic, topic_reader
):
    occurrence = minimal_occurrence()
    response = post(client, occurrence)
    assert response.status_code == 200, response.content
    assert response.json() == {"id": occurrence["id"]}

    (message,) = published(topic_reader, occurrences_topic)
    assert message.key() == fingerprint_hash(occurrence["fingerprint"]).encode()
    value = get_codec("ingest-occurrences").decode(message.value(), validate=True)
    # The URL's project filled in; the rest as sent.
    assert value == {**occurrence, "project_id": PROJECT_ID}


@pytest.mark.usefixtures("sdk_project")
def test_the_key_from_each_source_of_the_envelope_endpoint(client, occurrences_topic):
    auth = f"Sentry sentry_key={key()}, sentry_version=7"
    bare = path(query="")
    assert post(client, minimal_occurrence(), bare, **{"X-Sentry-Auth": auth}).status_code == 200
    assert post(client, minimal_occurrence(), bare, Authorization=auth).status_code == 200
    assert post(client, minimal_occurrence()).status_code == 200
    # The trailing slash is optional, as for envelopes.
    assert post(client, minimal_occurrence(), path().replace("/?", "?")).status_code == 200


@pytest.mark.usefixtures("sdk_project", "occurrences_topic")
def test_every_refusal_of_a_key(client, other_project):  # noqa: F811 (a fixture)
    body = minimal_occurrence()
    bare = path(query="")
    assert_refused(post(client, body, bare), 401, "no public key")
    assert_refused(
        post(client, body, path(), **{"X-Sentry-Auth": f"Sentry sentry_key={key()}"}),
        401,
        "more than one place",
    )
    assert_refused(post(client, body, path(query="sentry_key=" + "0" * 32)), 403, "not a key of")
    assert_refused(
        post(client, body, path(query=f"sentry_key={other_project.public_key}")),
        403,
        "not a key of project",
    )
    assert_refused(post(client, body, path(7777)), 403, "project 7777 does not exist")
    assert_refused(post(client, body, path(query="sentry_key=not-hex")), 403, "32 lower-case hex")
    project_key = ProjectKey.objects.get(public_key=key())
    project_key.is_active = False
    project_key.save()
    assert_refused(post(client, body), 403, "disabled")
    # A key is checked before the body is read: a stranger's body is never parsed.
    assert_refused(post(client, b"not json", bare), 401, "no public key")

    assert client.get(path()).status_code == 405


@pytest.mark.usefixtures("sdk_project", "occurrences_topic")
def test_every_refusal_of_a_body(client, settings):
    def refused(body, status: int, reason: str, **headers) -> None:
        assert_refused(post(client, body, **headers), status, reason)

    refused(b"{nope", 400, "not valid JSON")
    refused(b"\xff\xfe{}", 400, "not valid JSON")
    refused(b"[" * 5000 + b"]" * 5000, 400, "not valid JSON")
    refused(b"[1, 2]", 400, "a JSON object")
    refused(b"", 400, "not valid JSON")

    # Off the schema of sentry-kafka-schemas.
    without_fingerprint = minimal_occurrence()
    del without_fingerprint["fingerprint"]
    refused(without_fingerprint, 400, "must contain .*fingerprint")
    refused(minimal_occurrence(fingerprint="one string"), 400, "fingerprint must be array")
    refused(minimal_occurrence(id=17), 400, "id must be string")
    refused(minimal_occurrence(type="5001"), 400, "type must be integer or null")
    refused(minimal_occurrence(project_id="42"), 400, "project_id must be integer")

    # Another project's occurrence, sent with this project's key.
    refused(minimal_occurrence(project_id=43), 400, "project_id 43 .* not the URL's project 42")

    # Types: only the registry's.
    refused(minimal_occurrence(type=9999), 400, r"type 9999 is not registered.*5001 \(replay_")
    without_type = minimal_occurrence()
    del without_type["type"]
    refused(without_type, 400, "type None is not registered")

    # What the issues stage could never group.
    refused(minimal_occurrence(id="not-hex"), 400, "id must be 32 hex digits")
    refused(minimal_occurrence(fingerprint=[]), 400, "fingerprint must be a non-empty list")
    refused(minimal_occurrence(level="loud"), 400, "level 'loud' is not a level")
    refused(minimal_occurrence(event={}), 400, "no usable timestamp")
    refused(minimal_occurrence(event={"timestamp": 1e15}), 400, "no usable timestamp")
    refused(minimal_occurrence(payload_type="status_change"), 400, "payload_type")
    refused(minimal_occurrence(evidence_data={"note": "a\u0000b"}), 400, "NUL character")

    # Sizes: as sent and once inflated.
    settings.INGEST_MAX_OCCURRENCE_BYTES = 4096
    padded = minimal_occurrence(evidence_data={"padding": "x" * 5000})
    refused(padded, 413, "over the limit of 4096")
    refused(
        gzip.compress(orjson.dumps(padded)), 413, "inflates past", **{"Content-Encoding": "gzip"}
    )
    refused(b"\x1f\x8b not gzip", 400, "not valid compressed data", **{"Content-Encoding": "gzip"})
    refused(b"{}", 400, "unsupported Content-Encoding", **{"Content-Encoding": "lzma"})


@pytest.mark.usefixtures("sdk_project")
@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_compressed_bodies_are_accepted(client, occurrences_topic, topic_reader, encoding):
    occurrence = minimal_occurrence()
    body = ENCODERS[encoding](orjson.dumps(occurrence))
    response = post(client, body, **{"Content-Encoding": encoding})
    assert response.status_code == 200, response.content
    (message,) = published(topic_reader, occurrences_topic)
    assert orjson.loads(message.value())["id"] == occurrence["id"]


@pytest.mark.django_db
def test_the_rate_limit_is_the_keys_one_count_with_its_envelopes(
    admin_client, client, sdk_project, recordings_topic, occurrences_topic, topic_reader
):
    set_limit_in_admin(admin_client, sdk_project, count=3, window_s=3600)
    assert post_envelope(client, replay_requests()[0].body).status_code == 200
    assert post(client, minimal_occurrence()).status_code == 200
    assert post(client, minimal_occurrence()).status_code == 200

    refused = post(client, minimal_occurrence())
    assert_refused(refused, 429, "rate limit")
    seconds = int(refused["Retry-After"])
    assert 1 <= seconds <= 3600
    assert refused["X-Sentry-Rate-Limits"] == f"{seconds}:replay:key"
    # The key is over its limit for envelopes too.
    assert post_envelope(client, replay_requests()[0].body).status_code == 429
    assert len(published(topic_reader, occurrences_topic, 3)) == 2
    assert KeyRateWindow.objects.get(key=sdk_project).count == 4


@pytest.mark.usefixtures("sdk_project", "occurrences_topic")
def test_cors_preflight_and_answers_from_another_origin(live_server):
    url = live_server.url + path()
    origin = "https://app.example"
    assert_cors_preflight(url, origin)

    accepted = requests.post(
        url, data=orjson.dumps(minimal_occurrence()), headers={"Origin": origin}, timeout=10
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.headers["Access-Control-Allow-Origin"] in ("*", origin)
    refused = requests.post(url, data=b"[]", headers={"Origin": origin}, timeout=10)
    assert refused.status_code == 400
    assert refused.headers["Access-Control-Allow-Origin"] in ("*", origin)
    assert "x-sentry-error" in refused.headers["Access-Control-Expose-Headers"].lower()


@pytest.mark.usefixtures("sdk_project")
def test_broker_down_is_503_and_nothing_is_published(
    client,
    own_broker,  # noqa: F811 (a fixture)
    topic_reader,
):
    assert post(client, minimal_occurrence()).status_code == 200
    own_broker.stop()
    refused = minimal_occurrence()
    assert_refused(post(client, refused), 503, "broker")
    own_broker.start()
    ensure_topics()
    after = minimal_occurrence()
    response = post(client, after)
    assert response.status_code == 200, response.content
    ids = [
        orjson.loads(m.value())["id"] for m in topic_reader(django_settings.TOPIC_OCCURRENCES, 3, 3)
    ]
    assert refused["id"] not in ids
    assert after["id"] in ids


@pytest.mark.django_db(transaction=True)
def test_an_occurrence_without_replay_fields_becomes_an_issue_in_the_api_and_ui(
    live_server,
    sdk_project,
    occurrences_topic,
    occurrences_dlq_topic,
    topic_reader,
    django_user_model,
    organization,
):
    occurrence = backend_occurrence()
    response = requests.post(live_server.url + path(), data=orjson.dumps(occurrence), timeout=10)
    assert response.status_code == 200, response.text
    again = {
        **occurrence,
        "id": uuid.uuid4().hex,
        "event": {**occurrence["event"], "user": {"id": "u-18"}},
    }
    assert requests.post(live_server.url + path(), data=orjson.dumps(again), timeout=10).ok

    consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() == 2, what="both occurrences grouped")
    finally:
        consumer.stop()
    assert topic_reader(occurrences_dlq_topic, 1, timeout_s=1) == []

    issue = Issue.objects.get()
    assert (issue.type, issue.times_seen, issue.users_seen) == ("replay_dead_click", 2, 2)
    assert (issue.selector, issue.metadata["url"]) == ("", "")
    assert issue.title == "Checkout button does nothing"

    user = django_user_model.objects.create_user("operator", password="not-a-secret")
    organization.members.add(user)
    web = Client()
    web.force_login(user)
    listed = web.get(f"/api/0/projects/{PROJECT_ID}/issues/")
    assert listed.status_code == 200, listed.content
    (api_issue,) = listed.json()["results"]
    assert api_issue["title"] == "Checkout button does nothing"
    assert api_issue["culprit"] == "CheckoutScreen"
    assert (api_issue["times_seen"], api_issue["users_seen"]) == (2, 2)
    detail = web.get(f"/api/0/issues/{api_issue['id']}/occurrences/")
    assert detail.status_code == 200, detail.content
    assert {o["replay_id"] for o in detail.json()["results"]} == {None}

    page = web.get(reverse("issues:issue-detail", args=[issue.pk]))
    assert page.status_code == 200, page.content
    text = page.content.decode()
    assert "Checkout button does nothing" in text
    for entry in occurrence["evidence_display"]:
        assert f"<dt>{entry['name']}</dt>" in text
        assert entry["value"] in text


@pytest.mark.django_db(transaction=True)
def test_a_click_from_elsewhere_with_only_a_subtitle_shows_its_element(
    client, sdk_project, occurrences_topic, occurrences_dlq_topic, admin_user
):
    """A click type's subtitle is its selector: the page shows the element card, and evidence
    without the SDK's timeAfterClickMs (or with a string there) is no crash."""
    first = minimal_occurrence(subtitle="PayButton", evidence_data={"timeAfterClickMs": "long"})
    second = minimal_occurrence(subtitle="PayButton")
    for occurrence in (first, second):
        assert post(client, occurrence).status_code == 200
    consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() == 2, what="both occurrences grouped")
    finally:
        consumer.stop()
    issue = Issue.objects.get()
    assert issue.selector == "PayButton"
    client.force_login(admin_user)
    page = client.get(reverse("issues:issue-detail", args=[issue.pk]))
    assert page.status_code == 200, page.content
    assert 'id="issue-selector">PayButton</code>' in page.content.decode()


def test_a_duration_is_shown_for_numbers_only():
    assert presentation.duration(7000) == "7.0 s"
    assert [presentation.duration(v) for v in ("", "long", None, True, [1])] == [""] * 5


@pytest.mark.usefixtures("sdk_project", "occurrences_topic")
def test_not_redirected_to_https_as_pages_are(settings):
    """A redirected POST loses its body: like envelopes, occurrences are answered on any scheme."""
    settings.SECURE_SSL_REDIRECT = True
    response = post(Client(), minimal_occurrence())
    assert response.status_code == 200, response.content
    assert Client().get("/accounts/login/").status_code == 301


def test_like_the_envelope_endpoint_it_is_outside_the_rest_apis_schema(admin_client):
    """Both ingest endpoints are plain Django views with Relay's answers, documented in the
    README, not DRF operations: the OpenAPI schema lists neither."""
    paths = yaml.safe_load(admin_client.get("/api/schema/").content)["paths"]
    assert "/api/0/issues/{issue_id}/occurrences/" in paths  # the REST API's own, a read
    assert not [path for path in paths if path.startswith("/api/{project_id}/")]
