"""Splitting and inflating a segment's recording, and decoding the message around it: pure."""

import zlib

import orjson
import pytest

from replays.detection.errors import InvalidSegment
from replays.detection.message import decode_message
from replays.detection.recording import (
    Recording,
    compress_recording,
    inflate_recording,
    split_recording,
)
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    MiB,
    click_event,
    decompression_bomb,
    fixture_messages,
    recording_message,
    recording_payload,
    with_fields,
)
from tests.sdk_fixtures import replay_requests

EVENTS = orjson.dumps([click_event()])


def test_every_captured_recording_splits_and_inflates_to_a_json_array():
    for raw in fixture_messages():
        message = decode_message(raw)
        recording = split_recording(message["payload"])
        assert recording.compressed  # the SDK's default
        assert recording.segment_id == orjson.loads(message["replay_event"])["segment_id"]
        events = orjson.loads(inflate_recording(recording, MAX_INFLATED_BYTES))
        assert isinstance(events, list)
        assert events


def test_a_plain_json_body_is_read_as_sent_and_compressed_for_storage():
    for payload in (
        recording_payload(3, EVENTS, compress=False),
        b'{"segment_id":3}\n \n\t' + EVENTS,
    ):
        recording = split_recording(payload)
        assert recording == Recording(3, payload.partition(b"\n")[2], compressed=False)
        assert inflate_recording(recording, MAX_INFLATED_BYTES) == recording.body
        assert zlib.decompress(compress_recording(recording)) == recording.body


def test_a_zlib_body_is_stored_as_sent():
    payload = recording_payload(0, EVENTS)
    recording = split_recording(payload)
    assert recording.compressed
    assert compress_recording(recording) == payload.partition(b"\n")[2]
    assert inflate_recording(recording, MAX_INFLATED_BYTES) == EVENTS


@pytest.mark.parametrize("kind", ["zeros", "json"])
def test_a_decompression_bomb_is_refused_at_the_consumers_cap(kind):
    payload = b'{"segment_id":0}\n' + decompression_bomb(kind)
    assert len(payload) < MiB
    recording = split_recording(payload)
    with pytest.raises(InvalidSegment, match="inflates past"):
        inflate_recording(recording, MAX_INFLATED_BYTES)


def test_a_plain_body_over_the_cap_is_refused():
    recording = Recording(0, b"[" + b" " * 200 + b"]", compressed=False)
    assert inflate_recording(recording, 202) == recording.body
    with pytest.raises(InvalidSegment, match="larger than 201"):
        inflate_recording(recording, 201)


def test_a_body_just_at_the_cap_inflates():
    body = orjson.dumps([click_event()] * 10)
    recording = split_recording(recording_payload(0, body))
    assert inflate_recording(recording, len(body)) == body
    with pytest.raises(InvalidSegment, match="inflates past"):
        inflate_recording(recording, len(body) - 1)


def test_corrupt_and_truncated_zlib_are_invalid():
    compressed = zlib.compress(EVENTS * 20)
    truncated = Recording(0, compressed[: len(compressed) // 2], compressed=True)
    with pytest.raises(InvalidSegment, match="truncated"):
        inflate_recording(truncated, MAX_INFLATED_BYTES)
    corrupt = compressed[:2] + bytes(b ^ 0x5A for b in compressed[2:40]) + compressed[40:]
    with pytest.raises(InvalidSegment, match="corrupt zlib"):
        inflate_recording(Recording(0, corrupt, compressed=True), MAX_INFLATED_BYTES)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b'{"segment_id":0}', "no header line"),
        (b"", "no header line"),
        (b"segment 0\n[]", "not JSON"),
        (b'{"segment_id":0\n[]', "not JSON"),
        (b"[0]\n[]", "no valid segment_id"),
        (b"{}\n[]", "no valid segment_id"),
        (b'{"segment_id":"0"}\n[]', "no valid segment_id"),
        (b'{"segment_id":-1}\n[]', "no valid segment_id"),
        (b'{"segment_id":true}\n[]', "no valid segment_id"),
        (b'{"segment_id":1.0}\n[]', "no valid segment_id"),
        (b'{"segment_id":0}\n{"events":[]}', "neither zlib nor a JSON array"),
        (b'{"segment_id":0}\n', "neither zlib nor a JSON array"),
        (b'{"segment_id":0}\n\x00\x01garbage', "neither zlib nor a JSON array"),
    ],
)
def test_bad_recordings_are_invalid(payload, error):
    with pytest.raises(InvalidSegment, match=error):
        split_recording(payload)


def test_decode_message_reads_what_ingest_publishes():
    raw = recording_message([click_event()], segment_id=4, project_id=7, org_id=3, key_id=None)
    message = decode_message(raw)
    assert message["project_id"] == 7
    assert message["org_id"] == 3
    assert message["key_id"] is None
    assert split_recording(message["payload"]).segment_id == 4
    assert orjson.loads(message["replay_event"])["segment_id"] == 4
    assert len(fixture_messages()) == len(replay_requests())


def _packed(**fields) -> bytes:
    return with_fields(recording_message([click_event()]), **fields)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", "not msgpack"),
        (b"\xc1garbage", "not msgpack"),
        (b"\x93\x01\x02", "schema|not msgpack"),  # a truncated array
        (b"\x93\x01\x02\x03", "schema"),  # [1, 2, 3]
        (b"\xa8a string", "schema"),
        (_packed(project_id=...), "schema"),
        (_packed(project_id="42"), "schema"),
        (_packed(received=-1), "schema"),
        (_packed(type="replay_video"), "schema"),
        (_packed(replay_id=1234), "schema"),
        (_packed(payload="text, not bytes"), "payload is not bytes"),
        (_packed(payload=None), "payload is not bytes"),
        (_packed(replay_event={"a": 1}), "replay_event is not bytes"),
        # Valid for the schema, but no database column or datetime holds them.
        (_packed(project_id=2**40), "project_id is out of range"),
        (_packed(project_id=0), "project_id is out of range"),
        (_packed(received=2**62), "received is out of range"),
        (_packed(retention_days=-1), "retention_days is out of range"),
        (_packed(key_id=2**63), "key_id is out of range"),
    ],
)
def test_messages_that_are_not_recordings_are_invalid(raw, error):
    with pytest.raises(InvalidSegment, match=error):
        decode_message(raw)
