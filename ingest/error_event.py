"""The error event that an envelope carries, when it belongs to a replay: pure, no Django, no Kafka.

The browser SDK sends an error as its own envelope with one ``event`` item (the event JSON), often
before the replay segment that lists it in ``error_ids``. The event names its replay in
``contexts.replay.replay_id`` or in the ``replayId`` tag (tags are an object, or a list of
``[key, value]`` pairs); the envelope header's trace (the dynamic sampling context) may carry it
too. We are not an error tracker: an event without a replay id is dropped, and one with a replay id
is kept byte for byte for the replay-errors consumer, which picks out what a replay page needs.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from ingest.envelope import Envelope
from ingest.errors import MalformedEnvelope
from ingest.replay_segment import json_object_item, normalize_replay_id

EVENT = "event"
REPLAY_ID_TAG = "replayId"


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    event_id: str
    replay_id: str
    payload: bytes


def _hex_uuid(value: object) -> str | None:
    """``value`` as 32 lower-case hex digits, or None when it is no UUID."""
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value).hex
    except ValueError:
        return None


def _tag(tags: object, name: str) -> object:
    """The value of tag ``name``: tags are an object or a list of ``[key, value]`` pairs."""
    if isinstance(tags, dict):
        return tags.get(name)
    if isinstance(tags, list):
        for pair in tags:
            if isinstance(pair, list | tuple) and len(pair) == 2 and pair[0] == name:
                return pair[1]
    return None


def event_replay_id(event: dict[str, Any], envelope_headers: dict[str, Any]) -> str | None:
    """The replay the event belongs to, or None. A value that is no UUID counts as none: such
    an event is dropped as any other without a replay, not refused (it is the SDK's error event,
    and refusing it would make the SDK retry it)."""
    contexts = event.get("contexts")
    replay = contexts.get("replay") if isinstance(contexts, dict) else None
    trace = envelope_headers.get("trace")
    candidates = (
        replay.get("replay_id") if isinstance(replay, dict) else None,
        _tag(event.get("tags"), REPLAY_ID_TAG),
        trace.get("replay_id") if isinstance(trace, dict) else None,
    )
    for candidate in candidates:
        if (replay_id := _hex_uuid(candidate)) is not None:
            return replay_id
    return None


def extract_error_event(envelope: Envelope, max_bytes: int) -> ErrorEvent | None:
    """The envelope's error event when it belongs to a replay; None when the envelope has no
    ``event`` item or the event names no replay. ``PayloadTooLarge`` past ``max_bytes``,
    ``MalformedEnvelope`` for more than one event, JSON that is not an object, or no event id."""
    items = [item for item in envelope.items if item.type == EVENT]
    if not items:
        return None
    if len(items) > 1:
        raise MalformedEnvelope(f"the envelope carries {len(items)} event items; send one")
    payload = items[0].payload
    event = json_object_item(payload, "event", max_bytes)
    replay_id = event_replay_id(event, envelope.headers)
    if replay_id is None:
        return None
    if "event_id" in event:
        event_id = normalize_replay_id(event["event_id"], "the event's event_id")
    elif "event_id" in envelope.headers:
        event_id = normalize_replay_id(envelope.headers["event_id"], "the envelope's event_id")
    else:
        raise MalformedEnvelope("the event has no event_id, in the item or the envelope header")
    return ErrorEvent(event_id, replay_id, payload)
