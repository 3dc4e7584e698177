"""``ingest-events`` messages as ingest publishes them, from the SDK's ``error`` capture."""

import orjson

from ingest.envelope import parse_envelope
from ingest.error_event import ErrorEvent, extract_error_event
from ingest.event_message import encode_event_message
from tests.sdk_fixtures import SdkRequest, scenario_requests

REPLAY_ID = "5312c198e4ad48a084cad9ad9fd09047"
EVENT_ID = "afe5f589518146b1b260732c9ebe0f02"
RECEIVED = 1796141699


def error_request() -> SdkRequest:
    """The ``error`` scenario's error envelope (an ``event`` item; it came before segment 0)."""
    [request] = [r for r in scenario_requests("error") if b'{"type":"event"}' in r.body]
    return request


def error_event() -> dict:
    [item] = [i for i in parse_envelope(error_request().body).items if i.type == "event"]
    return orjson.loads(item.payload)


def event_message(event: dict | None = None, project_id: int = 42, **changes: object) -> bytes:
    """The message ingest publishes for ``event`` (the capture's by default)."""
    if event is None:
        found = extract_error_event(parse_envelope(error_request().body), 1024 * 1024)
    else:
        found = ErrorEvent(changes.pop("event_id", EVENT_ID), REPLAY_ID, orjson.dumps(event))
    assert found is not None
    return encode_event_message(
        found, project_id=project_id, org_id=7, key_id=1, received=RECEIVED, retention_days=90
    )
