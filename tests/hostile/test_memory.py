"""Bounded memory: the worst inputs cost a small multiple of the limits, measured in a process of
its own (tests/hostile/memory_probe.py) so that what zlib, brotli, zstd and orjson allocate in C
counts too. Each bomb inflates to 1 GiB.

The bounds, from the default limits (settings/base.py), and what this machine measured:
- a compressed body: inflated a chunk at a time up to the 20 MiB body limit, then joined once (a
  second copy): at most 2 x 20 MiB plus the decoder's window (``BODY_BOUND``; measured 24-27 MiB
  for gzip, deflate, brotli and zstd bombs, refused as soon as they pass the limit);
- a compressed recording in an envelope: ingest only counts its inflated size, a chunk at a time,
  so the cost is a few copies of the body (at most 20 MiB), never the 100 MiB inflated limit
  (measured 22 MiB for a 4.6 MiB recording that inflates to 1 GiB);
- deep JSON, 1.5 million items, an 18 MiB header line: refused before they are parsed (under
  1 MiB; before the caps of ingest/envelope.py, 480 MiB and 1 GiB);
- in the replays consumer, a recording inflates into one buffer of at most 32 MiB, which CPython's
  zlib builds in blocks and then joins (2 x 32 MiB), plus about 27 MiB that the message schema's
  validator takes on first use (measured 92 MiB for a recording bomb);
- a segment whose events hold a click or a hydration error is read one custom event at a time, as
  one without (``CONSUMER_BOUND``; measured 82 MiB for 70,000 clicks, 89 MiB for 32 MiB of empty
  events around a click, where parsing it whole cost about 1 GiB). Only a segment whose categories
  the scan cannot vouch for is parsed whole, and only up to ``MAX_PARSED_VALUES`` JSON values
  (``PARSE_BOUND``; measured 115 MiB at that limit).
"""

import json
import subprocess
import sys
import zlib
from collections.abc import Callable
from functools import cache

import brotli
import msgpack
import orjson
import pytest
import zstandard
from django.conf import settings

from replays.detection.breadcrumbs import MAX_PARSED_VALUES
from tests.hostile.inputs import MiB, deep_json
from tests.ingest.builders import build_envelope, replay_parts
from tests.replays.messages import click_event, fixture_messages, hydrate_error_event

BODY_BOUND = 2 * 20 * MiB + 8 * MiB
RECORDING_BOUND = BODY_BOUND
CONSUMER_BOUND = 3 * 32 * MiB + 16 * MiB
BOMB_BYTES = 1024 * MiB  # what every bomb inflates to: 1 GiB of zeros


def _stream(compress: Callable[[bytes], bytes], flush: Callable[[], bytes]) -> bytes:
    zeros = b"\0" * MiB
    parts = [compress(zeros) for _ in range(BOMB_BYTES // MiB)]
    return b"".join(parts) + flush()


@cache
def bomb(encoding: str) -> bytes:
    """1 GiB of zeros, compressed as ``encoding`` without ever holding the 1 GiB."""
    if encoding in ("gzip", "deflate"):
        compressor = zlib.compressobj(1, wbits=31 if encoding == "gzip" else 15)
        return _stream(compressor.compress, compressor.flush)
    if encoding == "br":
        compressor = brotli.Compressor(quality=5)
        return _stream(compressor.process, compressor.finish)
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    return _stream(compressor.compress, compressor.flush)


def probe(tmp_path, step: str, data: bytes, encoding: str = "") -> dict:
    path = tmp_path / "input"
    path.write_bytes(data)
    finished = subprocess.run(
        [sys.executable, "-m", "tests.hostile.memory_probe", step, str(path), encoding],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(finished.stdout)


def many_items() -> bytes:
    return b"{}\n" + b'{"type":"a"}\n\n' * ((20 * MiB) // 14)


def huge_header() -> bytes:
    return b'{"a":[' + b"{}," * (6 * MiB) + b"{}]}\n"


@cache
def recording_bomb() -> bytes:
    headers, event, _ = replay_parts()
    compressor = zlib.compressobj(1)
    body = _stream(compressor.compress, compressor.flush)
    recording = b'{"segment_id":0}\n' + body
    return build_envelope(
        headers,
        [
            ({"type": "replay_event"}, orjson.dumps(event)),
            ({"type": "replay_recording"}, recording),
        ],
    )


INGEST_CASES: dict[str, tuple[Callable[[], bytes], str, str, int]] = {
    # name: (input, Content-Encoding, expected outcome, bound)
    "gzip bomb": (lambda: bomb("gzip"), "gzip", "PayloadTooLarge", BODY_BOUND),
    "deflate bomb": (lambda: bomb("deflate"), "deflate", "PayloadTooLarge", BODY_BOUND),
    "brotli bomb": (lambda: bomb("br"), "br", "PayloadTooLarge", BODY_BOUND),
    "zstd bomb": (lambda: bomb("zstd"), "zstd", "PayloadTooLarge", BODY_BOUND),
    "recording bomb in an envelope": (recording_bomb, "", "PayloadTooLarge", RECORDING_BOUND),
    "envelope header 100k deep": (
        lambda: deep_json(100_000) + b"\n",
        "",
        "MalformedEnvelope",
        4 * MiB,
    ),
    "1.5 million items": (many_items, "", "PayloadTooLarge", 4 * MiB),
    "18 MiB header line": (huge_header, "", "PayloadTooLarge", 4 * MiB),
}


@pytest.mark.parametrize("name", INGEST_CASES)
def test_ingest_memory_stays_bounded(tmp_path, name):
    build, encoding, outcome, bound = INGEST_CASES[name]
    measured = probe(tmp_path, "ingest", build(), encoding)
    assert measured["outcome"] == outcome
    assert measured["peak_above_input"] < bound, (
        f"{name}: {measured['peak_above_input'] / MiB:.0f} MiB"
    )


def consumer_message(events: bytes, compressed: bool = False) -> bytes:
    """A fixture capture's message with its recording's body replaced by ``events``."""
    message = msgpack.unpackb(fixture_messages()[1])
    header = message["payload"].partition(b"\n")[0]
    body = events if compressed else zlib.compress(events)
    return msgpack.packb({**message, "payload": header + b"\n" + body})


def zeros_recording() -> bytes:
    compressor = zlib.compressobj(1)
    return consumer_message(_stream(compressor.compress, compressor.flush), compressed=True)


def many_clicks() -> bytes:
    clicks = [click_event(timestamp=1_795_537_770.0 + n) for n in range(70_000)]
    return consumer_message(orjson.dumps(clicks))


def empty_events_with_a_plain_click() -> bytes:
    """32 MiB of ``{}`` around one ``ui.click``: only the custom events are read (the click's
    count for exposure comes from the scan), never the empty objects (about 1 GiB as Python's)."""
    click = orjson.dumps(click_event(category="ui.click", timestamp=1_795_537_770.0))
    count = (32 * MiB - 64 - len(click)) // 3
    return consumer_message(b"[" + b"{}," * count + click + b"]")


def empty_events_with(event: dict) -> bytes:
    """32 MiB of ``{}`` around one event: only the custom events are read (issue 17), never the
    empty objects (about 1 GiB as Python's)."""
    raw = orjson.dumps(event)
    count = (32 * MiB - 64 - len(raw)) // 3
    return consumer_message(b"[" + b"{}," * count + raw + b"]")


def empty_events_with_a_stray_category() -> bytes:
    """32 MiB of ``{}`` and a click category that no custom event holds: the scan cannot vouch
    for the segment, and it holds too many values to be parsed whole (``MAX_PARSED_VALUES``)."""
    count = (32 * MiB - 64) // 3
    return consumer_message(b"[" + b"{}," * count + b'{"text":"ui.multiClick"}]')


def values_with_a_stray_category() -> bytes:
    """As many ``{}`` as a segment may hold and still be parsed whole when the scan cannot vouch
    for it: the most a full parse costs."""
    count = (MAX_PARSED_VALUES - 8) // 2  # a comma and a brace per empty object
    return consumer_message(b"[" + b"{}," * count + b'{"text":"ui.multiClick"}]')


# A segment the scan cannot vouch for is parsed whole, and JSON costs more as Python objects than as
# bytes: about 10 times for rrweb's events, up to 30 times for an array of empty objects (about
# 1 GiB at the 32 MiB limit, which ``MAX_PARSED_VALUES`` refuses to parse whole).
PARSE_BOUND = 10 * 32 * MiB
CONSUMER_CASES: dict[str, tuple[Callable[[], bytes], str, int]] = {
    # name: (message, expected outcome, bound)
    "recording bomb": (zeros_recording, "InvalidSegment", CONSUMER_BOUND),
    "recording 100k deep": (
        lambda: consumer_message(b"[" + deep_json(100_000) + b',"ui.multiClick"]'),
        "InvalidSegment",
        CONSUMER_BOUND,
    ),
    "70,000 clicks in a segment": (many_clicks, "ok", CONSUMER_BOUND),
    "32 MiB of empty events with a plain click": (
        empty_events_with_a_plain_click,
        "ok",
        CONSUMER_BOUND,
    ),
    "32 MiB of empty events with a slow click": (
        lambda: empty_events_with(click_event(timestamp=1_795_537_770.0)),
        "ok",
        CONSUMER_BOUND,
    ),
    "32 MiB of empty events with a multi-click": (
        lambda: empty_events_with(click_event(category="ui.multiClick", timestamp=1_795_537_770.0)),
        "ok",
        CONSUMER_BOUND,
    ),
    "32 MiB of empty events with a hydration error": (
        lambda: empty_events_with(hydrate_error_event()),
        "ok",
        CONSUMER_BOUND,
    ),
    "32 MiB of empty events with a stray click category": (
        empty_events_with_a_stray_category,
        "ok",
        CONSUMER_BOUND,
    ),
    "empty events up to the parse's limit with a stray click category": (
        values_with_a_stray_category,
        "ok",
        PARSE_BOUND,
    ),
}


@pytest.mark.parametrize("name", CONSUMER_CASES)
def test_consumer_memory_stays_bounded(tmp_path, name):
    build, outcome, bound = CONSUMER_CASES[name]
    measured = probe(tmp_path, "consume", build())
    assert measured["outcome"] == outcome
    assert measured["peak_above_input"] < bound, (
        f"{name}: {measured['peak_above_input'] / MiB:.0f} MiB"
    )
