"""The detection core against hostile recording messages: ``InvalidSegment`` (the dead-letter
topic) or a detection whose occurrences the issues stage stores, nothing else.

The replays consumer turns ``InvalidSegment`` into a dead letter and carries on; any other
exception is a bug (it is caught too, but logged as one). An occurrence built from hostile fields
must still be one that the issues stage decodes and a database stores: strings bounded by the
columns, no NUL character, a selector of at most ``MAX_SELECTOR_CHARS``.
"""

import zlib

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issues.fingerprints import occurrence_hashes
from issues.occurrence_message import InvalidOccurrence, decode_occurrence
from replays.detection.breadcrumbs import MAX_CLICKS_PER_SEGMENT, MAX_SELECTOR_CHARS
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.detection.errors import InvalidSegment
from replays.detection.ignore import parse_ignore_selectors
from replays.detection.timestamps import MAX_TIMESTAMP, MIN_TIMESTAMP
from tests.hostile.inputs import (
    HOSTILE_CLICK_EVENTS,
    HOSTILE_REPLAY_EVENTS,
    NON_UTF8,
    XSS_PAYLOADS,
    MiB,
    deep_json,
    dumps,
    json_values,
)
from tests.hostile.work_budget import python_lines
from tests.ingest.builders import mutate
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    RECEIVED,
    click_event,
    fixture_messages,
    recording_message,
    recording_payload,
    snapshot_events,
    with_fields,
)

# What the issues stage takes as a click's time (years 2000 to 2200).
REAL_TIME_MIN, REAL_TIME_MAX = MIN_TIMESTAMP, MAX_TIMESTAMP
MESSAGE_FIELDS = (
    *("type", "replay_id", "project_id", "org_id", "key_id", "received", "retention_days"),
    *("payload", "replay_event", "version"),
)
PURE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SETTINGS = DetectionSettings(
    ignore=parse_ignore_selectors("button.ignored, nav > a[href='/x'], #pay, div *")
)


def detect(raw: bytes):
    """The consumer's compute step; ``None`` when the message is a dead letter."""
    try:
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        return detect_clicks(segment, SETTINGS, float(RECEIVED))
    except InvalidSegment:
        return None


def assert_storable(detection) -> None:
    """Every occurrence decodes at the issues stage; only an impossible click time is refused."""
    if detection is None:
        return
    for click in detection.clicks:
        occurrence = click.occurrence.to_dict()
        selector = occurrence["evidence_data"]["selector"]
        assert selector
        assert len(selector) <= MAX_SELECTOR_CHARS
        assert len(occurrence["culprit"]) <= 200
        if not REAL_TIME_MIN <= click.breadcrumb.timestamp < REAL_TIME_MAX:
            with pytest.raises(InvalidOccurrence, match="timestamp"):
                decode_occurrence(dumps(occurrence))
            continue
        record = decode_occurrence(dumps(occurrence))
        assert record.metadata["selector"] == selector
        assert record.tags == occurrence["event"]["tags"]  # bounded already, kept as they are
        assert record.fingerprint_hashes == occurrence_hashes(
            occurrence["type"], occurrence["fingerprint"]
        )


@PURE
@given(
    events=st.lists(HOSTILE_CLICK_EVENTS, max_size=6),
    replay_event=HOSTILE_REPLAY_EVENTS,
    compress=st.booleans(),
)
def test_click_breadcrumbs_with_wrong_types_everywhere(events, replay_event, compress):
    raw = recording_message(
        [*snapshot_events(1), *events], replay_event=replay_event, compress=compress
    )
    assert_storable(detect(raw))


@PURE
@given(events=json_values(30), replay_event=json_values(10))
def test_any_json_as_the_events_or_the_replay_event(events, replay_event):
    # The category marker makes detection parse the events whatever they are.
    body = dumps(events) + b' "ui.slowClickDetected"'
    for recording_events in (dumps(events), body, b"[" + dumps(events) + b',"ui.multiClick"]'):
        raw = recording_message(recording_events, replay_event=dumps(replay_event))
        assert_storable(detect(raw))


@PURE
@given(capture=st.sampled_from(fixture_messages()), data=st.data())
def test_mutated_messages_of_the_sdk_captures(capture, data):
    assert_storable(detect(mutate(capture, data)))


@PURE
@given(capture=st.sampled_from(fixture_messages()), data=st.data())
def test_mutated_recordings_inside_valid_messages(capture, data):
    payload = msgpack.unpackb(capture)["payload"]
    header, _, body = payload.partition(b"\n")
    events = zlib.decompress(body)
    damaged = data.draw(st.sampled_from(["payload", "compressed", "events"]))
    if damaged == "payload":
        payload = mutate(payload, data)
    elif damaged == "compressed":
        payload = header + b"\n" + mutate(body, data)
    else:
        payload = header + b"\n" + zlib.compress(mutate(events, data))
    assert_storable(detect(with_fields(capture, payload=payload)))


@PURE
@given(
    fields=st.dictionaries(
        st.sampled_from(MESSAGE_FIELDS),
        json_values(4) | st.floats() | st.binary(max_size=40) | st.just(...),
        max_size=4,
    )
)
def test_message_fields_of_wrong_types(fields):
    assert_storable(detect(with_fields(fixture_messages()[1], **fields)))


@pytest.mark.parametrize(
    ("name", "events"),
    [
        ("events 100k deep", b"[" + deep_json(100_000) + b',"ui.multiClick"]'),
        ("a click 100k deep", b'[{"type":5,"data":' + deep_json(100_000) + b'"ui.multiClick"]'),
        *((f"non-UTF-8 {junk!r}", b'["ui.multiClick' + junk + b'"]') for junk in NON_UTF8),
        ("NaN", b'[{"type":5,"timestamp":NaN},"ui.multiClick"]'),
        ("a number past double", b'[1e400,"ui.multiClick"]'),
        ("a lone surrogate", b'["\\ud800","ui.multiClick"]'),
    ],
)
def test_recordings_json_cannot_parse_are_invalid_segments(name, events):
    for compress in (True, False):
        segment = decode_segment(recording_message(events, compress=compress), MAX_INFLATED_BYTES)
        with pytest.raises(InvalidSegment):
            detect_clicks(segment, SETTINGS, float(RECEIVED))


@pytest.mark.parametrize(
    "replay_event",
    [deep_json(100_000), b"\xff\xfe{}", b'{"a":' + b"[" * 2000 + b"]" * 2000 + b"}", b"[]", b"1"],
)
def test_a_replay_event_that_cannot_parse_is_an_invalid_segment(replay_event):
    with pytest.raises(InvalidSegment, match="replay_event"):
        decode_segment(recording_message([click_event()], replay_event=replay_event), MiB)


def test_a_huge_replay_event_or_header_line_is_refused_before_it_is_parsed():
    huge = b'{"a":[' + b"{}," * MiB + b"{}]}"
    with pytest.raises(InvalidSegment, match="larger than"):
        decode_segment(recording_message([click_event()], replay_event=huge), MAX_INFLATED_BYTES)
    payload = recording_payload(0, [click_event()]).replace(
        b'{"segment_id":0}', huge[:-1] + b',"segment_id":0}'
    )
    raw = with_fields(recording_message([click_event()]), payload=payload)
    with pytest.raises(InvalidSegment, match="no header line of at most"):
        decode_segment(raw, MAX_INFLATED_BYTES)


def test_a_selector_of_10000_characters_is_truncated_and_groups_as_one_element():
    """The selector is cut at ``MAX_SELECTOR_CHARS`` (the width of the issue's selector
    column); the same long element clicked again, with another tail, is the same issue."""
    long_selector = "body > div.app > " + " > ".join(f"div.level{n}" for n in range(1000))
    assert len(long_selector) >= 10_000
    other_tail = long_selector[:5000] + " > span.other"
    detection = detect(
        recording_message(
            [
                click_event(long_selector, timestamp=1_795_537_770.0),
                click_event(other_tail, timestamp=1_795_537_780.0),
            ]
        )
    )
    first, second = detection.clicks
    assert first.breadcrumb.selector == long_selector[:MAX_SELECTOR_CHARS]
    assert first.occurrence.evidence_data["selector"] == long_selector[:MAX_SELECTOR_CHARS]
    assert first.occurrence.subtitle == long_selector[:MAX_SELECTOR_CHARS]
    assert first.occurrence.fingerprint == second.occurrence.fingerprint
    assert first.occurrence.id != second.occurrence.id
    assert_storable(detection)


def test_a_segment_of_thousands_of_clicks_yields_the_first_few_hundred_occurrences():
    """One small envelope of a repeated click inflated to thousands of breadcrumbs (70,000 fit
    in 490 KB) would publish as many occurrences: the first ``MAX_CLICKS_PER_SEGMENT`` count."""
    events = [click_event(timestamp=1_795_537_770.0 + n / 1000) for n in range(5000)]
    message = recording_message(events)
    detections = []
    # Linear in the segment's events, and a small constant: 38 lines an event today.
    python_lines(lambda: detections.append(detect(message)), budget=100 * len(events))
    detection = detections[0]
    assert len(detection.clicks) == MAX_CLICKS_PER_SEGMENT
    assert [c.breadcrumb.timestamp for c in detection.clicks] == [
        event["data"]["payload"]["timestamp"] for event in events[:MAX_CLICKS_PER_SEGMENT]
    ]


def test_long_text_component_names_and_urls_are_bounded():
    node = {
        "id": 1,
        "tagName": "BUTTON" * 100,
        "textContent": "x" * 100_000,
        "attributes": {f"a{n}": "v" * 10_000 for n in range(1000)}
        | {"data-sentry-component": "C" * 10_000},
    }
    url = "https://shop.example.com/" + "p/" * 50_000
    detection = detect(recording_message([click_event(node=node, url=url, route="/r" * 50_000)]))
    (click,) = detection.clicks
    evidence = click.occurrence.evidence_data
    assert len(evidence["node"]["tagName"]) == 64
    assert len(evidence["node"]["textContent"]) == 256
    assert len(evidence["node"]["attributes"]) == 32
    assert max(len(value) for value in evidence["node"]["attributes"].values()) == 256
    assert len(evidence["url"]) == len(evidence["route"]) == 2048
    assert_storable(detection)


def test_numbers_past_64_bits_are_read_as_absent_or_bounded():
    """orjson reads an integer past 64 bits as a float; every number field is bounded."""
    huge = b"9" * 30
    events = dumps([click_event(click_count=7, time_after_click_ms=7000)])
    for field in (b'"clickCount":7', b'"timeAfterClickMs":7000', b'"id":42'):
        name = field.split(b":")[0]
        detection = detect(recording_message(events.replace(field, name + b":" + huge)))
        (click,) = detection.clicks
        assert click.breadcrumb.click_count <= 10**15
        assert click.breadcrumb.time_after_click_ms <= 10**15
        assert click.breadcrumb.node.id in (42, None)
        assert_storable(detection)


def test_nul_characters_are_dropped_so_the_click_is_stored_not_dead_lettered():
    """PostgreSQL's text and jsonb cannot hold NUL, and the issues stage refuses an occurrence
    that has one: before, one NUL anywhere in a click lost the click (and on PostgreSQL the
    whole segment); now the NULs are dropped and the rest is kept."""
    node = {
        "id": 1,
        "tagName": "but\x00ton",
        "textContent": "P\x00ay",
        "attributes": {"i\x00d": "p\x00ay"},
    }
    replay_event = {
        "replay_id": "0f3c9a1e2b7d4c5e8a6b9d0e1f2a3b4c",
        "release": "shop@\x001",
        "environment": "prod\x00",
        "urls": ["https://shop.example.com/\x00"],
        "user": {"id": "u\x00-1", "email": "\x00@example.com"},
        "request": {"headers": {"User-Agent": "Mozilla/5.0\x00"}},
    }
    raw = recording_message(
        [click_event("body > button#p\x00ay", node=node, url="https://shop.example.com/\x00x")],
        replay_event=replay_event,
    )
    detection = detect(raw)
    (click,) = detection.clicks
    assert "\x00" not in dumps(click.occurrence.to_dict()).decode("unicode_escape")
    assert click.breadcrumb.selector == "body > button#pay"
    assert click.breadcrumb.node.attributes == {"id": "pay"}
    record = decode_occurrence(dumps(click.occurrence.to_dict()))
    assert (record.release, record.environment, record.user_key) == ("shop@1", "prod", "u-1")


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_markup_in_a_click_is_kept_as_text(payload):
    """Detection keeps what the SDK sent, markup included: escaping is the UI's job
    (tests/browser/test_escaping.py proves it)."""
    node = {"id": 1, "tagName": "button", "textContent": payload, "attributes": {"id": payload}}
    detection = detect(recording_message([click_event(f"button#{payload}", node=node)]))
    (click,) = detection.clicks
    assert click.occurrence.evidence_data["node"]["textContent"] == payload
    assert_storable(detection)
