"""Scaling out: two ``manage.py consume_recordings`` processes in one group, on the real broker and
the test database, split the partitions and together process every segment exactly once in effect:
no segment lost, none stored twice, no occurrence published twice. Each serves its own metrics
(``--metrics-port``) and touches its healthcheck file."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest
import requests
from django.conf import settings
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from pipeline.broker import free_port
from pipeline.children import spawn
from replays.models import Replay, ReplaySegment
from tests.consumers import produce, wait_until
from tests.replays.messages import click_event, recording_message, snapshot_events

pytestmark = pytest.mark.django_db(transaction=True)

SEGMENTS = 60
ASSIGNED = re.compile(r"New partitions assigned: (\{.*\})")


def database_url() -> str:
    """The test database, for processes of their own."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class ConsumerProcess:
    def __init__(self, name: str, group: str, directory: Path) -> None:
        self.log = directory / f"{name}.log"
        self.health = directory / f"{name}.health"
        self.metrics_port = free_port()
        env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        env.update(
            DJANGO_SETTINGS_MODULE="settings.base",
            DATABASE_URL=database_url(),
            KAFKA_BOOTSTRAP_SERVERS=settings.KAFKA_BOOTSTRAP_SERVERS,
            TOPIC_REPLAY_RECORDINGS=settings.TOPIC_REPLAY_RECORDINGS,
            TOPIC_REPLAY_RECORDINGS_DLQ=settings.TOPIC_REPLAY_RECORDINGS_DLQ,
            TOPIC_OCCURRENCES=settings.TOPIC_OCCURRENCES,
            RECORDINGS_ROOT=str(directory / "recordings"),
            PYTHONUNBUFFERED="1",
        )
        with self.log.open("wb") as log:
            self.process = spawn(
                [
                    *(sys.executable, str(settings.BASE_DIR / "manage.py"), "consume_recordings"),
                    *("--group", group, "--metrics-port", str(self.metrics_port)),
                    *("--healthcheck-file", str(self.health)),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def assigned(self) -> bool:
        """Its latest assignment holds partitions."""
        assignments = ASSIGNED.findall(self.output())
        return bool(assignments) and "Partition(" in assignments[-1]

    def segments_processed(self) -> float:
        text = requests.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            if family.name == "replay_issues_segments_processed":
                return sum(s.value for s in family.samples if s.name.endswith("_total"))
        return 0.0

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()


def test_two_consumer_processes_in_one_group_split_the_work_and_process_it_exactly_once(
    tmp_path, sdk_project, recordings_topic, recordings_dlq_topic, occurrences_topic, topic_reader
):
    group = f"test-scale-out-{uuid.uuid4().hex[:8]}"
    consumers = [ConsumerProcess(name, group, tmp_path) for name in ("first", "second")]
    try:
        wait_until(
            lambda: all(c.assigned() for c in consumers),
            timeout_s=60,
            what="both consumers to hold partitions:\n" + "\n".join(c.output() for c in consumers),
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

    assert codes == [0, 0], "\n".join(c.output() for c in consumers)
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
