"""No body makes the occurrence endpoint answer 500, and what it accepts the issues stage groups.

Random bytes, damaged occurrences and occurrences with any JSON in any field, through the real
view (and the real broker for what is accepted); then the same occurrences through the pure check
and the issues stage's grouping on the real database: accepted means stored, never a dead letter.
"""

import gzip
import json
import uuid
import zlib

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import MalformedEnvelope
from ingest.occurrence import accept_occurrence
from issues.models import Issue
from issues.occurrence_message import decode_occurrence
from issues.services import issue_record_occurrence
from tests.ingest.builders import mutate
from tests.ingest.test_occurrence_endpoint import PROJECT_ID, backend_occurrence, post

ANSWERS = {200, 400, 413}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELDS = [
    "id",
    "project_id",
    "fingerprint",
    "type",
    "issue_title",
    "subtitle",
    "resource_id",
    "level",
    "culprit",
    "detection_time",
    "payload_type",
    "evidence_data",
    "evidence_display",
    "event",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


# One occurrence for every example (hypothesis replays an example's draws: the body must not change
# between runs); the grouping test gives each accepted one an id of its own.
BASE = {
    **backend_occurrence(),
    "id": "0" * 32,
    "event": {**backend_occurrence()["event"], "event_id": "1" * 32, "timestamp": 1_790_000_000.5},
}


@st.composite
def occurrences(draw) -> dict:
    """An occurrence a sender might get wrong: any field replaced by any JSON, or left out; the
    event's and the evidence's fields too."""
    occurrence = orjson.loads(orjson.dumps(BASE))
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            occurrence.pop(field, None)
        else:
            occurrence[field] = draw(json_values)
    for nested in ("event", "evidence_data"):
        if isinstance(occurrence.get(nested), dict) and draw(st.booleans()):
            occurrence[nested][draw(st.sampled_from(["timestamp", "user", "tags", "contexts"]))] = (
                draw(json_values)
            )
    return occurrence


@pytest.mark.usefixtures("sdk_project", "occurrences_topic")
@FUZZ
@given(
    body=st.binary(max_size=2000),
    encoding=st.sampled_from([None, "gzip", "br", "zstd", "deflate", "bogus", "gzip, zstd"]),
)
def test_random_bodies_never_get_a_500(client, body, encoding):
    headers = {"Content-Encoding": encoding} if encoding else {}
    assert post(client, body, **headers).status_code in ANSWERS


@pytest.mark.usefixtures("sdk_project", "occurrences_topic")
@FUZZ
@given(data=st.data())
def test_damaged_occurrences_never_get_a_500(client, data):
    body = mutate(orjson.dumps(BASE), data)
    encoding = data.draw(st.sampled_from([None, "gzip", "deflate"]), label="encoding")
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    headers = {"Content-Encoding": encoding} if encoding else {}
    assert post(client, body, **headers).status_code in ANSWERS


@pytest.mark.usefixtures("sdk_project", "occurrences_topic")
@FUZZ
@given(occurrence=occurrences())
def test_occurrences_with_any_field_never_get_a_500(client, occurrence):
    assert post(client, json.dumps(occurrence).encode()).status_code in {200, 400}


@pytest.mark.usefixtures("sdk_project")
@FUZZ
@given(occurrence=occurrences())
def test_what_is_accepted_the_issues_stage_stores(occurrence):
    if occurrence.get("id") == BASE["id"]:
        occurrence["id"] = uuid.uuid4().hex  # stored once per example, not once per test
    try:
        accepted = accept_occurrence(json.dumps(occurrence).encode(), PROJECT_ID)
    except MalformedEnvelope:
        return
    recorded = issue_record_occurrence(decode_occurrence(accepted.message))
    assert recorded is not None
    assert Issue.objects.get(pk=recorded.issue_id).project_id == PROJECT_ID
