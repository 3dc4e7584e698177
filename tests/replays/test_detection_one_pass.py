"""Detection reads a segment once: the plain clicks that exposure counts come from the same pass
that finds the breadcrumbs and the timeline entries (the full parse when the segment holds a click
or hydration-error breadcrumb, else the scan of its custom events), and both ways agree."""

from collections import Counter

import orjson
import pytest

from replays.detection import breadcrumbs as breadcrumbs_module
from replays.detection.breadcrumbs import (
    CATEGORIES,
    MAX_PARSED_VALUES,
    PageClick,
    find_breadcrumbs,
    scan_custom_events,
    walk_events,
)
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.detection.errors import InvalidSegment
from replays.detection.exposure import _count_parsing_all, count_page_clicks, segment_exposure
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    RECEIVED,
    click_event,
    fixture_messages,
    hydrate_error_event,
    scenario_messages,
)
from tests.replays.test_detection_exposure import ui_click


def all_segments():
    messages = [
        *fixture_messages(),
        *(
            m
            for name in ("failing", "pending", "disabled", "error")
            for m in scenario_messages(name)
        ),
    ]
    return [decode_segment(raw, MAX_INFLATED_BYTES) for raw in messages]


def test_the_scan_reads_the_plain_clicks_and_their_pages_as_the_full_parse_does():
    compared = 0
    for segment in all_segments():
        parsed = orjson.loads(segment.events)
        scanned = scan_custom_events(segment.events)
        assert scanned is not None  # the SDK's output is read in place
        assert scanned.page_clicks == walk_events(parsed).page_clicks
        forced = orjson.dumps([*parsed, hydrate_error_event()])  # parsed whole
        assert find_breadcrumbs(forced).page_clicks == scanned.page_clicks
        compared += len(scanned.page_clicks)
    assert compared >= 9  # the capture's nine ui.click breadcrumbs, and the scenarios'


def test_detection_counts_exposure_from_its_own_pass(monkeypatch):
    """A segment with plain clicks and no click or hydration-error breadcrumb is never parsed
    whole, and its exposure is what a separate reading of the segment gives."""
    loads = []
    real_loads = orjson.loads
    monkeypatch.setattr(
        breadcrumbs_module.orjson,
        "loads",
        lambda value: loads.append(len(value)) or real_loads(value),
    )
    counted = 0
    for segment in all_segments():
        loads.clear()
        detection = detect_clicks(segment, DetectionSettings(), float(RECEIVED))
        if not any(category.encode() in segment.events for category in CATEGORIES):
            assert max(loads, default=0) < len(segment.events)
        assert detection.exposure == segment_exposure(segment.replay_event, segment.events)
        counted += sum(detection.exposure.clicks.values())
    assert counted >= 9


def test_pages_follow_meta_events_and_navigations_in_the_scan():
    meta_a = {"type": 4, "data": {"href": "https://shop.example/a"}, "timestamp": 0}
    meta_blank = {"type": 4, "data": {"href": ""}, "timestamp": 0}
    meta_c = {"type": 4, "data": {"href": "https://shop.example/c"}, "timestamp": 0}
    navigation = {
        "type": 5,
        "timestamp": 0,
        "data": {"tag": "breadcrumb", "payload": {"category": "navigation", "data": {"to": "/b"}}},
    }
    empty_navigation = {
        "type": 5,
        "timestamp": 0,
        "data": {"tag": "breadcrumb", "payload": {"category": "navigation", "data": {}}},
    }
    click = ui_click("body > button.go", {"class": "go"})
    events = [click, meta_a, click, navigation, meta_blank, click, empty_navigation, click]
    events += [meta_c, click]
    raw = orjson.dumps(events)
    scanned = scan_custom_events(raw)
    assert scanned is not None
    assert [found.page for found in scanned.page_clicks] == [
        None,
        "https://shop.example/a",
        "/b",
        "/b",
        "https://shop.example/c",
    ]
    assert scanned.page_clicks == walk_events(events).page_clicks
    assert count_page_clicks(scanned.page_clicks, "https://x/") == _count_parsing_all(
        raw, "https://x/"
    )


def test_a_plain_click_the_scan_cannot_read_makes_the_segment_parsed_whole():
    click = ui_click("body > button.go", {"class": "go"})
    spaced = orjson.dumps([click], option=orjson.OPT_INDENT_2)
    assert scan_custom_events(spaced) is None
    (found,) = find_breadcrumbs(spaced).page_clicks
    assert isinstance(found, PageClick)
    assert found.page is None
    # Truncated: the scan cannot read it, nor can the full parse; no click counts, no error.
    truncated = orjson.dumps([click])[:-20]
    assert scan_custom_events(truncated) is None
    assert find_breadcrumbs(truncated).page_clicks == ()
    # A "ui.click" string outside any custom event (a text node): parsed whole, counted alike.
    text = {"type": 3, "data": {"text": "ui.click"}}
    mixed = orjson.dumps([click, text, click])
    assert scan_custom_events(mixed) is None
    assert len(find_breadcrumbs(mixed).page_clicks) == 2
    assert Counter(count_page_clicks(find_breadcrumbs(mixed).page_clicks, None)) == (
        _count_parsing_all(mixed, None)
    )


def _counting_loads(monkeypatch) -> list[int]:
    loads: list[int] = []
    real_loads = orjson.loads
    monkeypatch.setattr(
        breadcrumbs_module.orjson,
        "loads",
        lambda value: loads.append(len(value)) or real_loads(value),
    )
    return loads


def test_segments_with_clicks_and_hydration_errors_are_read_without_a_full_parse(monkeypatch):
    """Issues 16 and 17: the SDK's segments with a click or hydration-error breadcrumb are read
    one custom event at a time, and give what the full parse gives (clicks, hydration errors and
    their pages, timeline entries, plain clicks)."""
    loads = _counting_loads(monkeypatch)
    compared = 0
    for segment in all_segments():
        parsed = orjson.loads(segment.events)
        forced = orjson.dumps([*parsed, hydrate_error_event()])
        for events in (segment.events, forced):
            loads.clear()
            found = find_breadcrumbs(events)
            assert max(loads, default=0) < len(events)
            assert found == walk_events(orjson.loads(events))
            compared += len(found.clicks) + len(found.hydration_errors)
    assert compared >= 20


def test_a_category_the_scan_cannot_read_is_parsed_whole_up_to_a_bound(monkeypatch):
    """A click category outside any custom event the scan reads (a text node, another writer's
    spacing) makes the segment parsed whole, as before; past ``MAX_PARSED_VALUES`` JSON values
    (an array of millions of empty objects costs a GiB as Python objects), it is not, and what
    the scan read is what it holds."""
    loads = _counting_loads(monkeypatch)
    click = orjson.loads(orjson.dumps(click_event(category="ui.multiClick")))
    spaced = orjson.dumps([click], option=orjson.OPT_INDENT_2)
    assert scan_custom_events(spaced) is None
    assert find_breadcrumbs(spaced) == walk_events([click])
    assert len(find_breadcrumbs(spaced).clicks) == 1

    stray = b'{"text":"ui.slowClickDetected"}'
    small = b"[" + orjson.dumps(click) + b"," + b"{}," * 1000 + stray + b"]"
    loads.clear()
    assert len(find_breadcrumbs(small).clicks) == 1
    assert max(loads) == len(small)  # parsed whole

    huge = b"[" + orjson.dumps(click) + b"," + b"{}," * MAX_PARSED_VALUES + stray + b"]"
    parsed: list[type] = []
    real_loads = orjson.loads
    monkeypatch.setattr(
        breadcrumbs_module.orjson,
        "loads",
        lambda value: parsed.append(type(result := real_loads(value))) or result,
    )
    assert len(find_breadcrumbs(huge).clicks) == 1
    assert parsed == [dict]  # the click's event alone, never the array


def test_a_truncated_segment_with_a_click_is_still_invalid():
    click = orjson.dumps([click_event()])
    with pytest.raises(InvalidSegment, match="not valid JSON"):
        find_breadcrumbs(click[:-1])
