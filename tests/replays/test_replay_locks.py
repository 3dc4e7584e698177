"""The race between the two writers of a replay's click windows, on PostgreSQL (READ COMMITTED):
a segment batch that builds the windows while an error event of the same replay is being stored.
Whichever transaction commits first, the other one waits for the replay's lock and then reads
what it committed, so the window ends with the error (``replays.locks``). SQLite lets one writer
at a time and needs no lock; these tests run with ``.ci/with-postgres``."""

import threading

import pytest
from django.db import connection, transaction

from replay_errors.event_message import decode_error_event
from replay_errors.services import replay_error_events_record
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.locks import lock_replays, replay_lock_key
from replays.models import ReplayClickWindow
from replays.services import replay_record_segments
from tests.replay_errors.messages import EVENT_ID, event_message
from tests.replays.messages import MAX_INFLATED_BYTES, scenario_messages

pytestmark = pytest.mark.django_db(transaction=True)


def segments_and_detections() -> list:
    found = []
    for raw in scenario_messages("error", project_id=42):
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        found.append((segment, detect_clicks(segment, DetectionSettings(), 0.0)))
    return found


def store_segments() -> None:
    replay_record_segments(segments_and_detections())


def store_event() -> None:
    replay_error_events_record([decode_error_event(event_message(), 1024 * 1024)])


def in_thread(work) -> threading.Thread:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.failures = failures  # type: ignore[attr-defined]
    thread.start()
    return thread


def test_lock_keys_are_stable_and_tell_replays_apart():
    key = replay_lock_key(42, "5312c198e4ad48a084cad9ad9fd09047")
    assert key == replay_lock_key(42, "5312c198e4ad48a084cad9ad9fd09047")
    assert -(2**63) <= key < 2**63
    assert key != replay_lock_key(43, "5312c198e4ad48a084cad9ad9fd09047")
    assert key != replay_lock_key(42, "5312c198e4ad48a084cad9ad9fd09048")


@pytest.mark.usefixtures("sdk_project")
@pytest.mark.parametrize("first", ["segments", "event"])
def test_an_error_stored_while_its_replays_windows_are_built_is_in_the_window(first):
    if connection.vendor != "postgresql":
        pytest.skip("the race is PostgreSQL's (READ COMMITTED); SQLite has one writer at a time")
    held, other = (
        (store_segments, store_event) if first == "segments" else (store_event, store_segments)
    )
    with transaction.atomic():
        held()  # its lock is held until this transaction commits
        waiting = in_thread(other)
        # Without the lock the other writer would finish now, reading none of the uncommitted
        # rows; with it, it waits for this commit (a join that returns early proves nothing).
        waiting.join(timeout=1.0)
        still_waiting = waiting.is_alive()
    waiting.join()
    assert waiting.failures == []
    assert still_waiting
    [window] = ReplayClickWindow.objects.filter(occurrence__type=5001)
    errors = window.occurrence["evidence_data"]["window"]["errors"]
    assert [(e["source"], e["event_id"]) for e in errors] == [("event", EVENT_ID)]
    assert window.occurrence["evidence_data"]["cause"]["kind"] == "error"
    assert window.published is False  # built again: waits for its publication


def test_locking_no_replay_takes_nothing(db):
    with transaction.atomic():
        lock_replays([])
