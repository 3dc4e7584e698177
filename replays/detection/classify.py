"""Name what a click breadcrumb is, with the project's thresholds (defaults: Sentry's)."""

from dataclasses import dataclass
from enum import StrEnum

from replays.detection.breadcrumbs import SLOW_CLICK, ClickBreadcrumb


class ClickType(StrEnum):
    DEAD = "replay_dead_click"
    RAGE = "replay_rage_click"
    SLOW = "replay_slow_click"


# The SDK gives up waiting for an answer after 7 s ("timeout") and reports a late answer after 3 s.
DEFAULT_DEAD_CLICK_MS = 7000
DEFAULT_SLOW_CLICK_MS = 3000
DEFAULT_RAGE_CLICK_COUNT = 5
# An error (event or console) this soon after a plain click makes it an error click.
DEFAULT_ERROR_CLICK_MS = 1000


@dataclass(frozen=True, slots=True)
class Thresholds:
    dead_click_ms: float = DEFAULT_DEAD_CLICK_MS
    slow_click_ms: float = DEFAULT_SLOW_CLICK_MS
    rage_click_count: int = DEFAULT_RAGE_CLICK_COUNT
    error_click_ms: float = DEFAULT_ERROR_CLICK_MS


def classify(breadcrumb: ClickBreadcrumb, thresholds: Thresholds) -> ClickType | None:
    """Dead or rage: no answer until the SDK's timeout (rage when clicked often while waiting).
    Slow: any other late answer. ``ui.multiClick`` (the element answered) is never an issue."""
    if breadcrumb.category != SLOW_CLICK:
        return None
    waited = breadcrumb.time_after_click_ms
    if breadcrumb.end_reason == "timeout" and waited >= thresholds.dead_click_ms:
        if breadcrumb.click_count >= thresholds.rage_click_count:
            return ClickType.RAGE
        return ClickType.DEAD
    if waited >= thresholds.slow_click_ms:
        return ClickType.SLOW
    return None
