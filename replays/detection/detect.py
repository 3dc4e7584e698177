"""One segment through every detection step: the pure core of the replays consumer.

``decode_segment`` needs only the message's bytes; ``detect_clicks`` needs the project's settings
as well, which the consumer looks up between the two. Neither reads a clock, a database or a topic.
"""

import re
from dataclasses import dataclass, field

from replays.detection.breadcrumbs import (
    MULTI_CLICK,
    ClickBreadcrumb,
    find_click_breadcrumbs,
    fold_element_names,
)
from replays.detection.classify import ClickType, Thresholds, classify
from replays.detection.errors import InvalidSegment
from replays.detection.fingerprint import fingerprint
from replays.detection.ignore import IgnoreRule, is_ignored
from replays.detection.message import decode_message
from replays.detection.occurrence import ClickContext, Occurrence, build_occurrence, occurrence_id
from replays.detection.recording import (
    Recording,
    compress_recording,
    inflate_recording,
    split_recording,
)
from replays.detection.replay_event import ReplayEvent, parse_replay_event
from replays.detection.sampling import is_sampled


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """A project's detection settings, as the pure core reads them."""

    enabled: frozenset[ClickType] = frozenset(ClickType)
    sample_rates: dict[ClickType, float] = field(default_factory=dict)  # missing: 1.0
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
class Detection:
    """What one segment yields: its clicks (classified or not) and the occurrences to publish."""

    clicks: tuple[DetectedClick, ...] = ()
    multi_clicks: int = 0

    @property
    def occurrences(self) -> list[Occurrence]:
        return [click.occurrence for click in self.clicks if click.published]

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
    slow click; mark those of a disabled type, ignored or sampled out (they still count)."""
    context = ClickContext(
        segment.project_id, segment.replay_id, segment.segment_id, segment.replay_event
    )
    clicks, multi_clicks = [], 0
    for breadcrumb in find_click_breadcrumbs(segment.events):
        if breadcrumb.category == MULTI_CLICK:
            multi_clicks += 1
            continue
        click_type = classify(breadcrumb, settings.thresholds)
        if click_type is None:
            continue
        url = breadcrumb.url or segment.replay_event.request_url
        # The element's identity: the selector with component names folded, as they always were.
        element = fold_element_names(breadcrumb.selector)
        identifier = occurrence_id(
            segment.replay_id, segment.segment_id, breadcrumb.timestamp, element
        )
        occurrence = build_occurrence(
            click_type,
            breadcrumb,
            context,
            occurrence_id=identifier,
            fingerprint=fingerprint(click_type, element, breadcrumb.route, url),
            url=url,
            detection_time=now,
        )
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
    return Detection(tuple(clicks), multi_clicks)


_HEX32 = re.compile(r"[0-9a-f]{32}")


def _replay_id(value: str) -> str:
    """32 lower-case hex digits, as ingest writes it; dashes and upper case are tolerated."""
    compact = value.replace("-", "").lower()
    if not _HEX32.fullmatch(compact):
        raise InvalidSegment(f"the replay_id is not a UUID: {value[:100]!r}")
    return compact
