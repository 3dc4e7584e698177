"""Decoding an ``ingest-events`` message into the row a replay keeps (pure)."""

import uuid
from datetime import UTC, datetime

import msgpack
import orjson
import pytest

from replay_errors.event_message import (
    MAX_VALUE,
    InvalidErrorEvent,
    bounded_event,
    decode_error_event,
)
from tests.replay_errors.messages import (
    EVENT_ID,
    RECEIVED,
    REPLAY_ID,
    error_event,
    event_message,
)

CAP = 64 * 1024


def test_the_sdk_error_capture_becomes_a_compact_record():
    record = decode_error_event(event_message(), CAP)

    assert record.project_id == 42
    assert (record.replay_id, record.event_id) == (uuid.UUID(REPLAY_ID), uuid.UUID(EVENT_ID))
    assert record.timestamp == datetime(2026, 12, 1, 16, 14, 58, 663000, tzinfo=UTC)
    assert record.received_at == datetime.fromtimestamp(RECEIVED, UTC)
    assert (record.level, record.type) == ("error", "TypeError")
    assert record.value == "Cannot read properties of null (reading 'code')"
    assert record.url == "http://127.0.0.1:18766/index.html"
    assert (record.release, record.environment) == ("shop@1.4.2", "staging")
    assert record.culprit == ""  # the browser SDK sends neither culprit nor transaction
    assert record.retention_days == 90
    assert record.event == error_event()  # small: kept whole


def test_the_last_exception_is_the_events_and_a_message_stands_in_for_none():
    event = error_event()
    event["exception"]["values"].insert(0, {"type": "Cause", "value": "first"})
    event["transaction"] = "/checkout"
    record = decode_error_event(event_message(event), CAP)
    assert (record.type, record.culprit) == ("TypeError", "/checkout")

    message_only = {
        **{k: v for k, v in error_event().items() if k != "exception"},
        "message": {"formatted": "payment failed"},
        "level": "warning",
    }
    record = decode_error_event(event_message(message_only), CAP)
    assert (record.type, record.value, record.level) == ("", "payment failed", "warning")


def test_strings_are_cut_to_their_columns_and_lose_nul_characters():
    event = error_event()
    event["exception"]["values"][0]["value"] = "x\x00" * MAX_VALUE
    event["level"] = "catastrophic"
    event["release"] = 12

    record = decode_error_event(event_message(event), CAP)

    assert record.value == "x\ufffd" * (MAX_VALUE // 2)
    assert "\x00" not in orjson.dumps(record.event).decode()
    assert (record.level, record.release) == ("error", "")


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-12-01T16:14:58.663Z", datetime(2026, 12, 1, 16, 14, 58, 663000, tzinfo=UTC)),
        ("2026-12-01T16:14:58", datetime(2026, 12, 1, 16, 14, 58, tzinfo=UTC)),
        (1e300, datetime.fromtimestamp(RECEIVED, UTC)),
        ("yesterday", datetime.fromtimestamp(RECEIVED, UTC)),
        (None, datetime.fromtimestamp(RECEIVED, UTC)),
    ],
    ids=["rfc3339", "naive", "overflow", "not-a-time", "missing"],
)
def test_the_event_time_is_its_timestamp_else_the_receipt(timestamp, expected):
    event = {**error_event(), "timestamp": timestamp}

    assert decode_error_event(event_message(event), CAP).timestamp == expected


def test_a_big_event_loses_its_bulkiest_parts_first_then_all_but_a_summary():
    event = error_event()
    event["breadcrumbs"] = [{"message": "b" * 100}] * 1000
    size = len(orjson.dumps(event))

    kept = bounded_event(event, size, CAP)
    assert "breadcrumbs" not in kept
    assert kept["_trimmed"] == ["breadcrumbs"]
    assert kept["exception"] == event["exception"]
    assert len(orjson.dumps(kept)) <= CAP

    event["request"]["headers"] = {"X-Big": "h" * CAP}
    summary = bounded_event(event, len(orjson.dumps(event)), CAP)
    assert summary["exception"] == {"values": [{"type": "TypeError", "value": event_value()}]}
    assert summary["request"] == {"url": "http://127.0.0.1:18766/index.html"}
    assert summary["event_id"] == EVENT_ID
    assert len(orjson.dumps(summary)) <= CAP


def event_value() -> str:
    return error_event()["exception"]["values"][0]["value"]


def broken(**changes: object) -> bytes:
    message = msgpack.unpackb(event_message())
    message.update(changes)
    return msgpack.packb(message, use_bin_type=True)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xc1", "not msgpack"),
        (msgpack.packb([1, 2]), "type"),
        (broken(type="transaction"), "type"),
        (broken(payload="text"), "payload bytes"),
        (broken(payload=b"{nope"), "not JSON"),
        (broken(payload=b"[]"), "not a JSON object"),
        (broken(replay_id="x"), "replay_id is not a UUID"),
        (broken(event_id=None), "event_id is not a UUID"),
        (broken(project_id=-1), "project_id"),
        (broken(retention_days="90"), "retention_days"),
        (broken(start_time="now"), "start_time"),
    ],
)
def test_a_message_that_is_no_error_event_is_invalid(raw, reason):
    with pytest.raises(InvalidErrorEvent, match=reason):
        decode_error_event(raw, CAP)
