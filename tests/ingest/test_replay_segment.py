"""The replay_event + replay_recording pair, checked on the real captures and on bad variants."""

import zlib

import orjson
import pytest

from ingest.envelope import parse_envelope
from ingest.errors import MalformedEnvelope, PayloadTooLarge
from ingest.replay_segment import RecordingLimits, extract_replay_segment
from tests.ingest.builders import (
    build_envelope,
    recording_payload,
    replay_envelope,
    replay_parts,
)
from tests.sdk_fixtures import other_requests, replay_requests

LIMITS = RecordingLimits(max_bytes=10 * 1024 * 1024, max_inflated_bytes=100 * 1024 * 1024)


def extract(body: bytes):
    return extract_replay_segment(parse_envelope(body), LIMITS)


@pytest.mark.parametrize("sdk_request", replay_requests(), ids=lambda r: r.name)
def test_every_captured_segment_is_extracted_byte_for_byte(sdk_request):
    envelope = parse_envelope(sdk_request.body)
    items = {item.type: item.payload for item in envelope.items}
    event = orjson.loads(items["replay_event"])

    segment = extract_replay_segment(envelope, LIMITS)

    assert segment.replay_id == event["replay_id"] == envelope.headers["event_id"]
    assert segment.segment_id == event["segment_id"]
    assert segment.replay_event == items["replay_event"]
    assert segment.recording == items["replay_recording"]


@pytest.mark.parametrize("sdk_request", other_requests(), ids=lambda r: r.name)
def test_envelopes_without_a_replay_yield_nothing(sdk_request):
    assert extract(sdk_request.body) is None


def test_plain_json_recording_and_dashed_uuid_are_accepted():
    headers, event, _ = replay_parts()
    dashed = "40196c4e-fd83-4eed-aa8e-1947c813b364"
    events = orjson.dumps([{"type": 4, "timestamp": 1, "data": {"href": "/"}}])
    body = build_envelope(
        {**headers, "event_id": dashed},
        [
            ({"type": "replay_event"}, orjson.dumps({**event, "replay_id": dashed})),
            ({"type": "replay_recording"}, recording_payload(event["segment_id"], events, False)),
        ],
    )
    segment = extract(body)
    assert segment.replay_id == dashed.replace("-", "")


@pytest.mark.parametrize(
    ("make_body", "reason"),
    [
        (lambda e: replay_envelope(recording=False), "replay_event item but no replay_recording"),
        (
            lambda e: replay_envelope(replay_event=False),
            "replay_recording item but no replay_event",
        ),
        (
            lambda e: replay_envelope(replay_event={**e, "replay_id": "nope"}),
            "replay_id must be a UUID",
        ),
        (
            lambda e: replay_envelope(replay_event={**e, "segment_id": -1}),
            "segment_id must be a non-negative",
        ),
        (
            lambda e: replay_envelope(replay_event={**e, "segment_id": "1"}),
            "segment_id must be a non-negative",
        ),
        (
            lambda e: replay_envelope(replay_event={**e, "segment_id": e["segment_id"] + 1}),
            "is segment",
        ),
        (
            lambda e: replay_envelope(replay_event={**e, "replay_id": "0" * 32}),
            "event_id .* is not the replay_event's",
        ),
        (lambda e: replay_envelope(recording=b"no newline"), "must be a .* line, a newline"),
        (lambda e: replay_envelope(recording=b"{bad json\n[]"), "header line is not valid JSON"),
        (
            lambda e: replay_envelope(recording=b'{"segment_id": 0}\nhello'),
            "neither zlib-compressed",
        ),
        (
            lambda e: replay_envelope(recording=recording_payload(0, b"[]")[:-3]),
            "truncated",
        ),
    ],
)
def test_bad_pairs_are_refused_with_a_reason(make_body, reason):
    _, event, _ = replay_parts()
    with pytest.raises(MalformedEnvelope, match=reason):
        extract(make_body(event))


def test_replay_event_that_is_not_json():
    headers, _, recording = replay_parts()
    body = build_envelope(
        headers, [({"type": "replay_event"}, b"{oops"), ({"type": "replay_recording"}, recording)]
    )
    with pytest.raises(MalformedEnvelope, match="replay_event item is not valid JSON"):
        extract(body)


def test_two_recordings_in_one_envelope():
    headers, event, recording = replay_parts()
    body = build_envelope(
        headers,
        [
            ({"type": "replay_event"}, orjson.dumps(event)),
            ({"type": "replay_recording"}, recording),
            ({"type": "replay_recording"}, recording),
        ],
    )
    with pytest.raises(MalformedEnvelope, match="2 replay_recording items"):
        extract(body)


def test_recording_limits():
    _, event, _ = replay_parts()
    segment_id = event["segment_id"]
    small = RecordingLimits(max_bytes=1000, max_inflated_bytes=100 * 1024 * 1024)
    big = recording_payload(segment_id, bytes(range(256)) * 10, compress=False)
    with pytest.raises(PayloadTooLarge, match="over the limit of 1000"):
        extract_replay_segment(
            parse_envelope(replay_envelope(replay_event=event, recording=big)), small
        )

    bomb = recording_payload(segment_id, b"[" + b" " * (101 * 1024 * 1024) + b"]")
    assert len(bomb) < 200 * 1024
    with pytest.raises(PayloadTooLarge, match="inflates past the limit"):
        extract(replay_envelope(replay_event=event, recording=bomb))

    ok = recording_payload(segment_id, zlib.compress(b"[]"), compress=False)
    assert extract(replay_envelope(replay_event=event, recording=ok)).recording == ok
