"""decode_occurrence: the schema, our type registry, and the bounds the schema leaves open."""

import contextlib
import json
import uuid
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issues.occurrence_message import InvalidOccurrence, decode_occurrence
from replays.detection.fingerprint import fingerprint_hash
from tests.issues.builders import another_click, fixture_occurrences, occurrence_message


def fixture(index: int = 0) -> dict:
    return fixture_occurrences()[index]


def test_the_fixture_occurrences_decode_with_their_element_page_and_replay():
    records = [decode_occurrence(occurrence_message(o)) for o in fixture_occurrences()]
    assert sorted(r.issue_type for r in records) == [
        "replay_dead_click",
        "replay_dead_click",
        "replay_dead_click",
        "replay_rage_click",
        "replay_slow_click",
    ]
    record = records[0]
    # Version 2: the element's identity, then the version 1 fingerprint that made its issues.
    identity, _ = record.occurrence.fingerprint
    assert record.fingerprint_hashes == (
        fingerprint_hash([identity]),
        fingerprint_hash(["replay_dead_click", "body > button#buy.btn.primary", "/index.html"]),
    )
    assert record.fingerprint_hash == record.fingerprint_hashes[0]
    assert record.replay_id == uuid.UUID("40196c4efd834eedaa8e1947c813b364")
    assert record.user == {"id": "u-77", "email": "ana@example.com"}
    assert record.user_key == "u-77"
    assert (record.release, record.environment) == ("shop@1.4.2", "staging")
    assert (record.browser, record.os) == ("Chrome", "Linux")
    assert record.metadata["selector"] == "body > button#buy.btn.primary"
    assert record.metadata["text"] == "Buy now"
    assert record.metadata["tag"] == "button"
    assert record.url == "http://127.0.0.1:18766/index.html"
    # The click's own time, not when the segment was sent.
    expected = datetime.fromtimestamp(record.occurrence.evidence_data["timestamp"], UTC)
    assert record.timestamp == expected


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda o: o.pop("fingerprint"), "not a valid occurrence"),
        (lambda o: o.update(type="5001"), "not a valid occurrence"),
        (lambda o: o.update(type=1), "unknown issue type 1"),
        (lambda o: o.update(id="not-hex-at-all-not-hex-at-all-xx"), "32 hex digits"),
        (lambda o: o.update(id="abc"), "32 hex digits"),
        (lambda o: o.update(project_id=0), "out of range"),
        (lambda o: o.update(project_id=2**40), "out of range"),
        (lambda o: o.update(fingerprint=[]), "fingerprint"),
        (lambda o: o.update(level="loud"), "is not a level"),
        (lambda o: o.update(payload_type="status_change"), "not grouped here"),
    ],
)
def test_messages_that_cannot_be_grouped_say_why(change, reason):
    occurrence = fixture()
    change(occurrence)
    with pytest.raises(InvalidOccurrence, match=reason):
        decode_occurrence(orjson.dumps(occurrence))


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe", b"[]", b"null", b"{", b'"text"'])
def test_bytes_that_are_not_an_occurrence_are_invalid(raw):
    with pytest.raises(InvalidOccurrence, match="not a valid occurrence"):
        decode_occurrence(raw)


def test_a_click_time_out_of_range_falls_back_to_the_event_time_or_is_invalid():
    occurrence = fixture()
    occurrence["evidence_data"]["timestamp"] = 1e20
    record = decode_occurrence(orjson.dumps(occurrence))
    assert record.timestamp == datetime.fromtimestamp(occurrence["event"]["timestamp"], UTC)
    occurrence["event"]["timestamp"] = "2026-11-24T16:30:00+00:00"
    occurrence["evidence_data"]["timestamp"] = None
    assert decode_occurrence(orjson.dumps(occurrence)).timestamp.isoformat().startswith("2026")
    occurrence["event"]["timestamp"] = -5
    with pytest.raises(InvalidOccurrence, match="timestamp"):
        decode_occurrence(orjson.dumps(occurrence))


def test_long_and_mistyped_fields_are_bounded_to_the_columns():
    occurrence = another_click(
        fixture(),
        release="r" * 500,
        environment=["not", "a", "string"],
        user={"email": "e" * 300, "ip_address": "10.0.0.1"},
    )
    occurrence["evidence_data"]["selector"] = "div > " * 400
    occurrence["evidence_data"]["segment_id"] = -1
    occurrence["evidence_data"]["replay_id"] = "not a uuid"
    occurrence["resource_id"] = "not a uuid either"
    record = decode_occurrence(orjson.dumps(occurrence))
    assert len(record.release) == 200
    assert record.environment == ""
    assert record.user_key == "e" * 200
    assert len(record.metadata["selector"]) == 1024
    assert record.segment_id is None
    assert record.replay_id is None


def test_an_occurrence_without_user_counts_no_user():
    occurrence = another_click(fixture(), user={})
    assert decode_occurrence(orjson.dumps(occurrence)).user_key == ""


def test_the_events_tags_are_kept_as_the_replays_stage_wrote_them():
    occurrence = fixture()
    assert decode_occurrence(orjson.dumps(occurrence)).tags == occurrence["event"]["tags"]
    app = {"plan": "pro", "transaction": "/checkout/:step", "ab.test": "b"}
    occurrence["event"]["tags"] = {**occurrence["event"]["tags"], **app}
    record = decode_occurrence(orjson.dumps(occurrence))
    assert record.tags == occurrence["event"]["tags"]
    assert list(record.tags)[-3:] == list(app)


def test_tags_as_pairs_from_another_producer_are_kept_as_an_object():
    occurrence = fixture()
    occurrence["event"]["tags"] = [["plan", "pro"], ["level", 3], ["ok", True], ["plan", "x"]]
    record = decode_occurrence(orjson.dumps(occurrence))
    assert record.tags == {"plan": "pro", "level": "3", "ok": "true"}


def test_tags_sentry_would_drop_are_dropped_and_the_rest_bounded():
    occurrence = fixture()
    occurrence["event"]["tags"] = {
        "plan": "pro",
        "k" * 33: "key too long",
        "long": "v" * 201,
        "two words": "bad key",
        "lines": "a\nb",
        "nested": {"a": 1},
        "null": None,
        **{f"t{i}": str(i) for i in range(100)},
    }
    tags = decode_occurrence(orjson.dumps(occurrence)).tags
    assert len(tags) == 50
    assert list(tags)[:3] == ["plan", "t0", "t1"]
    for junk in (None, "plan=pro", 7, [1, 2], [[None, "x"]]):
        occurrence["event"]["tags"] = junk
        assert decode_occurrence(orjson.dumps(occurrence)).tags == {}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(list(fixture())), value=json_values)
def test_any_field_replaced_by_any_json_only_ever_raises_invalid_occurrence(field, value):
    occurrence = fixture()
    occurrence[field] = value
    with contextlib.suppress(InvalidOccurrence):
        # The standard library writes what orjson refuses: big integers, NaN.
        decode_occurrence(json.dumps(occurrence).encode())


@settings(max_examples=300, deadline=None)
@given(
    path=st.sampled_from(["evidence_data", "event"]),
    key=st.sampled_from(
        ["timestamp", "user", "contexts", "node", "url", "release", "tags", "segment_id"]
    ),
    value=json_values,
)
def test_nested_fields_replaced_by_any_json_only_ever_raise_invalid_occurrence(path, key, value):
    occurrence = fixture()
    occurrence[path][key] = value
    with contextlib.suppress(InvalidOccurrence):
        # The standard library writes what orjson refuses: big integers, NaN.
        decode_occurrence(json.dumps(occurrence).encode())


storable_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
storable_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | storable_text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(st.tuples(storable_text, children), max_size=4)
        | st.dictionaries(storable_text, children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(tags=storable_json | st.dictionaries(storable_text, storable_json, max_size=60))
def test_any_tags_decode_within_their_bounds(tags):
    """Any JSON that a database stores (NUL and NaN are refused before, whatever the field)."""
    occurrence = fixture()
    occurrence["event"]["tags"] = tags
    record = decode_occurrence(json.dumps(occurrence).encode())
    assert len(record.tags) <= 50
    for key, value in record.tags.items():
        assert 0 < len(key) <= 32
        assert isinstance(value, str)
        assert 0 < len(value) <= 200


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda o: o["event"].update(release="shop\x00"), "NUL character"),
        (lambda o: o["evidence_data"]["node"].update(textContent="Buy\x00"), "NUL character"),
        (lambda o: o["event"].update(tags={"k\x00": "v"}), "NUL character"),
        (lambda o: o["event"].update(tags={"k": float("nan")}), "nan"),
        (lambda o: o["evidence_data"].update(extra=[1, float("-inf")]), "-inf"),
    ],
)
def test_values_no_database_stores_are_refused_before_the_database_sees_them(change, reason):
    """PostgreSQL refuses NUL characters in text and jsonb; NaN and infinities are not JSON
    (PostgreSQL's jsonb and SQLite's JSON_VALID check refuse them). The codec reads them all."""
    occurrence = fixture()
    change(occurrence)
    with pytest.raises(InvalidOccurrence, match=reason):
        # The standard library writes what orjson refuses: NaN, infinities.
        decode_occurrence(json.dumps(occurrence).encode())


def test_a_backslash_before_u0000_is_text_like_any_other():
    occurrence = another_click(fixture(), release="shop\\u0000", environment="NaN Infinity")
    record = decode_occurrence(orjson.dumps(occurrence))
    assert (record.release, record.environment) == ("shop\\u0000", "NaN Infinity")


def test_a_deeply_nested_value_is_walked_without_exhausting_the_stack():
    occurrence = fixture()
    occurrence["evidence_data"]["deep"] = "here"
    deep = b"[" * 990 + b"NaN" + b"]" * 990  # about the deepest the codec reads: 1000
    raw = occurrence_message(occurrence).replace(b'"here"', deep)
    with pytest.raises(InvalidOccurrence, match="nan"):
        decode_occurrence(raw)
