"""The timeline entries a segment yields and the window of a click (pure, no database, no broker):
from the SDK's scenario captures (``failing``, ``pending``, ``disabled``), and built variants for
what the captures do not show (spans with no end, a window over two segments, 10,000 spans); the
``error`` capture's error event in its click's window, and error events off the recording's
clock."""

import random

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from replays.detection import breadcrumbs as breadcrumbs_module
from replays.detection.breadcrumbs import find_breadcrumbs, scan_timeline
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.detection.timeline import (
    CLICK,
    CONSOLE_ERROR,
    MAX_ENTRIES_PER_SEGMENT,
    NAVIGATION,
    REQUEST,
    TimelineEntry,
    without_query,
)
from replays.detection.window import (
    ERROR_CLOCK_TOLERANCE_S,
    SegmentEntry,
    click_window,
    error_event_entry,
)
from tests.replay_errors.messages import EVENT_ID, error_event
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    RECEIVED,
    captured_click,
    fixture_messages,
    hydrate_error_event,
    scenario_messages,
    snapshot_events,
)


def segments(scenario: str) -> list:
    return [decode_segment(raw, MAX_INFLATED_BYTES) for raw in scenario_messages(scenario)]


def timeline_of(scenario: str) -> list[SegmentEntry]:
    return [
        SegmentEntry(segment.segment_id, entry)
        for segment in segments(scenario)
        for entry in find_breadcrumbs(segment.events).timeline
    ]


def request(start: float, end: float | None, status: int | None = 200, url: str = "/api/x"):
    return TimelineEntry(REQUEST, start, end, {"method": "GET", "url": url, "status": status})


CLICK_AT = 1_796_141_661.884


def window(entries: list[SegmentEntry], wait_ms: float = 7000.0, attributes=None, node_id=38):
    return click_window(CLICK_AT, wait_ms, node_id, attributes or {}, entries, own_segment_id=1)


def test_the_failing_capture_holds_the_request_the_console_error_and_the_click():
    seg0 = find_breadcrumbs(segments("failing")[0].events).timeline
    by_kind = {
        kind: [e for e in seg0 if e.kind == kind] for kind in (REQUEST, CONSOLE_ERROR, CLICK)
    }
    [checkout] = by_kind[REQUEST]
    assert checkout.data == {"method": "POST", "url": "/api/checkout", "status": 500}
    assert round((checkout.end - checkout.start) * 1000) == 212
    [console] = by_kind[CONSOLE_ERROR]
    assert console.data == {"message": "Checkout failed: HTTP 500"}
    assert by_kind[CLICK] == [
        TimelineEntry(CLICK, CLICK_AT, None, {"node_id": 38, "disabled": False})
    ]
    # The page load is a navigation; scripts, paints, web vitals and memory are no entries.
    assert [e.data["url"] for e in seg0 if e.kind == NAVIGATION] == [
        "http://127.0.0.1:18766/index.html"
    ]
    assert len(seg0) == 4


def test_the_failing_click_failed_because_its_request_answered_500():
    result = window(timeline_of("failing"))
    assert result.window["requests"] == [
        {
            "method": "POST",
            "url": "/api/checkout",
            "status": 500,
            "duration_ms": 212,
            "pending": False,
        }
    ]
    assert result.window["errors"] == [
        {
            "source": "console",
            "event_id": None,
            "type": None,
            "value": "Checkout failed: HTTP 500",
            "ms_after_click": 218,
        }
    ]
    assert result.window["navigations"] == []
    assert result.window["element_disabled"] is False
    assert result.cause == {
        "kind": "request_failed",
        "detail": "POST /api/checkout answered 500 after 212 ms",
    }
    # The highest segment among the entries (0), plus the four entries seen.
    assert result.revision == 0 + 4


def test_the_pending_request_arrives_two_segments_later_and_was_pending_at_the_wait_end():
    entries = timeline_of("pending")
    assert {each.segment_id for each in entries if each.entry.kind == REQUEST} == {2}
    result = click_window(1_796_141_677.613, 7000.0, 41, {}, entries, own_segment_id=1)
    assert result.window["requests"] == [
        {"method": "GET", "url": "/api/quote", "status": 200, "duration_ms": 12007, "pending": True}
    ]
    assert result.cause["kind"] == "request_pending"
    assert result.cause["detail"].startswith(
        "GET /api/quote had not answered when the SDK gave up (7000 ms)"
    )
    assert result.revision == 2 + 2  # segment 2's span, and the click itself (segment 0)
    # Before segment 2 arrived, the window held only the click itself: no cause yet.
    earlier = click_window(
        1_796_141_677.613, 7000.0, 41, {}, [e for e in entries if e.segment_id < 2], 1
    )
    assert earlier.cause == {"kind": "none", "detail": ""}
    assert earlier.revision == 1 + 1  # the click's own segment, and the click's entry
    assert earlier.revision < result.revision


def test_the_disabled_capture_gives_element_disabled_from_the_node_or_its_click():
    entries = timeline_of("disabled")
    clicks = [each.entry for each in entries if each.entry.kind == CLICK]
    assert [c.data for c in clicks] == [{"node_id": 47, "disabled": True}]
    at = clicks[0].start
    from_node = click_window(at, 7000.0, 47, {"aria-disabled": "true"}, [], own_segment_id=1)
    from_click = click_window(at, 7000.0, 47, {}, entries, own_segment_id=1)
    for result in (from_node, from_click):
        assert result.window["element_disabled"] is True
        assert result.cause["kind"] == "element_disabled"
    assert click_window(at, 7000.0, 99, {}, entries, 1).window["element_disabled"] is False
    assert window([], attributes={"disabled": ""}).window["element_disabled"] is True
    assert window([], attributes={"disabled": "false"}).window["element_disabled"] is False


def test_a_window_spans_entries_of_two_segments_and_only_its_own_time():
    entries = [
        SegmentEntry(0, request(CLICK_AT + 0.010, CLICK_AT + 0.050, url="/a")),
        SegmentEntry(2, request(CLICK_AT + 3.0, CLICK_AT + 3.2, url="/b")),
        SegmentEntry(2, request(CLICK_AT - 0.001, CLICK_AT + 0.1, url="/before")),
        SegmentEntry(3, request(CLICK_AT + 7.001, CLICK_AT + 7.1, url="/after")),
    ]
    result = window(entries)
    assert [r["url"] for r in result.window["requests"]] == ["/a", "/b"]
    assert result.revision == 2 + 2  # the highest segment seen, and the two entries
    assert result.cause["kind"] == "none"


def test_a_span_with_no_end_is_pending_with_no_duration():
    result = window([SegmentEntry(1, request(CLICK_AT + 0.1, None))])
    assert result.window["requests"][0]["pending"] is True
    assert result.window["requests"][0]["duration_ms"] is None
    assert result.cause["detail"] == "GET /api/x had not answered when the SDK gave up (7000 ms)"


def test_the_cause_follows_its_priority():
    failed = SegmentEntry(1, request(CLICK_AT + 0.5, CLICK_AT + 0.6, status=503, url="/f"))
    network = SegmentEntry(1, request(CLICK_AT + 0.5, CLICK_AT + 0.6, status=None, url="/n"))
    pending = SegmentEntry(1, request(CLICK_AT + 0.1, None, url="/p"))
    error = SegmentEntry(
        1, TimelineEntry(CONSOLE_ERROR, CLICK_AT + 0.012, None, {"message": "TypeError: x is null"})
    )
    disabled = {"aria-disabled": "true"}
    assert window([pending, error, failed], attributes=disabled).cause["kind"] == "request_failed"
    assert window([network]).cause == {
        "kind": "request_failed",
        "detail": "GET /n failed without an answer (a network error) after 100 ms",
    }
    assert window([pending, error], attributes=disabled).cause["kind"] == "request_pending"
    assert window([error], attributes=disabled).cause == {
        "kind": "error",
        "detail": "TypeError: x is null (logged 12 ms after the click)",
    }
    assert window([error]).window["errors"][0]["type"] == "TypeError"
    assert window([], attributes=disabled).cause["kind"] == "element_disabled"


def test_the_window_is_the_same_in_any_order_of_its_entries():
    entries = [
        SegmentEntry(segment_id, request(CLICK_AT + i / 10, CLICK_AT + i / 5, url=f"/{i}"))
        for i, segment_id in enumerate([0, 3, 1, 1, 2, 0, 5])
    ]
    entries.append(SegmentEntry(4, request(CLICK_AT + 0.1, CLICK_AT + 0.3, url="/same-time")))
    expected = window(entries)
    rng = random.Random(7)
    for _ in range(20):
        rng.shuffle(entries)
        assert window(entries) == expected
    # A re-delivered segment's entries twice over are one segment's rows in the timeline (one row
    # per segment and index); the window of distinct entries is what counts.
    assert expected.revision == 5 + 8  # the highest segment seen, and the eight entries


def test_ten_thousand_spans_in_one_segment_keep_a_bounded_timeline_and_the_click():
    span = {
        "type": 5,
        "timestamp": CLICK_AT,
        "data": {
            "tag": "performanceSpan",
            "payload": {
                "op": "resource.fetch",
                "description": "/api/poll?token=secret",
                "startTimestamp": CLICK_AT,
                "endTimestamp": CLICK_AT + 0.01,
                "data": {"method": "GET", "statusCode": 200},
            },
        },
    }
    console = {
        "type": 5,
        "timestamp": CLICK_AT * 1000,
        "data": {
            "tag": "breadcrumb",
            "payload": {
                "timestamp": CLICK_AT,
                "category": "console",
                "level": "error",
                "message": "x" * 100_000,
            },
        },
    }
    events = [*snapshot_events(plain_click=False), *[span] * 10_000, *[console] * 1000]
    events.append(captured_click())
    found = find_breadcrumbs(orjson.dumps(events))
    requests = [e for e in found.timeline if e.kind == REQUEST]
    errors = [e for e in found.timeline if e.kind == CONSOLE_ERROR]
    assert len(requests) == MAX_ENTRIES_PER_SEGMENT[REQUEST]
    assert len(errors) == MAX_ENTRIES_PER_SEGMENT[CONSOLE_ERROR]
    assert {len(e.data["message"]) for e in errors} == {300}
    assert requests[0].data["url"] == "/api/poll"
    assert len(found.clicks) == 1
    assert len(orjson.dumps([e.data for e in found.timeline])) < 100_000


def test_a_url_loses_its_query_string_and_fragment():
    assert (
        without_query("https://shop.example/api/pay?card=4242#x") == "https://shop.example/api/pay"
    )
    assert without_query("/a#b?c") == "/a"
    assert without_query(None) == ""


def test_a_click_occurrence_carries_its_window_cause_revision_and_a_line():
    seg0, seg1, *_ = segments("failing")
    settings = DetectionSettings()
    # The pure core sees only the click's own segment: no request in segment 1 yet.
    [occurrence] = detect_clicks(seg1, settings, float(RECEIVED)).occurrences
    evidence = occurrence.evidence_data
    assert evidence["window"]["requests"] == []
    assert evidence["cause"] == {"kind": "none", "detail": ""}
    assert evidence["revision"] == 1
    assert "Likely cause" not in [line["name"] for line in occurrence.evidence_display]
    assert detect_clicks(seg0, settings, float(RECEIVED)).timeline


def test_scanning_the_custom_events_alone_gives_what_the_full_parse_gives():
    """Segments with a click are parsed whole, the others only in their custom events: both
    ways give the same timeline for the SDK's output (a click marker forces the full parse)."""
    messages = [
        *fixture_messages(),
        *(
            m
            for name in ("failing", "pending", "disabled", "error")
            for m in scenario_messages(name)
        ),
    ]
    compared = 0
    for raw in messages:
        events = decode_segment(raw, MAX_INFLATED_BYTES).events
        scanned = scan_timeline(events)
        parsed = orjson.loads(events)
        forced = orjson.dumps([*parsed, hydrate_error_event()])  # a detection marker
        assert scanned == find_breadcrumbs(forced).timeline
        compared += bool(scanned)
    assert compared >= 10


def test_the_scan_finds_an_event_past_nested_boundaries_and_skips_lookalikes():
    body = {"items": [{"type": 1}, {"type": 2}]}  # holds the boundary },{"type":
    span = {
        "type": 5,
        "timestamp": CLICK_AT,
        "data": {
            "tag": "performanceSpan",
            "payload": {
                "op": "resource.xhr",
                "description": "/api/cart",
                "startTimestamp": CLICK_AT,
                "endTimestamp": CLICK_AT + 0.5,
                "data": {"method": "put", "statusCode": 404, "response": {"body": body}},
            },
        },
    }
    comment = {"type": 2, "data": {"node": {"childNodes": [{"type": 5, "textContent": "c"}]}}}
    events = orjson.dumps([comment, span, {"type": 3, "timestamp": 1, "data": {"source": 1}}])
    assert scan_timeline(events) == (
        TimelineEntry(
            REQUEST, CLICK_AT, CLICK_AT + 0.5, {"method": "PUT", "url": "/api/cart", "status": 404}
        ),
    )
    # Not JSON around the custom events: nothing but them is read.
    assert scan_timeline(b"garbage," + orjson.dumps(span)[:-1] + b"}]") != ()
    assert scan_timeline(b'[{"type":5,"timestamp":1,"data":{"tag":"breadcrumb"') == ()


def test_a_huge_segment_of_empty_events_with_a_request_marker_is_not_parsed(monkeypatch):
    events = b"[" + b"{}," * 1_000_000 + b'{"x":"resource.fetch"}]'
    calls = []
    real_loads = orjson.loads
    monkeypatch.setattr(
        breadcrumbs_module.orjson,
        "loads",
        lambda value: calls.append(len(value)) or real_loads(value),
    )
    assert find_breadcrumbs(events).timeline == ()
    assert calls == []


FRAGMENTS = [
    b'{"type":5,"timestamp":',
    b'},{"type":',
    b"}",
    b"{",
    b"]",
    b"[",
    b'"resource.fetch"',
    b'"console"',
    b'{"tag":"performanceSpan","payload":{"op":"resource.fetch","startTimestamp":1796141661.9}}',
    b"1796141661.9,",
    b'"data":',
]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
@settings(max_examples=300, deadline=None)
def test_the_scan_ends_on_any_arrangement_of_its_own_markers(pieces):
    entries = scan_timeline(b"".join(pieces))
    assert len(entries) <= MAX_ENTRIES_PER_SEGMENT[REQUEST]


# --- error events (replay_errors) in a click's window ---------------------------------------

ERROR_CLICK_AT = 1_796_141_698.625  # the ``error`` capture's click, in its recording


def captured_error_entry() -> SegmentEntry:
    """The ``error`` capture's error event as a window reads it from its stored row."""
    event = error_event()
    [exception] = event["exception"]["values"]
    return error_event_entry(
        EVENT_ID, exception["type"], exception["value"], float(event["timestamp"])
    )


def test_the_error_captures_event_is_its_dead_clicks_cause():
    entries = [*timeline_of("error"), captured_error_entry()]
    result = click_window(ERROR_CLICK_AT, 7000.0, 44, {}, entries, own_segment_id=1)
    assert result.window["errors"] == [
        {
            "source": "event",
            "event_id": EVENT_ID,
            "type": "TypeError",
            "value": "Cannot read properties of null (reading 'code')",
            "ms_after_click": 38,
        }
    ]
    assert result.cause == {
        "kind": "error",
        "detail": "TypeError: Cannot read properties of null (reading 'code') "
        "(thrown 38 ms after the click)",
    }
    # The recording alone (the event not stored yet) gives no cause, and a lower revision.
    without = click_window(ERROR_CLICK_AT, 7000.0, 44, {}, timeline_of("error"), 1)
    assert without.cause["kind"] == "none"
    assert without.revision < result.revision


def event_at(time: float, event_id: str = "e" * 32) -> SegmentEntry:
    return error_event_entry(event_id, "TypeError", "x is null", time)


def test_an_error_events_clock_may_be_a_little_off_the_recordings():
    slack = ERROR_CLOCK_TOLERANCE_S / 2
    before = window([event_at(CLICK_AT - slack)])
    assert before.window["errors"][0]["ms_after_click"] == 0  # read as at the click
    assert before.cause["kind"] == "error"
    assert window([event_at(CLICK_AT + 7.0 + slack)]).cause["kind"] == "error"
    # Farther off, it is another moment's error.
    assert window([event_at(CLICK_AT - 2 * ERROR_CLOCK_TOLERANCE_S)]).window["errors"] == []
    assert window([event_at(CLICK_AT + 7.0 + 2 * ERROR_CLOCK_TOLERANCE_S)]).window["errors"] == []
    # Console errors keep the window's own bounds: they are the recording's clock.
    console = TimelineEntry(CONSOLE_ERROR, CLICK_AT - slack, None, {"message": "x"})
    assert window([SegmentEntry(1, console)]).window["errors"] == []


def test_errors_of_both_sources_are_in_time_order_and_the_revision_grows_with_each():
    console = SegmentEntry(
        0, TimelineEntry(CONSOLE_ERROR, CLICK_AT + 0.5, None, {"message": "Error: late"})
    )
    event = event_at(CLICK_AT + 0.012)
    entries = [console, event, SegmentEntry(3, request(CLICK_AT + 1, CLICK_AT + 2))]
    result = window(entries)
    assert [(e["source"], e["ms_after_click"]) for e in result.window["errors"]] == [
        ("event", 12),
        ("console", 500),
    ]
    assert result.cause["detail"] == "TypeError: x is null (thrown 12 ms after the click)"
    revisions = [window(entries[:count]).revision for count in range(4)]
    assert revisions == sorted(set(revisions))  # each entry more: a higher revision
    rng = random.Random(3)
    for _ in range(10):
        rng.shuffle(entries)
        assert window(entries) == result
