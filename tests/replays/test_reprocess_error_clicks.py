"""Reprocessing raises error clicks (type 5005) as the replays consumer raised them: from the
SDK's ``error`` capture (its click's handler throws; the error comes as an event of its own) and
``failing`` capture (a console error in the recording), stored by the consumer's own services,
the candidates built again with the replay's stored timeline and error events give the consumer's
occurrences: the same ids, the same windows, causes and revisions."""

import pytest

from issues.grouptypes import ERROR_CLICK
from replay_errors.event_message import decode_error_event
from replay_errors.services import replay_error_events_record
from replays.detection.detect import (
    DEFAULT_ENABLED,
    DetectionSettings,
    decode_segment,
    detect_clicks,
)
from replays.models import Replay, ReplayClickWindow
from replays.reprocessing import detect_stored_segment, published_occurrences
from replays.services import replay_record_segments
from tests.replay_errors.messages import event_message
from tests.replays.messages import MAX_INFLATED_BYTES, RECEIVED, scenario_messages

pytestmark = pytest.mark.django_db

ENABLED = DetectionSettings(enabled=DEFAULT_ENABLED | {ERROR_CLICK.slug})


def store(scenario: str, project_id: int, settings: DetectionSettings = ENABLED) -> Replay:
    """The capture's segments through the consumer's services, detected with ``settings``."""
    for raw in scenario_messages(scenario, project_id=project_id):
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        replay_record_segments([(segment, detect_clicks(segment, settings, float(RECEIVED)))])
    return Replay.objects.get()


def reprocessed(replay: Replay, settings: DetectionSettings = ENABLED) -> list:
    found = []
    for row in replay.segments.order_by("segment_id"):
        [detection] = detect_stored_segment(
            row, replay, [settings], float(RECEIVED), MAX_INFLATED_BYTES
        )
        found += published_occurrences(detection)
    return [o for o in found if o.type == ERROR_CLICK.type_id]


def consumers_error_clicks() -> dict[str, dict]:
    """The error clicks the consumer raised (published or waiting to be), by id."""
    return {
        window.occurrence_id: window.occurrence["evidence_data"]
        for window in ReplayClickWindow.objects.filter(occurrence__type=ERROR_CLICK.type_id)
        if window.occurrence["evidence_data"]["window"]["errors"]
    }


@pytest.mark.parametrize("event_first", [True, False], ids=["event-first", "segments-first"])
def test_the_error_capture_reprocessed_raises_the_consumers_error_click(sdk_project, event_first):
    record = decode_error_event(event_message(project_id=sdk_project.project_id), 64 * 1024)
    if event_first:
        replay_error_events_record([record])
    replay = store("error", sdk_project.project_id)
    if not event_first:
        replay_error_events_record([record])
    expected = consumers_error_clicks()
    assert len(expected) == 1, "the consumer raised the capture's one error click"

    [again] = reprocessed(replay)

    assert again.id in expected
    assert again.evidence_data == expected[again.id]
    assert again.evidence_data["cause"]["kind"] == "error"
    # Run again, the same occurrence: nothing to count twice.
    assert [o.to_dict() for o in reprocessed(replay)] == [again.to_dict()]


def test_without_its_error_event_the_click_raises_nothing(sdk_project):
    replay = store("error", sdk_project.project_id)
    assert consumers_error_clicks() == {}
    assert reprocessed(replay) == []


def test_a_console_error_in_the_recording_raises_the_consumers_error_clicks(sdk_project):
    replay = store("failing", sdk_project.project_id)
    expected = consumers_error_clicks()
    assert expected, "the capture's console error follows a click"

    again = reprocessed(replay)

    assert {o.id: o.evidence_data for o in again} == expected


def test_error_clicks_stored_while_off_are_raised_when_a_draft_enables_them(sdk_project):
    """The consumer kept the timeline whatever the settings: a draft that enables error clicks
    raises those the consumer would have raised, with the same ids."""
    replay = store("failing", sdk_project.project_id)
    expected = consumers_error_clicks()
    ReplayClickWindow.objects.all().delete()
    Replay.objects.all().delete()
    replay = store("failing", sdk_project.project_id, DetectionSettings())
    assert consumers_error_clicks() == {}
    assert reprocessed(replay, DetectionSettings()) == []

    again = reprocessed(replay)

    assert {o.id: o.evidence_data for o in again} == expected
