"""Error clicks (type 5005) in the pure core: every plain click (``ui.click``) of a project that
enables them is a candidate with a window of ``error_click_ms`` (1 s by default), raised once an
error event or a console error falls in it; from the SDK's ``error`` and ``failing`` captures."""

from issues.grouptypes import ERROR_CLICK
from replays.detection.classify import Thresholds
from replays.detection.detect import (
    DEFAULT_ENABLED,
    DetectionSettings,
    decode_segment,
    detect_clicks,
)
from replays.detection.ignore import parse_ignore_selectors
from replays.detection.occurrence import is_raised, window_of, with_window
from replays.detection.window import error_event_entry
from tests.replay_errors.messages import EVENT_ID
from tests.replays.messages import MAX_INFLATED_BYTES, scenario_messages

ENABLED = DetectionSettings(enabled=DEFAULT_ENABLED | {ERROR_CLICK.slug})
CLICK_AT = 1_796_141_698.625  # the ``error`` capture's click


def first_segment(scenario: str):
    return decode_segment(scenario_messages(scenario)[0], MAX_INFLATED_BYTES)


def candidates(scenario: str, settings: DetectionSettings = ENABLED):
    return detect_clicks(first_segment(scenario), settings, 0.0).error_click_candidates


def test_error_clicks_are_off_unless_the_project_enables_them():
    assert ERROR_CLICK.slug not in DEFAULT_ENABLED
    assert candidates("error", DetectionSettings()) == ()


def test_a_plain_click_is_a_candidate_raised_only_by_an_error_in_its_second():
    [candidate] = candidates("error")
    evidence = candidate.evidence_data
    assert candidate.type == 5005
    assert candidate.issue_title == "Error Click"
    assert evidence["selector"] == "body > section#lab > button#coupon.btn"
    assert (evidence["timestamp"], evidence["windowMs"]) == (CLICK_AT, 1000)
    assert candidate.fingerprint[0].startswith("v2 replay_error_click ")
    # Nothing of the error is in the recording: not raised from the segment alone.
    assert evidence["window"]["errors"] == []
    assert not is_raised(candidate)
    # The error event, 38 ms later, raises it; one 1.2 s later does not.
    thrown = error_event_entry(EVENT_ID, "TypeError", "x is null", CLICK_AT + 0.038)
    raised = with_window(candidate, window_of(candidate, [thrown]))
    assert is_raised(raised)
    assert raised.evidence_data["cause"]["kind"] == "error"
    late = error_event_entry(EVENT_ID, "TypeError", "x is null", CLICK_AT + 1.2)
    assert not is_raised(with_window(candidate, window_of(candidate, [late])))
    # The project's threshold widens the window.
    [wider] = candidates(
        "error", DetectionSettings(ENABLED.enabled, thresholds=Thresholds(error_click_ms=2000))
    )
    assert is_raised(with_window(wider, window_of(wider, [late])))


def test_a_console_error_in_the_clicks_own_segment_raises_it_at_once():
    [candidate] = candidates("failing")  # the page logs its 500, 218 ms after the click
    assert is_raised(candidate)
    assert [e["source"] for e in candidate.evidence_data["window"]["errors"]] == ["console"]


def test_a_redelivered_segment_gives_the_same_candidates_and_other_types_keep_their_ids():
    segment = first_segment("error")
    once = detect_clicks(segment, ENABLED, 0.0)
    again = detect_clicks(segment, ENABLED, 5.0)
    assert [c.id for c in once.error_click_candidates] == [
        c.id for c in again.error_click_candidates
    ]
    without = detect_clicks(segment, DetectionSettings(), 0.0)
    assert [c.occurrence.id for c in once.clicks] == [c.occurrence.id for c in without.clicks]
    dead_click_ids = {c.occurrence.id for c in once.clicks}
    assert not dead_click_ids & {c.id for c in once.error_click_candidates}


def test_sampled_out_or_ignored_clicks_are_no_candidates():
    sampled_out = DetectionSettings(ENABLED.enabled, sample_rates={ERROR_CLICK.slug: 0.0})
    assert candidates("error", sampled_out) == ()
    ignored = DetectionSettings(ENABLED.enabled, ignore=parse_ignore_selectors("#coupon"))
    assert candidates("error", ignored) == ()
