"""One segment through every detection step: the SDK's captured replay, built segments, garbage."""

import zlib

import msgpack
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sentry_kafka_schemas import get_codec

from replays.detection.breadcrumbs import SLOW_CLICK, find_click_breadcrumbs, fold_element_names
from replays.detection.classify import ClickType, Thresholds
from replays.detection.detect import Detection, DetectionSettings, decode_segment, detect_clicks
from replays.detection.element_identity import element_identity
from replays.detection.errors import InvalidSegment
from replays.detection.fingerprint import fingerprint, legacy_entry, legacy_parts, normalize_path
from replays.detection.ignore import parse_ignore_selectors
from replays.detection.occurrence import TYPES_BY_ID, occurrence_id
from replays.detection.replay_event import (
    parse_replay_event,
    replay_event_from_dict,
    replay_event_to_dict,
)
from replays.detection.user_agent import parse_user_agent
from tests.ingest.builders import mutate, replay_parts
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    REPLAY_ID,
    MiB,
    captured_click,
    click_event,
    decompression_bomb,
    fixture_message,
    fixture_messages,
    recording_message,
    snapshot_events,
    with_fields,
)
from tests.sdk_fixtures import replay_requests

occurrence_codec = get_codec("ingest-occurrences")
NOW = 1_800_000_000.0
DEAD, RAGE, SLOW = ClickType.DEAD, ClickType.RAGE, ClickType.SLOW


def detect(raw: bytes, detection_settings: DetectionSettings | None = None) -> Detection:
    segment = decode_segment(raw, MAX_INFLATED_BYTES)
    return detect_clicks(segment, detection_settings or DetectionSettings(), NOW)


def summary(detection: Detection) -> list[tuple[ClickType, str, str]]:
    return [
        (TYPES_BY_ID[o.type], o.evidence_data["selector"], legacy_parts(o.fingerprint[1])[2])
        for o in detection.occurrences
    ]


def test_the_captured_replay_yields_what_the_sdk_saw():
    """The capture's script: a dead click, a rage click, a slow click, a multi-click, then two
    dead clicks on the cart page (segments 0 and 5 hold none)."""
    by_segment = {}
    for raw in fixture_messages():
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        assert segment.replay_id == "40196c4efd834eedaa8e1947c813b364"
        by_segment[segment.segment_id] = detect_clicks(segment, DetectionSettings(), NOW)
    assert sorted(by_segment) == list(range(7))
    assert {s: summary(d) for s, d in by_segment.items()} == {
        0: [],
        1: [(DEAD, "body > button#buy.btn.primary", "/index.html")],
        2: [(RAGE, "body > button#buy.btn.primary", "/index.html")],
        3: [(SLOW, "body > button#slowok.btn", "/index.html")],
        4: [],
        5: [],
        6: [
            (DEAD, "body > nav > a#cart", "/cart"),
            (DEAD, 'body > input#submit[type="submit"]', "/cart"),
        ],
    }
    assert {s: d.multi_clicks for s, d in by_segment.items()} == {
        0: 0,
        1: 0,
        2: 0,
        3: 0,
        4: 1,
        5: 0,
        6: 0,
    }
    assert by_segment[4].clicks == ()
    occurrences = [o for d in by_segment.values() for o in d.occurrences]
    assert len({o.id for o in occurrences}) == len(occurrences) == 5
    for o in occurrences:
        decoded = occurrence_codec.decode(orjson.dumps(o.to_dict()), validate=True)
        assert decoded["id"] == o.id
        event = o.event
        assert event["contexts"]["browser"]["name"] == "Chrome"
        assert event["contexts"]["os"]["name"] == "Linux"
        assert event["user"]["id"] == "u-77"
        assert event["release"] == "shop@1.4.2"
        assert event["environment"] == "staging"
        assert event["tags"]["browser.name"] == "Chrome"
        assert o.project_id == 42
        assert o.detection_time == NOW


@pytest.mark.parametrize("sdk_request", replay_requests(), ids=lambda r: r.name)
def test_every_captured_segment_is_detected_from_its_own_fields(sdk_request):
    """Written from the capture's own fields, so a new SDK version's capture is checked too."""
    envelope_headers, replay_event, recording = replay_parts(sdk_request)
    segment = decode_segment(fixture_message(sdk_request), MAX_INFLATED_BYTES)
    assert segment.segment_id == replay_event["segment_id"]
    assert segment.replay_id == replay_event["replay_id"].replace("-", "")
    assert segment.replay_id == envelope_headers["event_id"].replace("-", "")
    assert segment.stored_recording == recording.partition(b"\n")[2]
    detection = detect_clicks(segment, DetectionSettings(), NOW)
    slow_clicks = [b for b in find_click_breadcrumbs(segment.events) if b.category == SLOW_CLICK]
    assert len(detection.clicks) == len(
        [b for b in slow_clicks if b.time_after_click_ms >= Thresholds().slow_click_ms]
    )
    assert len(detection.occurrences) == len(detection.clicks)  # everything enabled, rate 1
    user_agent = sdk_request.headers.get("User-Agent") or sdk_request.headers.get("user-agent")
    client = parse_user_agent(user_agent)
    for click in detection.clicks:
        o = click.occurrence
        occurrence_codec.decode(orjson.dumps(o.to_dict()), validate=True)
        url = click.breadcrumb.url or segment.replay_event.request_url
        page = click.breadcrumb.route or normalize_path(url)
        element = fold_element_names(click.breadcrumb.selector)
        assert element == click.breadcrumb.selector  # the SDK's tags are lower-case already
        assert o.fingerprint == [
            fingerprint(
                click.click_type,
                element_identity(click.breadcrumb.node, click.breadcrumb.selector),
                element,
                click.breadcrumb.route,
                url,
            )[0],
            legacy_entry([click.click_type.value, element, page]),
        ]
        assert not {"?", "#", ":"} & set(page)
        assert o.event["contexts"]["browser"]["name"] == client.browser
        assert o.event["contexts"]["os"]["name"] == client.os
        assert o.event["release"] == replay_event.get("release")
        assert o.event["environment"] == replay_event.get("environment")
        assert o.event["user"].get("id") == replay_event.get("user", {}).get("id")
        assert o.resource_id == segment.replay_id


def test_a_redelivered_segment_yields_the_same_occurrences():
    for raw in fixture_messages():
        first, again = detect(raw), detect(raw)
        assert [o.to_dict() for o in first.occurrences] == [o.to_dict() for o in again.occurrences]


def as_plain(raw: bytes) -> bytes:
    """The same message, its recording body sent as plain JSON (the SDK's compression off)."""
    message = msgpack.unpackb(raw)
    header, _, body = message["payload"].partition(b"\n")
    message["payload"] = header + b"\n" + zlib.decompress(body)
    return msgpack.packb(message, use_bin_type=True)


def test_a_plain_json_recording_gives_the_same_detection_as_the_zlib_one():
    for raw in fixture_messages():
        plain = as_plain(raw)
        segment = decode_segment(plain, MAX_INFLATED_BYTES)
        assert not segment.recording.compressed
        assert segment.events == decode_segment(raw, MAX_INFLATED_BYTES).events
        assert zlib.decompress(segment.stored_recording) == segment.events
        assert detect(plain) == detect(raw)


def test_a_built_segment_compressed_or_plain():
    events = [*snapshot_events(), click_event(), click_event("a#x", click_count=7, timestamp=2e9)]
    for compress in (True, False):
        detection = detect(recording_message(events, compress=compress, segment_id=9))
        assert summary(detection) == [
            (DEAD, "body > main > button#pay.btn", "/checkout"),
            (RAGE, "a#x", "/checkout"),
        ]
        assert detection.count(DEAD) == detection.count(RAGE) == 1
        assert detection.count(SLOW) == 0
        assert all(o.evidence_data["segment_id"] == 9 for o in detection.occurrences)


def test_a_missing_url_falls_back_to_the_replay_events_request_url():
    event = {
        "replay_id": REPLAY_ID,
        "segment_id": 0,
        "request": {"url": "https://x.example/o/55?a=1"},
    }
    detection = detect(recording_message([click_event(url=None)], replay_event=event))
    [o] = detection.occurrences
    assert legacy_parts(o.fingerprint[1])[2] == "/o/{id}"
    assert o.evidence_data["url"] == "https://x.example/o/55?a=1"
    detection = detect(recording_message([click_event(url="/cart?x=1")], replay_event=event))
    assert legacy_parts(detection.occurrences[0].fingerprint[1])[2] == "/cart"
    detection = detect(recording_message([click_event(url=None)], replay_event=None))
    assert legacy_parts(detection.occurrences[0].fingerprint[1])[2] == "/"
    occurrence_codec.decode(orjson.dumps(detection.occurrences[0].to_dict()), validate=True)


def test_a_component_in_the_selector_is_shown_verbatim_and_grouped_as_before():
    """The SDK writes a React component in place of its element (``div.xyz > SmartSearchBar``).
    It is shown as written; the fingerprint and the occurrence id fold it as they always did
    (selectors were stored with every element name lowered), so existing issues do not split."""
    event = captured_click()
    payload = event["data"]["payload"]
    payload["message"] = "body > div.xyz > SmartSearchBar"
    payload["data"]["node"]["attributes"]["data-sentry-component"] = "SmartSearchBar"
    [o] = detect(recording_message([event], segment_id=3)).occurrences
    assert o.evidence_data["selector"] == "body > div.xyz > SmartSearchBar"
    assert o.subtitle == "body > div.xyz > SmartSearchBar"
    assert o.evidence_display[0]["value"] == "body > div.xyz > SmartSearchBar"
    assert legacy_parts(o.fingerprint[1]) == [
        DEAD.value,
        "body > div.xyz > smartsearchbar",
        "/index.html",
    ]
    # Version 2 keeps the component's name as written.
    assert 'component="SmartSearchBar"' in o.fingerprint[0]
    assert o.id == occurrence_id(
        REPLAY_ID, 3, payload["timestamp"], "body > div.xyz > smartsearchbar"
    )
    payload["message"] = "BODY > DIV.xyz > SmartSearchBar"
    [same] = detect(recording_message([event], segment_id=3)).occurrences
    assert same == o


def test_a_breadcrumb_time_in_milliseconds_gives_the_captures_occurrence():
    """A producer that writes the breadcrumb's time in ms: the rrweb event's time is taken, so
    the occurrence (id, times) is the one of the SDK's own click, which the issues stage takes."""
    event = captured_click()
    [expected] = detect(recording_message([event], segment_id=1)).occurrences
    event["data"]["payload"]["timestamp"] = event["timestamp"]
    [o] = detect(recording_message([event], segment_id=1)).occurrences
    assert o == expected
    assert o.evidence_data["timestamp"] == o.event["timestamp"] == 1_795_537_770.184


def test_disabled_types_are_counted_but_not_published():
    events = [
        click_event("a#dead"),
        click_event("a#rage", click_count=5, timestamp=2e9),
        click_event("a#slow", time_after_click_ms=4000, end_reason="mutation", timestamp=2e9 + 1),
    ]
    raw = recording_message(events)
    only_slow = detect(raw, DetectionSettings(enabled=frozenset({SLOW})))
    assert [c.click_type for c in only_slow.clicks] == [DEAD, RAGE, SLOW]
    assert [c.enabled for c in only_slow.clicks] == [False, False, True]
    assert summary(only_slow) == [(SLOW, "a#slow", "/checkout")]
    assert only_slow.count(DEAD) == 1
    nothing = detect(raw, DetectionSettings(enabled=frozenset()))
    assert len(nothing.clicks) == 3
    assert nothing.occurrences == []


def test_sample_rates_zero_and_one():
    events = [click_event(f"a#n{i}", timestamp=2e9 + i) for i in range(20)]
    raw = recording_message(events)
    never = detect(raw, DetectionSettings(sample_rates={DEAD: 0.0}))
    assert len(never.clicks) == 20
    assert never.occurrences == []
    assert not any(c.sampled for c in never.clicks)
    always = detect(raw, DetectionSettings(sample_rates={DEAD: 1.0, RAGE: 0.0}))
    assert len(always.occurrences) == 20
    half = detect(raw, DetectionSettings(sample_rates={DEAD: 0.5}))
    assert half == detect(raw, DetectionSettings(sample_rates={DEAD: 0.5}))
    assert 0 < len(half.occurrences) < 20


def test_ignored_clicks_are_counted_but_not_published():
    by_segment = {}
    rules = parse_ignore_selectors('[data-testid="buy-button"]\nnav > a')
    for raw in fixture_messages():
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        by_segment[segment.segment_id] = detect_clicks(
            segment, DetectionSettings(ignore=rules), NOW
        )
    assert [c.ignored for c in by_segment[1].clicks] == [True]
    assert [c.ignored for c in by_segment[2].clicks] == [True]
    assert [c.ignored for c in by_segment[3].clicks] == [False]
    assert [c.ignored for c in by_segment[6].clicks] == [True, False]
    published = [o.evidence_data["selector"] for d in by_segment.values() for o in d.occurrences]
    assert published == ["body > button#slowok.btn", 'body > input#submit[type="submit"]']


def test_custom_thresholds_reclassify_the_capture():
    strict = DetectionSettings(thresholds=Thresholds(rage_click_count=1, slow_click_ms=5000))
    types = [
        TYPES_BY_ID[o.type] for raw in fixture_messages() for o in detect(raw, strict).occurrences
    ]
    assert types == [RAGE, RAGE, RAGE, RAGE]  # the 4.5 s slow click is no longer late enough


def test_replay_ids_with_dashes_or_upper_case_are_normalized():
    dashed = "0F3C9A1E-2B7D-4C5E-8A6B-9D0E1F2A3B4C"
    segment = decode_segment(recording_message([], replay_id=dashed), MAX_INFLATED_BYTES)
    assert segment.replay_id == REPLAY_ID


@pytest.mark.parametrize("replay_id", ["", "not-a-uuid", "g" * 32, "0" * 31, "0" * 33])
def test_a_replay_id_that_is_not_a_uuid_is_invalid(replay_id):
    with pytest.raises(InvalidSegment, match="replay_id"):
        decode_segment(recording_message([], replay_id=replay_id), MAX_INFLATED_BYTES)


@pytest.mark.parametrize("kind", ["zeros", "json"])
def test_decode_segment_refuses_a_decompression_bomb(kind):
    payload = b'{"segment_id":0}\n' + decompression_bomb(kind)
    raw = with_fields(recording_message([]), payload=payload)
    assert len(raw) < MiB
    with pytest.raises(InvalidSegment, match="inflates past"):
        decode_segment(raw, MAX_INFLATED_BYTES)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b'{"segment_id":0}' + zlib.compress(b"[]"), "no header line"),
        (b"segment 0\n" + zlib.compress(b"[]"), "header line is not JSON"),
        (b'{"segment_id":0}\n' + zlib.compress(b"[]" * 1000)[:-9], "truncated"),
        (b'{"segment_id":0}\nx\x9c' + b"\xff" * 40, "corrupt"),
        (b'{"segment_id":0}\n{}', "neither zlib nor a JSON array"),
    ],
)
def test_decode_segment_refuses_a_broken_recording(payload, error):
    with pytest.raises(InvalidSegment, match=error):
        decode_segment(with_fields(recording_message([]), payload=payload), MAX_INFLATED_BYTES)


@pytest.mark.parametrize(
    "raw", [b"", b"\xc1", b"garbage", msgpack.packb({"type": "replay_recording_not_chunked"})]
)
def test_decode_segment_refuses_what_is_not_a_recording_message(raw):
    with pytest.raises(InvalidSegment):
        decode_segment(raw, MAX_INFLATED_BYTES)


def test_broken_events_with_a_click_are_invalid_at_detection():
    raw = recording_message(b'[{"category":"ui.slowClickDetected"', compress=True)
    segment = decode_segment(raw, MAX_INFLATED_BYTES)
    with pytest.raises(InvalidSegment, match="not valid JSON"):
        detect_clicks(segment, DetectionSettings(), NOW)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode_or_invalid(raw: bytes) -> None:
    """Decode and detect: the result, or InvalidSegment; any other exception fails the test."""
    try:
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        detect_clicks(segment, DetectionSettings(), NOW)
    except InvalidSegment:
        pass


@FUZZ
@given(st.binary(max_size=2000))
def test_decode_segment_on_arbitrary_bytes(raw):
    decode_or_invalid(raw)


@FUZZ
@given(st.sampled_from(range(len(replay_requests()))), st.data())
def test_decode_segment_on_mutated_messages(index, data):
    decode_or_invalid(mutate(fixture_messages()[index], data))


@FUZZ
@given(
    st.sampled_from(range(len(replay_requests()))),
    st.sampled_from(["payload", "replay_event"]),
    st.booleans(),
    st.data(),
)
def test_decode_segment_on_messages_with_a_mutated_recording_or_replay_event(
    index, field, inflated, data
):
    """Mutations inside a well-formed message reach the recording and replay_event parsers."""
    message = msgpack.unpackb(fixture_messages()[index])
    value = message[field]
    if field == "payload" and inflated:
        header, _, body = value.partition(b"\n")
        value = header + b"\n" + zlib.decompress(body)
    message[field] = mutate(value, data)
    decode_or_invalid(msgpack.packb(message, use_bin_type=True))


def test_a_replay_event_kept_as_json_reads_back_the_same():
    for sdk_request in replay_requests():
        message = fixture_message(sdk_request)
        event = decode_segment(message, MAX_INFLATED_BYTES).replay_event
        stored = orjson.loads(orjson.dumps(replay_event_to_dict(event)))
        assert replay_event_from_dict(stored) == event
    assert replay_event_from_dict({"release": "r", "no-longer-known": 1}) == parse_replay_event(
        b'{"release": "r"}'
    )
