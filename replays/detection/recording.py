"""A segment's recording: split the ``{"segment_id": N}`` header from the body, then inflate it.

The body is the rrweb event array, zlib-compressed (the SDK's default) or plain JSON when the SDK
runs with compression off. Inflation is capped: a small body that inflates past the cap (a
decompression bomb) costs at most the cap's worth of work and memory, then is refused.
"""

import zlib
from dataclasses import dataclass

import orjson

from ingest.inflate import is_zlib_header
from replays.detection.errors import InvalidSegment

# Bytes that may open a plain JSON array, after optional whitespace.
_JSON_WHITESPACE = b" \t\r\n"
# The header line is ``{"segment_id": N}``; a longer one is not parsed (JSON costs up to 20 times
# its size as Python objects, and the line may be as long as the whole payload).
MAX_HEADER_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Recording:
    segment_id: int
    body: bytes
    compressed: bool


def split_recording(payload: bytes) -> Recording:
    """The header's segment id and the body, as sent."""
    end = payload.find(b"\n", 0, MAX_HEADER_BYTES + 1)
    if end == -1:
        raise InvalidSegment(
            f"the recording has no header line of at most {MAX_HEADER_BYTES} bytes"
        )
    header, body = payload[:end], payload[end + 1 :]
    try:
        parsed = orjson.loads(header)
    except orjson.JSONDecodeError:
        raise InvalidSegment("the recording's header line is not JSON") from None
    segment_id = parsed.get("segment_id") if isinstance(parsed, dict) else None
    if not isinstance(segment_id, int) or isinstance(segment_id, bool) or segment_id < 0:
        raise InvalidSegment(f"the recording's header has no valid segment_id: {header[:100]!r}")
    if is_zlib_header(body):
        return Recording(segment_id, body, compressed=True)
    if body.lstrip(_JSON_WHITESPACE)[:1] == b"[":
        return Recording(segment_id, body, compressed=False)
    raise InvalidSegment("the recording body is neither zlib nor a JSON array")


def inflate_recording(recording: Recording, max_bytes: int) -> bytes:
    """The rrweb events as JSON bytes; ``InvalidSegment`` past ``max_bytes`` or if corrupt."""
    if not recording.compressed:
        if len(recording.body) > max_bytes:
            raise InvalidSegment(f"the recording is larger than {max_bytes} bytes")
        return recording.body
    decompressor = zlib.decompressobj()
    try:
        events = decompressor.decompress(recording.body, max_bytes + 1)
    except zlib.error as exc:
        raise InvalidSegment(f"the recording is corrupt zlib: {exc}") from None
    if len(events) > max_bytes:
        raise InvalidSegment(f"the recording inflates past {max_bytes} bytes")
    if not decompressor.eof:
        raise InvalidSegment("the recording's zlib stream is truncated")
    return events


def compress_recording(recording: Recording) -> bytes:
    """The body as kept in storage: always zlib (a plain JSON body is compressed once, here)."""
    return recording.body if recording.compressed else zlib.compress(recording.body, 6)
