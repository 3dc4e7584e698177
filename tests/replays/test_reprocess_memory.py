"""Reprocessing holds a chunk of rows and one recording at a time: its peak memory, measured in a
process of its own (``tests/replays/reprocess_memory_probe.py``), does not grow with the number of
stored segments."""

import json
import subprocess
import sys

import pytest

from replays.models import Replay, ReplaySegment
from tests.replays.reprocess_processes import process_env
from tests.replays.stored_replays import copy_stored_replay, store_captures

pytestmark = pytest.mark.django_db(transaction=True)

MiB = 1024 * 1024


def probe(project_id: int) -> dict:
    finished = subprocess.run(
        [sys.executable, "-m", "tests.replays.reprocess_memory_probe", str(project_id)],
        env=process_env(),
        capture_output=True,
        timeout=600,
        check=True,
    )
    return json.loads(finished.stdout.splitlines()[-1])


def test_the_peak_on_5000_segments_is_that_on_35(
    client, sdk_project, recordings_topic, occurrences_topic
):
    replay = store_captures(client)
    copy_stored_replay(replay, 714)
    assert ReplaySegment.objects.count() == 5005

    many = probe(sdk_project.project_id)
    Replay.objects.exclude(pk__in=Replay.objects.order_by("pk")[:5]).delete()
    few = probe(sdk_project.project_id)

    assert (many["segments"], few["segments"]) == (5005, 35)
    print(
        f"peak above setup: {many['peak_above_setup'] / MiB:.1f} MiB on 5,005 segments, "
        f"{few['peak_above_setup'] / MiB:.1f} MiB on 35"
    )
    # A chunk of rows is at most CHUNK_ROWS of them: what grows with the segments is bounded.
    assert many["peak_above_setup"] < few["peak_above_setup"] + 16 * MiB
