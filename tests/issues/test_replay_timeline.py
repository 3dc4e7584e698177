"""The server's part of the replay page's timeline (pure): stored error events as entries, and the
window of the click the reader came from."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from issues.replay_timeline import MAX_TEXT_CHARS, click_window, epoch_ms, error_entries

CLICK_MS = 1_796_141_661_884


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (1_796_141_661.884, CLICK_MS),  # seconds, as the SDK sends them
        (CLICK_MS, CLICK_MS),  # milliseconds, as rrweb writes them
        (datetime(2026, 12, 1, 16, 14, 21, 884000, tzinfo=UTC), CLICK_MS),
        (datetime(2026, 12, 1, 17, 14, 21, 884000, tzinfo=timezone(timedelta(hours=1))), CLICK_MS),
        ("2026-12-01T16:14:21.884000+00:00", CLICK_MS),  # the API's ISO 8601
        ("2026-12-01T16:14:21.884Z", CLICK_MS),
        (datetime(2026, 12, 1, 16, 14, 21), None),  # no time zone: which moment is it?
        ("yesterday", None),
        (None, None),
        (True, None),
        (float("nan"), None),
        (-1, None),
        (0, None),
    ],
)
def test_epoch_ms_reads_each_clock_the_sdk_and_the_api_use(moment, expected):
    assert epoch_ms(moment) == expected


def test_error_entries_are_in_time_order_with_the_fields_the_timeline_shows():
    later = {
        "event_id": "b" * 32,
        "timestamp": "2026-12-01T16:14:22.000+00:00",
        "level": "error",
        "type": "TypeError",
        "value": "Cannot read properties of null (reading 'dataset')",
        "culprit": "http://127.0.0.1:18766/index.html",
        "url": "http://127.0.0.1:18766/index.html",
    }
    earlier = {"event_id": "a" * 32, "timestamp": 1_796_141_661.9, "type": "Error", "value": "x"}
    assert error_entries([later, earlier]) == [
        {
            "ms": 1_796_141_661_900,
            "eventId": "a" * 32,
            "level": "error",
            "type": "Error",
            "value": "x",
            "culprit": "",
        },
        {
            "ms": 1_796_141_662_000,
            "eventId": "b" * 32,
            "level": "error",
            "type": "TypeError",
            "value": "Cannot read properties of null (reading 'dataset')",
            "culprit": "http://127.0.0.1:18766/index.html",
        },
    ]


def test_error_entries_are_bounded_and_skip_what_cannot_be_placed():
    events = [{"timestamp": 1_796_141_661 + index, "value": "v" * 10_000} for index in range(50)]
    events.append({"timestamp": None, "type": "Lost"})
    events.append({"type": "NoTime"})
    events.append({"timestamp": 1_796_141_600, "type": ["not", "text"], "level": 3})
    entries = error_entries(events, limit=10)
    assert len(entries) == 10
    assert entries[0] == {
        "ms": 1_796_141_600_000,
        "eventId": "",
        "level": "error",
        "type": "Error",
        "value": "",
        "culprit": "",
    }
    assert all(len(entry["value"]) <= MAX_TEXT_CHARS for entry in entries)
    assert [entry["ms"] for entry in entries] == sorted(entry["ms"] for entry in entries)
    assert error_entries([]) == []


def test_a_clicks_window_is_the_sdks_wait_after_it():
    assert click_window(CLICK_MS, {"timeAfterClickMs": 7000.0, "endReason": "timeout"}) == {
        "startMs": CLICK_MS,
        "endMs": CLICK_MS + 7000,
    }
    assert click_window(CLICK_MS, {"timeAfterClickMs": 4215.6}) == {
        "startMs": CLICK_MS,
        "endMs": CLICK_MS + 4216,
    }
    # An error click: a plain click (no wait of the SDK), its window the project's second.
    assert click_window(CLICK_MS, {"timeAfterClickMs": 0.0, "windowMs": 1000}) == {
        "startMs": CLICK_MS,
        "endMs": CLICK_MS + 1000,
    }


@pytest.mark.parametrize(
    "evidence",
    [
        {},
        {"timeAfterClickMs": None},
        {"timeAfterClickMs": "7000"},
        {"timeAfterClickMs": -5},
        {"timeAfterClickMs": True},
        {"timeAfterClickMs": float("nan")},
        [],
        None,
    ],
)
def test_no_window_without_a_wait(evidence):
    assert click_window(CLICK_MS, evidence) is None
