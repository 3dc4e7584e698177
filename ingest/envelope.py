"""Sentry envelope parsing: pure, no Django, no Kafka.

An envelope is a JSON header line, then items: each a JSON header line followed by its payload.
A payload is ``length`` bytes when the item header says so, else everything up to the next newline.
The final newline is optional and blank lines between items are skipped, as Relay does.
See https://develop.sentry.dev/sdk/data-model/envelopes/.
"""

from dataclasses import dataclass
from typing import Any

import orjson

from ingest.errors import MalformedEnvelope


@dataclass(frozen=True, slots=True)
class EnvelopeItem:
    headers: dict[str, Any]
    payload: bytes

    @property
    def type(self) -> str:
        return self.headers["type"]


@dataclass(frozen=True, slots=True)
class Envelope:
    headers: dict[str, Any]
    items: tuple[EnvelopeItem, ...]


def _read_line(body: bytes, start: int) -> tuple[bytes, int]:
    """The line that begins at ``start`` (without its newline) and where the next one begins."""
    end = body.find(b"\n", start)
    if end == -1:
        return body[start:], len(body)
    return body[start:end], end + 1


def _json_object(line: bytes, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise MalformedEnvelope(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedEnvelope(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def parse_envelope_headers(body: bytes) -> tuple[dict[str, Any], int]:
    """The envelope's header object and the offset where its first item begins."""
    if not body.strip():
        raise MalformedEnvelope("the envelope is empty")
    line, position = _read_line(body, 0)
    return _json_object(line, "the envelope header"), position


def parse_envelope(body: bytes) -> Envelope:
    """Split ``body`` into the envelope header and its items, or raise ``MalformedEnvelope``."""
    headers, position = parse_envelope_headers(body)
    items = []
    size = len(body)
    while position < size:
        line, position = _read_line(body, position)
        if not line.strip():
            continue
        number = len(items) + 1
        item_headers = _json_object(line, f"the header of item {number}")
        item_type = item_headers.get("type")
        if not isinstance(item_type, str) or not item_type:
            raise MalformedEnvelope(f"item {number} has no string 'type' in its header")
        length = item_headers.get("length")
        if length is None:
            payload, position = _read_line(body, position)
        else:
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise MalformedEnvelope(
                    f"item {number} ({item_type}) has an invalid length {length!r}"
                )
            end = position + length
            if end > size:
                raise MalformedEnvelope(
                    f"item {number} ({item_type}) declares length {length} but only "
                    f"{size - position} bytes remain: the envelope is truncated"
                )
            payload = body[position:end]
            position = end
            if position < size:
                if body[position] != 0x0A:
                    raise MalformedEnvelope(
                        f"item {number} ({item_type}) is not followed by a newline after "
                        f"its {length} bytes"
                    )
                position += 1
        items.append(EnvelopeItem(item_headers, payload))
    return Envelope(headers, tuple(items))
