"""How the web UI words times, durations, URLs and shares: pure functions, no Django."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

_UNITS = (
    (365 * 86400, "yr"),
    (30 * 86400, "mo"),
    (7 * 86400, "wk"),
    (86400, "d"),
    (3600, "h"),
    (60, "min"),
)


def relative_time(then: datetime, now: datetime) -> str:
    """A short distance in time, as an issue stream shows it: "just now", "3 min ago", "in 2 h"."""
    seconds = (now - then).total_seconds()
    distance = abs(seconds)
    if distance < 45:
        return "just now"
    size, unit = next(((size, unit) for size, unit in _UNITS if distance >= size), (60, "min"))
    amount = max(int(distance // size), 1)
    return f"{amount} {unit} ago" if seconds > 0 else f"in {amount} {unit}"


def url_path(url: str) -> str:
    """What a reader needs of a page URL in a narrow column: its path and query. The fragment
    is folded (``/cart#cart`` is the page ``/cart``), as grouping folds it
    (``replays.detection.fingerprint.normalize_path``).

    Relative URLs (the SDK sends some, such as ``/cart``) and routes stay as they are, less
    their fragment, and so does a URL that ``urlsplit`` cannot read (``http://[::1/x``, sent by
    anyone who holds the DSN). A culprit that is a selector stays whole (``_without_fragment``).
    """
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return _without_fragment(url)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return path


def page_url(url: str) -> str:
    """A page URL shown whole (a link's text, a tooltip), less its fragment: ``…/cart#cart`` is
    the page ``…/cart``, as ``url_path`` and grouping fold it. A URL that is only a fragment
    stays as it is, rather than showing nothing."""
    return _without_fragment(url) if url else ""


def _without_fragment(text: str) -> str:
    """``text`` less its fragment if it is a URL or a path. An issue's culprit is its route, its
    URL or, when the SDK sent neither, the clicked element's selector, whose ``#`` starts an id
    (``body > button#buy``), not a fragment; and nothing but a fragment is shown as sent."""
    if "://" not in text and not text.startswith("/"):
        return text
    return text.split("#", 1)[0] or text


def pages_visited(urls: Iterable[str] | None) -> list[str]:
    """A replay's URLs as the pages its user went through: each folded by ``page_url``, and a
    page that follows itself (``/cart``, then ``/cart#cart``: a jump within the page) said once."""
    pages: list[str] = []
    for url in urls or ():
        page = page_url(url)
        if page and (not pages or pages[-1] != page):
            pages.append(page)
    return pages


def http_url(url: str) -> str:
    """``url`` if it may be a link target (http or https), else "": page URLs come from whoever
    holds a project's public DSN, and a ``javascript:`` URL, or one ``urlsplit`` cannot read, must
    never become a link."""
    try:
        scheme = urlsplit(url or "").scheme.lower()
    except ValueError:
        return ""
    return url if scheme in ("http", "https") else ""


def duration(milliseconds: object) -> str:
    """``7000`` → "7.0 s", ``450`` → "450 ms"; "" for what is not a number (evidence from any
    producer of the occurrence endpoint may lack it or hold a string)."""
    if not isinstance(milliseconds, int | float) or isinstance(milliseconds, bool):
        return ""
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    return f"{milliseconds / 1000:.1f} s"


def clock(milliseconds: float) -> str:
    """A position in a replay: ``83_000`` → "01:23", past an hour "1:02:03"."""
    total = max(int(milliseconds // 1000), 0)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


@dataclass(frozen=True, slots=True)
class Share:
    label: str
    count: int
    percent: float


def shares(
    counts: Iterable[tuple[str, int]], total: int, empty_label: str = "(none)"
) -> list[Share]:
    """Each value's part of ``total`` in percent (one decimal), for the breakdown bars.

    Values that the SDK did not send (empty strings) are shown as ``empty_label``; whatever the
    listed values do not cover is one more row, "Other".
    """
    rows = []
    covered = 0
    for label, count in counts:
        covered += count
        rows.append(Share(label or empty_label, count, _percent(count, total)))
    if total > covered:
        rows.append(Share("Other", total - covered, _percent(total - covered, total)))
    return rows


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total > 0 else 0.0


def count_words(n: int, more: bool = False) -> str:
    """A count of issues as the list shows it: "1,234", or "1,000+" for a count that stopped
    at its bound (more match than ``n``)."""
    return f"{n:,}+" if more else f"{n:,}"


def duration_words(span: timedelta) -> str:
    """A window in words: ``hour``, ``2 hours``, ``30 minutes``, ``45 seconds``."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"


def click_outcome(evidence: object) -> str:
    """What the page did after the click, in plain words, from the SDK's ``endReason`` and
    ``timeAfterClickMs``: "no response after 7.0 s" (the SDK gave up: a dead click), "answered
    after 4.2 s" (a slow click: the page changed at last); "" without a time."""
    if not isinstance(evidence, dict):
        return ""
    waited = duration(evidence.get("timeAfterClickMs"))
    if not waited:
        return ""
    if evidence.get("endReason") == "timeout":
        return f"no response after {waited}"
    return f"answered after {waited}"


def click_count_words(evidence: object) -> str:
    """ "clicked 6 times", "clicked once"; "" without a count."""
    count = evidence.get("clickCount") if isinstance(evidence, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return ""
    return "clicked once" if count == 1 else f"clicked {count} times"


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """One line of an issue's activity list."""

    at: datetime
    kind: str  # "status", "regression", "unignored", "alert"
    text: str
    who: str = ""


STATUS_WORDS = {"unresolved": "unresolved", "resolved": "resolved", "ignored": "ignored"}


def status_change_text(from_status: str, to_status: str, details: dict) -> str:
    """ "resolved (was unresolved)", "ignored until 2030-01-01 13:00 UTC", "ignored until 10
    more events"…"""
    text = STATUS_WORDS.get(to_status, to_status)
    conditions = []
    if details.get("ignore_until"):
        until = datetime.fromisoformat(details["ignore_until"])
        conditions.append(f"until {until:%Y-%m-%d %H:%M} UTC")
    if details.get("ignore_count"):
        conditions.append(f"until {details['ignore_count']} more events")
    if details.get("ignore_user_count"):
        conditions.append(f"until {details['ignore_user_count']} more users")
    if details.get("in_release"):
        conditions.append(f"in the next release after {details['in_release']}")
    if conditions:
        text += " " + " or ".join(conditions)
    if from_status and from_status != to_status:
        text += f" (was {STATUS_WORDS.get(from_status, from_status)})"
    return text


def activity_entries(
    activities: Iterable[tuple[datetime, str, str, str, str, dict]],
    alerts: Iterable[tuple[datetime, str, str]],
) -> list[ActivityEntry]:
    """The activity list, newest first: the issue's activity rows (when, kind, who, from, to,
    details) and the alerts sent for it (when, what triggered it and the rule, delivery status)."""
    entries = []
    for at, kind, who, from_status, to_status, details in activities:
        if kind == "regression":
            release = details.get("release")
            text = "regressed: clicked again after it was resolved" + (
                f" (release {release})" if release else ""
            )
        elif kind == "unignored":
            text = "unresolved again: its ignore condition was met"
        else:
            text = status_change_text(from_status, to_status, details)
        entries.append(ActivityEntry(at, kind, text, who))
    for at, what, delivery_status in alerts:
        entries.append(ActivityEntry(at, "alert", f"Alert: {what} · {delivery_status}"))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
