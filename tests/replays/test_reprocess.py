"""``manage.py reprocess_replays`` over replays stored by the real endpoint and consumer: the
current settings again over the recordings, occurrences published with the same ids (nothing
counted twice), nothing published by a dry run."""

import io
import json
from collections import Counter

import pytest
from django.core.management import call_command
from sentry_kafka_schemas import get_codec

from issues.models import Issue, Occurrence
from replays.models import DetectionSettings, ReplaySegment
from tests.consumers import start_occurrences_consumer, wait_until
from tests.replays.stored_replays import DEFAULT_OCCURRENCES, store_captures

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
