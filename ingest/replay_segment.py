"""The replay segment that an envelope carries: pure, no Django, no Kafka.

The browser SDK sends each segment as one envelope with a ``replay_event`` item (the segment's
metadata, JSON) and a ``replay_recording`` item (a ``{"segment_id": N}`` line, a newline, then the
rrweb events, zlib-compressed or plain JSON). The pair is checked here and kept byte for byte:
detection happens downstream, in the replays consumer.
"""

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from ingest.envelope import Envelope, EnvelopeItem
from ingest.errors import MalformedEnvelope, PayloadTooLarge
from ingest.inflate import is_zlib_header, zlib_inflated_size

REPLAY_EVENT = "replay_event"
REPLAY_RECORDING = "replay_recording"
# The SDK's replay_event is about 1 KB and its recording header line (``{"segment_id": N}``) a few
# bytes. Both are parsed here, and JSON can cost 20 times its size as Python objects: bytes past
# these caps are refused before they are parsed.
MAX_REPLAY_EVENT_BYTES = 1024 * 1024
MAX_RECORDING_HEADER_BYTES = 1024


@dataclass(frozen=True, slots=True)
class ReplaySegment:
    replay_id: str
    segment_id: int
    replay_event: bytes
    recording: bytes


@dataclass(frozen=True, slots=True)
class RecordingLimits:
    max_bytes: int
    max_inflated_bytes: int


def normalize_replay_id(value: object, where: str) -> str:
    """A replay id as 32 lower-case hex digits (the SDK sends it so; UUIDs with dashes too)."""
    if isinstance(value, str):
        try:
            return uuid.UUID(value).hex
        except ValueError:
            pass
    raise MalformedEnvelope(f"{where} must be a UUID, got {str(value)[:100]!r}")


def _segment_id(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise MalformedEnvelope(f"{where} must be a non-negative integer, got {value!r}")
    return value


def _single(envelope: Envelope, item_type: str) -> EnvelopeItem | None:
    found = [item for item in envelope.items if item.type == item_type]
    if len(found) > 1:
        raise MalformedEnvelope(f"the envelope carries {len(found)} {item_type} items; send one")
    return found[0] if found else None


def parse_replay_event(payload: bytes) -> dict[str, Any]:
    return json_object_item(payload, "replay_event", MAX_REPLAY_EVENT_BYTES)


def json_object_item(payload: bytes, item_type: str, max_bytes: int) -> dict[str, Any]:
    """An item's payload that must be one JSON object of at most ``max_bytes``: 413 past the
    size (checked before parsing), 400 if it is not JSON or not an object."""
    if len(payload) > max_bytes:
        raise PayloadTooLarge(
            f"the {item_type} item is {len(payload)} bytes, over the limit of {max_bytes}"
        )
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MalformedEnvelope(f"the {item_type} item is not valid JSON: {exc}") from None
    if not isinstance(event, dict):
        raise MalformedEnvelope(f"the {item_type} item must be a JSON object")
    return event


def check_recording(recording: bytes, limits: RecordingLimits) -> int:
    """Check a ``replay_recording`` payload's shape and size; return its segment id."""
    if len(recording) > limits.max_bytes:
        raise PayloadTooLarge(
            f"the replay_recording item is {len(recording)} bytes, over the limit of "
            f"{limits.max_bytes}"
        )
    end = recording.find(b"\n", 0, MAX_RECORDING_HEADER_BYTES + 1)
    if end == -1:
        raise MalformedEnvelope(
            'the replay_recording item must be a {"segment_id": N} line, a newline, then the '
            f"events (that line at most {MAX_RECORDING_HEADER_BYTES} bytes)"
        )
    header_line, body = recording[:end], recording[end + 1 :]
    try:
        header = orjson.loads(header_line)
    except orjson.JSONDecodeError as exc:
        raise MalformedEnvelope(
            f"the replay_recording header line is not valid JSON: {exc}"
        ) from None
    if not isinstance(header, dict):
        raise MalformedEnvelope("the replay_recording header line must be a JSON object")
    segment_id = _segment_id(header.get("segment_id"), "the replay_recording header's segment_id")
    what = "the replay_recording body"
    if is_zlib_header(body):
        zlib_inflated_size(body, limits.max_inflated_bytes, what)
    elif not body.lstrip().startswith(b"["):
        raise MalformedEnvelope(f"{what} is neither zlib-compressed nor a JSON array of events")
    return segment_id


def extract_replay_segment(envelope: Envelope, limits: RecordingLimits) -> ReplaySegment | None:
    """The replay segment in ``envelope``; None when it has none (a session, a client report)."""
    event_item = _single(envelope, REPLAY_EVENT)
    recording_item = _single(envelope, REPLAY_RECORDING)
    if event_item is None and recording_item is None:
        return None
    if event_item is None or recording_item is None:
        present, missing = (
            (REPLAY_EVENT, REPLAY_RECORDING)
            if recording_item is None
            else (REPLAY_RECORDING, REPLAY_EVENT)
        )
        raise MalformedEnvelope(f"the envelope has a {present} item but no {missing} item")

    event = parse_replay_event(event_item.payload)
    replay_id = normalize_replay_id(event.get("replay_id"), "the replay_event's replay_id")
    if "event_id" in envelope.headers:
        header_id = normalize_replay_id(envelope.headers["event_id"], "the envelope's event_id")
        if header_id != replay_id:
            raise MalformedEnvelope(
                f"the envelope's event_id {header_id} is not the replay_event's "
                f"replay_id {replay_id}"
            )
    segment_id = _segment_id(event.get("segment_id"), "the replay_event's segment_id")
    recording_segment_id = check_recording(recording_item.payload, limits)
    if recording_segment_id != segment_id:
        raise MalformedEnvelope(
            f"the replay_recording is segment {recording_segment_id} but the replay_event is "
            f"segment {segment_id}"
        )
    return ReplaySegment(replay_id, segment_id, event_item.payload, recording_item.payload)
