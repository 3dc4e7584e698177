"""Tags: the app's (``Sentry.setTag``, ``transaction``) from the replay_event, and ours, bounded as
Sentry bounds them, on every occurrence of the segment."""

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sentry_kafka_schemas import get_codec

from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.detection.replay_event import parse_replay_event
from replays.detection.tags import (
    MAX_TAG_KEY_CHARS,
    MAX_TAG_VALUE_CHARS,
    MAX_TAGS,
    bounded_tags,
    merged_tags,
    tag_key,
    tag_value,
)
from tests.hostile.inputs import json_values
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    captured_click,
    fixture_messages,
    fixture_replay_event,
    recording_message,
)

occurrence_codec = get_codec("ingest-occurrences")
APP_TAGS = {"plan": "pro", "ab.checkout": "variant-b", "tenant:id": "4417", "beta_user": "yes"}


def replay_event_with(**fields) -> dict:
    """The capture's replay_event (which has no tags: the test page set none), with ``fields``."""
    return {**fixture_replay_event(3), **fields}


def tags_of(**fields) -> dict[str, str]:
    return parse_replay_event(orjson.dumps(replay_event_with(**fields))).tags


def test_the_captures_replay_events_have_no_tags_and_keep_the_occurrences_tags_as_they_were():
    for raw in fixture_messages():
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        assert segment.replay_event.tags == {}
        for occurrence in detect_clicks(segment, DetectionSettings(), 0.0).occurrences:
            assert list(occurrence.event["tags"]) == [
                "replayId",
                "url",
                "environment",
                "release",
                "browser.name",
                "os.name",
            ]


def test_the_apps_tags_and_transaction_are_read_from_the_replay_event():
    tags = tags_of(tags=APP_TAGS, transaction="/checkout/:step")
    assert tags == {"transaction": "/checkout/:step", **APP_TAGS}
    assert tags_of(tags=APP_TAGS) == APP_TAGS
    assert tags_of(transaction="/cart") == {"transaction": "/cart"}
    # The event's own transaction is the page's: it wins over a tag of that name.
    assert tags_of(tags={"transaction": "tagged"}, transaction="/cart") == {"transaction": "/cart"}
    assert tags_of(tags={"transaction": "tagged"}) == {"transaction": "tagged"}


def test_relays_list_of_pairs_is_read_too():
    pairs = [["plan", "pro"], ["level", 3], ["plan", "free"], ["odd"], "x", ["a", "b", "c"]]
    assert tags_of(tags=pairs) == {"plan": "pro", "level": "3"}


@pytest.mark.parametrize(
    ("key", "kept"),
    [
        ("plan", "plan"),
        ("browser.name", "browser.name"),
        ("sentry:user", "sentry:user"),
        ("a-b_c.d:e", "a-b_c.d:e"),
        ("k" * MAX_TAG_KEY_CHARS, "k" * MAX_TAG_KEY_CHARS),
        ("k" * (MAX_TAG_KEY_CHARS + 1), None),
        ("pl\x00an", "plan"),
        ("\x00", None),
        ("", None),
        ("two words", None),
        ("line\nbreak", None),
        ("ümlaut", None),
        ("<script>", None),
        (3, None),
        (None, None),
    ],
)
def test_tag_keys_are_those_sentrys_tag_store_takes(key, kept):
    assert tag_key(key) == kept


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("pro", "pro"),
        ("Grüße, 🙂 <b>", "Grüße, 🙂 <b>"),
        ("v" * MAX_TAG_VALUE_CHARS, "v" * MAX_TAG_VALUE_CHARS),
        ("v" * (MAX_TAG_VALUE_CHARS + 1), None),  # Sentry drops it: a cut value never matches
        ("v" * MAX_TAG_VALUE_CHARS + "\x00", "v" * MAX_TAG_VALUE_CHARS),
        ("pr\x00o", "pro"),
        ("\x00", None),
        ("", None),
        ("two\nlines", None),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (1.5, "1.5"),
        (10**300, None),
        pytest.param(10**5000, None, id="more-digits-than-python-writes-out"),
        (float("nan"), None),
        (float("inf"), None),
        (None, None),
        ([], None),
        ({"a": 1}, None),
    ],
)
def test_tag_values_are_text_numbers_and_booleans_within_sentrys_bounds(value, kept):
    assert tag_value(value) == kept


def test_hostile_tags_are_dropped_and_the_rest_kept():
    tags = tags_of(
        tags={
            "plan": "pro",
            "k" * 33: "too long a key",
            "long": "v" * 201,
            "nested": {"a": 1},
            "list": ["a"],
            "null": None,
            "nan-ish": "NaN",
            "nul\x00": "x\x00y",
        },
        transaction=["not", "text"],
    )
    assert tags == {"plan": "pro", "nan-ish": "NaN", "nul": "xy"}


@pytest.mark.parametrize("junk", [None, "a=b", 3, True, [], {}, [[1, 2]], [None, None]])
def test_tags_of_the_wrong_shape_are_none(junk):
    assert tags_of(tags=junk) == {}


def test_at_most_max_tags_are_kept_the_first_ones_and_thousands_cost_little():
    many = {f"t{i}": str(i) for i in range(10_000)}
    tags = tags_of(tags=many, transaction="/x")
    assert len(tags) == MAX_TAGS
    assert list(tags)[:3] == ["transaction", "t0", "t1"]
    # Junk first: no more than MAX_TAG_ENTRIES_READ entries are looked at.
    junk_first = {**{f"j{i}": None for i in range(5_000)}, "plan": "pro"}
    assert tags_of(tags=junk_first) == {}


def test_ours_win_over_the_apps_and_the_total_is_bounded():
    app = {"url": "https://evil.example/", "replayId": "0" * 32}
    app |= {f"t{i}": "x" for i in range(MAX_TAGS)}
    tags = merged_tags({"replayId": "a" * 32, "url": "/cart", "component": None}, app)
    assert tags["replayId"] == "a" * 32
    assert tags["url"] == "/cart"
    assert "component" not in tags
    assert len(tags) == MAX_TAGS
    assert list(tags)[:3] == ["replayId", "url", "t0"]


def test_every_occurrence_of_the_segment_carries_the_apps_tags_and_ours():
    events = [captured_click(0), captured_click(1), captured_click(2)]
    replay_event = replay_event_with(
        tags={**APP_TAGS, "url": "https://app.example/should-not-win"},
        transaction="/index.html",
    )
    segment = decode_segment(
        recording_message(events, replay_event=replay_event), MAX_INFLATED_BYTES
    )
    occurrences = detect_clicks(segment, DetectionSettings(), 0.0).occurrences
    assert len(occurrences) == 3
    for occurrence in occurrences:
        tags = occurrence.event["tags"]
        assert {key: tags[key] for key in APP_TAGS} == APP_TAGS
        assert tags["transaction"] == "/index.html"
        assert tags["url"] == occurrence.evidence_data["url"]  # ours
        assert tags["replayId"] == segment.replay_id
        assert tags["browser.name"] == "Chrome"
        decoded = occurrence_codec.decode(orjson.dumps(occurrence.to_dict()), validate=True)
        assert decoded["event"]["tags"] == tags


def test_our_tags_that_sentry_would_drop_are_left_out():
    event = captured_click()
    event["data"]["payload"]["data"]["url"] = "https://shop.example.com/" + "a" * 300
    event["data"]["payload"]["data"]["node"]["attributes"]["data-sentry-component"] = "C" * 201
    segment = decode_segment(recording_message([event]), MAX_INFLATED_BYTES)
    [occurrence] = detect_clicks(segment, DetectionSettings(), 0.0).occurrences
    assert "url" not in occurrence.event["tags"]
    assert "component" not in occurrence.event["tags"]
    assert occurrence.evidence_data["url"].endswith("a" * 300)  # kept in full where it belongs


@settings(max_examples=300, deadline=None)
@given(value=json_values(20) | st.dictionaries(st.text(max_size=40), json_values(3)))
def test_any_json_gives_tags_within_the_bounds(value):
    tags = bounded_tags(value)
    assert len(tags) <= MAX_TAGS
    for key, text in tags.items():
        assert tag_key(key) == key
        assert 0 < len(key) <= MAX_TAG_KEY_CHARS
        assert isinstance(text, str)
        assert 0 < len(text) <= MAX_TAG_VALUE_CHARS
        assert "\x00" not in text
        assert "\n" not in text
    assert bounded_tags(tags) == tags
