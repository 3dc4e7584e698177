"""Decode an ``ingest-occurrences`` message into what the issues stage stores (pure).

The issue platform is generic: it trusts the schema (sentry-kafka-schemas validates the JSON) and
its own registry of issue types, not the producer. What the schema leaves open (a type we do not
know, a timestamp that is not a date, strings longer than our columns, values that a database
cannot store) is checked here, so a bad message becomes an ``InvalidOccurrence`` for the
dead-letter topic instead of a database error.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sentry_kafka_schemas import get_codec

from issues import grouptypes
from issues.fingerprints import occurrence_hashes
from replays.detection.occurrence import Occurrence
from replays.detection.replay_event import User
from replays.detection.tags import bounded_tags
from replays.detection.timestamps import is_click_time

_codec = get_codec("ingest-occurrences")

# The issue types this platform groups, by the occurrence's numeric type id: the registry's.
ISSUE_TYPES: dict[int, str] = {
    group_type.type_id: group_type.slug for group_type in grouptypes.all_group_types()
}
DEFAULT_TITLES: dict[int, str] = {
    group_type.type_id: group_type.title for group_type in grouptypes.all_group_types()
}
LEVELS = {"debug", "info", "warning", "error", "fatal"}
# The JSON the codec reads may hold what no database here stores: NUL characters (PostgreSQL's text
# and jsonb refuse them), NaN and infinities (not JSON: PostgreSQL's jsonb and SQLite's JSON_VALID
# check refuse them). Only a message with one of these byte strings can: the others skip the walk.
UNSTORABLE_HINTS = (b"\\u0000", b"NaN", b"Infinity")


class InvalidOccurrence(ValueError):
    """The message can never be grouped: it goes to the dead-letter topic with this reason."""


@dataclass(frozen=True, slots=True)
class OccurrenceRecord:
    """An occurrence as the issues stage stores it: typed, bounded, ready for the ORM."""

    occurrence: Occurrence
    issue_type: str
    fingerprint_hashes: tuple[str, ...]  # what groups it, the primary (a new issue's) first
    timestamp: datetime
    replay_id: uuid.UUID | None
    segment_id: int | None
    user: dict[str, str]
    user_key: str
    release: str
    environment: str
    browser: str
    browser_version: str
    os: str
    os_version: str
    device: str
    url: str
    metadata: dict[str, Any]
    tags: dict[str, str]

    @property
    def fingerprint_hash(self) -> str:
        """The primary hash: a new issue's ``fingerprint_hash``."""
        return self.fingerprint_hashes[0]


def decode_occurrence(raw: bytes) -> OccurrenceRecord:
    """Validate ``raw`` against the schema and turn it into an ``OccurrenceRecord``."""
    try:
        value = _codec.decode(raw, validate=True)
    except Exception as exc:  # the codec raises several types: not JSON, off-schema
        raise InvalidOccurrence(f"not a valid occurrence: {_first_line(exc)}") from None
    if not isinstance(value, dict):
        raise InvalidOccurrence("not a valid occurrence: not a JSON object")
    if any(hint in raw for hint in UNSTORABLE_HINTS) and (problem := _unstorable(value)):
        raise InvalidOccurrence(problem)
    if value.get("payload_type", "occurrence") != "occurrence":
        raise InvalidOccurrence(f"payload_type {value.get('payload_type')!r} is not grouped here")
    type_id = value.get("type")
    if grouptypes.get_by_id(type_id) is None:
        raise InvalidOccurrence(f"unknown issue type {type_id!r}")
    if not _is_hex_id(value.get("id")):
        raise InvalidOccurrence("id must be 32 hex digits")
    project_id = value.get("project_id")
    if not isinstance(project_id, int) or not 0 < project_id < 2**31:
        raise InvalidOccurrence(f"project_id {project_id!r} is out of range")
    fingerprint = value.get("fingerprint")
    if not fingerprint or not all(isinstance(part, str) for part in fingerprint):
        raise InvalidOccurrence("fingerprint must be a non-empty list of strings")
    defaults = {
        "issue_title": DEFAULT_TITLES[type_id],
        "subtitle": "",
        "resource_id": "",
        "level": "warning",
        "culprit": "",
    }
    fields: dict[str, Any] = {
        name: _text(value.get(name), 1024) or default for name, default in defaults.items()
    }
    if fields["level"] not in LEVELS:
        raise InvalidOccurrence(f"level {fields['level']!r} is not a level")
    detection_time = value.get("detection_time")
    fields["detection_time"] = (
        float(detection_time)
        if isinstance(detection_time, int | float) and not isinstance(detection_time, bool)
        else 0.0
    )
    fields["evidence_data"] = _dict(value.get("evidence_data"))
    display = value.get("evidence_display")
    fields["evidence_display"] = [
        entry for entry in (display if isinstance(display, list) else []) if isinstance(entry, dict)
    ]
    fields["event"] = _dict(value.get("event"))
    occurrence = Occurrence.from_dict({**value, **fields})
    return _record(occurrence)


def _record(occurrence: Occurrence) -> OccurrenceRecord:
    event = _dict(occurrence.event)
    evidence = _dict(occurrence.evidence_data)
    contexts = _dict(event.get("contexts"))
    browser, os_context, device = (
        _dict(contexts.get("browser")),
        _dict(contexts.get("os")),
        _dict(contexts.get("device")),
    )
    event_user = _dict(event.get("user"))
    user = User(**{name: _text(event_user.get(name), 200) or None for name in User.__slots__})
    timestamp = _timestamp(evidence.get("timestamp"), event.get("timestamp"))
    node = _dict(evidence.get("node"))
    url = _text(evidence.get("url") or _dict(event.get("request")).get("url"), 2048)
    # Only a click has an element: another type's subtitle (a page, say) is no selector.
    is_click = grouptypes.get_by_id(occurrence.type).category is grouptypes.Category.REPLAY_CLICK
    metadata = {
        "selector": _text(
            evidence.get("selector") or (occurrence.subtitle if is_click else ""), 1024
        ),
        "url": url,
        "route": _text(evidence.get("route"), 2048),
        "component": _text(evidence.get("component_name"), 200),
        "tag": _text(node.get("tagName"), 64),
        "text": _text(node.get("textContent"), 200),
        "attributes": _dict(node.get("attributes")),
    }
    return OccurrenceRecord(
        occurrence=occurrence,
        issue_type=ISSUE_TYPES[occurrence.type],
        fingerprint_hashes=occurrence_hashes(occurrence.type, occurrence.fingerprint),
        timestamp=timestamp,
        replay_id=_uuid(evidence.get("replay_id") or occurrence.resource_id),
        segment_id=_segment_id(evidence.get("segment_id")),
        user=user.to_dict(),
        user_key=user.key or "",
        release=_text(event.get("release"), 200),
        environment=_text(event.get("environment"), 200),
        browser=_text(browser.get("name"), 200),
        browser_version=_text(browser.get("version"), 64),
        os=_text(os_context.get("name"), 200),
        os_version=_text(os_context.get("version"), 64),
        device=_text(device.get("family"), 200),
        url=url,
        metadata=metadata,
        # An object or [key, value] pairs from any producer: what Sentry would keep of them.
        tags=bounded_tags(event.get("tags")),
    )


def _timestamp(*candidates: Any) -> datetime:
    """When the user clicked: the evidence's click time, else the event's (seconds, or ISO)."""
    for value in candidates:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float) and is_click_time(value):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                continue
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            if is_click_time(parsed.timestamp()):
                return parsed
    raise InvalidOccurrence("no usable timestamp in evidence_data or event")


def _unstorable(value: Any) -> str | None:
    """Why the database could not store ``value`` (a decoded JSON document), or None."""
    pending = [value]
    while pending:  # not recursive: a deeply nested document must not exhaust the stack
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return "a string holds a NUL character (\\u0000), which the database cannot store"
        if isinstance(item, float) and not math.isfinite(item):
            return f"a number is {item!r}, which JSON columns cannot store"
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _is_hex_id(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 32:
        return False
    try:
        int(value, 16)
    except ValueError:
        return False
    return True


def _uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _segment_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
        return value
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float | str):
        return str(value)[:limit]
    return ""


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]
