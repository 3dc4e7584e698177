"""The timeline and the click windows as ``replay_record_segments`` stores them (database, no
broker): a crash between storing and publishing, the same replay id in two projects, the horizon
after which published windows are forgotten, the migration that adds them to a database that
already holds replays, and error clicks raised by a console error of a later segment."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from issues.grouptypes import ERROR_CLICK
from replays.click_windows import (
    REOPEN_HORIZON_S,
    click_windows_mark_published,
    click_windows_to_publish,
)
from replays.detection.detect import (
    DEFAULT_ENABLED,
    DetectionSettings,
    decode_segment,
    detect_clicks,
)
from replays.models import Replay, ReplayClickWindow, ReplaySegment, ReplayTimelineEntry
from replays.services import replay_record_segments
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    RECEIVED,
    captured_click,
    recording_message,
    scenario_messages,
)

pytestmark = pytest.mark.django_db


def processed(messages: list[bytes]) -> list:
    segments = [decode_segment(raw, MAX_INFLATED_BYTES) for raw in messages]
    return [(s, detect_clicks(s, DetectionSettings(), float(RECEIVED))) for s in segments]


@pytest.fixture
def two_projects(sdk_project):
    other = type(sdk_project.project).objects.create(id=43, name="other", org_id=7)
    return sdk_project.project_id, other.id


def test_windows_stored_but_not_published_are_published_on_the_retry(sdk_project):
    batch = processed(scenario_messages("failing", project_id=sdk_project.project_id))
    rows = replay_record_segments(batch)
    [window] = click_windows_to_publish({row.replay_id for row in rows})
    assert window.occurrence["evidence_data"]["cause"]["kind"] == "request_failed"
    # The broker did not take it: the batch is stored again, and the window is still there to
    # publish, once, as it was.
    rows = replay_record_segments(batch)
    [again] = click_windows_to_publish({row.replay_id for row in rows})
    assert (again.pk, again.version, again.occurrence) == (
        window.pk,
        window.version,
        window.occurrence,
    )
    click_windows_mark_published([again])
    assert click_windows_to_publish({row.replay_id for row in rows}) == []
    assert ReplayTimelineEntry.objects.count() == 4


def test_a_window_built_again_meanwhile_is_not_marked_by_an_older_publication(sdk_project):
    seg0, seg1, seg2 = processed(scenario_messages("pending", project_id=sdk_project.project_id))
    rows = replay_record_segments([seg0, seg1])
    [published] = click_windows_to_publish({rows[0].replay_id})
    replay_record_segments([seg2])  # another consumer built it again before the mark
    click_windows_mark_published([published])
    [rebuilt] = click_windows_to_publish({rows[0].replay_id})
    assert rebuilt.version == 2
    assert rebuilt.occurrence["evidence_data"]["cause"]["kind"] == "request_pending"


def test_the_same_replay_id_in_two_projects_has_windows_of_its_own(two_projects):
    first, second = two_projects
    for project_id in two_projects:
        replay_record_segments(processed(scenario_messages("failing", project_id=project_id)))
    windows = ReplayClickWindow.objects.order_by("replay__project_id")
    assert [w.replay.project_id for w in windows] == [first, second]
    assert windows[0].occurrence_id == windows[1].occurrence_id
    assert [w.occurrence["project_id"] for w in windows] == [first, second]


def test_published_windows_are_forgotten_past_the_horizon_of_a_later_click(sdk_project):
    def click_at(segment_id: int, seconds: float) -> bytes:
        click = captured_click()
        click["timestamp"] = seconds * 1000
        click["data"]["payload"]["timestamp"] = seconds
        return recording_message([click], segment_id=segment_id, project_id=sdk_project.project_id)

    start = RECEIVED - 3600
    replay_record_segments(processed([click_at(0, start)]))
    click_windows_mark_published(list(ReplayClickWindow.objects.all()))
    replay_record_segments(processed([click_at(1, start + REOPEN_HORIZON_S / 2)]))
    assert ReplayClickWindow.objects.count() == 2
    click_windows_mark_published(list(ReplayClickWindow.objects.all()))
    replay_record_segments(processed([click_at(2, start + REOPEN_HORIZON_S + 60)]))
    kept = sorted(w.start for w in ReplayClickWindow.objects.all())
    assert kept == [start + REOPEN_HORIZON_S / 2, start + REOPEN_HORIZON_S + 60]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_existing_replays_and_their_segments(sdk_project):
    replay_record_segments(
        processed(scenario_messages("disabled", project_id=sdk_project.project_id))
    )
    ReplayTimelineEntry.objects.all().delete()
    ReplayClickWindow.objects.all().delete()
    before = sorted(ReplaySegment.objects.values_list("pk", "replay_id", "segment_id"))
    replays = list(Replay.objects.values_list("pk", "segment_count"))
    try:
        MigrationExecutor(connection).migrate([("replays", "0006_exposure")])
        assert "replays_replaytimelineentry" not in connection.introspection.table_names()
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    assert sorted(ReplaySegment.objects.values_list("pk", "replay_id", "segment_id")) == before
    assert list(Replay.objects.values_list("pk", "segment_count")) == replays
    # A segment arriving after the upgrade builds its click's window from the new tables.
    assert ReplayTimelineEntry.objects.count() == 0


def breadcrumb_event(payload: dict) -> dict:
    return {
        "type": 5,
        "timestamp": round(payload["timestamp"] * 1000),
        "data": {"tag": "breadcrumb", "payload": {"type": "default", **payload}},
    }


CLICK_AT = 1_795_537_771.25


def plain_click() -> dict:
    node = {"id": 7, "tagName": "button", "textContent": "Go", "attributes": {"id": "go"}}
    return breadcrumb_event(
        {
            "timestamp": CLICK_AT,
            "category": "ui.click",
            "message": "body > button#go",
            "data": {"nodeId": 7, "node": node},
        }
    )


def console_error(after_s: float) -> dict:
    return breadcrumb_event(
        {
            "timestamp": CLICK_AT + after_s,
            "category": "console",
            "level": "error",
            "message": "TypeError: boom",
            "data": {"logger": "console", "arguments": ["TypeError: boom"]},
        }
    )


def error_click_windows(sdk_project, segments: list[tuple[int, list[dict]]]) -> list:
    settings = DetectionSettings(enabled=DEFAULT_ENABLED | {ERROR_CLICK.slug})
    for segment_id, events in segments:
        raw = recording_message(events, segment_id=segment_id, project_id=sdk_project.project_id)
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        replay_record_segments([(segment, detect_clicks(segment, settings, float(RECEIVED)))])
    return list(ReplayClickWindow.objects.filter(occurrence__type=5005))


@pytest.mark.parametrize("click_first", [True, False], ids=["click-first", "error-first"])
def test_a_console_error_in_a_later_segment_makes_the_click_an_error_click_in_either_order(
    sdk_project, click_first
):
    click, error = (0, [plain_click()]), (1, [console_error(0.3)])
    [window] = error_click_windows(sdk_project, [click, error] if click_first else [error, click])
    evidence = window.occurrence["evidence_data"]
    assert [
        (e["source"], e["value"], e["ms_after_click"]) for e in evidence["window"]["errors"]
    ] == [("console", "boom", 300)]
    assert evidence["cause"]["detail"] == "TypeError: boom (logged 300 ms after the click)"
    # Raised: its first version waits for publication.
    assert (window.version, window.published) == (1, False)


def test_a_console_error_after_the_window_leaves_the_click_unraised(sdk_project):
    [window] = error_click_windows(sdk_project, [(0, [plain_click()]), (1, [console_error(1.5)])])
    assert window.occurrence["evidence_data"]["window"]["errors"] == []
    assert (window.version, window.published) == (0, True)  # kept, never sent
