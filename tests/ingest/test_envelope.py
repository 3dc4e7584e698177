"""The envelope parser, on the real SDK's envelopes and on the protocol's edge cases."""

import contextlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.envelope import parse_envelope
from ingest.errors import MalformedEnvelope
from tests.ingest.builders import mutate
from tests.sdk_fixtures import sdk_requests


@pytest.mark.parametrize("sdk_request", sdk_requests(), ids=lambda r: r.name)
def test_every_sdk_envelope_parses(sdk_request):
    envelope = parse_envelope(sdk_request.body)

    assert envelope.headers["sdk"]["name"].startswith("sentry.javascript")
    assert envelope.items
    for item in envelope.items:
        if "length" in item.headers:
            assert len(item.payload) == item.headers["length"]
        if item.type == "replay_event":
            assert orjson.loads(item.payload)["replay_id"] == envelope.headers["event_id"]


def test_items_with_and_without_length():
    body = (
        b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'
        b'{"type":"attachment","length":10}\nhel\nlo wor\n'
        b'{"type":"event"}\n{"message":"hi"}\n'
    )
    envelope = parse_envelope(body)

    assert [(i.type, i.payload) for i in envelope.items] == [
        ("attachment", b"hel\nlo wor"),
        ("event", b'{"message":"hi"}'),
    ]


def test_missing_final_newline_and_empty_payloads():
    body = b'{}\n{"type":"a","length":0}\n\n{"type":"b"}\n\n{"type":"c","length":3}\nabc'
    envelope = parse_envelope(body)

    assert [(i.type, i.payload) for i in envelope.items] == [("a", b""), ("b", b""), ("c", b"abc")]


def test_header_only_envelope_and_unknown_item_types():
    assert parse_envelope(b"{}").items == ()
    envelope = parse_envelope(b'{}\n{"type":"something_new","length":2}\nok\n')
    assert envelope.items[0].type == "something_new"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"not json\n", "envelope header is not valid JSON"),
        (b"[1,2]\n", "must be a JSON object"),
        (b'{}\n{"type":"a","length":50}\nshort', "truncated"),
        (b'{}\n{"type":"a","length":2}\nabc\n', "not followed by a newline"),
        (b'{}\n{"type":"a","length":-1}\n', "invalid length"),
        (b'{}\n{"type":"a","length":"2"}\nab\n', "invalid length"),
        (b'{}\n{"type":"a","length":true}\nab\n', "invalid length"),
        (b'{}\n{"length":2}\nab\n', "no string 'type'"),
        (b"{}\n{oops}\nab\n", "header of item 1 is not valid JSON"),
        (b'{}\n"just a string"\n', "must be a JSON object"),
        (b"{}\n" + b"[" * 5000 + b"]" * 5000 + b"\n", "not valid JSON"),
    ],
)
def test_malformed_envelopes_say_why(body, reason):
    with pytest.raises(MalformedEnvelope, match=reason):
        parse_envelope(body)


@given(st.binary(max_size=2000))
def test_random_bytes_parse_or_raise_malformed(body):
    with contextlib.suppress(MalformedEnvelope):
        parse_envelope(body)


@given(st.sampled_from(sdk_requests()), st.data())
def test_mutated_sdk_envelopes_parse_or_raise_malformed(sdk_request, data):
    body = mutate(sdk_request.body, data)
    with contextlib.suppress(MalformedEnvelope):
        parse_envelope(body)
