"""The replay page's timeline: what the server adds to it (the clicked issue's window, the stored
error events), and why the rest is built in the browser.

The rows that come from the recording (clicks, navigations, console errors, network requests, the
page's URL over time) are built by ``issues/static/issues/replay.js`` from the events the player
has already loaded, in one pass over the SDK's custom events (rrweb type 5; the DOM events are
skipped). Not here, because:

- the player downloads and parses every segment anyway; a server-side timeline would inflate and
  parse every segment a second time on each page view (a long replay is megabytes);
- the rows, the seeks, the header's duration and the URL above the player are then computed from
  one list of events in one clock, the player's, so they cannot disagree with it (the header's
  duration once came from the replay event's timestamps and said 00:56 for a 00:47 recording).

What is not in the recording comes from the server, in the page's ``player-config``: the click the
reader came from, with its window, and the SDK's error events stored for the replay, as entries
made here.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

# Error events shown per replay, and the characters kept of their type and value: the page stays
# small even for a replay that threw in a loop.
MAX_ERROR_ENTRIES = 500
MAX_TEXT_CHARS = 300
# The SDK sends timestamps in seconds; rrweb events are in milliseconds. A number below this is
# seconds (1e11 ms is 1973, 1e11 s is beyond year 5000).
SECONDS_BELOW = 1e11


def epoch_ms(timestamp: datetime | str | float | int | None) -> int | None:
    """A moment as epoch milliseconds: a datetime (or its ISO 8601 text, as the API writes it),
    epoch seconds (as the SDK sends them) or epoch milliseconds (as rrweb writes them); None when
    it is none of those."""
    if isinstance(timestamp, str):
        try:
            timestamp = datetime.fromisoformat(timestamp)
        except ValueError:
            return None
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            return None
        return round(timestamp.timestamp() * 1000)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        return None
    if timestamp != timestamp or timestamp <= 0:  # NaN, or before 1970
        return None
    return round(timestamp * 1000 if timestamp < SECONDS_BELOW else timestamp)


def _text(value: Any) -> str:
    return value[:MAX_TEXT_CHARS] if isinstance(value, str) else ""


def error_entries(
    error_events: Iterable[Mapping[str, Any]], limit: int = MAX_ERROR_ENTRIES
) -> list[dict[str, Any]]:
    """The timeline's entries for the SDK's error events of a replay, oldest first, at most
    ``limit``: each event is a mapping of the replay API's ``errors`` shape (``event_id``,
    ``timestamp``, ``level``, ``type``, ``value``, ``culprit``, ``url``). Events without a usable
    timestamp cannot be placed on the timeline and are left out."""
    entries = []
    for event in error_events:
        moment = epoch_ms(event.get("timestamp"))
        if moment is None:
            continue
        entries.append(
            {
                "ms": moment,
                "eventId": _text(event.get("event_id")),
                "level": _text(event.get("level")) or "error",
                "type": _text(event.get("type")) or "Error",
                "value": _text(event.get("value")),
                "culprit": _text(event.get("culprit")),
            }
        )
    entries.sort(key=lambda entry: entry["ms"])
    return entries[:limit]


def click_window(click_ms: int, evidence: Any) -> dict[str, int] | None:
    """The window of a click, as the SDK waited for an answer: from the click to
    ``timeAfterClickMs`` later (the occurrence's evidence), or an error click's ``windowMs``. None
    when the evidence has no wait (a hydration error, say): there is no window to show."""
    waited = None
    if isinstance(evidence, Mapping):
        waited = evidence.get("windowMs", evidence.get("timeAfterClickMs"))
    if isinstance(waited, bool) or not isinstance(waited, int | float) or waited != waited:
        return None
    if waited < 0:
        return None
    return {"startMs": click_ms, "endMs": click_ms + round(waited)}
