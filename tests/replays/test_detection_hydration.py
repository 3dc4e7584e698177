"""Hydration errors: the SDK's ``replay.hydrate-error`` breadcrumbs become
``replay_hydration_error`` occurrences (type 5003), one issue per page; from the real capture and
variants of it."""

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sentry_kafka_schemas import get_codec

from issues.grouptypes import HYDRATION_ERROR
from issues.occurrence_message import decode_occurrence
from replays.detection import breadcrumbs as breadcrumbs_module
from replays.detection.breadcrumbs import (
    MAX_HYDRATION_ERRORS_PER_SEGMENT,
    find_breadcrumbs,
    may_have_breadcrumbs,
)
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from tests.replays.messages import (
    BASE_SECONDS,
    MAX_INFLATED_BYTES,
    click_event,
    fixture_replay_event,
    hydrate_error_event,
    recording_message,
    scenario_messages,
    snapshot_events,
)

NOW = 1_795_537_900.0
codec = get_codec("ingest-occurrences")


def detect(raw: bytes, detection_settings: DetectionSettings | None = None):
    segment = decode_segment(raw, MAX_INFLATED_BYTES)
    return detect_clicks(segment, detection_settings or DetectionSettings(), NOW)


def hydration_occurrences(raw: bytes, detection_settings: DetectionSettings | None = None):
    return [
        o for o in detect(raw, detection_settings).occurrences if o.type == HYDRATION_ERROR.type_id
    ]


def test_the_capture_gives_one_occurrence_per_hydration_error_grouped_by_page():
    by_segment = [detect(raw) for raw in scenario_messages("hydrate")]
    assert [len(d.hydration_errors) for d in by_segment] == [1, 2, 0]
    occurrences = [
        o for d in by_segment for o in d.occurrences if o.type == HYDRATION_ERROR.type_id
    ]
    assert [o.fingerprint for o in occurrences] == [
        ["replay_hydration_error", "/index.html"],
        ["replay_hydration_error", "/cart"],
        ["replay_hydration_error", "/cart"],
    ]
    first = occurrences[0]
    assert first.type == 5003
    assert first.issue_title == "Hydration Error" == HYDRATION_ERROR.title
    assert first.level == HYDRATION_ERROR.default_level
    assert first.subtitle == first.culprit == "/index.html"
    assert first.resource_id == "90e1eddb40b641899ece15447de2fb5a"
    evidence = first.evidence_data
    assert evidence["url"] == "http://127.0.0.1:18766/index.html"
    assert (evidence["replay_id"], evidence["segment_id"]) == (first.resource_id, 0)
    assert evidence["timestamp"] == 1796141634.518  # the breadcrumb's own time
    assert "selector" not in evidence
    assert first.evidence_display[0] == {"name": "Page", "value": "/index.html", "important": True}
    event = first.event
    assert (event["release"], event["environment"]) == ("shop@1.4.2", "staging")
    assert event["user"]["id"] == "u-77"
    assert event["timestamp"] == 1796141634.518
    assert event["request"]["url"] == "http://127.0.0.1:18766/index.html"
    assert event["tags"]["url"] == "http://127.0.0.1:18766/index.html"
    assert event["contexts"]["replay"]["replay_id"] == first.resource_id
    # Each is a valid ingest-occurrences message, with an id of its own.
    for occurrence in occurrences:
        codec.validate(occurrence.to_dict())
    assert len({o.id for o in occurrences}) == 3
    # The clicks of the capture are still found beside them: a dead click on each page.
    clicks = [c.click_type.value for d in by_segment for c in d.clicks]
    assert clicks == ["replay_dead_click", "replay_dead_click"]


def test_the_issues_stage_reads_the_occurrence_as_a_hydration_error_without_an_element():
    [raw, *_] = scenario_messages("hydrate")
    [occurrence] = hydration_occurrences(raw)
    record = decode_occurrence(orjson.dumps(occurrence.to_dict()))
    assert record.issue_type == "replay_hydration_error"
    assert record.metadata["selector"] == ""
    assert record.url == "http://127.0.0.1:18766/index.html"
    assert record.replay_id.hex == "90e1eddb40b641899ece15447de2fb5a"
    assert (record.release, record.environment, record.user_key) != ("", "", "")


def test_the_same_segment_gives_the_same_occurrences():
    raw = scenario_messages("hydrate")[1]
    assert hydration_occurrences(raw) == hydration_occurrences(raw)


def test_ids_in_the_url_are_folded_and_the_route_wins():
    events = [
        hydrate_error_event(
            "https://shop.example.com/orders/1234/items/9f1c2b3a-1d2e-4f50-8a9b-0c1d2e3f4a5b?x=1#y"
        ),
        hydrate_error_event(
            timestamp=BASE_SECONDS + 1,
            data={"url": "https://shop.example.com/orders/99", "route": "/orders/:id"},
        ),
    ]
    first, second = hydration_occurrences(recording_message(events))
    assert first.fingerprint == ["replay_hydration_error", "/orders/{id}/items/{uuid}"]
    assert first.evidence_data["url"].startswith("https://shop.example.com/orders/1234/")
    assert second.fingerprint == ["replay_hydration_error", "/orders/:id"]
    assert second.evidence_data["route"] == "/orders/:id"


def test_sdk_7_without_data_takes_the_page_the_replay_was_on():
    meta = {"type": 4, "timestamp": 1, "data": {"href": "https://shop.example.com/products/77"}}
    navigation = {
        "type": 5,
        "timestamp": 2,
        "data": {
            "tag": "breadcrumb",
            "payload": {"category": "navigation", "data": {"from": "/products/77", "to": "/cart"}},
        },
    }
    span = {
        "type": 5,
        "timestamp": 3,
        "data": {
            "tag": "performanceSpan",
            "payload": {"op": "navigation.push", "description": "https://shop.example.com/a/5"},
        },
    }
    no_data = hydrate_error_event(data=None)
    pages = [
        [o.evidence_data["url"] for o in hydration_occurrences(recording_message(events))]
        for events in (
            [meta, no_data],
            [meta, navigation, no_data],
            [meta, span, no_data],
            [no_data, meta],  # nothing before it in the segment: the replay_event's page
        )
    ]
    replay_event_url = fixture_replay_event()["request"]["url"]
    assert pages == [
        ["https://shop.example.com/products/77"],
        ["https://shop.example.com/cart"],
        ["https://shop.example.com/a/5"],
        [replay_event_url],
    ]
    [occurrence] = hydration_occurrences(recording_message([meta, navigation, no_data]))
    assert occurrence.fingerprint == ["replay_hydration_error", "/cart"]


def test_disabled_or_sampled_out_hydration_errors_still_count_on_the_replay():
    raw = scenario_messages("hydrate")[1]
    off = DetectionSettings(enabled=frozenset({"replay_dead_click"}))
    sampled_out = DetectionSettings(sample_rates={"replay_hydration_error": 0.0})
    for detection_settings in (off, sampled_out):
        detection = detect(raw, detection_settings)
        assert len(detection.hydration_errors) == 2
        assert hydration_occurrences(raw, detection_settings) == []
    # Turning hydration errors off leaves the clicks alone, and the other way round.
    assert [o.type for o in detect(raw, off).occurrences] == [5001]
    clicks_off = DetectionSettings(enabled=frozenset({"replay_hydration_error"}))
    assert [o.type for o in detect(raw, clicks_off).occurrences] == [5003, 5003]


def test_the_byte_search_finds_the_hydrate_category_and_nothing_else_is_parsed(monkeypatch):
    assert may_have_breadcrumbs(b'[{"data":{"payload":{"category":"replay.hydrate-error"}}}]')
    assert not may_have_breadcrumbs(b'[{"data":{"payload":{"category":"replay.hydrate"}}}]')
    with_hydrate = orjson.dumps([*snapshot_events(plain_click=False), hydrate_error_event()])

    def refuse(*_args, **_kwargs):
        raise AssertionError("orjson.loads called")

    monkeypatch.setattr(breadcrumbs_module.orjson, "loads", refuse)
    assert (
        find_breadcrumbs(orjson.dumps(snapshot_events(500, plain_click=False))).hydration_errors
        == ()
    )
    with pytest.raises(AssertionError, match=r"orjson\.loads called"):
        find_breadcrumbs(with_hydrate)


HOSTILE_DATA = [
    [],
    "https://shop.example.com/x",
    {"url": 12},
    {"url": ["https://a.example/"]},
    {"url": None, "route": {"x": 1}},
    {"url": "https://shop.example.com/\u0000/admin" + "/9" * 5000},
    {"url": "javascript:alert(1)"},
    {"url": "http://[::1/broken"},
    {"url": "   "},
]


@pytest.mark.parametrize("data", HOSTILE_DATA)
def test_hostile_data_never_breaks_detection(data):
    events = [*snapshot_events(), hydrate_error_event(data=data)]
    [occurrence] = hydration_occurrences(recording_message(events))
    codec.validate(occurrence.to_dict())
    assert "\x00" not in orjson.dumps(occurrence.to_dict()).decode()
    assert len(occurrence.fingerprint[1]) <= 2048
    decode_occurrence(orjson.dumps(occurrence.to_dict()))


def test_hostile_breadcrumbs_are_skipped_or_bounded():
    odd = [
        {
            "type": 5,
            "data": {"tag": "breadcrumb", "payload": {"category": ["replay.hydrate-error"]}},
        },
        {"type": 5, "data": {"tag": "breadcrumb", "payload": "replay.hydrate-error"}},
        {"type": 5, "data": {"tag": "performanceSpan", "payload": {"op": ["navigation.x"]}}},
        {"type": 4, "data": {"href": ["x"]}},
        {"type": 4, "data": "replay.hydrate-error"},
    ]
    assert hydration_occurrences(recording_message(odd)) == []
    flood = [hydrate_error_event(timestamp=BASE_SECONDS + i) for i in range(1000)]
    found = find_breadcrumbs(orjson.dumps(flood))
    assert len(found.hydration_errors) == MAX_HYDRATION_ERRORS_PER_SEGMENT
    # A breadcrumb time in milliseconds falls back to the rrweb event's.
    millis = hydrate_error_event()
    millis["data"]["payload"]["timestamp"] = BASE_SECONDS * 1000
    [occurrence] = hydration_occurrences(recording_message([millis]))
    assert occurrence.evidence_data["timestamp"] == BASE_SECONDS


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    data=st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    ),
    before=st.lists(
        st.fixed_dictionaries(
            {"type": st.integers(0, 6), "data": st.dictionaries(st.text(), st.text())}
        ),
        max_size=3,
    ),
)
def test_any_data_gives_a_valid_occurrence(data, before):
    events = [*before, hydrate_error_event(data=data), click_event()]
    raw = recording_message(orjson.dumps(events))
    for occurrence in detect(raw).occurrences:
        codec.validate(occurrence.to_dict())
        decode_occurrence(orjson.dumps(occurrence.to_dict()))
