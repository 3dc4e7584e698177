"""The envelope endpoint against hostile bodies, through the real view and broker: a refusal with
the status the SDK understands, never a 500, and the next good envelope is still accepted.

tests/ingest/test_endpoint_fuzz.py posts random and mutated captures; here the structured hostile
cases go over HTTP one by one, and hypothesis builds hostile envelopes from real items.
"""

import time

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.envelope import MAX_ITEMS
from tests.hostile.inputs import NON_UTF8, XSS_PAYLOADS, MiB, deep_json, deep_object
from tests.hostile.test_memory import bomb, huge_header, many_items, recording_bomb
from tests.ingest.builders import ENCODERS, build_envelope, replay_envelope, replay_parts
from tests.sdk_fixtures import replay_requests

ANSWERS = {200, 400, 401, 403, 413, 429}


def post(client, body: bytes, encoding: str = "", path: str | None = None):
    headers = {"Content-Encoding": encoding} if encoding else {}
    return client.post(
        path or replay_requests()[0].path, data=body, content_type="text/plain", headers=headers
    )


def hostile_bodies() -> dict[str, tuple[bytes, str, int]]:
    """name: (body, Content-Encoding, the answer's status)."""
    _, event, recording = replay_parts()
    segment_header = recording.partition(b"\n")[0]
    bodies = {
        "envelope header 100k deep": (deep_json(100_000) + b"\n", "", 400),
        "item header 100k deep": (b"{}\n" + deep_object(100_000) + b"\n", "", 413),
        "item header 1,025 deep": (b"{}\n" + deep_object(1025) + b"\n", "", 400),
        "replay_event 100k deep": (
            replay_envelope(recording=True).replace(
                b'"replay_type"', b'"x":' + deep_json(100_000) + b',"replay_type"', 1
            ),
            "",
            400,
        ),
        "18 MiB envelope header line": (huge_header(), "", 413),
        "2 MiB header line, no newline": (b"{" + b" " * (2 * MiB) + b"}", "", 413),
        "1.5 million items": (many_items(), "", 413),
        f"{MAX_ITEMS + 1} items": (
            b"{}\n" + b'{"type":"client_report","length":2}\n{}\n' * (MAX_ITEMS + 1),
            "",
            413,
        ),
        "10 MiB of blank lines": (b"{}\n" + b"\n" * (10 * MiB), "", 413),
        "body over 20 MiB": (b"{}\n" + b" " * (20 * MiB), "", 413),
        "recording bomb (1 GiB)": (recording_bomb(), "", 413),
        "recording header line of 2 MiB": (
            replay_envelope(recording=b"{" + b" " * (2 * MiB) + b"}\n" + recording),
            "",
            400,
        ),
        "replay_event over 1 MiB": (
            replay_envelope(replay_event={**event, "pad": "x" * (2 * MiB)}),
            "",
            413,
        ),
        "Content-Encoding stacked 1,000 times": (
            replay_requests()[0].body,
            ", ".join(["gzip"] * 1000),
            400,
        ),
        "markup in the dsn": (
            replay_requests()[0].body.replace(
                b'"sdk"', b'"dsn":' + orjson.dumps(XSS_PAYLOADS[0]) + b',"sdk"', 1
            ),
            "",
            403,
        ),
    }
    for encoding in sorted(ENCODERS):
        bodies[f"{encoding} bomb (1 GiB)"] = (bomb(encoding), encoding, 413)
    for junk in NON_UTF8:
        bodies[f"non-UTF-8 {junk!r} in the envelope header"] = (
            b'{"event_id":"' + junk + b'"}\n',
            "",
            400,
        )
        bodies[f"non-UTF-8 {junk!r} after the recording header"] = (
            replay_envelope(recording=segment_header + b"\n" + junk),
            "",
            400,
        )
    return bodies


@pytest.mark.usefixtures("sdk_project", "recordings_topic")
def test_hostile_bodies_are_refused_and_the_next_good_one_is_accepted(client):
    answers = {}
    for name, (body, encoding, status) in hostile_bodies().items():
        started = time.perf_counter()
        response = post(client, body, encoding)
        answers[name] = (response.status_code, round(time.perf_counter() - started, 2))
        assert response.status_code == status, (name, response.content[:300])
        assert response["X-Sentry-Error"].isprintable()
        assert response.json()["detail"]
        # The detail may quote what was sent (markup too): JSON that no browser sniffs as HTML.
        assert response["Content-Type"] == "application/json"
        assert response["X-Content-Type-Options"] == "nosniff"
    # Each refusal is quick: the slowest cases inflate a bomb to the 20 MiB or 100 MiB limit.
    assert max(seconds for _, seconds in answers.values()) < 5, answers
    assert post(client, replay_requests()[0].body).status_code == 200


@st.composite
def hostile_envelopes(draw: st.DrawFn) -> bytes:
    """A real replay envelope with one part replaced by something hostile."""
    headers, event, recording = replay_parts(draw(st.sampled_from(replay_requests())))
    junk = st.sampled_from(
        [deep_json(2000), b"\xff\xfe", b"null", b"[]", b'"x"', b"1e999", b"\x00", b"{}"]
    )
    part = draw(st.sampled_from(["headers", "event", "recording", "item header", "extra"]))
    event_bytes, item_header = orjson.dumps(event), b'{"type":"replay_event"}'
    if part == "headers":
        return draw(junk) + b"\n" + item_header + b"\n" + event_bytes
    if part == "event":
        field = draw(st.sampled_from(sorted(event)))
        event_bytes = event_bytes.replace(
            orjson.dumps(field) + b":", orjson.dumps(field) + b":" + draw(junk) + b",", 1
        )
    elif part == "recording":
        segment_header = recording.partition(b"\n")[0]
        recording = draw(st.sampled_from([segment_header, draw(junk)])) + b"\n" + draw(junk)
    elif part == "item header":
        item_header = draw(junk)
    items = [({"type": "replay_recording"}, recording)]
    body = build_envelope(headers, items) + item_header + b"\n" + event_bytes + b"\n"
    if part == "extra":
        body += draw(junk) * draw(st.integers(1, 3))
    return body


@pytest.mark.usefixtures("sdk_project", "recordings_topic")
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=hostile_envelopes())
def test_hostile_envelopes_never_get_a_500(client, body):
    assert post(client, body).status_code in ANSWERS
