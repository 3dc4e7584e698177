"""No body makes the endpoint answer 500: random and mutated envelopes through the real view."""

import gzip
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.builders import mutate
from tests.sdk_fixtures import sdk_requests

ANSWERS = {200, 400, 401, 403, 413}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


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
