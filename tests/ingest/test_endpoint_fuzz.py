"""No body makes the endpoint answer 500: random and mutated envelopes through the real view."""

import gzip
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sdk_fixtures import sdk_requests

ANSWERS = {200, 400, 401, 403, 413}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def mutate(body: bytes, data) -> bytes:
    body = bytearray(body)
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        if not body:
            break
        position = data.draw(st.integers(0, len(body) - 1), label="position")
        action = data.draw(st.sampled_from(["flip", "delete", "insert", "truncate", "splice"]))
        if action == "flip":
            body[position] = data.draw(st.integers(0, 255), label="byte")
        elif action == "delete":
            del body[position : position + data.draw(st.integers(1, 50))]
        elif action == "insert":
            body[position:position] = data.draw(
                st.sampled_from([b"\n", b"{}", b'"length":3,', b"\xff\xfe", b"\x00", b"-1", b"[[["])
            )
        elif action == "truncate":
            del body[position:]
        else:
            other = data.draw(st.sampled_from(sdk_requests())).body
            body[position:] = other[data.draw(st.integers(0, len(other) - 1)) :]
    return bytes(body)


def post(client, sdk_request, body: bytes, encoding: str | None):
    headers = {"Content-Encoding": encoding} if encoding else {}
    return client.post(sdk_request.path, data=body, content_type="text/plain", headers=headers)


@pytest.mark.usefixtures("sdk_project", "recordings_topic")
@FUZZ
@given(data=st.data())
def test_mutated_sdk_envelopes_never_get_a_500(client, data):
    sdk_request = data.draw(st.sampled_from(sdk_requests()), label="capture")
    body = mutate(sdk_request.body, data)
    encoding = data.draw(st.sampled_from([None, "gzip", "deflate"]), label="encoding")
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    assert post(client, sdk_request, body, encoding).status_code in ANSWERS


@pytest.mark.usefixtures("sdk_project", "recordings_topic")
@FUZZ
@given(
    body=st.binary(max_size=3000),
    encoding=st.sampled_from([None, "gzip", "br", "zstd", "deflate", "bogus", "gzip, zstd"]),
)
def test_random_bodies_never_get_a_500(client, body, encoding):
    assert post(client, sdk_requests()[0], body, encoding).status_code in ANSWERS
