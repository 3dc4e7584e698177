"""One segment through every detection step: the pure core of the replays consumer.

``decode_segment`` needs only the message's bytes; ``detect_clicks`` (clicks and hydration
errors) needs the project's settings as well, which the consumer looks up between the two. Neither
reads a clock, a database or a topic.
"""

import re
from dataclasses import dataclass, field

from issues.grouptypes import ERROR_CLICK, HYDRATION_ERROR, get_by_slug
from replays.detection.breadcrumbs import (
    MAX_URL_CHARS,
    MULTI_CLICK,
    ClickBreadcrumb,
    HydrationErrorBreadcrumb,
    find_breadcrumbs,
    fold_element_names,
)
from replays.detection.classify import ClickType, Thresholds, classify
from replays.detection.element_identity import element_identity
from replays.detection.errors import InvalidSegment
from replays.detection.exposure import Exposure, exposure_of
from replays.detection.fingerprint import fingerprint, hydration_fingerprint, page_of
from replays.detection.ignore import IgnoreRule, is_ignored
from replays.detection.message import decode_message
from replays.detection.occurrence import (
    ClickContext,
    Occurrence,
    build_error_click_occurrence,
    build_hydration_occurrence,
    build_occurrence,
    occurrence_id,
    window_of,
    with_window,
)
from replays.detection.recording import (
    Recording,
    compress_recording,
    inflate_recording,
    split_recording,
)
from replays.detection.replay_event import ReplayEvent, parse_replay_event
from replays.detection.sampling import is_sampled
from replays.detection.timeline import CLICK, MAX_ENTRIES_PER_SEGMENT, TimelineEntry
from replays.detection.window import SegmentEntry

# The types this producer raises from a segment alone (by slug: a ClickType is its slug), what a
# settings preview counts, and those of them that the registry enables by default. Error clicks
# are raised where the windows are built (``replays.click_windows``), once an error falls in one;
# reprocessing raises them from the replay's stored timeline and error events
# (``replays.reprocessing``), and a preview counts them when either side enables them.
PRODUCED_TYPES: tuple[str, ...] = (*ClickType, HYDRATION_ERROR.slug)
DEFAULT_ENABLED = frozenset(
    slug
    for slug in PRODUCED_TYPES
    if (group_type := get_by_slug(slug)) and group_type.enabled_by_default
)
# Plain clicks of one segment that may become error clicks, at most: as many as its timeline
# keeps (``MAX_ENTRIES_PER_SEGMENT``); each is a stored window until it is forgotten.
MAX_ERROR_CLICKS = MAX_ENTRIES_PER_SEGMENT[CLICK]


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """A project's detection settings, as the pure core reads them; types by registry slug."""

    enabled: frozenset[str] = DEFAULT_ENABLED
    sample_rates: dict[str, float] = field(default_factory=dict)  # missing: 1.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    ignore: tuple[IgnoreRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Segment:
    """A decoded message: the ids, the segment's metadata and its inflated rrweb events."""

    project_id: int
    org_id: int
    key_id: int | None
    replay_id: str
    segment_id: int
    received: int
    retention_days: int
    replay_event: ReplayEvent
    recording: Recording
    events: bytes  # the rrweb events, inflated JSON

    @property
    def stored_recording(self) -> bytes:
        """The recording's body as kept: zlib-compressed."""
        return compress_recording(self.recording)


@dataclass(frozen=True, slots=True)
class DetectedClick:
    breadcrumb: ClickBreadcrumb
    click_type: ClickType
    occurrence: Occurrence
    enabled: bool
    ignored: bool
    sampled: bool

    @property
    def published(self) -> bool:
        """Whether an occurrence goes to the issue platform; every click counts on the replay."""
        return self.enabled and self.sampled and not self.ignored


@dataclass(frozen=True, slots=True)
class DetectedHydrationError:
    breadcrumb: HydrationErrorBreadcrumb
    occurrence: Occurrence
    enabled: bool
    sampled: bool

    @property
    def published(self) -> bool:
        """Whether an occurrence goes to the issue platform; every one counts on the replay."""
        return self.enabled and self.sampled


@dataclass(frozen=True, slots=True)
class Detection:
    """What one segment yields: its clicks (classified or not), its hydration errors, and the
    occurrences to publish."""

    clicks: tuple[DetectedClick, ...] = ()
    multi_clicks: int = 0
    hydration_errors: tuple[DetectedHydrationError, ...] = ()
    # The pages and element clicks of the segment, counted for issues' impact.
    exposure: Exposure = field(default_factory=Exposure)
    timeline: tuple[TimelineEntry, ...] = ()
    # The plain clicks that become error clicks once an error falls in their window (enabled,
    # sampled and not ignored): kept with a window like the other clicks, published once raised.
    error_click_candidates: tuple[Occurrence, ...] = ()

    @property
    def occurrences(self) -> list[Occurrence]:
        return [
            found.occurrence for found in (*self.clicks, *self.hydration_errors) if found.published
        ]

    @property
    def click_occurrences(self) -> list[Occurrence]:
        """The published click occurrences and the error-click candidates: their windows may
        grow with later segments and error events."""
        return [
            *(click.occurrence for click in self.clicks if click.published),
            *self.error_click_candidates,
        ]

    @property
    def other_occurrences(self) -> list[Occurrence]:
        """The published occurrences that have no window (hydration errors)."""
        return [found.occurrence for found in self.hydration_errors if found.published]

    def count(self, click_type: ClickType) -> int:
        return sum(1 for click in self.clicks if click.click_type is click_type)


def decode_segment(raw: bytes, max_inflated_bytes: int) -> Segment:
    """Decode, validate, split and inflate one message; ``InvalidSegment`` if it cannot be."""
    message = decode_message(raw)
    recording = split_recording(message["payload"])
    replay_event = parse_replay_event(message.get("replay_event"))
    replay_id = _replay_id(message["replay_id"])
    return Segment(
        project_id=message["project_id"],
        org_id=message["org_id"],
        key_id=message.get("key_id"),
        replay_id=replay_id,
        segment_id=recording.segment_id,
        received=message["received"],
        retention_days=message["retention_days"],
        replay_event=replay_event,
        recording=recording,
        events=inflate_recording(recording, max_inflated_bytes),
    )


def detect_clicks(segment: Segment, settings: DetectionSettings, now: float) -> Detection:
    """Classify the segment's click breadcrumbs and build an occurrence for each dead, rage or
    slow click, and one for each hydration error; mark those of a disabled type, ignored or
    sampled out (they still count). A click's window holds what this segment recorded; the
    replays consumer widens it to the replay's whole timeline (``replays.click_windows``)."""
    context = ClickContext(
        segment.project_id, segment.replay_id, segment.segment_id, segment.replay_event
    )
    found = find_breadcrumbs(segment.events)
    error_clicks = ERROR_CLICK.slug in settings.enabled and found.page_clicks
    # Most segments have entries and no click: the pairs are made only for a click's window.
    own_entries = (
        [SegmentEntry(segment.segment_id, entry) for entry in found.timeline]
        if found.clicks or error_clicks
        else []
    )
    clicks, multi_clicks = [], 0
    for breadcrumb in found.clicks:
        if breadcrumb.category == MULTI_CLICK:
            multi_clicks += 1
            continue
        click_type = classify(breadcrumb, settings.thresholds)
        if click_type is None:
            continue
        url = breadcrumb.url or segment.replay_event.request_url
        # The selector with component names folded, as version 1 grouped it and as occurrence
        # ids always named the element: the legacy fingerprint, and ids that do not change.
        element = fold_element_names(breadcrumb.selector)
        identifier = occurrence_id(
            segment.replay_id, segment.segment_id, breadcrumb.timestamp, element
        )
        occurrence = build_occurrence(
            click_type,
            breadcrumb,
            context,
            occurrence_id=identifier,
            fingerprint=_click_fingerprint(click_type, breadcrumb, element, url),
            url=url,
            detection_time=now,
        )
        occurrence = with_window(occurrence, window_of(occurrence, own_entries))
        rate = settings.sample_rates.get(click_type, 1.0)
        clicks.append(
            DetectedClick(
                breadcrumb,
                click_type,
                occurrence,
                enabled=click_type in settings.enabled,
                ignored=is_ignored(breadcrumb, settings.ignore),
                sampled=is_sampled(identifier, rate),
            )
        )
    hydration_errors = tuple(
        _hydration_error(breadcrumb, segment, context, settings, now)
        for breadcrumb in found.hydration_errors
    )
    exposure = exposure_of(segment.replay_event, found.page_clicks)
    candidates = tuple(
        with_window(candidate, window_of(candidate, own_entries))
        for page_click in (found.page_clicks[:MAX_ERROR_CLICKS] if error_clicks else ())
        if (candidate := _error_click(page_click.click, segment, context, settings, now))
    )
    return Detection(
        tuple(clicks), multi_clicks, hydration_errors, exposure, found.timeline, candidates
    )


def _click_fingerprint(
    slug: str, breadcrumb: ClickBreadcrumb, element: str, url: str | None
) -> list[str]:
    """A click's grouping, whatever its type: the element's identity, with the legacy folded
    selector and the page for when that identity is weak."""
    return fingerprint(
        slug,
        element_identity(breadcrumb.node, breadcrumb.selector),
        element,
        breadcrumb.route,
        url,
    )


def _error_click(
    breadcrumb: ClickBreadcrumb,
    segment: Segment,
    context: ClickContext,
    settings: DetectionSettings,
    now: float,
) -> Occurrence | None:
    """A plain click as an error-click candidate, grouped as the other clicks (by its element's
    identity); None when sampled out or ignored (it is counted on the replay as a click)."""
    slug = ERROR_CLICK.slug
    element = fold_element_names(breadcrumb.selector)
    identifier = occurrence_id(
        segment.replay_id, segment.segment_id, breadcrumb.timestamp, f"{slug} {element}"
    )
    if not is_sampled(identifier, settings.sample_rates.get(slug, 1.0)) or is_ignored(
        breadcrumb, settings.ignore
    ):
        return None
    url = breadcrumb.url or segment.replay_event.request_url
    return build_error_click_occurrence(
        breadcrumb,
        context,
        occurrence_id=identifier,
        fingerprint=_click_fingerprint(slug, breadcrumb, element, url),
        url=url,
        detection_time=now,
        window_ms=settings.thresholds.error_click_ms,
    )


def _hydration_error(
    breadcrumb: HydrationErrorBreadcrumb,
    segment: Segment,
    context: ClickContext,
    settings: DetectionSettings,
    now: float,
) -> DetectedHydrationError:
    """One hydration error, grouped by its page: SDK 7.x names none, and the segment's last page
    before it (else the replay_event's) is where it happened."""
    slug = HYDRATION_ERROR.slug
    url = breadcrumb.url or segment.replay_event.request_url
    # Folding ids may lengthen a path (``/9`` → ``/{id}``): the page is bounded as a URL is.
    page = page_of(breadcrumb.route, url)[:MAX_URL_CHARS]
    identifier = occurrence_id(segment.replay_id, segment.segment_id, breadcrumb.timestamp, slug)
    occurrence = build_hydration_occurrence(
        breadcrumb,
        context,
        occurrence_id=identifier,
        fingerprint=hydration_fingerprint(slug, page),
        url=url,
        page=page,
        detection_time=now,
    )
    return DetectedHydrationError(
        breadcrumb,
        occurrence,
        enabled=slug in settings.enabled,
        sampled=is_sampled(identifier, settings.sample_rates.get(slug, 1.0)),
    )


_HEX32 = re.compile(r"[0-9a-f]{32}")


def _replay_id(value: str) -> str:
    """32 lower-case hex digits, as ingest writes it; dashes and upper case are tolerated."""
    compact = value.replace("-", "").lower()
    if not _HEX32.fullmatch(compact):
        raise InvalidSegment(f"the replay_id is not a UUID: {value[:100]!r}")
    return compact
