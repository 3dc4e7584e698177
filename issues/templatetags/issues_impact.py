"""The issue page's and list's words for an issue's likely cause and impact."""

from django import template

from issues.causes import cause_of, describe_likely_cause, share
from issues.impact import impact_of
from issues.models import Issue

register = template.Library()


@register.filter
def likely_cause_words(cause: dict | None) -> str:
    """``POST /api/checkout answered 500 in 9 of 10 clicks``."""
    return describe_likely_cause(cause if isinstance(cause, dict) else None)


@register.filter
def occurrence_cause(evidence: dict | None) -> str:
    """One occurrence's cause in its own words (its detail), or blank."""
    cause = cause_of(evidence if isinstance(evidence, dict) else {})
    return (cause[1] or cause[0].replace("_", " ")) if cause else ""


@register.filter
def percent(value: float | None) -> str:
    """0.1234 → ``12%``; below 1% but above nothing: ``<1%``."""
    if value is None:
        return ""
    if 0 < value < 0.01:
        return "<1%"
    return f"{round(100 * value)}%"


@register.simple_tag
def impact_figures(issue: Issue) -> dict | None:
    return impact_of(issue)


@register.filter
def page_share(issue: Issue) -> float | None:
    return share(issue.replays_seen, issue.page_sessions)


_FRUSTRATION_WORDS = {
    "replay_dead_click": "dead",
    "replay_rage_click": "rage clicks",
    "replay_slow_click": "slow",
}


@register.filter
def frustration_word(issue_type: str) -> str:
    """What the issue's clicks were: ``31% of clicks on this button are dead``."""
    return _FRUSTRATION_WORDS.get(issue_type, "frustrated")
