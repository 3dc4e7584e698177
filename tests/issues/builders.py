"""Occurrences and issues for the issues stage's tests, made by the real pipeline's steps.

``fixture_occurrences`` runs the SDK's captured envelopes through ingest's encoding and the replays
detection core, so the occurrences are exactly what the replays consumer publishes: the five
fixture clicks (dead, rage and slow on /; dead a#cart and input#submit on /cart).
``store_fixture_replay`` also stores the replay and its recordings, as the replays consumer does,
and groups the occurrences, so a test gets the whole picture without a broker.
"""

import uuid
from typing import Any

import orjson

from issues.occurrence_message import decode_occurrence
from issues.services import (
    SHOW_AT_ONCE,
    NoiseThreshold,
    RecordedOccurrence,
    issue_record_occurrence,
)
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.services import replay_mark_published, replay_record_segment
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    RECEIVED,
    fixture_messages,
    scenario_messages,
)

FIXTURE_REPLAY_ID = "40196c4efd834eedaa8e1947c813b364"


def fixture_occurrences(**message_fields: Any) -> list[dict[str, Any]]:
    """The occurrences the replays consumer publishes for the captured envelopes, as dicts."""
    occurrences = []
    for raw in fixture_messages(**message_fields):
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        detection = detect_clicks(segment, DetectionSettings(), float(RECEIVED))
        occurrences.extend(occurrence.to_dict() for occurrence in detection.occurrences)
    return occurrences


def occurrence_message(occurrence: dict[str, Any]) -> bytes:
    """The bytes of an occurrence on ``ingest-occurrences``."""
    return orjson.dumps(occurrence)


def another_click(occurrence: dict[str, Any], **event_fields: Any) -> dict[str, Any]:
    """The same element clicked again in another replay: a new id, the same fingerprint.

    ``event_fields`` replace fields of the occurrence's event (``user``, ``environment``, ...);
    ``timestamp`` moves the click (seconds).
    """
    replay_id = uuid.uuid4().hex
    click = orjson.loads(orjson.dumps(occurrence))
    click["id"] = uuid.uuid4().hex
    click["resource_id"] = replay_id
    click["evidence_data"]["replay_id"] = replay_id
    click["event"]["event_id"] = uuid.uuid4().hex
    if "timestamp" in event_fields:
        click["evidence_data"]["timestamp"] = event_fields["timestamp"]
    click["event"].update(event_fields)
    return click


def record(
    occurrence: dict[str, Any], noise: NoiseThreshold = SHOW_AT_ONCE
) -> RecordedOccurrence | None:
    """Group one occurrence as the issues consumer does (no broker)."""
    return issue_record_occurrence(decode_occurrence(occurrence_message(occurrence)), noise)


def store_fixture_replay(project_id: int = 42, scenario: str | None = None) -> list[dict[str, Any]]:
    """Store the captured replay (rows and recordings) and group its occurrences, as the two
    consumers do; returns the occurrences. ``scenario`` names a scenario capture to use instead
    (``hydrate``: ``../shared/fixtures/sdk-scenarios/<version>/hydrate/``)."""
    occurrences = []
    messages = (
        scenario_messages(scenario, project_id=project_id)
        if scenario
        else fixture_messages(project_id=project_id)
    )
    for raw in messages:
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        detection = detect_clicks(segment, DetectionSettings(), float(RECEIVED))
        stored = replay_record_segment(segment, detection)
        replay_mark_published(stored)
        occurrences.extend(occurrence.to_dict() for occurrence in detection.occurrences)
    for occurrence in occurrences:
        record(occurrence)
    return occurrences
