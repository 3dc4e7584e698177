"""Error events in click windows, on the real endpoint, broker and database: the ``error`` capture
(its click's handler throws a TypeError, sent as an ``event`` item of its own, nothing of it in
the recording) gives its dead click the cause ``error`` on its issue, and its click an error-click
issue (type 5005, once the project enables them), whether the event is consumed before the
replay's segments (the SDK's order) or after them; a re-delivery publishes nothing new."""

import pytest
from django.conf import settings as django_settings
from sentry_kafka_schemas import get_codec

from issues.models import Issue
from issues.models import Occurrence as OccurrenceRow
from replay_errors.models import ReplayErrorEvent
from replays.models import DetectionSettings, ReplayClickWindow
from tests.consumers import (
    committed_offsets,
    start_error_events_consumer,
    start_occurrences_consumer,
    start_recordings_consumer,
    wait_until,
)
from tests.replay_errors.messages import EVENT_ID, error_request
from tests.sdk_fixtures import scenario_replay_requests

pytestmark = pytest.mark.django_db(transaction=True)

occurrence_codec = get_codec("ingest-occurrences")

CAUSE = {
    "kind": "error",
    "detail": "TypeError: Cannot read properties of null (reading 'code') "
    "(thrown 38 ms after the click)",
}
ERROR = {
    "source": "event",
    "event_id": EVENT_ID,
    "type": "TypeError",
    "value": "Cannot read properties of null (reading 'code')",
    "ms_after_click": 38,
}


def post_all(client, requests) -> None:
    for request in requests:
        response = client.post(
            request.path,
            data=request.body,
            content_type="text/plain;charset=UTF-8",
            headers=request.client_headers,
        )
        assert response.status_code == 200, (request.name, response.content)


def consume_events(count: int) -> None:
    """Run a new replay-errors group until it committed the ``count`` events of the topic (each
    stored, and the windows it changed published)."""
    consumer = start_error_events_consumer()
    try:
        wait_until(
            lambda: committed_offsets(consumer.group_id, django_settings.TOPIC_EVENTS) == count,
            what=f"{count} events committed",
        )
    finally:
        consumer.stop()


def consume_segments(count: int) -> None:
    consumer = start_recordings_consumer()
    try:
        wait_until(
            lambda: (
                committed_offsets(consumer.group_id, django_settings.TOPIC_REPLAY_RECORDINGS)
                == count
            ),
            what=f"{count} segments committed",
        )
    finally:
        consumer.stop()


def consume_occurrences(count: int) -> None:
    consumer = start_occurrences_consumer()
    try:
        wait_until(
            lambda: (
                committed_offsets(consumer.group_id, django_settings.TOPIC_OCCURRENCES) == count
            ),
            what=f"{count} occurrences committed",
        )
    finally:
        consumer.stop()


def published(topic_reader) -> list[dict]:
    messages = topic_reader(django_settings.TOPIC_OCCURRENCES, 100, timeout_s=2)
    return [occurrence_codec.decode(m.value(), validate=True) for m in messages]


@pytest.mark.usefixtures("sdk_project", "events_dlq_topic", "recordings_dlq_topic")
@pytest.mark.parametrize("event_first", [True, False], ids=["event-first", "segments-first"])
def test_the_error_capture_gives_its_dead_click_the_cause_error_in_either_order(
    client, events_topic, recordings_topic, occurrences_topic, topic_reader, event_first
):
    DetectionSettings.objects.filter(project_id=42).update(error_clicks_enabled=True)
    segments = scenario_replay_requests("error")
    if event_first:
        post_all(client, [error_request()])
        consume_events(1)
        post_all(client, segments)
        consume_segments(len(segments))
    else:
        post_all(client, segments)
        consume_segments(len(segments))
        post_all(client, [error_request()])
        consume_events(1)

    versions = published(topic_reader)
    dead_clicks = [v for v in versions if v["type"] == 5001]
    # Event first: one version, built with the event. Segments first: the dead click without a
    # cause, then again (same id, higher revision) once the event arrived.
    assert len(dead_clicks) == (1 if event_first else 2)
    assert len({v["id"] for v in dead_clicks}) == 1
    last = dead_clicks[-1]["evidence_data"]
    assert last["window"]["errors"] == [ERROR]
    assert last["cause"] == CAUSE
    if not event_first:
        first = dead_clicks[0]["evidence_data"]
        assert first["cause"]["kind"] == "none"
        assert first["revision"] < last["revision"]

    # The click is an error click too, published once in either order: raised only once the
    # event was in its window (1 s), never before.
    [error_click] = [v for v in versions if v["type"] == 5005]
    assert error_click["evidence_data"]["windowMs"] == 1000
    assert error_click["evidence_data"]["window"]["errors"] == [ERROR]
    assert error_click["evidence_data"]["cause"] == CAUSE
    assert error_click["evidence_data"]["selector"] == "body > section#lab > button#coupon.btn"
    assert len(versions) == len(dead_clicks) + 1

    consume_occurrences(len(versions))
    issue = Issue.objects.get(type="replay_dead_click")
    assert issue.likely_cause["kind"] == "error"
    assert issue.likely_cause["detail"] == CAUSE["detail"]
    assert OccurrenceRow.objects.get(issue=issue).evidence["cause"] == CAUSE
    error_issue = Issue.objects.get(type="replay_error_click")
    assert error_issue.likely_cause["kind"] == "error"
    assert OccurrenceRow.objects.get(issue=error_issue).occurrence_id == error_click["id"]

    # Re-delivery: both topics again on new groups; nothing new is published, nothing changes.
    consume_events(1)
    consume_segments(len(segments))
    assert published(topic_reader) == versions
    assert ReplayErrorEvent.objects.count() == 1
    [window] = ReplayClickWindow.objects.filter(occurrence__type=5001)
    assert window.occurrence["evidence_data"] == last
    [window] = ReplayClickWindow.objects.filter(occurrence__type=5005)
    assert window.occurrence["evidence_data"] == error_click["evidence_data"]
    assert (window.version, window.published) == (1, True)
