"""The envelope endpoint on a real broker: the SDK's captures, CORS, and every refusal."""

import gzip
import re
import time

import orjson
import pytest
import requests
from sentry_kafka_schemas import get_codec

from ingest.envelope import parse_envelope
from ingest.models import Project, ProjectKey
from tests.ingest.builders import (
    ENCODERS,
    assert_cors_preflight,
    build_envelope,
    replay_envelope,
    replay_parts,
)
from tests.sdk_fixtures import other_requests, replay_requests, sdk_requests


def decode_recordings(messages) -> list[dict]:
    codec = get_codec("ingest-replay-recordings")
    return [codec.decode(message.value(), validate=True) for message in messages]


def post(client, body: bytes, path: str | None = None, **headers):
    path = path or replay_requests()[0].path
    return client.post(path, data=body, content_type="text/plain;charset=UTF-8", headers=headers)


def assert_refused(response, status: int, reason: str) -> None:
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert re.search(reason, detail), detail
    assert response["X-Sentry-Error"]


@pytest.mark.usefixtures("sdk_project")
def test_sdk_captures_over_http_reach_the_topic_intact(live_server, recordings_topic, topic_reader):
    for sdk_request in sdk_requests():
        response = requests.post(
            live_server.url + sdk_request.path,
            data=sdk_request.body,
            headers=sdk_request.client_headers,
            timeout=10,
        )
        assert response.status_code == 200, (sdk_request.name, response.text)

    expected = {}
    for sdk_request in replay_requests():
        envelope = parse_envelope(sdk_request.body)
        items = {item.type: item.payload for item in envelope.items}
        expected[orjson.loads(items["replay_event"])["segment_id"]] = (envelope.headers, items)

    messages = topic_reader(recordings_topic, len(expected))
    assert len(messages) == len(expected)
    for message, decoded in zip(messages, decode_recordings(messages), strict=True):
        headers, items = expected[orjson.loads(decoded["replay_event"])["segment_id"]]
        assert message.key() == headers["event_id"].encode()
        assert decoded["type"] == "replay_recording_not_chunked"
        assert decoded["replay_id"] == headers["event_id"]
        assert decoded["project_id"] == replay_requests()[0].project_id
        assert decoded["org_id"] == 7
        assert decoded["key_id"] == ProjectKey.objects.get().id
        assert decoded["retention_days"] > 0
        assert decoded["payload"] == items["replay_recording"]
        assert decoded["replay_event"] == items["replay_event"]
        segment_header = orjson.loads(decoded["payload"].split(b"\n", 1)[0])
        assert segment_header["segment_id"] == orjson.loads(items["replay_event"])["segment_id"]


@pytest.mark.usefixtures("sdk_project")
def test_envelopes_without_a_replay_are_accepted_and_produce_nothing(
    client, recordings_topic, topic_reader
):
    for sdk_request in other_requests():
        response = post(client, sdk_request.body, sdk_request.path)
        assert response.status_code == 200
    assert topic_reader(recordings_topic, 1, timeout_s=1.5) == []


@pytest.mark.usefixtures("sdk_project")
def test_cors_preflight_and_answers_from_another_origin(live_server, recordings_topic):
    url = live_server.url + replay_requests()[0].path
    origin = "https://shop.example"
    assert_cors_preflight(url, origin)

    accepted = requests.post(
        url, data=replay_requests()[0].body, headers={"Origin": origin}, timeout=10
    )
    assert accepted.status_code == 200
    assert accepted.headers["Access-Control-Allow-Origin"] in ("*", origin)

    refused = requests.post(url, data=b"garbage", headers={"Origin": origin}, timeout=10)
    assert refused.status_code == 400
    assert refused.headers["Access-Control-Allow-Origin"] in ("*", origin)
    assert "x-sentry-error" in refused.headers["Access-Control-Expose-Headers"].lower()


@pytest.mark.usefixtures("sdk_project")
@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_compressed_bodies_are_accepted(client, recordings_topic, topic_reader, encoding):
    body = replay_requests()[0].body
    response = post(client, ENCODERS[encoding](body), **{"Content-Encoding": encoding})
    assert response.status_code == 200, response.content
    messages = decode_recordings(topic_reader(recordings_topic, 1))
    _, _, recording = replay_parts()
    assert messages[0]["payload"] == recording


@pytest.mark.usefixtures("sdk_project")
def test_key_from_headers_and_from_the_envelope_dsn(client, recordings_topic):
    sdk_request = replay_requests()[0]
    bare_path = f"/api/{sdk_request.project_id}/envelope/"
    key = sdk_request.public_key
    auth = f"Sentry sentry_key={key}, sentry_version=7"
    assert post(client, sdk_request.body, bare_path, **{"X-Sentry-Auth": auth}).status_code == 200
    assert post(client, sdk_request.body, bare_path, Authorization=auth).status_code == 200

    headers, _, _ = replay_parts()
    dsn = f"https://{key}@ingest.example/{sdk_request.project_id}"
    body = replay_envelope(headers={**headers, "dsn": dsn})
    assert post(client, body, bare_path).status_code == 200


@pytest.fixture
def other_project(organization) -> ProjectKey:
    project = Project.objects.create(id=999, name="other", org=organization)
    return ProjectKey.objects.create(project=project, public_key="f" * 32)


@pytest.mark.usefixtures("sdk_project", "recordings_topic")
def test_every_refusal_of_the_table(client, other_project, settings):
    sdk_request = replay_requests()[0]
    body = sdk_request.body
    project_id = sdk_request.project_id
    bare = f"/api/{project_id}/envelope/"
    key = sdk_request.public_key

    assert_refused(
        post(client, gzip.compress(b"\0" * (64 << 20)), **{"Content-Encoding": "gzip"}),
        413,
        "inflates past",
    )
    truncated = body[: len(body) - 100]
    assert_refused(post(client, truncated), 400, "truncated")
    headers, event, recording = replay_parts()
    past_end = build_envelope(headers, [({"type": "replay_event"}, orjson.dumps(event))])
    past_end += b'{"type":"replay_recording","length":99999}\n' + recording
    assert_refused(post(client, past_end), 400, "declares length 99999")
    assert_refused(post(client, b'{"event_id": nope}\n'), 400, "envelope header is not valid JSON")
    assert_refused(
        post(client, body.replace(b'{"type":"replay_event"}', b"{type}")), 400, "not valid JSON"
    )
    assert_refused(post(client, replay_envelope(recording=b"x")), 400, "replay_recording")
    assert_refused(
        post(client, b"{}\n" + b'{"type":"replay_event"}\n{}\n'), 400, "no replay_recording"
    )
    assert_refused(
        post(client, body, "/api/42/envelope/?sentry_key=" + "0" * 32), 403, "not a key of project"
    )
    assert_refused(
        post(client, body, f"{bare}?sentry_key={other_project.public_key}"),
        403,
        "not a key of project",
    )
    assert_refused(
        post(client, body, f"/api/7777/envelope/?sentry_key={key}"),
        403,
        "project 7777 does not exist",
    )
    assert_refused(
        post(client, body, f"/api/99999999999999999999/envelope/?sentry_key={key}"),
        403,
        "does not exist",
    )
    assert_refused(post(client, body, f"{bare}?sentry_key=not-hex"), 403, "32 lower-case hex")
    assert_refused(post(client, body, bare), 401, "no public key")
    assert_refused(
        post(
            client,
            body,
            f"{bare}?sentry_key={key}",
            **{"X-Sentry-Auth": f"Sentry sentry_key={key}"},
        ),
        401,
        "more than one place",
    )
    # Saved as the admin saves it: the key cache of this process forgets it at once.
    project_key = ProjectKey.objects.get(public_key=key)
    project_key.is_active = False
    project_key.save()
    assert_refused(post(client, body), 403, "disabled")
    project_key.is_active = True
    project_key.save()

    settings.INGEST_MAX_BODY_BYTES = len(body) - 1
    assert_refused(post(client, body), 413, "over the limit")
    settings.INGEST_MAX_BODY_BYTES = 20 << 20
    settings.INGEST_MAX_RECORDING_BYTES = len(recording) - 1
    assert_refused(post(client, body), 413, "replay_recording item is .* over the limit")

    assert client.get(sdk_request.path).status_code == 405


@pytest.mark.usefixtures("sdk_project", "recordings_topic")
def test_the_trailing_slash_is_optional(client):
    sdk_request = replay_requests()[0]
    path = sdk_request.path.replace("/envelope/?", "/envelope?")
    assert post(client, sdk_request.body, path).status_code == 200


@pytest.mark.usefixtures("recordings_topic")
def test_a_change_made_elsewhere_applies_once_the_key_cache_expires(client, sdk_project, settings):
    settings.INGEST_KEY_CACHE_TTL_S = 0.3
    sdk_request = replay_requests()[0]
    assert post(client, sdk_request.body).status_code == 200
    # Another process disables the key (a bulk update sends no signal to this one).
    ProjectKey.objects.filter(pk=sdk_project.pk).update(is_active=False)
    assert post(client, sdk_request.body).status_code == 200
    time.sleep(0.35)
    assert_refused(post(client, sdk_request.body), 403, "disabled")
