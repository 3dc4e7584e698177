"""Builders of the SDK's network spans, console breadcrumbs and hydration errors, from its captures.

Real sessions carry more than DOM events: most segments hold ``resource.fetch`` / ``resource.xhr``
performance spans and ``console`` breadcrumbs, and a few a ``replay.hydrate-error`` breadcrumb.
Their shapes are not invented here: each builder starts from an event of the SDK 11.12 scenario
captures (``../shared/fixtures/sdk-scenarios/11.12.0/``, ``SDK_SCENARIOS_DIR`` elsewhere) and
varies what a session varies (URL, method, status, sizes, times, message), as GlitchTip's test
builders vary a captured payload.
"""

import copy
import os
import random
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import orjson

SDK_VERSION = "11.12.0"
# (scenario, what identifies the event in it): one template each.
_TEMPLATES = {
    "fetch": ("failing", lambda e: _payload(e).get("op") == "resource.fetch"),
    "console": ("failing", lambda e: _payload(e).get("category") == "console"),
    "hydration_error": ("hydrate", lambda e: _payload(e).get("category") == "replay.hydrate-error"),
}
_STATUSES = (200, 200, 200, 200, 201, 204, 304, 400, 404, 500, 502)
_LEVELS = ("log", "log", "info", "warn", "error")

Event = dict[str, Any]


def scenarios_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "sdk-scenarios"
    return Path(os.environ.get("SDK_SCENARIOS_DIR", default)) / SDK_VERSION


def _payload(event: Event) -> dict[str, Any]:
    data = event.get("data")
    payload = data.get("payload") if isinstance(data, dict) else None
    return payload if event.get("type") == 5 and isinstance(payload, dict) else {}


def recording_events(envelope: bytes) -> list[Event]:
    """The rrweb events of an envelope's ``replay_recording`` item (none if it has none)."""
    from ingest.envelope import parse_envelope

    for item in parse_envelope(envelope).items:
        if item.type == "replay_recording":
            body = item.payload.split(b"\n", 1)[1]
            return orjson.loads(zlib.decompress(body) if body[:1] == b"x" else body)
    return []


@cache
def templates() -> dict[str, Event]:
    """One captured event per kind; ``RuntimeError`` if the captures are not where expected."""
    found: dict[str, Event] = {}
    for kind, (scenario, matches) in _TEMPLATES.items():
        for path in sorted((scenarios_dir() / scenario).glob("*.envelope")):
            event = next(filter(matches, recording_events(path.read_bytes())), None)
            if event is not None:
                found[kind] = event
                break
        else:
            raise RuntimeError(
                f"no {kind} event in the captures under {scenarios_dir() / scenario}: "
                "is ../shared beside the checkout (or SDK_SCENARIOS_DIR set)?"
            )
    return found


def network_span(rng: random.Random, origin: str, path: str, start_ms: int) -> Event:
    """A ``resource.fetch`` or ``resource.xhr`` span: the captured one with another request."""
    event = copy.deepcopy(templates()["fetch"])
    payload = event["data"]["payload"]
    start = start_ms / 1000
    payload["op"] = rng.choice(("resource.fetch", "resource.fetch", "resource.xhr"))
    payload["description"] = f"{origin}{path}?page={rng.randint(1, 9)}"
    payload["startTimestamp"] = start
    payload["endTimestamp"] = start + rng.uniform(0.01, 1.5)
    event["timestamp"] = start  # seconds, as the SDK stamps spans
    data = payload["data"]
    data["method"] = rng.choice(("GET", "GET", "GET", "POST", "PUT", "DELETE"))
    data["statusCode"] = rng.choice(_STATUSES)
    data["response"]["size"] = rng.randint(2, 80_000)
    return event


def console_breadcrumb(rng: random.Random, message: str, timestamp_ms: int) -> Event:
    """A ``console`` breadcrumb at ``timestamp_ms``, with ``message`` as its only argument."""
    event = copy.deepcopy(templates()["console"])
    payload = event["data"]["payload"]
    event["timestamp"] = timestamp_ms
    payload["timestamp"] = timestamp_ms / 1000
    payload["level"] = rng.choice(_LEVELS)
    payload["message"] = message
    payload["data"]["arguments"] = [message]
    return event


def hydration_error(url: str, timestamp_ms: int) -> Event:
    """A ``replay.hydrate-error`` breadcrumb on ``url`` (SDK 7.87 and later name the page)."""
    event = copy.deepcopy(templates()["hydration_error"])
    payload = event["data"]["payload"]
    event["timestamp"] = timestamp_ms
    payload["timestamp"] = timestamp_ms / 1000
    payload["data"]["url"] = url
    return event
