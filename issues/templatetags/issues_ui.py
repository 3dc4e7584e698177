"""The web UI's template vocabulary: badges, relative times, charts and query-string links.

The wording and the geometry live in ``issues.presentation`` and ``issues.charts`` (pure, unit
tested); these tags only put them into HTML.
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime

from django import template
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from issues import charts, presentation
from issues.grouptypes import has_element, label_of
from issues.models import Issue, IssueStatus, IssueType

register = template.Library()

# The click types' own colours; any other type is shown as "other".
TYPE_CLASSES = {
    IssueType.DEAD_CLICK: "dead",
    IssueType.RAGE_CLICK: "rage",
    IssueType.SLOW_CLICK: "slow",
}


@register.simple_tag
def ago(moment: datetime | None) -> str:
    """``<time>`` with "3 min ago" as text and the exact UTC time on hover."""
    if moment is None:
        return "—"
    exact = moment.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        exact.isoformat(),
        f"{exact:%Y-%m-%d %H:%M:%S} UTC",
        presentation.relative_time(moment, timezone.now()),
    )


@register.simple_tag
def type_badge(issue_type: str) -> str:
    return format_html(
        '<span class="badge badge-{}">{}</span>',
        TYPE_CLASSES.get(issue_type, "other"),
        label_of(issue_type),
    )


def type_class(issue_type: str) -> str:
    return TYPE_CLASSES.get(issue_type, "other")


register.filter("type_class", type_class)


@register.simple_tag
def status_badge(issue: Issue, hide: str = "") -> str:
    """The status (unless it is ``hide``: the list's tab says it already), and "Regressed" for
    an unresolved issue that came back after a resolve."""
    badge = format_html("{}", "")
    if issue.status != hide:
        badge = format_html(
            '<span class="status status-{}" data-testid="status-badge">{}</span>',
            issue.status,
            IssueStatus(issue.status).label,
        )
    if issue.status == IssueStatus.UNRESOLVED and issue.regressed_at is not None:
        badge += format_html(
            ' <span class="status status-regressed" title="Clicked again after it was resolved,'
            ' {}">Regressed</span>',
            f"{issue.regressed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        )
    return badge


@register.inclusion_tag("issues/_sparkline.html")
def sparkline(counts: Sequence[int], days: Sequence[date]) -> dict:
    return {"chart": charts.sparkline(counts, days)}


@register.inclusion_tag("issues/_trend.html")
def trend(counts: Sequence[int], days: Sequence[date]) -> dict:
    return {"chart": charts.trend_chart(counts, days)}


@register.simple_tag
def query(request: HttpRequest, **changes: object) -> str:
    """The current query string with ``changes`` applied (None or "" removes a key); a change
    to anything but the page goes back to page 1: the page number and the cursor are dropped,
    unless one of them is the change (then the other is)."""
    params = request.GET.copy()
    for key in ("page", "cursor"):
        if key not in changes:
            params.pop(key, None)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


register.filter("has_element", has_element)
register.filter("url_path", presentation.url_path)
register.filter("http_url", presentation.http_url)
register.filter("page_url", presentation.page_url)
register.filter("pages_visited", presentation.pages_visited)
register.filter("duration", presentation.duration)
register.filter("clock", presentation.clock)


@register.filter
def click_outcome(evidence: object) -> str:
    return presentation.click_outcome(evidence)


@register.filter
def click_count_words(evidence: object) -> str:
    return presentation.click_count_words(evidence)


@register.filter
def element_anchor(selector: str) -> str:
    """The id of an element's row on the elements page, for a link from an issue to it."""
    digest = hashlib.md5((selector or "").encode(), usedforsecurity=False).hexdigest()
    return f"element-{digest[:12]}"


@register.simple_tag
def exact_time(moment: datetime | None) -> str:
    """The exact time in UTC, rewritten to the reader's time zone by app.js."""
    if moment is None:
        return ""
    utc = moment.astimezone(UTC)
    return format_html(
        '<time datetime="{}" data-local title="{}">{}</time>',
        utc.isoformat().replace("+00:00", "Z"),
        f"{utc:%Y-%m-%d %H:%M:%S} UTC",
        f"{utc:%Y-%m-%d %H:%M:%S} UTC",
    )
