"""Small builders for envelope variants, starting from the real SDK's captures."""

import gzip
import zlib

import brotli
import orjson
import requests
import zstandard
from hypothesis import strategies as st

from ingest.envelope import parse_envelope
from tests.sdk_fixtures import SdkRequest, replay_requests, sdk_requests


def build_envelope(
    headers: dict, items: list[tuple[dict, bytes]], with_length: bool = True
) -> bytes:
    lines = [orjson.dumps(headers)]
    for item_headers, payload in items:
        if with_length:
            item_headers = {**item_headers, "length": len(payload)}
        lines += [orjson.dumps(item_headers), payload]
    return b"\n".join(lines) + b"\n"


def replay_parts(sdk_request: SdkRequest | None = None) -> tuple[dict, dict, bytes]:
    """The envelope header, the replay_event and the recording payload of a real capture."""
    envelope = parse_envelope((sdk_request or replay_requests()[0]).body)
    items = {item.type: item.payload for item in envelope.items}
    return envelope.headers, orjson.loads(items["replay_event"]), items["replay_recording"]


def replay_envelope(
    *,
    replay_event: dict | bool = True,
    recording: bytes | bool = True,
    headers: dict | None = None,
) -> bytes:
    """A replay envelope shaped as the SDK sends it, with any part replaced (or left out: False)."""
    base_headers, base_event, base_recording = replay_parts()
    items = []
    if replay_event is not False:
        event = base_event if replay_event is True else replay_event
        items.append(({"type": "replay_event"}, orjson.dumps(event)))
    if recording is not False:
        payload = base_recording if recording is True else recording
        items.append(({"type": "replay_recording"}, payload))
    return build_envelope(base_headers if headers is None else headers, items)


def recording_payload(segment_id: int, events: bytes, compress: bool = True) -> bytes:
    body = zlib.compress(events) if compress else events
    return orjson.dumps({"segment_id": segment_id}) + b"\n" + body


# Every Content-Encoding the endpoint takes, as a client would apply it.
ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


def mutate(body: bytes, data: st.DataObject) -> bytes:
    """Damage ``body`` a few times as a flaky network or a hostile client would."""
    body = bytearray(body)
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        if not body:
            break
        position = data.draw(st.integers(0, len(body) - 1), label="position")
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate", "splice"]))
        if action == "flip":
            body[position] = data.draw(st.integers(0, 255), label="byte")
        elif action == "delete":
            del body[position : position + data.draw(st.integers(1, 50))]
        elif action == "insert":
            body[position:position] = data.draw(
                st.sampled_from([b"\n", b"{}", b'"length":3,', b"\xff\xfe", b"\x00", b"-1", b"[[["])
            )
        elif action == "truncate":
            del body[position:]
        else:
            other = data.draw(st.sampled_from(sdk_requests())).body
            body[position:] = other[data.draw(st.integers(0, len(other) - 1)) :]
    return bytes(body)


def assert_cors_preflight(url: str, origin: str) -> None:
    """An SDK's preflight from another origin is allowed as Relay allows it: POST, the headers
    an SDK sends, cached an hour (ARCHITECTURE.md, "Limits and answers at the edge")."""
    preflight = requests.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-sentry-auth, content-encoding",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", origin)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    allowed = preflight.headers["Access-Control-Allow-Headers"].lower()
    for header in ("x-sentry-auth", "authorization", "content-type", "content-encoding"):
        assert header in allowed
    assert preflight.headers["Access-Control-Max-Age"] == "3600"
