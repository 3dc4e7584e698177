"""The envelope parser and the replay segment check against hostile bodies: they answer with our
own refusals (``EnvelopeRejected``) and nothing else, with bounded work (Python lines executed
and memory allocated, ``tests/hostile/work_budget.py``: a wall-clock bound swings with the load).

tests/ingest/test_envelope.py fuzzes ``parse_envelope`` alone with random and mutated bytes; here
the whole pure path of the endpoint (decode, parse, extract) is driven, and the structured cases
the issue names are tried one by one.
"""

import contextlib
import zlib

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.envelope import MAX_HEADER_BYTES, MAX_ITEMS, parse_envelope
from ingest.errors import EnvelopeRejected, MalformedEnvelope, PayloadTooLarge
from ingest.inflate import decode_content
from ingest.replay_segment import (
    MAX_REPLAY_EVENT_BYTES,
    RecordingLimits,
    extract_replay_segment,
)
from tests.hostile.inputs import NON_UTF8, MiB, deep_json, deep_object
from tests.hostile.work_budget import peak_allocated, python_lines
from tests.ingest.builders import ENCODERS, build_envelope, mutate, replay_envelope, replay_parts
from tests.sdk_fixtures import replay_requests, sdk_requests

LIMITS = RecordingLimits(max_bytes=10 * MiB, max_inflated_bytes=100 * MiB)
PURE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def accept(body: bytes, encoding: str = "") -> None:
    """The endpoint's pure steps: undo the Content-Encoding, parse, extract the segment."""
    if encoding:
        body = decode_content(body, encoding, 20 * MiB)
    extract_replay_segment(parse_envelope(body), LIMITS)


def refused(body: bytes, encoding: str = "") -> EnvelopeRejected:
    with pytest.raises(EnvelopeRejected) as caught:
        accept(body, encoding)
    return caught.value


@st.composite
def spliced_envelopes(draw: st.DrawFn) -> bytes:
    """Real items reassembled: repeated, dropped, swapped between captures, lengths lied about."""
    headers, event, recording = replay_parts(draw(st.sampled_from(replay_requests())))
    pool = [
        ({"type": "replay_event"}, orjson.dumps(event)),
        ({"type": "replay_recording"}, recording),
        ({"type": "session"}, b'{"sid":"x"}'),
        ({"type": "client_report"}, b"{}"),
    ]
    items = draw(st.lists(st.sampled_from(pool), max_size=6))
    lengths = draw(st.sampled_from(["true", "none", "lie"]))
    lines = [orjson.dumps(headers)]
    for item_headers, payload in items:
        if lengths == "true":
            item_headers = {**item_headers, "length": len(payload)}
        elif lengths == "lie":
            item_headers = {**item_headers, "length": len(payload) + draw(st.integers(-50, 50))}
        lines += [orjson.dumps(item_headers), payload]
    return b"\n".join(lines) + b"\n"


@PURE
@given(body=spliced_envelopes())
def test_spliced_envelopes_are_accepted_or_refused_by_our_own_errors(body):
    with contextlib.suppress(EnvelopeRejected):
        accept(body)


@PURE
@given(
    capture=st.sampled_from(sdk_requests()),
    encoding=st.sampled_from(["", *sorted(ENCODERS)]),
    data=st.data(),
)
def test_mutated_and_compressed_captures_through_every_pure_step(capture, encoding, data):
    body = mutate(capture.body, data)
    if encoding:
        # Damage the compressed stream too, half of the time.
        body = ENCODERS[encoding](body)
        if data.draw(st.booleans(), label="damage compressed"):
            body = mutate(body, data)
    with contextlib.suppress(EnvelopeRejected):
        accept(body, encoding)


@PURE
@given(
    header=st.binary(max_size=200),
    item_header=st.binary(max_size=200),
    payload=st.binary(max_size=500),
)
def test_arbitrary_bytes_in_every_position_are_refused_cleanly(header, item_header, payload):
    for body in (header + b"\n" + item_header + b"\n" + payload, b"{}\n" + item_header + payload):
        with contextlib.suppress(EnvelopeRejected):
            accept(body)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("envelope header 100k deep", deep_json(100_000) + b"\n"),
        ("envelope header objects 100k deep", deep_object(100_000) + b"\n"),
        ("item header 100k deep", b"{}\n" + deep_object(100_000) + b"\n"),
        ("envelope header 1025 deep", b'{"a":' + deep_json(1025) + b"}\n"),
        (
            "replay_event 100k deep",
            replay_envelope(recording=True).replace(
                b'"replay_type"', b'"x":' + deep_json(100_000) + b',"replay_type"', 1
            ),
        ),
    ],
)
def test_deeply_nested_json_is_a_clean_refusal(name, body):
    errors = []
    # A few Python lines: the nesting is orjson's to refuse, not a recursive descent of ours.
    python_lines(lambda: errors.append(refused(body)), budget=10_000)
    error = errors[0]
    # orjson stops at 1024 levels with its own error: never a RecursionError.
    assert isinstance(error, MalformedEnvelope | PayloadTooLarge), name


@pytest.mark.parametrize("junk", NON_UTF8)
def test_non_utf8_bytes_in_headers_and_payloads(junk):
    headers, event, recording = replay_parts()
    assert "not valid JSON" in refused(b'{"dsn":"' + junk + b'"}\n').detail
    assert "not valid JSON" in refused(b'{}\n{"type":"' + junk + b'"}\n').detail
    event_bytes = orjson.dumps(event).replace(b'"release":"', b'"release":"' + junk, 1)
    bad_event = build_envelope(
        headers,
        [({"type": "replay_event"}, event_bytes), ({"type": "replay_recording"}, recording)],
    )
    assert "replay_event item is not valid JSON" in refused(bad_event).detail
    # The recording's body is opaque to ingest: junk after a valid header line is checked by
    # its shape (zlib or a JSON array) only, and the consumer refuses what does not inflate.
    segment_header = recording.partition(b"\n")[0]
    junk_recording = replay_envelope(recording=segment_header + b"\n" + junk + b"[]")
    assert "neither zlib-compressed nor a JSON array" in refused(junk_recording).detail


def test_an_envelope_header_line_of_many_megabytes_is_refused_before_it_is_parsed():
    huge = b'{"a":[' + b"{}," * (6 * MiB) + b"{}]}\n"  # 18 MiB: 1 GiB of Python objects
    errors = []
    # Neither parsed nor copied: a few hundred lines and a few kilobytes.
    assert peak_allocated(lambda: errors.append(refused(huge))) < 64 * 1024
    python_lines(lambda: refused(huge), budget=10_000)
    error = errors[0]
    assert isinstance(error, PayloadTooLarge)
    assert error.status == 413
    assert f"{MAX_HEADER_BYTES} bytes together" in error.detail
    # The same length in an item header, and one header line without any newline.
    assert isinstance(refused(b"{}\n" + huge), PayloadTooLarge)
    assert isinstance(refused(b"{" + b" " * (2 * MiB) + b"}"), PayloadTooLarge)


def test_a_megabyte_of_blank_lines_costs_no_more_than_the_header_budget():
    blank = b"{}\n" + b"\n" * (10 * MiB)
    errors = []
    # One turn of the item loop per blank line of the header budget (a dozen lines each), not
    # one per line of the body (forty times more).
    python_lines(lambda: errors.append(refused(blank)), budget=16 * MAX_HEADER_BYTES)
    assert isinstance(errors[0], PayloadTooLarge)


def test_thousands_of_items_are_refused_past_the_cap_in_bounded_time():
    """An SDK sends a handful of items; ``MAX_ITEMS`` of them still parse, one more is a 413."""
    item = b'{"type":"client_report","length":2}\n{}\n'
    assert len(parse_envelope(b"{}\n" + item * MAX_ITEMS).items) == MAX_ITEMS
    for count in (MAX_ITEMS + 1, 100_000, 1_400_000):
        body = b"{}\n" + b'{"type":"a"}\n\n' * count
        errors = []
        # The same work whatever the count: the loop stops at the cap.
        python_lines(
            lambda body=body, errors=errors: errors.append(refused(body)), budget=100 * MAX_ITEMS
        )
        error = errors[0]
        assert isinstance(error, PayloadTooLarge), count
        assert f"more than {MAX_ITEMS} items" in error.detail or "together" in error.detail


def test_a_huge_replay_event_or_recording_header_is_refused_before_it_is_parsed():
    _headers, event, _recording = replay_parts()
    padded = {**event, "padding": [{}] * (MAX_REPLAY_EVENT_BYTES // 3)}
    error = refused(replay_envelope(replay_event=padded))
    assert isinstance(error, PayloadTooLarge)
    assert "replay_event item is" in error.detail
    long_header = b'{"segment_id":0,"x":[' + b"{}," * MiB + b"{}]}\n" + zlib.compress(b"[]")
    assert "line, a newline" in refused(replay_envelope(recording=long_header)).detail
