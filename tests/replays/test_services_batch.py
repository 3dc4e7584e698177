"""``replay_record_segments``: a batch of segments stored in one transaction gives exactly what
storing them one by one gives, and storing any of them again changes nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.models import Replay, ReplaySegment
from replays.services import (
    MERGED_FIELDS,
    replay_record_segment,
    replay_record_segments,
)
from tests.replays.messages import MAX_INFLATED_BYTES, RECEIVED, fixture_messages

pytestmark = pytest.mark.django_db


def processed(project_id: int) -> list:
    segments = [
        decode_segment(raw, MAX_INFLATED_BYTES) for raw in fixture_messages(project_id=project_id)
    ]
    return [(s, detect_clicks(s, DetectionSettings(), float(RECEIVED))) for s in segments]


def snapshot(project_id: int) -> tuple[dict, list]:
    replay = Replay.objects.get(project_id=project_id)
    segments = ReplaySegment.objects.filter(replay=replay).order_by("segment_id")
    fields = (
        "segment_id",
        "compressed_size",
        "size",
        "timestamp",
        "received_at",
        "dead_clicks",
        "rage_clicks",
        "slow_clicks",
        "multi_clicks",
        "occurrences_published",
    )
    return (
        {name: getattr(replay, name) for name in (*MERGED_FIELDS, "retention_days")},
        # Recording names differ by their project only.
        [
            (segment.recording.split("/", 1)[1], *(getattr(segment, name) for name in fields))
            for segment in segments
        ],
    )


@pytest.fixture
def two_projects(sdk_project):
    other = type(sdk_project.project).objects.create(id=43, name="other", org_id=7)
    return sdk_project.project_id, other.id


def test_a_batch_stores_what_storing_one_by_one_stores(two_projects):
    one_by_one, batched = two_projects
    for segment, detection in processed(one_by_one):
        replay_record_segment(segment, detection)
    rows = replay_record_segments(processed(batched))

    assert snapshot(batched) == snapshot(one_by_one)
    assert [row.segment_id for row in rows] == list(range(7))
    assert all(row.pk for row in rows)


def test_storing_a_batch_again_or_twice_in_one_batch_changes_nothing(two_projects):
    project_id, _ = two_projects
    batch = processed(project_id)
    first = replay_record_segments(batch[:4] + batch[:2])
    assert [row.pk for row in first[4:]] == [row.pk for row in first[:2]]
    before = snapshot(project_id)
    assert before[0]["segment_count"] == 4

    again = replay_record_segments(batch[:4])
    assert [row.pk for row in again] == [row.pk for row in first[:4]]
    assert snapshot(project_id) == before

    # The rest of the replay, with two of the stored segments again among them.
    replay_record_segments(batch[2:])
    after = snapshot(project_id)
    for segment, detection in processed(43):
        replay_record_segment(segment, detection)
    assert after == snapshot(43)


def test_a_batch_takes_a_few_queries_whatever_its_size(two_projects):
    project_id, _ = two_projects
    batch = processed(project_id)
    with CaptureQueriesContext(connection) as queries:
        replay_record_segments(batch)
    # Replays read, made, read again; segments read; segments and replays written; transaction
    # (8). Exposure: page visits read and written, page sessions and element clicks added (6).
    # The click windows (the capture has clicks): timeline entries written, windows read,
    # entries of the windows read, windows written, old windows forgotten (5); the error events
    # in the windows read (1); on PostgreSQL, the replays' advisory locks taken (1). Not every
    # one happens in every batch (18 on SQLite, 19 on PostgreSQL for this one).
    assert len(queries) <= 19, [q["sql"][:80] for q in queries]
