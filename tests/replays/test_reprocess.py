"""``manage.py reprocess_replays`` over replays stored by the real endpoint and consumer: the
current settings again over the recordings, occurrences published with the same ids (nothing
counted twice), nothing published by a dry run."""

import io
import json
import os
import pty
import re
import select
import signal
import subprocess
from collections import Counter

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from sentry_kafka_schemas import get_codec

from issues.models import Issue, Occurrence
from pipeline.children import spawn
from replays.models import DetectionSettings, ReplaySegment
from tests.consumers import start_occurrences_consumer, wait_until
from tests.issues.builders import store_fixture_replay
from tests.replays.reprocess_processes import process_env, reprocess_argv
from tests.replays.stored_replays import DEFAULT_OCCURRENCES, copy_stored_replay, store_captures

pytestmark = pytest.mark.django_db(transaction=True)

occurrence_codec = get_codec("ingest-occurrences")


def reprocess(project_id: int, *args: str) -> dict:
    out = io.StringIO()
    call_command("reprocess_replays", "--project", str(project_id), "--json", *args, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def counts() -> dict[str, int]:
    return dict(Issue.objects.values_list("fingerprint_hash", "times_seen"))


def test_a_dry_run_counts_what_the_consumer_found_and_publishes_nothing(
    client, sdk_project, recordings_topic, occurrences_topic, topic_reader
):
    store_captures(client)
    published = len(topic_reader(occurrences_topic, 6, timeout_s=3))
    assert published == sum(DEFAULT_OCCURRENCES.values())

    result = reprocess(sdk_project.project_id, "--dry-run")

    assert result == {
        "segments": 7,
        "replays": 1,
        "occurrences": DEFAULT_OCCURRENCES,
        "new_issues": 5,  # nothing grouped yet: each fingerprint is new
    }
    assert len(topic_reader(occurrences_topic, published + 1, timeout_s=3)) == published


def test_the_range_selects_segments_by_when_they_were_received(
    client, sdk_project, recordings_topic, occurrences_topic
):
    store_captures(client)
    received = sorted(ReplaySegment.objects.values_list("received_at", flat=True))
    middle = received[3].isoformat()

    before = reprocess(sdk_project.project_id, "--dry-run", "--until", middle)
    after = reprocess(sdk_project.project_id, "--dry-run", "--since", middle)

    assert before["segments"] + after["segments"] == 7
    assert before["segments"] == sum(1 for each in received if each < received[3])


def test_reprocessing_twice_counts_nothing_twice_and_a_new_threshold_adds_only_the_new_ones(
    client, sdk_project, recordings_topic, occurrences_topic, topic_reader
):
    # Stored with thresholds that raise nothing: no issue yet.
    DetectionSettings.objects.filter(project_id=sdk_project.project_id).update(
        dead_click_ms=60_000, slow_click_ms=60_000
    )
    store_captures(client)
    assert len(topic_reader(occurrences_topic, 1, timeout_s=2)) == 0
    DetectionSettings.objects.filter(project_id=sdk_project.project_id).update(
        dead_click_ms=7000, slow_click_ms=3000
    )
    consumer = start_occurrences_consumer()
    try:
        first = reprocess(sdk_project.project_id)
        assert first["occurrences"] == DEFAULT_OCCURRENCES
        assert first["new_issues"] == 5
        wait_until(lambda: Occurrence.objects.count() == 5, what="the new occurrences grouped")
        wait_until(lambda: Issue.objects.count() == 5, what="their issues")
        grouped = counts()

        second = reprocess(sdk_project.project_id)
        assert second["occurrences"] == DEFAULT_OCCURRENCES
        assert second["new_issues"] == 0
        messages = topic_reader(occurrences_topic, 11, timeout_s=3)
        assert len(messages) == 10  # published again, the same ids
        ids = Counter(occurrence_codec.decode(m.value())["id"] for m in messages)
        assert sorted(ids.values()) == [2] * 5
        # The issues consumer has read them all (its offsets), and counted none of them twice.
        wait_until(
            lambda: Occurrence.objects.count() == 5 and counts() == grouped,
            timeout_s=5,
            what="nothing counted twice",
        )
    finally:
        consumer.stop()
    assert counts() == grouped
    assert sorted(grouped.values()) == [1, 1, 1, 1, 1]


def read_progress(master: int, process: subprocess.Popen, until_done: int) -> int:
    """Read the progress that the command writes on its terminal until it says ``until_done``
    segments or more are done; return that count (0 if it ended first)."""
    seen = b""
    while process.poll() is None:
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            continue
        try:
            seen += os.read(master, 4096)
        except OSError:
            break
        done = [int(n) for n in re.findall(rb"(\d+)/\d+ segments", seen)]
        if done and done[-1] >= until_done:
            return done[-1]
    return 0


# Replays of the killed run (7 segments each): enough for it to be killed halfway.
REPLAYS = 300


def test_killed_halfway_and_run_again_it_ends_as_one_clean_run(
    client, sdk_project, recordings_topic, occurrences_topic
):
    project_id = sdk_project.project_id
    DetectionSettings.objects.filter(project_id=project_id).update(
        dead_click_ms=60_000, slow_click_ms=60_000
    )
    replay = store_captures(client)
    copy_stored_replay(replay, REPLAYS - 1)
    total = ReplaySegment.objects.count()
    DetectionSettings.objects.filter(project_id=project_id).update(
        dead_click_ms=7000, slow_click_ms=3000
    )

    master, terminal = pty.openpty()  # its progress shows on a terminal only
    process = spawn(
        reprocess_argv(project_id),
        env=process_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    try:
        halfway = read_progress(master, process, total // 2)
        assert halfway, f"it ended before halfway (exit code {process.poll()})"
        assert halfway < total
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        os.close(master)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    consumer = start_occurrences_consumer()
    try:
        again = subprocess.run(
            [*reprocess_argv(project_id), "--json"],
            env=process_env(),
            capture_output=True,
            timeout=300,
            check=True,
        )
        assert json.loads(again.stdout)["occurrences"] == {
            slug: n * REPLAYS for slug, n in DEFAULT_OCCURRENCES.items()
        }
        wait_until(
            lambda: Occurrence.objects.count() == 5 * REPLAYS, timeout_s=60, what="all grouped"
        )
    finally:
        consumer.stop()
    # As one clean run: each click counted once, whatever the killed run had published.
    assert Occurrence.objects.count() == 5 * REPLAYS
    assert sorted(counts().values()) == [REPLAYS] * 5


def test_a_segment_whose_recording_is_gone_is_skipped_and_said(sdk_project):
    store_fixture_replay(sdk_project.project_id)
    purged = ReplaySegment.objects.get(segment_id=0)
    storages["recordings"].delete(purged.recording)
    out = io.StringIO()

    call_command(
        "reprocess_replays", "--project", str(sdk_project.project_id), "--dry-run", stdout=out
    )

    assert "6 segment(s) of 1 replay(s)" in out.getvalue()
    assert "1 segment(s) skipped" in out.getvalue()
    assert "dry run: nothing published" in out.getvalue()


def test_an_unknown_project_is_refused(db):
    with pytest.raises(CommandError, match="project 999 does not exist"):
        call_command("reprocess_replays", "--project", "999")


def test_new_issues_are_those_unknown_when_published_however_fast_the_consumer_groups_them(
    client, sdk_project, recordings_topic, occurrences_topic
):
    """A run's ``new_issues`` is read before each batch is published: an issues consumer that
    groups a batch at once (here, in the publisher itself) must not turn them into known ones
    (CI on PostgreSQL saw 0 where 5 were made, once the consumer got faster)."""
    import orjson
    from django.conf import settings as django_settings

    from issues.occurrence_message import decode_occurrence
    from issues.services import issue_record_occurrences
    from replays.queries import load_detection_settings
    from replays.reprocessing import reprocess as run_reprocess

    DetectionSettings.objects.filter(project_id=sdk_project.project_id).update(
        dead_click_ms=60_000, slow_click_ms=60_000
    )
    store_captures(client)
    DetectionSettings.objects.filter(project_id=sdk_project.project_id).update(
        dead_click_ms=7000, slow_click_ms=3000
    )

    def publish_and_group(occurrences: list) -> None:
        issue_record_occurrences(
            [decode_occurrence(orjson.dumps(each.to_dict())) for each in occurrences]
        )

    def run(batch: int):
        return run_reprocess(
            sdk_project.project_id,
            load_detection_settings(sdk_project.project_id),
            publish=publish_and_group,
            max_inflated_bytes=django_settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES,
            publish_batch=batch,
        )

    first = run(batch=2)  # published in several batches, grouped after each
    assert Issue.objects.count() == 5
    assert first.new_issues(sdk_project.project_id) == 5
    second = run(batch=500)
    assert second.new_issues(sdk_project.project_id) == 0
