"""The window of a click: what the page did between the click and the end of the SDK's wait, and
the likely cause of the click's failure (ARCHITECTURE.md, "Cause and impact").

Pure: the entries come from the replay's timeline (every segment's, whichever arrived first), so
the same entries always give the same window, cause and revision, in any order of arrival.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from replays.detection.timeline import (
    CLICK,
    CONSOLE_ERROR,
    NAVIGATION,
    REQUEST,
    TimelineEntry,
    is_disabled,
)

# The causes, most telling first: a request that failed explains the click better than one still
# running, which explains it better than an error logged, than a disabled element.
REQUEST_FAILED = "request_failed"
REQUEST_PENDING = "request_pending"
ERROR = "error"
ELEMENT_DISABLED = "element_disabled"
NONE = "none"
CAUSE_PRIORITY = (REQUEST_FAILED, REQUEST_PENDING, ERROR, ELEMENT_DISABLED, NONE)

# A console message that starts like ``TypeError: ...`` names its error type.
_ERROR_TYPE = re.compile(r"^\s*([A-Z][A-Za-z0-9_$.]{0,60}(?:Error|Exception)):\s*")
# The window's lists are bounded as the timeline is; a window holds a few entries in practice.
MAX_WINDOW_ITEMS = 50
# An error event the SDK sent (``replay_errors``) among a window's entries: not from a segment.
ERROR_EVENT = "error_event"
NO_SEGMENT = -1
# How far outside a click's window an error event's time may fall and still count: the event's
# ``timestamp`` and the recording's clicks are both read from the same browser's ``Date.now()``, but
# the recording rounds some times and an error thrown in the click's handler may carry the same
# millisecond as the click or one before it. A tenth of a second cannot move an error of another
# click into the window (a person clicks far less often) and covers the rounding.
ERROR_CLOCK_TOLERANCE_S = 0.1


@dataclass(frozen=True, slots=True)
class SegmentEntry:
    """A timeline entry and the segment that brought it."""

    segment_id: int
    entry: TimelineEntry


@dataclass(frozen=True, slots=True)
class ClickWindow:
    window: dict[str, Any]
    cause: dict[str, str]
    revision: int

    @property
    def display(self) -> str:
        return self.cause["detail"]


def window_bounds(click_time: float, wait_ms: float) -> tuple[float, float]:
    """The window in seconds since the epoch: the click, and the end of the SDK's wait."""
    return click_time, click_time + max(wait_ms, 0.0) / 1000.0


def error_event_entry(event_id: str, error_type: str, value: str, time: float) -> SegmentEntry:
    """An error event of the replay as a window's entry (``NO_SEGMENT``: it came on its own)."""
    return SegmentEntry(
        NO_SEGMENT,
        TimelineEntry(
            ERROR_EVENT, time, None, {"event_id": event_id, "type": error_type, "value": value}
        ),
    )


def _within(entry: TimelineEntry, start: float, end: float) -> bool:
    if entry.kind == ERROR_EVENT:
        return start - ERROR_CLOCK_TOLERANCE_S <= entry.start <= end + ERROR_CLOCK_TOLERANCE_S
    return start <= entry.start <= end


def click_window(
    click_time: float,
    wait_ms: float,
    node_id: int | None,
    node_attributes: dict[str, str],
    entries: Iterable[SegmentEntry],
    own_segment_id: int,
) -> ClickWindow:
    """The window of a click at ``click_time`` that the SDK watched for ``wait_ms``; ``entries``
    may hold any of the replay's (error events among them: ``error_event_entry``; those outside
    the window are left out).

    The revision is the highest segment id among the entries seen (else the click's own segment
    id) plus the number of entries seen: entries are only ever added to a replay (each kept once),
    so a window that gains one, from any segment or an error event, gets a higher revision, and
    never a lower one than the highest segment id that an earlier version of this code published
    (the issues stage keeps the highest revision)."""
    start, end = window_bounds(click_time, wait_ms)
    inside = sorted(
        (each for each in entries if _within(each.entry, start, end)),
        key=lambda each: (each.entry.start, each.segment_id, each.entry.kind, _key(each.entry)),
    )
    requests, errors, navigations = [], [], []
    disabled = is_disabled(node_attributes)
    for each in inside:
        entry = each.entry
        if entry.kind == REQUEST and len(requests) < MAX_WINDOW_ITEMS:
            requests.append(_request(entry, end))
        elif entry.kind == CONSOLE_ERROR and len(errors) < MAX_WINDOW_ITEMS:
            errors.append(_console_error(entry, click_time))
        elif entry.kind == ERROR_EVENT and len(errors) < MAX_WINDOW_ITEMS:
            errors.append(_error_event(entry, click_time))
        elif entry.kind == NAVIGATION and len(navigations) < MAX_WINDOW_ITEMS:
            navigations.append(
                {"url": entry.data.get("url", ""), "ms_after_click": _ms(entry.start - click_time)}
            )
        elif entry.kind == CLICK and node_id is not None and entry.data.get("node_id") == node_id:
            disabled = disabled or bool(entry.data.get("disabled"))
    window = {
        "requests": requests,
        "errors": errors,
        "navigations": navigations,
        "element_disabled": disabled,
    }
    revision = max([own_segment_id, *(each.segment_id for each in inside)]) + len(inside)
    return ClickWindow(window, cause_of(window, wait_ms), revision)


def cause_of(window: dict[str, Any], wait_ms: float) -> dict[str, str]:
    """The likely cause, by ``CAUSE_PRIORITY``, and a line that says it."""
    finished = [request for request in window["requests"] if not request["pending"]]
    for request in finished:
        if request["status"] is None or request["status"] >= 400:
            return {"kind": REQUEST_FAILED, "detail": _failed(request)}
    for request in window["requests"]:
        if request["pending"]:
            return {"kind": REQUEST_PENDING, "detail": _pending(request, wait_ms)}
    if window["errors"]:
        error = window["errors"][0]
        what = f"{error['type']}: {error['value']}" if error["type"] else error["value"]
        return {
            "kind": ERROR,
            "detail": f"{what} ({_verb(error)} {error['ms_after_click']} ms after the click)",
        }
    if window["element_disabled"]:
        return {"kind": ELEMENT_DISABLED, "detail": "The element was disabled when clicked"}
    return {"kind": NONE, "detail": ""}


def _request(entry: TimelineEntry, window_end: float) -> dict[str, Any]:
    duration = None if entry.end is None else _ms(entry.end - entry.start)
    return {
        "method": entry.data.get("method", ""),
        "url": entry.data.get("url", ""),
        "status": entry.data.get("status"),
        "duration_ms": duration,
        "pending": entry.end is None or entry.end > window_end,
    }


def _console_error(entry: TimelineEntry, click_time: float) -> dict[str, Any]:
    message = entry.data.get("message", "")
    match = _ERROR_TYPE.match(message)
    return {
        "source": "console",
        "event_id": None,
        "type": match.group(1) if match else None,
        "value": message[match.end() :] if match else message,
        "ms_after_click": _ms(entry.start - click_time),
    }


def _error_event(entry: TimelineEntry, click_time: float) -> dict[str, Any]:
    """An error event; one within the clock tolerance before the click reads as at the click."""
    return {
        "source": "event",
        "event_id": entry.data["event_id"],
        "type": entry.data["type"] or None,
        "value": entry.data["value"],
        "ms_after_click": max(_ms(entry.start - click_time), 0),
    }


def _failed(request: dict[str, Any]) -> str:
    name = f"{request['method']} {request['url']}"
    if request["status"] is None:
        return (
            f"{name} failed without an answer (a network error) after {request['duration_ms']} ms"
        )
    return f"{name} answered {request['status']} after {request['duration_ms']} ms"


def _pending(request: dict[str, Any], wait_ms: float) -> str:
    name = f"{request['method']} {request['url']}"
    line = f"{name} had not answered when the SDK gave up ({wait_ms:.0f} ms)"
    if request["duration_ms"] is not None:
        status = request["status"] if request["status"] is not None else "no status"
        line += f"; it answered {status} after {request['duration_ms']} ms"
    return line


def _verb(error: dict[str, Any]) -> str:
    return "thrown" if error["source"] == "event" else "logged"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _key(entry: TimelineEntry) -> tuple:
    """A total order of entries at the same moment, so the window does not depend on arrival."""
    return (entry.end if entry.end is not None else -1.0, sorted(map(str, entry.data.items())))
