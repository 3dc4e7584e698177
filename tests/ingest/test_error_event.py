"""Which envelopes carry an error event of a replay (pure): the SDK's capture and its variants."""

import msgpack
import orjson
import pytest
from sentry_kafka_schemas import get_codec

from ingest.envelope import parse_envelope
from ingest.error_event import ErrorEvent, extract_error_event
from ingest.errors import MalformedEnvelope, PayloadTooLarge
from ingest.event_message import encode_event_message
from tests.ingest.builders import build_envelope
from tests.sdk_fixtures import scenario_requests

REPLAY_ID = "5312c198e4ad48a084cad9ad9fd09047"
EVENT_ID = "afe5f589518146b1b260732c9ebe0f02"
MAX_BYTES = 1024 * 1024


def error_capture() -> tuple[dict, dict]:
    """The envelope header and the event of the ``error`` scenario's error envelope."""
    [request] = [r for r in scenario_requests("error") if b'{"type":"event"}' in r.body]
    envelope = parse_envelope(request.body)
    [item] = [item for item in envelope.items if item.type == "event"]
    return envelope.headers, orjson.loads(item.payload)


def extract(headers: dict, event: dict | bytes, max_bytes: int = MAX_BYTES) -> ErrorEvent | None:
    payload = event if isinstance(event, bytes) else orjson.dumps(event)
    body = build_envelope(headers, [({"type": "event"}, payload)])
    return extract_error_event(parse_envelope(body), max_bytes)


def test_the_sdk_error_capture_is_an_error_event_of_its_replay():
    [request] = [r for r in scenario_requests("error") if b'{"type":"event"}' in r.body]

    found = extract_error_event(parse_envelope(request.body), MAX_BYTES)

    assert found is not None
    assert (found.event_id, found.replay_id) == (EVENT_ID, REPLAY_ID)
    assert orjson.loads(found.payload)["exception"]["values"][0]["type"] == "TypeError"


def test_the_replay_id_is_found_in_each_place_the_sdk_puts_it():
    _, event = error_capture()
    bare = {key: value for key, value in event.items() if key != "tags"}
    dashed = "5312c198-e4ad-48a0-84ca-d9ad9fd09047"

    by_context = {**bare, "contexts": {"replay": {"replay_id": dashed}}}
    by_tag_pairs = {**bare, "tags": [["browser", "Chrome"], ["replayId", REPLAY_ID]]}
    by_tag_dict = {**bare, "tags": {"replayId": REPLAY_ID}}

    for event_with_id in (by_context, by_tag_pairs, by_tag_dict):
        assert extract({}, event_with_id).replay_id == REPLAY_ID
    # The envelope header's trace (the dynamic sampling context) names it too.
    assert extract({"trace": {"replay_id": REPLAY_ID}}, bare).replay_id == REPLAY_ID


@pytest.mark.parametrize(
    "tags",
    [None, {}, [], {"replayId": "not-a-uuid"}, [["replayId"]], [["other", REPLAY_ID]], "x"],
    ids=["none", "empty-dict", "empty-list", "not-uuid", "short-pair", "other-tag", "string"],
)
def test_an_event_without_a_replay_id_is_no_error_event_of_a_replay(tags):
    _, event = error_capture()
    event = {**event, "tags": tags, "contexts": {"replay": {"replay_id": 7}}}

    assert extract({"trace": {"replay_id": None}}, event) is None


def test_an_envelope_without_an_event_item_has_none():
    body = build_envelope({}, [({"type": "session"}, b"{}")])

    assert extract_error_event(parse_envelope(body), MAX_BYTES) is None


def test_the_event_id_comes_from_the_event_else_the_envelope_header():
    headers, event = error_capture()
    without_id = {key: value for key, value in event.items() if key != "event_id"}

    assert extract(headers, without_id).event_id == EVENT_ID
    with pytest.raises(MalformedEnvelope, match="no event_id"):
        extract({}, without_id)
    with pytest.raises(MalformedEnvelope, match="event_id must be a UUID"):
        extract({}, {**event, "event_id": "nope"})


@pytest.mark.parametrize(
    "payload", [b"{not json", b"[1, 2]", b'"text"'], ids=["bad-json", "list", "string"]
)
def test_an_event_that_is_no_json_object_is_refused(payload):
    with pytest.raises(MalformedEnvelope, match="event item"):
        extract({}, payload)


def test_an_event_over_the_cap_is_refused_before_it_is_parsed():
    headers, event = error_capture()
    payload = orjson.dumps(event)

    assert extract(headers, payload, max_bytes=len(payload)) is not None
    with pytest.raises(PayloadTooLarge, match="over the limit"):
        extract(headers, payload, max_bytes=len(payload) - 1)


def test_two_events_in_one_envelope_are_refused():
    headers, event = error_capture()
    item = ({"type": "event"}, orjson.dumps(event))
    body = build_envelope(headers, [item, item])

    with pytest.raises(MalformedEnvelope, match="2 event items"):
        extract_error_event(parse_envelope(body), MAX_BYTES)


def test_the_message_is_relays_ingest_events_shape():
    headers, event = error_capture()
    found = extract(headers, event)

    raw = encode_event_message(
        found, project_id=42, org_id=7, key_id=3, received=1796141699, retention_days=90
    )

    decoded = get_codec("ingest-events").decode(raw, validate=True)
    assert decoded == msgpack.unpackb(raw)
    assert decoded["type"] == "event"
    assert (decoded["event_id"], decoded["replay_id"]) == (EVENT_ID, REPLAY_ID)
    assert (decoded["project_id"], decoded["start_time"]) == (42, 1796141699)
    assert decoded["payload"] == found.payload
