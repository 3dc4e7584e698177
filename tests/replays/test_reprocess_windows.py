"""Reprocessing gives a click the window the consumer last published for it: the replay's whole
stored timeline, not only its own segment's entries (the ``pending`` capture's request span
arrives in segment 2, after the slow click of segment 1)."""

import pytest

from replays.detection.detect import DetectionSettings
from replays.models import Replay, ReplayClickWindow
from replays.reprocessing import detect_stored_segment
from replays.services import replay_record_segments
from tests.replays.messages import MAX_INFLATED_BYTES, RECEIVED, scenario_messages
from tests.replays.test_click_window_services import processed

pytestmark = pytest.mark.django_db


def test_a_reprocessed_click_has_the_window_of_the_whole_stored_timeline(sdk_project):
    replay_record_segments(
        processed(scenario_messages("pending", project_id=sdk_project.project_id))
    )
    replay = Replay.objects.get()
    [published] = ReplayClickWindow.objects.filter(replay=replay)
    assert published.occurrence["evidence_data"]["window"]["requests"], "the consumer saw the span"

    found = []
    for row in replay.segments.order_by("segment_id"):
        [detection] = detect_stored_segment(
            row, replay, [DetectionSettings()], float(RECEIVED), MAX_INFLATED_BYTES
        )
        found += [click.occurrence for click in detection.clicks if click.published]
    [again] = [o for o in found if o.id == published.occurrence_id]
    assert again.evidence_data["window"] == published.occurrence["evidence_data"]["window"]
    assert again.evidence_data["cause"] == published.occurrence["evidence_data"]["cause"]
    assert again.evidence_data["cause"]["kind"] == "request_pending"
