"""Replays stored as the pipeline stores them, for the tests that read them back (reprocessing,
the settings preview): the SDK's captures posted to the real endpoint and stored by the real
replays consumer, and copies of them in bulk for the tests of scale."""

import uuid

from issues.models import Occurrence
from replays.models import Replay, ReplaySegment
from tests.consumers import start_occurrences_consumer, start_recordings_consumer, wait_until
from tests.sdk_fixtures import replay_requests

# What the captured replay (7 segments) raises with the default settings.
DEFAULT_OCCURRENCES = {"replay_dead_click": 3, "replay_rage_click": 1, "replay_slow_click": 1}


def post_captures(client) -> None:
    """Post the SDK's captured replay requests to the envelope endpoint as it sent them."""
    for sdk_request in replay_requests():
        response = client.post(
            sdk_request.path,
            data=sdk_request.body,
            content_type="text/plain;charset=UTF-8",
            headers=sdk_request.client_headers,
        )
        assert response.status_code == 200, response.content


def store_captures(client, grouped: int | None = None) -> Replay:
    """The captured replay through the endpoint and the replays consumer (and, with ``grouped``,
    its occurrences through the issues consumer until that many are recorded)."""
    post_captures(client)
    consumers = [start_recordings_consumer()]
    if grouped is not None:
        consumers.append(start_occurrences_consumer())
    try:
        wait_until(
            lambda: (
                ReplaySegment.objects.filter(occurrences_published=True).count()
                == len(replay_requests())
            ),
            what="the captured segments stored and published",
        )
        if grouped is not None:
            wait_until(
                lambda: Occurrence.objects.count() == grouped,
                what="the occurrences grouped",
            )
    finally:
        for consumer in consumers:
            consumer.stop()
    return Replay.objects.get()


def copy_stored_replay(replay: Replay, copies: int) -> None:
    """``copies`` more replays like ``replay``: rows of their own, the same recording files
    (reprocessing reads one file per row, whatever its name)."""
    segments = list(replay.segments.order_by("segment_id"))
    fields = {
        field.name: getattr(replay, field.name)
        for field in Replay._meta.fields
        if field.name not in ("id", "replay_id", "created_at")
    }
    for start in range(0, copies, 500):
        made = Replay.objects.bulk_create(
            [Replay(**fields, replay_id=uuid.uuid4()) for _ in range(min(500, copies - start))]
        )
        ReplaySegment.objects.bulk_create(
            [
                ReplaySegment(
                    **{
                        field.name: getattr(segment, field.name)
                        for field in ReplaySegment._meta.fields
                        if field.name not in ("id", "replay", "created_at")
                    },
                    replay=copy,
                )
                for copy in made
                for segment in segments
            ]
        )
