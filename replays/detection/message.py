"""Decode a message of ``ingest-replay-recordings`` (msgpack in Relay's shape) and validate it."""

from typing import NotRequired, TypedDict

from sentry_kafka_schemas import get_codec
from sentry_kafka_schemas.codecs import ValidationError

from replays.detection.errors import InvalidSegment

_codec = get_codec("ingest-replay-recordings")

# The schema bounds these below only; what we store must also fit the database's columns and a
# datetime (ids are 32-bit in PostgreSQL's integer, ``received`` is seconds since the epoch).
MAX_ID = 2**31 - 1
RANGES = {
    "project_id": (1, MAX_ID),  # a project id is positive (the issues stage refuses 0 too)
    "org_id": (0, 2**63 - 1),
    "key_id": (0, 2**63 - 1),
    "received": (0, 10**11),
    "retention_days": (0, 100_000),
}


class RecordingMessage(TypedDict):
    """What arrives on the topic (sentry-kafka-schemas' ``ingest-replay-recordings`` v1)."""

    type: str
    replay_id: str
    key_id: NotRequired[int | None]
    org_id: int
    project_id: int
    received: int
    retention_days: int
    payload: bytes
    replay_event: NotRequired[bytes | None]
    version: NotRequired[int]


def decode_message(raw: bytes) -> RecordingMessage:
    """The message's fields, checked against the schema; ``InvalidSegment`` if it is not one."""
    try:
        message = _codec.decode(raw, validate=True)
    except ValidationError as exc:
        raise InvalidSegment(f"the message does not match the schema: {exc}") from None
    except Exception as exc:  # msgpack raises several unrelated types on garbage
        raise InvalidSegment(f"the message is not msgpack: {type(exc).__name__}: {exc}") from None
    if not isinstance(message, dict):
        raise InvalidSegment("the message is not a msgpack map")
    if not isinstance(message.get("payload"), bytes):
        raise InvalidSegment("the message's payload is not bytes")
    replay_event = message.get("replay_event")
    if replay_event is not None and not isinstance(replay_event, bytes):
        raise InvalidSegment("the message's replay_event is not bytes")
    for field, (low, high) in RANGES.items():
        value = message.get(field)
        if value is not None and not (isinstance(value, int) and low <= value <= high):
            raise InvalidSegment(f"the message's {field} is out of range: {value!r}")
    return message  # type: ignore[return-value]
