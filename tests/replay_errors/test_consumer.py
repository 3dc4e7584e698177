"""Error events of a replay on the real broker and database: the SDK's ``error`` capture posted
through the envelope endpoint, kept once by ``consume_replay_events``, shown by the API beside
its replay whichever arrived first; bad messages to the dead-letter topic."""

from datetime import timedelta

import msgpack
import orjson
import pytest
from django.core.management import call_command
from django.utils import timezone
from sentry_kafka_schemas import get_codec

from ingest.envelope import parse_envelope
from ingest.models import Project
from organizations.models import Organization
from replay_errors.event_message import decode_error_event
from replay_errors.models import ReplayErrorEvent
from replay_errors.services import replay_error_events_purge_expired, replay_error_events_record
from replays.models import Replay, ReplaySegment
from tests.consumers import (
    committed_offsets,
    produce,
    start_error_events_consumer,
    start_recordings_consumer,
    wait_until,
)
from tests.ingest.builders import build_envelope
from tests.replay_errors.messages import EVENT_ID, REPLAY_ID, error_request, event_message
from tests.sdk_fixtures import scenario_replay_requests

pytestmark = pytest.mark.django_db(transaction=True)

EXPECTED_ERROR = {
    "event_id": EVENT_ID,
    "timestamp": "2026-12-01T16:14:58.663000Z",
    "level": "error",
    "type": "TypeError",
    "value": "Cannot read properties of null (reading 'code')",
    "culprit": "",
    "url": "http://127.0.0.1:18766/index.html",
}


@pytest.fixture
def api(client, django_user_model, organization):
    user = django_user_model.objects.create_user("operator", password="not-a-secret")
    organization.members.add(user)
    client.force_login(user)
    return client


def post(client, body: bytes, path: str | None = None):
    request = error_request()
    return client.post(
        path or request.path,
        data=body,
        content_type="text/plain;charset=UTF-8",
        headers=request.client_headers,
    )


def post_all(client, requests) -> None:
    for request in requests:
        response = post(client, request.body, request.path)
        assert response.status_code == 200, (request.name, response.content)


def replay_errors(api) -> list[dict]:
    response = api.get(f"/api/0/projects/42/replays/{REPLAY_ID}/")
    assert response.status_code == 200, response.content
    return response.json()["errors"]


@pytest.mark.usefixtures("sdk_project", "events_dlq_topic")
def test_the_error_capture_is_published_once_the_broker_has_it(client, events_topic, topic_reader):
    response = post(client, error_request().body)

    assert response.status_code == 200, response.content
    assert response.json() == {"id": EVENT_ID}
    [message] = topic_reader(events_topic, 1)
    assert message.key() == REPLAY_ID.encode()
    decoded = get_codec("ingest-events").decode(message.value(), validate=True)
    assert (decoded["type"], decoded["event_id"], decoded["replay_id"]) == (
        "event",
        EVENT_ID,
        REPLAY_ID,
    )
    [item] = [i for i in parse_envelope(error_request().body).items if i.type == "event"]
    assert decoded["payload"] == item.payload


@pytest.mark.usefixtures("sdk_project")
@pytest.mark.parametrize("event_first", [True, False], ids=["event-first", "segments-first"])
def test_the_error_capture_is_kept_and_shown_with_its_replay_in_either_order(
    client,
    api,
    recordings_topic,
    recordings_dlq_topic,
    events_topic,
    events_dlq_topic,
    occurrences_topic,
    event_first,
):
    """The SDK sent the error before segment 0; a retry or a slow request can bring it after the
    segments. The replay shows the same error either way."""
    segments = scenario_replay_requests("error")
    error = [error_request()]
    post_all(client, error + list(segments) if event_first else list(segments) + error)

    errors_consumer = start_error_events_consumer()
    recordings_consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplayErrorEvent.objects.count() == 1, what="the error event")
        wait_until(lambda: ReplaySegment.objects.count() == len(segments), what="the segments")
    finally:
        errors_consumer.stop()
        recordings_consumer.stop()

    row = ReplayErrorEvent.objects.get()
    assert (row.project_id, row.replay_id.hex, row.event_id.hex) == (42, REPLAY_ID, EVENT_ID)
    assert (row.release, row.environment) == ("shop@1.4.2", "staging")
    assert row.event["exception"]["values"][0]["type"] == "TypeError"
    # The replay's own list of its errors names it too.
    assert Replay.objects.get().error_ids == [EVENT_ID]
    assert replay_errors(api) == [EXPECTED_ERROR]


@pytest.mark.usefixtures("sdk_project", "events_dlq_topic")
def test_an_event_kept_before_its_replay_exists_waits_for_it(api, events_topic):
    produce(events_topic, [event_message()], key=REPLAY_ID.encode())
    consumer = start_error_events_consumer()
    try:
        wait_until(lambda: ReplayErrorEvent.objects.count() == 1, what="the error event")
    finally:
        consumer.stop()

    assert not Replay.objects.exists()
    assert api.get(f"/api/0/projects/42/replays/{REPLAY_ID}/").status_code == 404


@pytest.mark.usefixtures("sdk_project", "events_dlq_topic")
def test_a_redelivered_event_is_kept_once(client, events_topic, topic_reader):
    for _ in range(2):  # the SDK sent it again (say, after a 503)
        assert post(client, error_request().body).status_code == 200
    produce(events_topic, [event_message()], key=REPLAY_ID.encode())  # a producer retried
    first = start_error_events_consumer()
    try:
        wait_until(lambda: committed_offsets(first.group_id, events_topic) == 3, what="commits")
    finally:
        first.stop()
    # A second consumer group reads the whole topic again.
    second = start_error_events_consumer()
    try:
        wait_until(lambda: committed_offsets(second.group_id, events_topic) == 3, what="commits")
    finally:
        second.stop()

    assert ReplayErrorEvent.objects.count() == 1


@pytest.mark.usefixtures("sdk_project")
def test_an_invalid_message_goes_to_the_dlq_and_the_next_one_is_kept(
    events_topic, events_dlq_topic, topic_reader
):
    unknown_project = event_message(project_id=4242)
    not_json = msgpack.unpackb(event_message())
    not_json["payload"] = b"{not json"
    bad = [b"\xc1 not msgpack", msgpack.packb(not_json, use_bin_type=True), unknown_project]
    produce(events_topic, [*bad, event_message()])
    consumer = start_error_events_consumer()
    try:
        wait_until(lambda: ReplayErrorEvent.objects.count() == 1, what="the good event")
        dead_letters = topic_reader(events_dlq_topic, len(bad), timeout_s=10)
    finally:
        consumer.stop()

    assert [m.value() for m in dead_letters] == bad
    reasons = [dict(m.headers())["reason"].decode() for m in dead_letters]
    assert "not msgpack" in reasons[0]
    assert "the payload is not JSON" in reasons[1]
    assert "project 4242 does not exist" in reasons[2]
    assert all(dict(m.headers())["original_topic"] == events_topic.encode() for m in dead_letters)


@pytest.mark.usefixtures("sdk_project", "events_dlq_topic")
def test_an_event_without_a_replay_id_is_accepted_and_nothing_is_published(
    client, events_topic, topic_reader
):
    envelope = parse_envelope(error_request().body)
    [item] = [i for i in envelope.items if i.type == "event"]
    event = orjson.loads(item.payload)
    del event["tags"]
    headers = {**envelope.headers, "trace": {"trace_id": envelope.headers["trace"]["trace_id"]}}
    body = build_envelope(headers, [({"type": "event"}, orjson.dumps(event))])

    response = post(client, body)

    assert response.status_code == 200, response.content
    assert response.json() == {"id": EVENT_ID}
    assert topic_reader(events_topic, 1, timeout_s=1) == []


@pytest.mark.usefixtures("sdk_project", "events_topic")
def test_a_bad_event_item_is_refused_and_publishes_nothing(client, recordings_topic, topic_reader):
    segment = parse_envelope(scenario_replay_requests("error")[0].body)
    body = build_envelope(
        segment.headers,
        [(i.headers, i.payload) for i in segment.items] + [({"type": "event"}, b"{not json")],
    )

    response = post(client, body)

    assert response.status_code == 400
    assert "the event item is not valid JSON" in response.json()["detail"]
    assert response["X-Sentry-Error"]
    assert topic_reader(recordings_topic, 1, timeout_s=1) == []


@pytest.mark.usefixtures("sdk_project")
def test_an_envelope_with_a_segment_and_an_event_publishes_both(
    client, recordings_topic, events_topic, topic_reader
):
    segment = parse_envelope(scenario_replay_requests("error")[0].body)
    error = parse_envelope(error_request().body)
    items = [(i.headers, i.payload) for i in (*segment.items, *error.items) if i.type != "session"]

    response = post(client, build_envelope(segment.headers, items))

    assert response.status_code == 200, response.content
    assert response.json() == {"id": REPLAY_ID}
    assert len(topic_reader(recordings_topic, 1)) == 1
    assert topic_reader(events_topic, 1)[0].key() == REPLAY_ID.encode()


@pytest.mark.usefixtures("sdk_project")
def test_an_event_over_the_cap_is_413(client, settings, events_topic, topic_reader):
    settings.INGEST_MAX_EVENT_BYTES = 100

    response = post(client, error_request().body)

    assert response.status_code == 413
    assert "the event item is" in response.json()["detail"]
    assert topic_reader(events_topic, 1, timeout_s=1) == []


@pytest.mark.usefixtures("sdk_project", "events_dlq_topic")
def test_another_organizations_replay_and_its_errors_are_404(
    client,
    django_user_model,
    recordings_topic,
    recordings_dlq_topic,
    events_topic,
    occurrences_topic,
):
    post_all(client, [error_request(), *scenario_replay_requests("error")])
    errors_consumer = start_error_events_consumer()
    recordings_consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplayErrorEvent.objects.count() == 1, what="the error event")
        wait_until(lambda: Replay.objects.exists(), what="the replay")
    finally:
        errors_consumer.stop()
        recordings_consumer.stop()
    stranger = django_user_model.objects.create_user("stranger", password="not-a-secret")
    other = Organization.objects.create(id=8, name="Other", slug="other")
    other.members.add(stranger)
    Project.objects.create(id=43, name="theirs", org=other)
    client.force_login(stranger)

    for url in (
        f"/api/0/projects/42/replays/{REPLAY_ID}/",
        f"/api/0/projects/43/replays/{REPLAY_ID}/",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"TypeError" not in response.content


@pytest.mark.usefixtures("sdk_project")
def test_error_events_go_with_the_replays_retention(capsys):
    record = decode_error_event(event_message(), 64 * 1024)
    replay_error_events_record([record])
    received = ReplayErrorEvent.objects.get().received_at

    assert replay_error_events_purge_expired(received + timedelta(days=89)) == 0
    assert replay_error_events_purge_expired(received + timedelta(days=91)) == 1
    assert not ReplayErrorEvent.objects.exists()
    replay_error_events_record([record])
    ReplayErrorEvent.objects.update(received_at=timezone.now() - timedelta(days=91))
    call_command("purge_replays")
    assert capsys.readouterr().out.splitlines()[-1] == "purged 1 error events"
