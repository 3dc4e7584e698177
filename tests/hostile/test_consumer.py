"""The replays consumer on the real broker and database, fed hostile messages between good ones:
each hostile message goes to the dead-letter topic with its reason, in its place; every other
message is stored and its occurrences published, and the consumer keeps running.

The hostile kinds that detection now tolerates (a click category of the wrong type, NUL
characters) are no longer dead letters: their segments are stored and their good clicks kept.
"""

import pytest
from sentry_kafka_schemas import get_codec

from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.models import ReplaySegment
from tests.consumers import produce, start_recordings_consumer, wait_until
from tests.hostile.inputs import deep_json
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    click_event,
    fixture_message,
    recording_message,
    recording_payload,
    snapshot_events,
    with_fields,
)
from tests.sdk_fixtures import replay_requests

pytestmark = pytest.mark.django_db(transaction=True)


def hostile_messages(project_id: int) -> list[tuple[bytes, str]]:
    """(message, the dead letter's reason) of each kind a stranger could make ingest publish, or
    another producer could put on the topic. (A replay_event over 1 MiB is refused in the pure
    core: tests/hostile/test_detection.py.)"""
    base = recording_message([click_event()], project_id=project_id)
    recording = recording_payload(0, [click_event()])
    return [
        (b"\x91" * 100_000 + b"\xc0", "not msgpack"),  # arrays nested 100k deep
        (with_fields(base, payload=b"\xff\xfe\n" + recording), "header line is not JSON"),
        (with_fields(base, payload=b"{" + b" " * 4096 + b"}\n[]"), "no header line of at most"),
        (
            recording_message(
                b"[" + deep_json(100_000) + b',"ui.multiClick"]', project_id=project_id
            ),
            "not valid JSON",
        ),
        (
            recording_message(b'["ui.multiClick\xff\xfe"]', project_id=project_id),
            "not valid JSON",
        ),
        (
            recording_message(
                [click_event()], replay_event=deep_json(100_000), project_id=project_id
            ),
            "replay_event is not valid JSON",
        ),
        (with_fields(base, project_id="42"), "does not match the schema"),
        (with_fields(base, replay_id="<script>"), "not a UUID"),
    ]


def tolerated_messages(project_id: int) -> list[bytes]:
    """Hostile clicks beside a good one: before, each sent its whole segment to the DLQ."""
    wrong_category = click_event("body > a.wrong", timestamp=1_795_537_771.0)
    wrong_category["data"]["payload"]["category"] = ["ui.slowClickDetected"]
    return [
        recording_message(
            [*snapshot_events(1), wrong_category, click_event()],
            segment_id=0,
            project_id=project_id,
        ),
        recording_message(
            [click_event("body > button#n\x00ul", timestamp=1_795_537_772.0)],
            replay_event={"release": "shop@\x001", "replay_id": "0f3c9a1e2b7d4c5e8a6b9d0e1f2a3b4c"},
            segment_id=1,
            project_id=project_id,
        ),
    ]


def published(messages: list[bytes]) -> int:
    """How many occurrences the consumer publishes for ``messages`` (the pure core's count)."""
    settings = DetectionSettings()
    return sum(
        len(detect_clicks(decode_segment(raw, MAX_INFLATED_BYTES), settings, 0.0).occurrences)
        for raw in messages
    )


def test_hostile_messages_are_dead_letters_and_the_others_are_processed(
    sdk_project, recordings_topic, occurrences_topic, recordings_dlq_topic, topic_reader
):
    project_id = sdk_project.project_id
    good = [fixture_message(r, project_id=project_id) for r in replay_requests()[1:3]]
    hostile = hostile_messages(project_id)
    tolerated = tolerated_messages(project_id)
    values = [good[0], *(message for message, _ in hostile), *tolerated, good[1]]
    produce(recordings_topic, values)
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplaySegment.objects.count() == 4, what="the four good segments")
        dead_letters = topic_reader(recordings_dlq_topic, len(hostile))
        occurrences = topic_reader(occurrences_topic, published([*good, *tolerated]))
    finally:
        consumer.stop()

    assert [m.value() for m in dead_letters] == [message for message, _ in hostile]
    for letter, (_, reason) in zip(dead_letters, hostile, strict=True):
        assert reason in dict(letter.headers())["reason"].decode(), reason
    stored = ReplaySegment.objects.values_list("replay__replay_id", "segment_id")
    assert sorted((replay_id.hex, segment) for replay_id, segment in stored) == [
        ("0f3c9a1e2b7d4c5e8a6b9d0e1f2a3b4c", 0),
        ("0f3c9a1e2b7d4c5e8a6b9d0e1f2a3b4c", 1),
        ("40196c4efd834eedaa8e1947c813b364", 1),
        ("40196c4efd834eedaa8e1947c813b364", 2),
    ]
    codec = get_codec("ingest-occurrences")
    selectors = {
        codec.decode(m.value(), validate=True)["evidence_data"]["selector"] for m in occurrences
    }
    assert {"body > main > button#pay.btn", "body > button#nul"} <= selectors
    assert b"\\u0000" not in b"".join(m.value() for m in occurrences)
