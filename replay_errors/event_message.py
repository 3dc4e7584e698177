"""Decode an ``ingest-events`` message into the compact row a replay keeps (pure).

The message is Relay's ``type: "event"`` shape with the event JSON in ``payload`` (see
ingest/event_message.py). A replay page and a click's cause need a handful of fields: the event's
time, level, exception type and value, culprit, URL, release and environment. Those are picked out
and bounded to their columns here, and the event JSON is kept only up to a cap, its bulkiest parts
(breadcrumbs, extra, modules, ...) dropped first. A message that is not such an event becomes an
``InvalidErrorEvent`` for the dead-letter topic, never a database error.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgpack
import orjson

MESSAGE_TYPE = "event"
LEVELS = {"debug", "info", "warning", "error", "fatal"}
# Column sizes: the model's, so a long value is cut here instead of refused by the database.
MAX_TYPE = 200
MAX_VALUE = 1000
MAX_CULPRIT = 500
MAX_URL = 2000
MAX_NAME = 200  # release, environment
# The parts of an event dropped first when its JSON is over the cap: the bulkiest, and the least
# use to a replay page (the recording has the breadcrumbs already).
BULKY_KEYS = ("breadcrumbs", "extra", "modules", "debug_meta", "threads", "spans", "sdk", "user")
# A timestamp outside these years is a clock gone wrong: the message's receipt time is used.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class InvalidErrorEvent(ValueError):
    """The message can never be stored: it goes to the dead-letter topic with this reason."""


@dataclass(frozen=True, slots=True)
class ErrorEventRecord:
    """An error event as a replay keeps it: typed, bounded, ready for the ORM."""

    project_id: int
    replay_id: uuid.UUID
    event_id: uuid.UUID
    timestamp: datetime
    received_at: datetime
    retention_days: int
    level: str
    type: str
    value: str
    culprit: str
    url: str
    release: str
    environment: str
    event: dict[str, Any]


def _text(value: object, limit: int) -> str:
    """A string column's value: strings only, without NUL (PostgreSQL refuses it), cut."""
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "\ufffd")[:limit]


def _uuid(value: object, what: str) -> uuid.UUID:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidErrorEvent(f"{what} is not a UUID: {str(value)[:100]!r}")


def _count(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise InvalidErrorEvent(f"{what} must be a non-negative integer, got {str(value)[:100]!r}")
    return value


def _timestamp(value: object) -> datetime | None:
    """The event's ``timestamp``: unix seconds or an RFC 3339 string (both are the protocol's)."""
    moment = None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment is None or not EARLIEST <= moment < LATEST:
        return None
    return moment


def _exception(event: dict[str, Any]) -> tuple[str, str]:
    """The exception's type and value: the last of ``exception.values`` (the one thrown last,
    which Sentry shows as the event's), else the event's message with no type."""
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else exception
    if isinstance(values, list):
        for each in reversed(values):
            if isinstance(each, dict) and (each.get("type") or each.get("value")):
                return _text(each.get("type"), MAX_TYPE), _text(each.get("value"), MAX_VALUE)
    message = event.get("logentry") or event.get("message")
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message")
    return "", _text(message, MAX_VALUE)


def _url(event: dict[str, Any]) -> str:
    request = event.get("request")
    return _text(request.get("url"), MAX_URL) if isinstance(request, dict) else ""


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(each) for key, each in value.items()}
    if isinstance(value, list):
        return [_without_nul(each) for each in value]
    return value


def bounded_event(event: dict[str, Any], payload_size: int, max_bytes: int) -> dict[str, Any]:
    """``event`` as kept: whole when its JSON fits in ``max_bytes``; else without its bulkiest
    parts, one at a time until it fits; else only the fields a replay page reads. What was left
    out is named under ``_trimmed``."""
    if payload_size <= max_bytes:
        return event
    kept = dict(event)
    trimmed = []
    for key in BULKY_KEYS:
        if key in kept:
            del kept[key]
            trimmed.append(key)
            kept["_trimmed"] = trimmed
            if len(orjson.dumps(kept)) <= max_bytes:
                return kept
    type_, value = _exception(event)
    summary = {
        key: event[key]
        for key in ("event_id", "timestamp", "level", "platform", "release", "environment")
        if isinstance(event.get(key), str | int | float)
    }
    summary["exception"] = {"values": [{"type": type_, "value": value}]}
    summary["request"] = {"url": _url(event)}
    summary["_trimmed"] = "all but a summary: the event was over the cap"
    return summary


def decode_error_event(raw: bytes, max_event_bytes: int) -> ErrorEventRecord:
    """Turn an ``ingest-events`` message into an ``ErrorEventRecord``; ``InvalidErrorEvent``
    when it is not one. ``max_event_bytes`` caps the event JSON kept."""
    try:
        message = msgpack.unpackb(raw, raw=False)
    except Exception as exc:  # msgpack raises several types for bytes that are not msgpack
        raise InvalidErrorEvent(f"not msgpack: {type(exc).__name__}: {exc}") from None
    if not isinstance(message, dict) or message.get("type") != MESSAGE_TYPE:
        raise InvalidErrorEvent(f'not a message of type "{MESSAGE_TYPE}"')
    payload = message.get("payload")
    if not isinstance(payload, bytes):
        raise InvalidErrorEvent("the message has no payload bytes")
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidErrorEvent(f"the payload is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise InvalidErrorEvent("the payload is not a JSON object")
    received = _timestamp(message.get("start_time"))
    if received is None:
        raise InvalidErrorEvent("the message's start_time is not a time")
    if b"\\u0000" in payload:
        event = _without_nul(event)
    type_, value = _exception(event)
    level = event.get("level")
    culprit = event.get("culprit") or event.get("transaction")
    return ErrorEventRecord(
        project_id=_count(message.get("project_id"), "project_id"),
        replay_id=_uuid(message.get("replay_id"), "replay_id"),
        event_id=_uuid(message.get("event_id"), "event_id"),
        timestamp=_timestamp(event.get("timestamp")) or received,
        received_at=received,
        retention_days=_count(message.get("retention_days"), "retention_days"),
        level=level if level in LEVELS else "error",
        type=type_,
        value=value,
        culprit=_text(culprit, MAX_CULPRIT),
        url=_url(event),
        release=_text(event.get("release"), MAX_NAME),
        environment=_text(event.get("environment"), MAX_NAME),
        event=bounded_event(event, len(payload), max_event_bytes),
    )
