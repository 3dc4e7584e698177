"""Sentry envelope parsing: pure, no Django, no Kafka.

An envelope is a JSON header line, then items: each a JSON header line followed by its payload.
A payload is ``length`` bytes when the item header says so, else everything up to the next newline.
The final newline is optional and blank lines between items are skipped, as Relay does.
See https://develop.sentry.dev/sdk/data-model/envelopes/.

JSON costs far more as Python objects than as bytes: ``{},`` is 3 bytes and a 64-byte dict, so a
20 MiB body of empty objects, or of one-line items, parses into more than 500 MiB. The header lines
together and the number of items are therefore capped well below what any SDK sends, and a line is
measured before it is parsed or copied.
"""

from dataclasses import dataclass
from typing import Any

import orjson

from ingest.errors import MalformedEnvelope, PayloadTooLarge

# An SDK's envelope header is a few hundred bytes (event_id, sent_at, sdk, dsn, trace) and an item
# header a few dozen; SDKs send a handful of items per envelope.
MAX_HEADER_BYTES = 256 * 1024  # all header lines of one envelope together
MAX_ITEMS = 1000


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


def _line_end(body: bytes, start: int) -> int:
    """Where the line that begins at ``start`` ends: its newline, or the end of the body."""
    end = body.find(b"\n", start)
    return len(body) if end == -1 else end


def _read_line(body: bytes, start: int) -> tuple[bytes, int]:
    """The line that begins at ``start`` (without its newline) and where the next one begins."""
    end = _line_end(body, start)
    return body[start:end], end + 1


def _read_header_line(body: bytes, start: int, budget: int, what: str) -> tuple[bytes, int]:
    """``_read_line`` for a header line, refused before it is copied when it is longer than what
    is left of the envelope's ``budget`` of header bytes."""
    end = _line_end(body, start)
    if end - start > budget:
        raise PayloadTooLarge(
            f"{what} is {end - start} bytes: the header lines of an envelope may have "
            f"{MAX_HEADER_BYTES} bytes together"
        )
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
    if not body or body.isspace():  # not strip(): that copies the whole body
        raise MalformedEnvelope("the envelope is empty")
    line, position = _read_header_line(body, 0, MAX_HEADER_BYTES, "the envelope header")
    return _json_object(line, "the envelope header"), position


def parse_envelope(body: bytes) -> Envelope:
    """Split ``body`` into the envelope header and its items; ``MalformedEnvelope`` if it is not
    an envelope, ``PayloadTooLarge`` past ``MAX_HEADER_BYTES`` or ``MAX_ITEMS``."""
    headers, position = parse_envelope_headers(body)
    budget = MAX_HEADER_BYTES - position
    items = []
    size = len(body)
    while position < size:
        start = position
        number = len(items) + 1
        what = f"the header of item {number}"
        line, position = _read_header_line(body, start, budget, what)
        # Blank lines count too: 20 MiB of newlines must not cost 20 million turns of this loop.
        budget -= position - start
        if not line.strip():
            continue
        if number > MAX_ITEMS:
            raise PayloadTooLarge(f"the envelope has more than {MAX_ITEMS} items")
        item_headers = _json_object(line, what)
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
