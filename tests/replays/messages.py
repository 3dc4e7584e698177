"""Recording messages as the replays consumer receives them: from the SDK's captures, or built.

``fixture_message`` runs a captured envelope through ingest's own steps (parse, extract, encode),
so the bytes are what the endpoint publishes on ``ingest-replay-recordings``. ``recording_message``
builds one from a custom rrweb events list and replay_event, compressed or plain, for the cases the
captures do not show. ``click_event`` is a click breadcrumb in the SDK's shape; ``captured_click``
is one the SDK wrote, to vary; ``hydrate_error_event`` a hydration error's breadcrumb, and
``scenario_messages`` the messages of a scenario capture (``../shared/fixtures/sdk-scenarios/``).
"""

import zlib
from functools import cache
from typing import Any

import msgpack
import orjson

from ingest.envelope import parse_envelope
from ingest.recording_message import encode_recording_message
from ingest.replay_segment import RecordingLimits, ReplaySegment, extract_replay_segment
from replays.detection.recording import inflate_recording, split_recording
from tests.ingest.builders import replay_parts
from tests.sdk_fixtures import SdkRequest, replay_requests, scenario_replay_requests

MiB = 1024 * 1024
# The replays consumer's default inflation cap (settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES).
MAX_INFLATED_BYTES = 32 * MiB
INGEST_LIMITS = RecordingLimits(10 * MiB, 100 * MiB)
RECEIVED = 1_795_537_800
REPLAY_ID = "0f3c9a1e2b7d4c5e8a6b9d0e1f2a3b4c"
BASE_SECONDS = 1_795_537_770.0


def fixture_message(
    sdk_request: SdkRequest,
    *,
    project_id: int = 42,
    org_id: int = 1,
    key_id: int | None = 1,
    received: int = RECEIVED,
    retention_days: int = 90,
) -> bytes:
    """The message that ingest publishes for one captured replay request."""
    segment = extract_replay_segment(parse_envelope(sdk_request.body), INGEST_LIMITS)
    assert segment is not None, f"{sdk_request.name} carries no replay segment"
    return encode_recording_message(
        segment,
        project_id=project_id,
        org_id=org_id,
        key_id=key_id,
        received=received,
        retention_days=retention_days,
    )


def fixture_messages(**kwargs: Any) -> list[bytes]:
    """One message per captured replay request, in capture order."""
    return [fixture_message(sdk_request, **kwargs) for sdk_request in replay_requests()]


def scenario_messages(scenario: str, **kwargs: Any) -> list[bytes]:
    """One message per replay request of a scenario capture (``hydrate``, ...), in order."""
    return [fixture_message(r, **kwargs) for r in scenario_replay_requests(scenario)]


def hydrate_error_event(
    url: str | None = "https://shop.example.com/orders/123",
    *,
    timestamp: float = BASE_SECONDS,
    data: Any = True,
) -> dict[str, Any]:
    """An rrweb custom event holding a ``replay.hydrate-error`` breadcrumb as the browser SDK
    writes it (``data.url`` since 7.87); ``data=None`` leaves ``data`` out, as 7.x did, and any
    other value is sent as ``data`` as it is."""
    payload: dict[str, Any] = {
        "timestamp": timestamp,
        "type": "default",
        "category": "replay.hydrate-error",
    }
    if data is True:
        payload["data"] = {"url": url}
    elif data is not None:
        payload["data"] = data
    return {
        "type": 5,
        "timestamp": round(timestamp * 1000),
        "data": {"tag": "breadcrumb", "payload": payload},
    }


def fixture_replay_event(segment_id: int = 0, replay_id: str = REPLAY_ID) -> dict[str, Any]:
    """The first capture's replay_event, as another segment of another replay."""
    _, event, _ = replay_parts()
    return {**event, "replay_id": replay_id, "event_id": replay_id, "segment_id": segment_id}


def recording_payload(segment_id: int, events: list | bytes, *, compress: bool = True) -> bytes:
    """A ``replay_recording`` item: the ``{"segment_id": N}`` line, then the events."""
    body = events if isinstance(events, bytes) else orjson.dumps(events)
    if compress:
        body = zlib.compress(body)
    return orjson.dumps({"segment_id": segment_id}) + b"\n" + body


def recording_message(
    events: list | bytes,
    *,
    replay_event: dict | bytes | bool | None = True,
    segment_id: int = 0,
    compress: bool = True,
    replay_id: str = REPLAY_ID,
    project_id: int = 42,
    org_id: int = 1,
    key_id: int | None = 1,
    received: int = RECEIVED,
    retention_days: int = 90,
) -> bytes:
    """A message for custom rrweb ``events``. ``replay_event``: True for the capture's (as this
    segment), a dict or raw bytes of one's own, None for a message without one."""
    if replay_event is True:
        replay_event = fixture_replay_event(segment_id, replay_id)
    if isinstance(replay_event, dict):
        replay_event = orjson.dumps(replay_event)
    segment = ReplaySegment(
        replay_id=replay_id,
        segment_id=segment_id,
        replay_event=replay_event or None,  # type: ignore[arg-type]
        recording=recording_payload(segment_id, events, compress=compress),
    )
    return encode_recording_message(
        segment,
        project_id=project_id,
        org_id=org_id,
        key_id=key_id,
        received=received,
        retention_days=retention_days,
    )


def with_fields(raw: bytes, **fields: Any) -> bytes:
    """The message ``raw`` with some fields replaced, or left out when given as ``...``: for
    messages ingest would never publish (a bad payload, a field of the wrong type)."""
    message = msgpack.unpackb(raw)
    message.update(fields)
    return msgpack.packb({k: v for k, v in message.items() if v is not ...}, use_bin_type=True)


@cache
def decompression_bomb(kind: str = "zeros") -> bytes:
    """50 MB that zlib shrinks to about 50 KB: zeros, or a JSON array's ``[`` then spaces."""
    body = b"\0" * (50 * MiB) if kind == "zeros" else b"[" + b" " * (50 * MiB)
    return zlib.compress(body, 9)


def click_event(
    selector: str = "body > main > button#pay.btn",
    *,
    category: str = "ui.slowClickDetected",
    time_after_click_ms: float = 7000,
    end_reason: str | None = "timeout",
    click_count: int = 1,
    url: str | None = "https://shop.example.com/checkout?step=2#pay",
    route: str | None = None,
    timestamp: float = BASE_SECONDS,
    node: dict | None = None,
) -> dict[str, Any]:
    """An rrweb custom event holding one click breadcrumb, shaped as the browser SDK writes it."""
    if node is None:
        node = {
            "id": 42,
            "tagName": "button",
            "textContent": "Pay",
            "attributes": {"id": "pay", "class": "btn"},
        }
    data: dict[str, Any] = {"nodeId": node.get("id"), "node": node, "clickCount": click_count}
    if url is not None:
        data["url"] = url
    if route is not None:
        data["route"] = route
    if category == "ui.slowClickDetected":
        data["timeAfterClickMs"] = time_after_click_ms
        if end_reason is not None:
            data["endReason"] = end_reason
    else:
        data["metric"] = True
    return {
        "type": 5,
        "timestamp": int(timestamp * 1000),
        "data": {
            "tag": "breadcrumb",
            "payload": {
                "type": "default",
                "message": selector,
                "timestamp": timestamp,
                "category": category,
                "data": data,
            },
        },
    }


@cache
def _captured_slow_clicks() -> tuple[bytes, ...]:
    found = []
    for raw in fixture_messages():
        recording = split_recording(msgpack.unpackb(raw)["payload"])
        for event in orjson.loads(inflate_recording(recording, MAX_INFLATED_BYTES)):
            payload = event.get("data", {}).get("payload") if event.get("type") == 5 else None
            if isinstance(payload, dict) and payload.get("category") == "ui.slowClickDetected":
                found.append(orjson.dumps(event))
    return tuple(found)


def captured_click(index: int = 0) -> dict[str, Any]:
    """The capture's ``index``-th ``ui.slowClickDetected`` event exactly as the SDK wrote it, a
    fresh copy to vary (0: the dead click on ``body > button#buy.btn.primary``)."""
    return orjson.loads(_captured_slow_clicks()[index])


def snapshot_events(count: int = 3, plain_click: bool = True) -> list[dict[str, Any]]:
    """rrweb events without any click breadcrumb: meta, a full snapshot, some mutations, and
    (unless ``plain_click`` is false) a plain ``ui.click``, which is a timeline entry only."""
    events: list[dict[str, Any]] = [
        {"type": 4, "timestamp": 1, "data": {"href": "https://shop.example.com/", "width": 800}},
        {"type": 2, "timestamp": 2, "data": {"node": {"type": 0, "childNodes": []}}},
    ]
    events += [{"type": 3, "timestamp": 3 + i, "data": {"source": 0}} for i in range(count)]
    if not plain_click:
        return events
    events.append(
        {
            "type": 5,
            "timestamp": 9,
            "data": {"tag": "breadcrumb", "payload": {"category": "ui.click", "message": "a"}},
        }
    )
    return events
