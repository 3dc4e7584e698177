"""What a segment tells about exposure (pure): the pages its replay visited and the clicks on each
element, so an issue's figures can say how many sessions saw its page and how many clicks its
element got ("12% of sessions on /cart", "31% of clicks on this button are dead").

A page is named as grouping names it (``normalize_path``: ids folded), from the replay_event's
``urls``, which the SDK fills with the pages of the segment. An element is named as version 2
fingerprints name it (``element_identity``; the page joins a weak identity), from every click the
SDK recorded (``ui.click`` breadcrumbs, one per click, answered or not), so the count of an
issue's element is read from the issue's own fingerprint (``element_key_of_fingerprint``). Days
are UTC. Nothing here reads a clock or a database: the replays consumer counts what this returns
once per new segment (re-delivery changes nothing).
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import orjson

from replays.detection.breadcrumbs import (
    MAX_COUNTED_CLICKS,
    MAX_URL_CHARS,
    RRWEB_CUSTOM_EVENT,
    RRWEB_META_EVENT,
    UI_CLICK,
    ClickBreadcrumb,
    Node,
    PageClick,
    find_breadcrumbs,
    parse_click_breadcrumb,
)
from replays.detection.element_identity import ElementIdentity, element_identity
from replays.detection.errors import InvalidSegment
from replays.detection.fingerprint import FINGERPRINT_VERSION, normalize_path, page_of
from replays.detection.replay_event import ReplayEvent

_UI_CLICK_MARKER = b'"ui.click"'
# A segment covers seconds of a session: more clicks than ``MAX_COUNTED_CLICKS`` come from a broken
# or hostile client; the first ones count (as ``MAX_CLICKS_PER_SEGMENT`` bounds detection).
MAX_PAGES = 100  # the replay_event's ``urls`` are bounded alike when a replay merges them


@dataclass(frozen=True, slots=True)
class Exposure:
    """One segment's pages (by hash, with the page's name) on its day, and clicks per element
    hash and day."""

    day: date | None = None
    pages: dict[str, str] = field(default_factory=dict)  # page hash -> page
    clicks: Counter[tuple[str, date]] = field(default_factory=Counter)


def key_hash(text: str) -> str:
    """The 32-character key a page or an element is counted under."""
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def page_key(url: str | None) -> tuple[str, str]:
    """(hash, page) of the page of ``url``, folded as grouping folds it."""
    page = normalize_path(url)[:MAX_URL_CHARS]
    return key_hash(page), page


def element_description(identity: ElementIdentity, page: str) -> str:
    """What names an element in a version 2 fingerprint after its type: the identity, and the
    page when the identity is weak (``fingerprint`` writes the same)."""
    described = identity.describe()
    if not identity.strong:
        described += f" page={orjson.dumps(page).decode()}"
    return described


def element_key_of_fingerprint(fingerprint: list[str]) -> str | None:
    """The element key of an issue's fingerprint: its version 2 entry without the version and
    the type; None for a fingerprint that names no element (hydration errors, version 1)."""
    prefix = f"v{FINGERPRINT_VERSION} "
    first = fingerprint[0] if fingerprint else ""
    if not isinstance(first, str) or not first.startswith(prefix):
        return None
    _, _, described = first[len(prefix) :].partition(" ")
    return key_hash(described) if described else None


def segment_exposure(replay_event: ReplayEvent, events: bytes) -> Exposure:
    """The pages of the segment (from its replay_event) and its clicks per element and day."""
    return exposure_of(replay_event, _page_clicks(events))


def exposure_of(replay_event: ReplayEvent, page_clicks: tuple[PageClick, ...]) -> Exposure:
    """``segment_exposure`` from the plain clicks ``find_breadcrumbs`` gave (detection reads the
    segment once, for its breadcrumbs, timeline entries and these)."""
    day = _day(replay_event.timestamp)
    pages = dict(page_key(url) for url in replay_event.urls[:MAX_PAGES]) if day else {}
    return Exposure(day, pages, count_page_clicks(page_clicks, replay_event.request_url))


def count_clicks(events: bytes, request_url: str | None) -> Counter[tuple[str, date]]:
    """Clicks per (element key, day) in a segment's rrweb events, as ``find_breadcrumbs`` reads
    them: only when the bytes hold a ``ui.click`` at all (most segments do not)."""
    return count_page_clicks(_page_clicks(events), request_url)


def _page_clicks(events: bytes) -> tuple[PageClick, ...]:
    if _UI_CLICK_MARKER not in events:
        return ()
    try:
        return find_breadcrumbs(events).page_clicks
    except InvalidSegment:
        return ()  # detection refuses the segment with the reason


def count_page_clicks(
    page_clicks: tuple[PageClick, ...], request_url: str | None
) -> Counter[tuple[str, date]]:
    """Clicks per (element key, day): each click's page, else the replay_event's."""
    counted: Counter[tuple[str, date]] = Counter()
    for found in page_clicks:
        clicked_on = _day(found.click.timestamp)
        if clicked_on is not None:
            counted[(_click_key(found.click, found.page or request_url), clicked_on)] += 1
    return counted


def _count_parsing_all(events: bytes, request_url: str | None) -> Counter[tuple[str, date]]:
    counted: Counter[tuple[str, date]] = Counter()
    try:
        parsed = orjson.loads(events)
    except orjson.JSONDecodeError:
        return counted  # detection refuses the segment with the reason
    if not isinstance(parsed, list):
        return counted
    return count_parsed_clicks(parsed, request_url)


def count_parsed_clicks(parsed: list[Any], request_url: str | None) -> Counter[tuple[str, date]]:
    """``count_clicks`` over events already parsed (a caller that parses the segment for another
    reason passes them, so the segment is parsed once)."""
    counted: Counter[tuple[str, date]] = Counter()
    page = request_url
    total = 0
    for event in parsed:
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        if kind == RRWEB_META_EVENT:
            page = _href(event) or page
            continue
        payload = _breadcrumb(event) if kind == RRWEB_CUSTOM_EVENT else None
        if payload is None:
            continue
        category = payload.get("category")
        if category == "navigation":
            page = _navigated_to(payload) or page
        elif category == UI_CLICK and total < MAX_COUNTED_CLICKS:
            click = parse_click_breadcrumb(event, payload)
            clicked_on = _day(click.timestamp)
            if clicked_on is None:
                continue
            counted[(_click_key(click, page), clicked_on)] += 1
            total += 1
    return counted


def _click_key(click: ClickBreadcrumb, page: str | None) -> str:
    """The element key of a click on ``page`` (the same element is clicked again and again, on
    the same page: its key, page folding included, is computed once)."""
    attributes = tuple(sorted(click.node.attributes.items()))
    return _element_key(
        click.selector,
        click.node.tag_name,
        click.node.text,
        attributes,
        click.route,
        click.url or page,
    )


@lru_cache(maxsize=4096)
def _element_key(
    selector: str,
    tag: str,
    text: str,
    attributes: tuple[tuple[str, str], ...],
    route: str | None,
    url: str | None,
) -> str:
    identity = element_identity(Node(None, tag, text, dict(attributes)), selector)
    return key_hash(element_description(identity, page_of(route, url)))


def _breadcrumb(event: dict[str, Any]) -> dict[str, Any] | None:
    data = event.get("data")
    if not isinstance(data, dict) or data.get("tag") != "breadcrumb":
        return None
    payload = data.get("payload")
    return payload if isinstance(payload, dict) else None


def _href(event: dict[str, Any]) -> str | None:
    data = event.get("data")
    href = data.get("href") if isinstance(data, dict) else None
    return href[:MAX_URL_CHARS] if isinstance(href, str) and href else None


def _navigated_to(payload: dict[str, Any]) -> str | None:
    data = payload.get("data")
    to = data.get("to") if isinstance(data, dict) else None
    return to[:MAX_URL_CHARS] if isinstance(to, str) and to else None


def _day(seconds: float | None) -> date | None:
    """The UTC day of a time in seconds since the epoch; None when there is no usable one."""
    if seconds is None or not 0 < seconds < 32503680000:  # before the year 3000
        return None
    return datetime.fromtimestamp(seconds, UTC).date()
