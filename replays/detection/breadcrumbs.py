"""Find the SDK's click and hydration-error breadcrumbs in a segment's rrweb events.

The SDK writes them as rrweb custom events (``type`` 5) tagged ``breadcrumb``, with
``payload.category`` ``ui.slowClickDetected`` (a click that got no answer, or a late one),
``ui.multiClick`` (several clicks on an element that did answer) or ``replay.hydrate-error`` (React
could not hydrate the server's HTML). Most segments carry none, and a segment may be a
multi-megabyte DOM snapshot: a substring search over the inflated bytes decides whether the events
need parsing at all, so a segment without these breadcrumbs never pays for a JSON parse.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any
from urllib.parse import urljoin

import orjson

from replays.detection.errors import InvalidSegment
from replays.detection.text import without_nul
from replays.detection.timeline import (
    MARKERS as TIMELINE_MARKERS,
)
from replays.detection.timeline import (
    TimelineCollector,
    TimelineEntry,
    breadcrumb_entry,
    span_entry,
)
from replays.detection.timestamps import is_click_time

SLOW_CLICK = "ui.slowClickDetected"
MULTI_CLICK = "ui.multiClick"
HYDRATE_ERROR = "replay.hydrate-error"
CLICK_CATEGORIES = frozenset({SLOW_CLICK, MULTI_CLICK})
CATEGORIES = CLICK_CATEGORIES | {HYDRATE_ERROR}
# Each category is looked for with a substring search of its own, longest first (it skips the
# farthest). The regex engine's scan for the click categories' shared prefix "ui." stepped through
# every byte: 171M instructions on the bench's segments without findings against zlib's 526M, where
# the three substring searches cost 48M (callgrind); an alternation of all three, with no common
# prefix, is tried at every byte and was slower still. The timeline's markers (requests, console,
# navigations, plain clicks) join them: a segment with a request but no click has timeline entries.
_DETECTION_MARKERS = tuple(sorted((c.encode() for c in CATEGORIES), key=len, reverse=True))
_MARKERS = tuple(sorted((*_DETECTION_MARKERS, *TIMELINE_MARKERS), key=len, reverse=True))
# The SDK writes each custom event as ``{"type":5,"timestamp":...,"data":...}`` (compact JSON, its
# keys in that order; a DOM comment node is ``{"type":5,"textContent":...}``), and every rrweb
# event starts with its ``type``: an event ends where ``},{"type":`` follows, or at the array's
# end. Nested objects may hold that boundary too: the next one is tried, a few times at most.
# The meta events (the pages) are searched for alongside when needed. Each start has a substring
# search of its own: one regex for both took 7,300 instructions per KB of the bench's segments, as
# much as a third of zlib's inflating, the two searches 3,000 (cachegrind).
_CUSTOM_EVENT_START = b'{"type":5,"timestamp":'
_META_EVENT_START = b'{"type":4,'
_EVENT_BOUNDARY = b'},{"type":'
MAX_EVENT_END_ATTEMPTS = 8
# A plain click's category as a JSON string: the scan reads every one of them from a custom event,
# or the segment is parsed whole (another writer's spacing).
_UI_CLICK_STRING = b'"ui.click'
# What the scan must read every occurrence of in the events it parses, or the segment is parsed
# whole: the categories that become findings (requests and console errors are what the scan reads).
_ACCOUNTED = (*_DETECTION_MARKERS, _UI_CLICK_STRING)
# Whether a custom event may be a finding or an entry: one search of the event's own bytes.
_ENTRY_MARKER = re.compile(b"|".join(re.escape(marker) for marker in _MARKERS))
_JSON_WHITESPACE = b" \t\r\n"
_ARRAY_OPENS = re.compile(rb"[ \t\r\n]*\[")
_WHITESPACE_ONLY = re.compile(rb"[ \t\r\n]*")
# A segment whose categories the scan cannot read (it is not the SDK's output) is parsed whole, as
# Python objects of 50 to 100 bytes per JSON value: an array of 11 million ``{}`` in the 32 MiB
# limit would cost about 1 GiB. Past this many values, what the scan read is what it holds. rrweb's
# events hold a value per 12 to 18 bytes (the bench's snapshots): a segment of rrweb events up to
# the 32 MiB limit is still parsed whole, never an array of millions of empty objects.
MAX_PARSED_VALUES = 2_000_000

RRWEB_META_EVENT = 4  # the page's ``href``, at the start and after each navigation
RRWEB_CUSTOM_EVENT = 5
NAVIGATION = "navigation"  # the SDK's history breadcrumb: ``data.to``, a path or URL
UI_CLICK = "ui.click"  # every click the SDK records, answered or not
TIMELINE_CATEGORIES = frozenset({NAVIGATION, "console", UI_CLICK})
# A segment covers seconds of a session, in which a person clicks a few times. More click
# breadcrumbs than this come from a broken or hostile client, and each would become an occurrence
# (a 490 KB envelope of one click repeated inflates to 70,000 of them): the first ones are kept.
# So for hydration errors (React reports one or two per page load).
MAX_CLICKS_PER_SEGMENT = 200
# Plain clicks (``ui.click``, one per click, answered or not) counted for exposure, alike: the first
# ones with a usable day.
MAX_COUNTED_CLICKS = 500
_LAST_DAY_SECONDS = 32503680000  # the year 3000: a later time is no day of a click
MAX_HYDRATION_ERRORS_PER_SEGMENT = 200
MAX_SELECTOR_CHARS = 1024
MAX_TEXT_CHARS = 256
MAX_URL_CHARS = 2048
MAX_ATTRIBUTES = 32
MAX_ATTRIBUTE_CHARS = 256

# A type selector (element name) where a compound starts: at the start or after a combinator.
_COMPOUND_TYPE_SELECTOR = re.compile(r"(?:^|(?<=[ \t\n>+~]))[A-Za-z][A-Za-z0-9-]*")
# HTML's element names, current and obsolete (the DOM's ``tagName`` of each is in capitals), and
# the roots of inline SVG and MathML.
_HTML_ELEMENTS = """
    a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big
    blink blockquote body br button canvas caption center cite code col colgroup data datalist dd
    del details dfn dialog dir div dl dt em embed fieldset figcaption figure font footer form
    frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe image img input ins
    isindex kbd keygen label legend li link listing main map mark marquee menu menuitem meta meter
    multicol nav nextid nobr noembed noframes noscript object ol optgroup option output p param
    picture plaintext pre progress q rb rp rt rtc ruby s samp script search section select slot
    small source spacer span strike strong style sub summary sup table tbody td template textarea
    tfoot th thead time title tr track tt u ul var video wbr xmp svg math
"""
HTML_ELEMENT_NAMES = frozenset(_HTML_ELEMENTS.split())


@dataclass(frozen=True, slots=True)
class Node:
    """The clicked element as the SDK describes it."""

    id: int | None
    tag_name: str
    text: str
    attributes: dict[str, str]

    @property
    def component_name(self) -> str | None:
        """The React component's name, when the app is built with Sentry's annotation plugin."""
        return self.attributes.get("data-sentry-component") or None


@dataclass(frozen=True, slots=True)
class ClickBreadcrumb:
    category: str
    timestamp: float  # seconds since the epoch: when the click happened
    selector: str
    node: Node
    url: str | None
    route: str | None
    time_after_click_ms: float
    end_reason: str | None
    click_count: int


@dataclass(frozen=True, slots=True)
class HydrationErrorBreadcrumb:
    timestamp: float  # seconds since the epoch: when React reported it
    url: str | None  # ``data.url``; else the page the replay was on at that moment (SDK 7.x)
    route: str | None


@dataclass(frozen=True, slots=True)
class PageClick:
    """A plain click (``ui.click``) and the page the replay was on, as exposure names it: the
    latest meta event's ``href`` or navigation breadcrumb's ``to`` before it (None: the segment
    tells none, the replay_event's ``request_url`` is)."""

    click: ClickBreadcrumb
    page: str | None


@dataclass(frozen=True, slots=True)
class Breadcrumbs:
    """What a segment holds for detection, each in recording order: the click and hydration
    error breadcrumbs, the timeline entries (requests, console errors, navigations, plain
    clicks) that explain a click's window, and the plain clicks that exposure counts."""

    clicks: tuple[ClickBreadcrumb, ...] = ()
    hydration_errors: tuple[HydrationErrorBreadcrumb, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    page_clicks: tuple[PageClick, ...] = ()


def may_have_breadcrumbs(events: bytes) -> bool:
    """Whether the events may hold a click or hydration-error breadcrumb or a timeline entry (no
    false negatives for SDK output)."""
    return any(marker in events for marker in _MARKERS)


def find_click_breadcrumbs(events: bytes) -> list[ClickBreadcrumb]:
    """The click breadcrumbs in a segment's rrweb events (JSON bytes), in recording order; the
    first ``MAX_CLICKS_PER_SEGMENT`` of them."""
    return list(find_breadcrumbs(events).clicks)


def find_breadcrumbs(events: bytes) -> Breadcrumbs:
    """The click breadcrumbs (the first ``MAX_CLICKS_PER_SEGMENT``), hydration errors (the
    first ``MAX_HYDRATION_ERRORS_PER_SEGMENT``) and timeline entries (the first of each kind,
    ``timeline.MAX_ENTRIES_PER_SEGMENT``) in a segment's rrweb events (JSON bytes), in one pass.

    A segment is not parsed whole: only its custom events (and its meta events, for the pages) are
    (``scan_custom_events``), unless one of its categories lies outside the events read so
    (another writer's spacing, a truncated event, a text that names one). Then it is parsed whole
    when it holds at most ``MAX_PARSED_VALUES`` JSON values; past that, what the scan read is what
    it holds. A segment with a click or hydration-error category that is no JSON array is invalid;
    without one, it has the entries and plain clicks the scan read."""
    counts = _category_counts(events)
    detection = any(counts[marker] for marker in _DETECTION_MARKERS)
    if not detection and not counts[_UI_CLICK_STRING]:
        if not any(marker in events for marker in TIMELINE_MARKERS):
            return Breadcrumbs()
    elif detection and not _is_array(events):
        _parse_whole(events)  # raises InvalidSegment, with orjson's reason
    scan = _Scan(events, counts)
    scanned = walk_events(scan.events())
    if scan.complete or not _parsable_whole(events):
        return scanned
    if detection:
        return walk_events(_parse_whole(events))
    try:
        parsed = orjson.loads(events)
    except orjson.JSONDecodeError:
        return Breadcrumbs(timeline=scan_timeline(events))
    return walk_events(parsed) if isinstance(parsed, list) else Breadcrumbs()


def _parse_whole(events: bytes) -> list[Any]:
    try:
        parsed = orjson.loads(events)
    except orjson.JSONDecodeError as exc:
        raise InvalidSegment(f"the recording is not valid JSON: {exc}") from None
    if not isinstance(parsed, list):
        raise InvalidSegment("the recording is not a JSON array of rrweb events")
    return parsed


def _is_array(events: bytes) -> bool:
    """Whether the events open and close as a JSON array (a truncated segment does not); read in
    place (stripping whitespace would copy up to 32 MiB)."""
    end = events.rfind(b"]")
    return (
        end != -1
        and _ARRAY_OPENS.match(events) is not None
        and _WHITESPACE_ONLY.fullmatch(events, end + 1) is not None
    )


def _parsable_whole(events: bytes) -> bool:
    """Whether the events hold at most ``MAX_PARSED_VALUES`` JSON values: each value but the
    first of its array or object follows a comma, so commas and containers bound their count."""
    values = events.count(b",") + events.count(b"{") + events.count(b"[") + 1
    return values <= MAX_PARSED_VALUES


def walk_events(parsed: Iterable[Any]) -> Breadcrumbs:
    """``find_breadcrumbs`` over a segment's parsed events (all of them, or those the scan
    read: the events this skips are the ones it does not read)."""
    clicks: list[ClickBreadcrumb] = []
    hydration_errors: list[HydrationErrorBreadcrumb] = []
    timeline = TimelineCollector()
    page_clicks: list[PageClick] = []
    page: str | None = None  # the page the replay is on, as far as this segment tells
    # The page as exposure names it (as it always has: no spans, a navigation's ``to`` verbatim).
    exposure_page: str | None = None
    # Most events are DOM mutations and mouse moves: only meta (4) and custom (5) events go on.
    for event in parsed:
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        if kind == RRWEB_META_EVENT:
            page = _page_from_meta(event, page)
            exposure_page = meta_href(event) or exposure_page
            continue
        if kind != RRWEB_CUSTOM_EVENT or (payload := _payload(event)) is None:
            continue
        category = payload.get("category")
        if category is None:
            timeline.add(span_entry(payload))
        if category in CLICK_CATEGORIES:
            if len(clicks) < MAX_CLICKS_PER_SEGMENT:
                clicks.append(parse_click_breadcrumb(event, payload))
        elif category == HYDRATE_ERROR:
            if len(hydration_errors) < MAX_HYDRATION_ERRORS_PER_SEGMENT:
                hydration_errors.append(parse_hydration_error(event, payload, page))
        elif category in TIMELINE_CATEGORIES:
            timeline.add(breadcrumb_entry(category, payload))
            if category == NAVIGATION:
                page = _page_after_navigation(payload, page)
                exposure_page = navigated_to(payload) or exposure_page
            elif category == UI_CLICK and len(page_clicks) < MAX_COUNTED_CLICKS:
                _add_page_click(page_clicks, event, payload, exposure_page)
        elif category is None and _text(payload.get("op"), 64).startswith("navigation."):
            page = _text(payload.get("description"), MAX_URL_CHARS) or page  # its URL
    return Breadcrumbs(
        tuple(clicks), tuple(hydration_errors), tuple(timeline.entries), tuple(page_clicks)
    )


def _add_page_click(
    page_clicks: list[PageClick], event: dict[str, Any], payload: dict[str, Any], page: str | None
) -> None:
    """A plain click counts when it happened on a day (a time in seconds since the epoch)."""
    click = parse_click_breadcrumb(event, payload)
    if 0 < click.timestamp < _LAST_DAY_SECONDS:
        page_clicks.append(PageClick(click, page))


def meta_href(event: dict[str, Any]) -> str | None:
    """A meta event's page, as exposure names it."""
    data = event.get("data")
    href = data.get("href") if isinstance(data, dict) else None
    return href[:MAX_URL_CHARS] if isinstance(href, str) and href else None


def navigated_to(payload: dict[str, Any]) -> str | None:
    """A navigation breadcrumb's new page, as exposure names it."""
    data = payload.get("data")
    to = data.get("to") if isinstance(data, dict) else None
    return to[:MAX_URL_CHARS] if isinstance(to, str) and to else None


def scan_timeline(events: bytes) -> tuple[TimelineEntry, ...]:
    """The timeline entries of a segment's custom events, each parsed on its own: the DOM's
    snapshots and mutations around them are never parsed (nor need to be valid JSON). Gives what
    the full parse gives for the SDK's output."""
    return walk_events(_Scan(events, dict.fromkeys(_ACCOUNTED, 0)).events()).timeline


def scan_custom_events(events: bytes) -> Breadcrumbs | None:
    """What ``find_breadcrumbs`` finds, from the segment's custom events alone (and its meta
    events, for the pages); None when a category lies outside the events read so (another
    writer's spacing, a truncated event): the caller parses the segment whole."""
    scan = _Scan(events, _category_counts(events))
    scanned = walk_events(scan.events())
    return scanned if scan.complete else None


def _category_counts(events: bytes) -> dict[bytes, int]:
    return {marker: events.count(marker) for marker in _ACCOUNTED}


class _Scan:
    """The meta and custom events of a segment that may matter (those holding a marker), parsed
    one at a time, in recording order; ``complete`` once read: whether every category the segment
    holds (``counts``) lay in an event read (the scan then gives what the full parse gives)."""

    def __init__(self, events: bytes, counts: dict[bytes, int]) -> None:
        self.source = events
        self.expected = {marker: count for marker, count in counts.items() if count}
        self.read = dict.fromkeys(self.expected, 0)
        # The pages (meta events) matter to plain clicks and hydration errors only.
        self.pages = bool(self.expected.keys() & {_UI_CLICK_STRING, HYDRATE_ERROR.encode()})
        self.complete = False

    def events(self) -> Iterator[Any]:
        events, view, read = self.source, memoryview(self.source), self.read
        # The next custom and meta event at or after the last one's end (-1: none is left).
        custom = events.find(_CUSTOM_EVENT_START)
        meta = events.find(_META_EVENT_START) if self.pages else -1
        while custom != -1 or meta != -1:
            start = meta if custom == -1 or (meta != -1 and meta < custom) else custom
            is_meta = start == meta
            event, end = _object_at(events, view, start, None if is_meta else _ENTRY_MARKER)
            if isinstance(event, dict):
                for marker in read:
                    read[marker] += events.count(marker, start, end)
                yield event
            if custom != -1 and custom < end:
                custom = events.find(_CUSTOM_EVENT_START, end)
            if meta != -1 and meta < end:
                meta = events.find(_META_EVENT_START, end)
        self.complete = read == self.expected


def _object_at(
    events: bytes, view: memoryview, start: int, markers: re.Pattern[bytes] | None
) -> tuple[Any, int]:
    """The JSON object that starts at ``start`` and where it ends; None for the object when it
    holds none of ``markers`` (None: any object is parsed) or cannot be read. Most custom events
    are no entry (options, memory, paints, web vitals, script loads): a search in the event's own
    bytes skips them unparsed."""
    after = start
    for _ in range(MAX_EVENT_END_ATTEMPTS):
        boundary = events.find(_EVENT_BOUNDARY, after)
        end = boundary + 1 if boundary != -1 else events.rfind(b"}") + 1
        if end <= start:  # no closing brace after it: a truncated event
            return None, len(events)
        if markers is not None and markers.search(events, start, end) is None:
            return None, end
        try:
            return orjson.loads(view[start:end]), end
        except orjson.JSONDecodeError as exc:
            found = _object_before(events, view, start, exc)
            if found is not None:
                return found
            if boundary == -1:
                return None, len(events)
            after = boundary + 1
    return None, start + 1


def _object_before(
    events: bytes, view: memoryview, start: int, error: orjson.JSONDecodeError
) -> tuple[Any, int] | None:
    """The object that starts at ``start`` when what follows it is no event (``{}``, a number):
    orjson read it whole and stopped at what follows, at ``error.pos`` (a count of characters,
    which is a count of bytes for the ASCII the SDK writes; any other is tried and refused)."""
    if error.msg != "unexpected content after document":
        return None
    end = start + error.pos
    while end > start and events[end - 1] in _JSON_WHITESPACE:
        end -= 1
    if events[end - 1 : end] != b"}":
        return None
    try:
        return orjson.loads(view[start:end]), end
    except orjson.JSONDecodeError:
        return None


def _payload(event: dict[str, Any]) -> dict[str, Any] | None:
    """A custom event's payload: a breadcrumb's (with a string category, as only a string can be
    compared with the categories: a list there is unhashable) or a performance span's."""
    data = event.get("data")
    if not isinstance(data, dict):
        return None
    payload = data.get("payload")
    if not isinstance(payload, dict):
        return None
    tag = data.get("tag")
    if tag == "breadcrumb":
        return payload if isinstance(payload.get("category"), str) else None
    return payload if tag == "performanceSpan" and "category" not in payload else None


def _page_from_meta(event: dict[str, Any], page: str | None) -> str | None:
    data = event.get("data")
    href = _text(data.get("href"), MAX_URL_CHARS) if isinstance(data, dict) else ""
    return href or page


def _page_after_navigation(payload: dict[str, Any], page: str | None) -> str | None:
    """The SDK's navigation breadcrumb names the new page as a path (``/cart``) or a URL."""
    data = payload.get("data")
    to = _text(data.get("to"), MAX_URL_CHARS) if isinstance(data, dict) else ""
    if not to:
        return page
    try:
        return urljoin(page, to)[:MAX_URL_CHARS] if page else to
    except ValueError:  # an invalid host in ``page``: the path alone still names the page
        return to


def parse_hydration_error(
    event: dict[str, Any], payload: dict[str, Any], page: str | None
) -> HydrationErrorBreadcrumb:
    """One hydration error: ``data.url`` since SDK 7.87; before that, no ``data`` at all and the
    page is the one the replay was on (``page``, or the replay_event's, which the caller has)."""
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    return HydrationErrorBreadcrumb(
        timestamp=_timestamp(payload.get("timestamp"), event.get("timestamp")),
        url=_text(data.get("url"), MAX_URL_CHARS).strip() or page,
        route=_text(data.get("route"), MAX_URL_CHARS).strip() or None,
    )


def parse_click_breadcrumb(event: dict[str, Any], payload: dict[str, Any]) -> ClickBreadcrumb:
    """One breadcrumb, its fields typed and bounded; what is missing or mistyped reads as absent."""
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    node = parse_node(data.get("node"))
    # A blank message names no element: the node does (one blank selector would group them all).
    selector = _text(payload.get("message"), MAX_SELECTOR_CHARS).strip() or selector_from_node(node)
    return ClickBreadcrumb(
        category=payload["category"],
        timestamp=_timestamp(payload.get("timestamp"), event.get("timestamp")),
        selector=normalize_selector(selector),
        node=node,
        url=_text(data.get("url"), MAX_URL_CHARS) or None,
        route=_text(data.get("route"), MAX_URL_CHARS) or None,
        time_after_click_ms=_number(_either(data, "timeAfterClickMs", "timeafterclickms")),
        end_reason=_text(data.get("endReason"), 64) or None,
        click_count=max(1, int(_number(_either(data, "clickCount", "clickcount"), default=1.0))),
    )


def parse_node(value: Any) -> Node:
    node = value if isinstance(value, dict) else {}
    attributes = node.get("attributes")
    kept: dict[str, str] = {}
    if isinstance(attributes, dict):
        # Every plain click is parsed (exposure counts them): the bounds inline, not two calls each.
        for name, attribute in islice(attributes.items(), MAX_ATTRIBUTES):
            if isinstance(name, str) and isinstance(attribute, _ATTRIBUTE_TYPES):
                name = name[:MAX_ATTRIBUTE_CHARS]
                value = (attribute if isinstance(attribute, str) else str(attribute))[
                    :MAX_ATTRIBUTE_CHARS
                ]
                if "\x00" in name or "\x00" in value:
                    name, value = without_nul(name), without_nul(value)
                kept[name] = value
    node_id = node.get("id")
    return Node(
        id=node_id if isinstance(node_id, int) and not isinstance(node_id, bool) else None,
        tag_name=_text(node.get("tagName"), 64).lower(),
        text=_text(node.get("textContent"), MAX_TEXT_CHARS),
        attributes=kept,
    )


_ATTRIBUTE_TYPES = (str, int, float, bool)


def selector_from_node(node: Node) -> str:
    """A selector in the SDK's style (``tag#id.class``) for a breadcrumb that carries none."""
    selector = node.tag_name or "unknown"
    if node.attributes.get("id"):
        selector += "#" + node.attributes["id"]
    for name in node.attributes.get("class", "").split():
        selector += "." + name
    return selector[:MAX_SELECTOR_CHARS]


def mask_brackets(selector: str) -> str:
    """``selector`` with what lies inside ``[...]`` (quoted values too) replaced by ``_``. As long
    as ``selector``: what a search finds in it is at the same place in ``selector``, and never
    inside an attribute's value (which may hold spaces, ``>`` or commas)."""
    if "[" not in selector:
        return selector
    out, bracket, quote = [], False, ""
    for char in selector:
        if quote:
            quote = "" if char == quote else quote
        elif bracket:
            if char in "\"'":
                quote = char
            bracket = char != "]"
        else:
            bracket = char == "["
            out.append(char)
            continue
        out.append("_" if bracket or quote else char)
    return "".join(out)


@lru_cache(maxsize=4096)  # pure; a page's elements are clicked again and again
def normalize_selector(selector: str) -> str:
    """Outer whitespace trimmed and HTML element names in lower case: ``BODY > BUTTON#Buy`` and
    ``body > button#Buy`` are one element. Ids, classes, attribute values and React component
    names keep their case: the SDK writes a component in place of its element, verbatim
    (``div.xyz > SmartSearchBar``), and ``Button`` there is a component, not ``<button>``.

    A producer upper-cases an element name only by sending the DOM's ``tagName`` (``BUTTON``,
    ``MY-WIDGET``); component names are identifiers that are not all capitals. So a name is
    lowered only when it has no lower-case letter and names an HTML element or a custom element
    (with a hyphen, which no component name has)."""
    return _lower_element_names(selector.strip(), _is_html_tag_name)


def fold_element_names(selector: str) -> str:
    """``selector`` (as ``normalize_selector`` wrote it) with every element name in lower case,
    components' too: what identifies the element in a fingerprint and an occurrence id. Before
    components kept their case, ``normalize_selector`` lowered them and issues were grouped by
    that: folding keeps every existing fingerprint and occurrence id, so no issue splits on
    upgrade (and no two components differ only by case)."""
    return _lower_element_names(selector, None)


def _is_html_tag_name(name: str) -> bool:
    return name.upper() == name and (name.lower() in HTML_ELEMENT_NAMES or "-" in name)


def _lower_element_names(selector: str, only: Callable[[str], bool] | None) -> str:
    """``selector`` with its element names (each compound's type selector; never what lies in
    ``[...]``) in lower case: all of them, or those ``only`` accepts."""
    if selector.lower() == selector:
        return selector
    pieces, start = [], 0
    for match in _COMPOUND_TYPE_SELECTOR.finditer(mask_brackets(selector)):
        if only is None or only(match.group()):
            pieces += (selector[start : match.start()], match.group().lower())
            start = match.end()
    pieces.append(selector[start:])
    return "".join(pieces)


def _text(value: Any, limit: int) -> str:
    """At most ``limit`` characters of a string, without NUL characters."""
    return without_nul(value[:limit]) if isinstance(value, str) else ""


def _is_number(value: Any) -> bool:
    # A tuple, not ``int | float``: isinstance checks a union object more slowly, per field of
    # every click parsed.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _number(value: Any, default: float = 0.0) -> float:
    if _is_number(value):
        return float(min(max(value, -1e15), 1e15))
    return default


def _either(data: dict[str, Any], key: str, lower_case_key: str) -> Any:
    """``data[key]``, else ``data[lower_case_key]``: some producers lower-case the SDK's keys
    (Sentry's own parser reads both), and only a number there is read."""
    value = data.get(key)
    return value if _is_number(value) else data.get(lower_case_key)


def _timestamp(payload_seconds: Any, event_ms: Any) -> float:
    """The breadcrumb's own time in seconds; the rrweb event's (in milliseconds) when that one is
    missing or no click time (a producer that wrote milliseconds there too), so that the
    occurrence is not refused by the issues stage."""
    seconds = _number(payload_seconds)
    if is_click_time(seconds):
        return seconds
    event_seconds = _number(event_ms) / 1000.0
    if is_click_time(event_seconds) or seconds <= 0:
        return event_seconds
    return seconds
