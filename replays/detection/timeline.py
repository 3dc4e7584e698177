"""What a segment tells about the moments around its clicks: the compact timeline entries.

The SDK records every fetch/XHR as a custom rrweb event tagged ``performanceSpan`` (op
``resource.fetch`` / ``resource.xhr``, with start, end, method and status), console errors and
navigations as breadcrumbs, and each click as a ``ui.click`` breadcrumb. A click's slow-click
breadcrumb often arrives in a later segment than the request it waited for, and a request's span
arrives only once the request ended, possibly segments after the click: each segment's entries are
kept (replays.models.ReplayTimelineEntry) so that a click's window can be read from all of them.

``timeline_entry`` turns one custom event's payload into an entry (or none); the loop over the
events is ``breadcrumbs.find_breadcrumbs``', so a segment is parsed and walked once. Every field is
bounded, and so is the count per segment (``TimelineCollector``): 10,000 spans in one segment keep
the first ``MAX_REQUESTS_PER_SEGMENT``.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from replays.detection.timestamps import is_click_time

REQUEST = "request"
CONSOLE_ERROR = "console_error"
NAVIGATION = "navigation"
CLICK = "click"
KINDS = (REQUEST, CONSOLE_ERROR, NAVIGATION, CLICK)

REQUEST_OPS = frozenset({"resource.fetch", "resource.xhr"})
# Per segment and kind, the first ones in recording order are kept: a segment covers seconds of a
# session (a busy page makes tens of requests in that time); more comes from a polling loop gone
# wrong or a hostile client, and each entry is a row.
MAX_ENTRIES_PER_SEGMENT = {REQUEST: 300, CONSOLE_ERROR: 100, NAVIGATION: 50, CLICK: 200}
MAX_URL_CHARS = 1024
MAX_MESSAGE_CHARS = 300
MAX_METHOD_CHARS = 16
# What tells the SDK's byte stream may hold an entry (beside the detection categories): a substring
# search over the inflated bytes, as for the click breadcrumbs, so a segment with none of them is
# not parsed. JSON strings are quoted: ``"console"`` does not match text that merely says console.
MARKERS = (b"resource.fetch", b"resource.xhr", b'"console"', b"navigation", b"ui.click")


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One moment of the page, in seconds since the epoch: ``end`` only for a request that
    ended. ``data`` by kind: request ``method``, ``url`` (no query string), ``status`` (int or
    None: no answer, a network error); console_error ``message``; navigation ``url``; click
    ``node_id``, ``disabled``."""

    kind: str
    start: float
    end: float | None
    data: dict[str, Any]


@dataclass(slots=True)
class TimelineCollector:
    """Entries of one segment as the event loop finds them, at most the cap of each kind."""

    entries: list[TimelineEntry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def add(self, entry: TimelineEntry | None) -> None:
        if entry is None or self.counts[entry.kind] >= MAX_ENTRIES_PER_SEGMENT[entry.kind]:
            return
        self.counts[entry.kind] += 1
        self.entries.append(entry)


def may_have_entries(events: bytes) -> bool:
    """Whether the events may hold a timeline entry (no false negatives for SDK output)."""
    return any(marker in events for marker in MARKERS)


def span_entry(payload: dict[str, Any]) -> TimelineEntry | None:
    """A request (op ``resource.fetch`` / ``resource.xhr``) or a navigation span
    (``navigation.*``: its description is the URL)."""
    op = payload.get("op")
    if not isinstance(op, str):
        return None
    start = _seconds(payload.get("startTimestamp"))
    if start is None:
        return None
    if op in REQUEST_OPS:
        data = payload.get("data")
        data = data if isinstance(data, dict) else {}
        end = _seconds(payload.get("endTimestamp"))
        method = _text(data.get("method"), MAX_METHOD_CHARS).upper() or "GET"
        return TimelineEntry(
            REQUEST,
            start,
            end if end is not None and end >= start else None,
            {
                "method": method,
                "url": without_query(payload.get("description")),
                "status": _status(data.get("statusCode")),
            },
        )
    if op.startswith("navigation."):
        return TimelineEntry(
            NAVIGATION, start, None, {"url": without_query(payload.get("description"))}
        )
    return None


def breadcrumb_entry(category: str, payload: dict[str, Any]) -> TimelineEntry | None:
    """A console error, a navigation breadcrumb (``data.to``) or a ``ui.click``."""
    if category == "console" and payload.get("level") != "error":
        return None  # the console's logs, infos and warnings: most console breadcrumbs
    time = _seconds(payload.get("timestamp"))
    if time is None:
        return None
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    if category == "console":
        return TimelineEntry(
            CONSOLE_ERROR, time, None, {"message": _text(payload.get("message"), MAX_MESSAGE_CHARS)}
        )
    if category == "navigation":
        return TimelineEntry(NAVIGATION, time, None, {"url": without_query(data.get("to"))})
    if category == "ui.click":
        node = data.get("node")
        node = node if isinstance(node, dict) else {}
        node_id = node.get("id")
        return TimelineEntry(
            CLICK,
            time,
            None,
            {
                "node_id": node_id
                if isinstance(node_id, int) and not isinstance(node_id, bool)
                else None,
                "disabled": is_disabled(node.get("attributes")),
            },
        )
    return None


def is_disabled(attributes: Any) -> bool:
    """Whether an element's attributes (as the SDK records them) say it is disabled: ``disabled``
    present (any value but ``false``: the SDK writes the attribute's value, often empty) or
    ``aria-disabled="true"``."""
    if not isinstance(attributes, dict):
        return False
    if "disabled" in attributes and str(attributes["disabled"]).lower() != "false":
        return True
    return str(attributes.get("aria-disabled", "")).lower() == "true"


def without_query(value: Any) -> str:
    """A URL or path without its query string and fragment (they hold tokens and ids), bounded."""
    if not isinstance(value, str):
        return ""
    for separator in ("?", "#"):
        value = value.split(separator, 1)[0]
    return value[:MAX_URL_CHARS].replace("\x00", "")


_NUMBER_TYPES = (int, float)  # exactly: a bool is an int, and no time


def _status(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1000:
        return value
    return None


def _seconds(value: Any) -> float | None:
    """A time in seconds since the epoch, or None: the SDK writes spans' and breadcrumbs' times
    in seconds; anything else (milliseconds, NaN, a string) is no time of a click's window."""
    if type(value) in _NUMBER_TYPES and math.isfinite(value):
        seconds = float(value)
        return seconds if is_click_time(seconds) else None
    return None


def _text(value: Any, limit: int) -> str:
    return value[:limit].replace("\x00", "") if isinstance(value, str) else ""
