"""Naming a click breadcrumb dead, rage or slow, with default and custom thresholds."""

import orjson
import pytest

from replays.detection.breadcrumbs import MULTI_CLICK, find_click_breadcrumbs
from replays.detection.classify import (
    DEFAULT_DEAD_CLICK_MS,
    DEFAULT_RAGE_CLICK_COUNT,
    DEFAULT_SLOW_CLICK_MS,
    ClickType,
    Thresholds,
    classify,
)
from tests.replays.messages import click_event

DEAD, RAGE, SLOW = ClickType.DEAD, ClickType.RAGE, ClickType.SLOW


def breadcrumb(**fields):
    [found] = find_click_breadcrumbs(orjson.dumps([click_event(**fields)]))
    return found


@pytest.mark.parametrize(
    ("waited", "end_reason", "clicks", "expected"),
    [
        # No answer until the SDK's timeout: dead, or rage when clicked often enough meanwhile.
        (DEFAULT_DEAD_CLICK_MS, "timeout", 1, DEAD),
        (DEFAULT_DEAD_CLICK_MS, "timeout", DEFAULT_RAGE_CLICK_COUNT - 1, DEAD),
        (DEFAULT_DEAD_CLICK_MS, "timeout", DEFAULT_RAGE_CLICK_COUNT, RAGE),
        (DEFAULT_DEAD_CLICK_MS, "timeout", 40, RAGE),
        (DEFAULT_DEAD_CLICK_MS + 2500, "timeout", 1, DEAD),
        # A late answer: slow, however often it was clicked.
        (DEFAULT_SLOW_CLICK_MS, "mutation", 1, SLOW),
        (4502.000093460083, "mutation", 1, SLOW),
        (DEFAULT_DEAD_CLICK_MS, "mutation", 10, SLOW),
        (DEFAULT_SLOW_CLICK_MS + 1, None, 1, SLOW),
        (DEFAULT_SLOW_CLICK_MS + 1, "scroll", 1, SLOW),
        # A "timeout" before the dead threshold is only late.
        (DEFAULT_DEAD_CLICK_MS - 1, "timeout", 10, SLOW),
        # An answer within the slow threshold is no issue.
        (DEFAULT_SLOW_CLICK_MS - 0.001, "mutation", 1, None),
        (0, "mutation", 10, None),
        (0, None, 1, None),
        (DEFAULT_SLOW_CLICK_MS - 1, "timeout", 10, None),
    ],
)
def test_classification_with_the_default_thresholds(waited, end_reason, clicks, expected):
    found = breadcrumb(time_after_click_ms=waited, end_reason=end_reason, click_count=clicks)
    assert classify(found, Thresholds()) is expected


def test_a_multi_click_is_never_an_issue():
    for clicks in (1, 3, 100):
        found = breadcrumb(category=MULTI_CLICK, click_count=clicks)
        assert classify(found, Thresholds()) is None
        assert classify(found, Thresholds(0, 0, 0)) is None


def test_custom_thresholds():
    strict = Thresholds(dead_click_ms=2000, slow_click_ms=500, rage_click_count=3)
    assert classify(breadcrumb(time_after_click_ms=2000, click_count=2), strict) is DEAD
    assert classify(breadcrumb(time_after_click_ms=2000, click_count=3), strict) is RAGE
    assert classify(breadcrumb(time_after_click_ms=500, end_reason="mutation"), strict) is SLOW
    assert classify(breadcrumb(time_after_click_ms=499, end_reason="mutation"), strict) is None
    lenient = Thresholds(dead_click_ms=7000, slow_click_ms=5000, rage_click_count=10)
    assert classify(breadcrumb(time_after_click_ms=7000, click_count=9), lenient) is DEAD
    assert classify(breadcrumb(time_after_click_ms=7000, click_count=10), lenient) is RAGE
    assert classify(breadcrumb(time_after_click_ms=4502, end_reason="mutation"), lenient) is None


def test_the_defaults_are_sentrys():
    assert Thresholds() == Thresholds(7000, 3000, 5)
    assert {t.value for t in ClickType} == {
        "replay_dead_click",
        "replay_rage_click",
        "replay_slow_click",
    }
