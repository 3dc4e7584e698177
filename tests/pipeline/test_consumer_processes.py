"""Scaling out: two ``manage.py consume_recordings`` processes in one group, on the real broker and
the test database, split the partitions and together process every segment exactly once in effect:
no segment lost, none stored twice, no occurrence published twice. Each serves its own metrics
(``--metrics-port``) and touches its healthcheck file."""

import time
import uuid

import orjson
import pytest

from replays.models import Replay, ReplaySegment
from tests.consumer_processes import ConsumerProcess
from tests.consumers import produce, wait_until
from tests.replays.messages import click_event, recording_message, snapshot_events

pytestmark = pytest.mark.django_db(transaction=True)

SEGMENTS = 60


def test_two_consumer_processes_in_one_group_split_the_work_and_process_it_exactly_once(
    tmp_path, sdk_project, recordings_topic, recordings_dlq_topic, occurrences_topic, topic_reader
):
    group = f"test-scale-out-{uuid.uuid4().hex[:8]}"
    consumers = [ConsumerProcess(name, group, tmp_path) for name in ("first", "second")]
    try:
        wait_until(
            lambda: all(c.assigned() for c in consumers),
            timeout_s=60,
            what="both consumers to hold partitions",
            diagnosis=lambda: "\n".join(c.diagnosis() for c in consumers),
        )
        replay_ids = [uuid.uuid4().hex for _ in range(SEGMENTS)]
        messages = [
            recording_message(
                [*snapshot_events(), click_event(f"body > button#b{index}")],
                replay_id=replay_id,
                project_id=sdk_project.project_id,
            )
            for index, replay_id in enumerate(replay_ids)
        ]
        keys = iter(replay_id.encode() for replay_id in replay_ids)
        produce(recordings_topic, messages, key=lambda: next(keys))

        wait_until(
            lambda: ReplaySegment.objects.count() == SEGMENTS, timeout_s=60, what="every segment"
        )
        wait_until(
            lambda: sum(c.segments_processed() for c in consumers) == SEGMENTS,
            what="both consumers' metrics to count every segment",
        )
        processed = [c.segments_processed() for c in consumers]
        occurrences = topic_reader(occurrences_topic, SEGMENTS + 1, timeout_s=5)
        healthy = [time.time() - c.health.stat().st_mtime < 10 for c in consumers]
    finally:
        codes = [c.stop() for c in consumers]

    assert codes == [0, 0], "\n".join(c.diagnosis() for c in consumers)
    assert all(count > 0 for count in processed), f"one consumer did nothing: {processed}"
    assert sum(processed) == SEGMENTS
    assert healthy == [True, True]
    # Exactly once in effect: each replay stored once with its one segment, each click published
    # once as an occurrence.
    assert Replay.objects.count() == SEGMENTS
    assert set(Replay.objects.values_list("segment_count", flat=True)) == {1}
    occurrence_ids = [orjson.loads(m.value())["id"] for m in occurrences]
    assert len(occurrence_ids) == len(set(occurrence_ids)) == SEGMENTS
    resources = {orjson.loads(m.value())["resource_id"] for m in occurrences}
    assert resources == set(replay_ids)
