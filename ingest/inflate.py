"""Bounded decompression: pure, no Django.

Every decompressor here stops as soon as the output passes its limit, so a small body that
inflates to gigabytes (a "zip bomb") costs at most ``limit`` bytes of work and memory.
"""

import zlib
from collections.abc import Callable, Iterator

import brotli
import zstandard

from ingest.errors import MalformedEnvelope, PayloadTooLarge

CHUNK = 1024 * 1024
ZSTD_INPUT = 256


def _bounded(chunks: Iterator[bytes], limit: int, what: str) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(f"{what} inflates past the limit of {limit} bytes")
        yield chunk


def _zlib_chunks(data: bytes, wbits: int, what: str) -> Iterator[bytes]:
    """Inflate zlib, gzip (with several members) or raw deflate, ``CHUNK`` bytes at a time."""
    remaining = data
    while True:
        decompressor = zlib.decompressobj(wbits)
        try:
            chunk = decompressor.decompress(remaining, CHUNK)
            yield chunk
            while decompressor.unconsumed_tail:
                yield decompressor.decompress(decompressor.unconsumed_tail, CHUNK)
            if not decompressor.eof:
                # Input is consumed but the stream is not complete: let flush() drain what is
                # buffered, then refuse the truncated stream.
                yield decompressor.flush(CHUNK)
                raise MalformedEnvelope(f"{what} is truncated")
        except zlib.error as exc:
            raise MalformedEnvelope(f"{what} is not valid compressed data: {exc}") from None
        remaining = decompressor.unused_data
        # Only gzip allows several members back to back.
        if not remaining or wbits != 16 + zlib.MAX_WBITS:
            if remaining.strip():
                raise MalformedEnvelope(f"{what} has trailing bytes after the compressed data")
            return


def _brotli_chunks(data: bytes, what: str) -> Iterator[bytes]:
    decompressor = brotli.Decompressor()
    try:
        yield decompressor.process(data, output_buffer_limit=CHUNK)
        while not decompressor.can_accept_more_data():
            yield decompressor.process(b"", output_buffer_limit=CHUNK)
    except brotli.error as exc:
        raise MalformedEnvelope(f"{what} is not valid brotli data: {exc}") from None
    if not decompressor.is_finished():
        raise MalformedEnvelope(f"{what} is truncated")


def _zstd_chunks(data: bytes, what: str) -> Iterator[bytes]:
    """Inflate one or more zstd frames.

    zstd's decompression object has no output cap, so input goes in ``ZSTD_INPUT`` bytes at a time:
    one call then yields at most about 11 MB (a block can inflate to 128 KiB from a few bytes).
    """
    decompressor = zstandard.ZstdDecompressor().decompressobj()
    position = 0
    try:
        while position < len(data):
            end = min(position + ZSTD_INPUT, len(data))
            yield decompressor.decompress(data[position:end])
            position = end
            if decompressor.eof and decompressor.unused_data:
                position -= len(decompressor.unused_data)
                decompressor = zstandard.ZstdDecompressor().decompressobj()
    except zstandard.ZstdError as exc:
        raise MalformedEnvelope(f"{what} is not valid zstd data: {exc}") from None
    if not decompressor.eof:
        raise MalformedEnvelope(f"{what} is truncated")


def is_zlib_header(data: bytes) -> bool:
    """Whether ``data`` starts with a zlib stream header (RFC 1950: deflate, valid check bits)."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _deflate_chunks(data: bytes, what: str) -> Iterator[bytes]:
    # HTTP's "deflate" is zlib-wrapped, but some clients send raw deflate: accept both.
    wbits = zlib.MAX_WBITS if is_zlib_header(data) else -zlib.MAX_WBITS
    return _zlib_chunks(data, wbits, what)


DECODERS: dict[str, Callable[[bytes, str], Iterator[bytes]]] = {
    "gzip": lambda data, what: _zlib_chunks(data, 16 + zlib.MAX_WBITS, what),
    "x-gzip": lambda data, what: _zlib_chunks(data, 16 + zlib.MAX_WBITS, what),
    "deflate": _deflate_chunks,
    "br": _brotli_chunks,
    "zstd": _zstd_chunks,
}


def decode_content(body: bytes, content_encoding: str, limit: int) -> bytes:
    """Undo the ``Content-Encoding`` of a request body, refusing output over ``limit`` bytes."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    # Codings are listed in the order they were applied; undo them from the last.
    for coding in reversed(codings):
        if coding == "identity":
            continue
        decoder = DECODERS.get(coding)
        if decoder is None:
            supported = ", ".join(sorted(DECODERS))
            raise MalformedEnvelope(
                f"unsupported Content-Encoding {coding!r}; supported: {supported}"
            )
        what = f"the {coding} request body"
        body = b"".join(_bounded(decoder(body, what), limit, what))
    return body


def zlib_inflated_size(data: bytes, limit: int, what: str) -> int:
    """The size of a zlib stream once inflated, without keeping the output; bounded by ``limit``."""
    return sum(len(c) for c in _bounded(_zlib_chunks(data, zlib.MAX_WBITS, what), limit, what))
