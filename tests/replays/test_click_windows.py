"""The click windows through the replays consumer on the real broker and database: the scenario
captures give their cause, in any order of their segments, and re-delivery or a second consumer
group does not change the last version published of any occurrence."""

import pytest
from django.conf import settings as django_settings
from sentry_kafka_schemas import get_codec

from replays.models import Replay, ReplayClickWindow, ReplayTimelineEntry
from tests.conftest import create_topic
from tests.consumers import committed_offsets, produce, start_recordings_consumer, wait_until
from tests.replays.messages import scenario_messages

pytestmark = pytest.mark.django_db(transaction=True)

occurrence_codec = get_codec("ingest-occurrences")


def consume(
    messages: list[bytes], recordings_topic: str, *, one_at_a_time: bool = True, already: int = 0
) -> None:
    """Produce ``messages`` after the ``already`` in the topic and run a new consumer group over
    the topic until it committed them all; with ``one_at_a_time`` each is committed (stored, its
    occurrences published) before the next is produced, as segments seconds apart are."""
    consumer = start_recordings_consumer()
    try:
        if already:
            wait_until(lambda: committed(consumer) == already, what="the earlier messages")
        batches = [[message] for message in messages] if one_at_a_time else [messages]
        done = already
        for batch in batches:
            produce(recordings_topic, batch)
            done += len(batch)
            wait_until(lambda n=done: committed(consumer) == n, what=f"{done} committed")
    finally:
        consumer.stop()


def committed(consumer_thread) -> int:
    return committed_offsets(consumer_thread.group_id, django_settings.TOPIC_REPLAY_RECORDINGS)


def versions(topic_reader, occurrences_topic: str) -> list[dict]:
    messages = topic_reader(occurrences_topic, 100, timeout_s=2)
    return [occurrence_codec.decode(m.value(), validate=True) for m in messages]


def last_versions(published: list[dict]) -> dict[str, dict]:
    """The last version published of each occurrence id (what the issues stage keeps)."""
    return {occurrence["id"]: occurrence for occurrence in published}


def test_the_failing_capture_gives_a_dead_click_failed_by_its_500(
    sdk_project, recordings_topic, occurrences_topic, topic_reader
):
    consume(scenario_messages("failing", project_id=sdk_project.project_id), recordings_topic)

    [occurrence] = versions(topic_reader, occurrences_topic)
    evidence = occurrence["evidence_data"]
    assert occurrence["type"] == 5001  # a dead click: the SDK waited 7 s for nothing
    assert evidence["window"]["requests"] == [
        {
            "method": "POST",
            "url": "/api/checkout",
            "status": 500,
            "duration_ms": 212,
            "pending": False,
        }
    ]
    assert [e["value"] for e in evidence["window"]["errors"]] == ["Checkout failed: HTTP 500"]
    assert evidence["cause"] == {
        "kind": "request_failed",
        "detail": "POST /api/checkout answered 500 after 212 ms",
    }
    assert evidence["revision"] == 0 + 4  # the highest segment seen, and the four entries
    assert {
        "name": "Likely cause",
        "value": "POST /api/checkout answered 500 after 212 ms",
        "important": True,
    } in occurrence["evidence_display"]


def test_the_pending_capture_gives_the_same_last_version_in_either_order(
    sdk_project, recordings_topic, occurrences_topic, topic_reader, settings
):
    seg0, seg1, seg2 = scenario_messages("pending", project_id=sdk_project.project_id)
    consume([seg0, seg1, seg2], recordings_topic)
    in_order = versions(topic_reader, occurrences_topic)
    # Published once the slow click's breadcrumb arrived (segment 1), and again, with the same
    # id and a higher revision, once the request's span arrived (segment 2).
    assert len(in_order) == 2
    assert in_order[0]["id"] == in_order[1]["id"]
    assert in_order[0]["evidence_data"]["cause"]["kind"] == "none"
    assert in_order[0]["evidence_data"]["revision"] < in_order[1]["evidence_data"]["revision"]
    final = in_order[1]["evidence_data"]
    assert final["window"]["requests"] == [
        {"method": "GET", "url": "/api/quote", "status": 200, "duration_ms": 12007, "pending": True}
    ]
    assert final["cause"]["kind"] == "request_pending"
    assert final["revision"] == 2 + 2  # the span's segment; the span and the click seen

    # The same capture from scratch, the span's segment before the click's.
    Replay.objects.all().delete()
    settings.TOPIC_REPLAY_RECORDINGS = create_topic("ingest-replay-recordings")
    settings.TOPIC_OCCURRENCES = create_topic("ingest-occurrences", "ingest-occurrences")
    consume([seg0, seg2, seg1], settings.TOPIC_REPLAY_RECORDINGS)
    [reordered] = versions(topic_reader, settings.TOPIC_OCCURRENCES)
    assert reordered["id"] == in_order[1]["id"]
    assert reordered["evidence_data"] == final


def test_the_disabled_capture_gives_element_disabled(
    sdk_project, recordings_topic, occurrences_topic, topic_reader
):
    consume(scenario_messages("disabled", project_id=sdk_project.project_id), recordings_topic)
    [occurrence] = last_versions(versions(topic_reader, occurrences_topic)).values()
    assert occurrence["evidence_data"]["window"]["element_disabled"] is True
    assert occurrence["evidence_data"]["cause"]["kind"] == "element_disabled"


def test_redelivery_and_a_second_group_publish_nothing_new_and_change_nothing(
    sdk_project, recordings_topic, occurrences_topic, topic_reader
):
    messages = scenario_messages("pending", project_id=sdk_project.project_id)
    consume(messages, recordings_topic)
    first = versions(topic_reader, occurrences_topic)
    entries = ReplayTimelineEntry.objects.count()
    # The segments again, in one batch, on a new consumer group that reads the topic from the
    # start: every segment is a re-delivery.
    consume(messages, recordings_topic, one_at_a_time=False, already=len(messages))
    assert versions(topic_reader, occurrences_topic) == first
    assert ReplayTimelineEntry.objects.count() == entries
    [window] = ReplayClickWindow.objects.all()
    assert window.occurrence["evidence_data"] == first[-1]["evidence_data"]
    assert window.version == 2
