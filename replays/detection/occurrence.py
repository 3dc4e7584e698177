"""The issue occurrence: what replays tells issues, through ``ingest-occurrences`` only.

Shaped as the issue platform's occurrence (sentry-kafka-schemas ``ingest-occurrences``). Its id is
a uuid5 over what makes the click (or hydration error) unique, so a re-delivered segment yields
the same occurrence. Type ids, titles and levels are the issue platform's registry's.
"""

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from issues import grouptypes
from replays.detection.breadcrumbs import ClickBreadcrumb, HydrationErrorBreadcrumb
from replays.detection.classify import ClickType
from replays.detection.replay_event import ReplayEvent
from replays.detection.tags import merged_tags
from replays.detection.window import ClickWindow, SegmentEntry, click_window

# Each click type's entry in the issue platform's registry (``issues.grouptypes``): its numeric
# type id, default title and level.
GROUP_TYPES = {click_type: grouptypes.get_by_slug(click_type.value) for click_type in ClickType}
TYPE_IDS = {click_type: group_type.type_id for click_type, group_type in GROUP_TYPES.items()}
TYPES_BY_ID = {type_id: click_type for click_type, type_id in TYPE_IDS.items()}
TITLES = {click_type: group_type.title for click_type, group_type in GROUP_TYPES.items()}
HYDRATION_ERROR = grouptypes.HYDRATION_ERROR
ERROR_CLICK = grouptypes.ERROR_CLICK

OCCURRENCE_NAMESPACE = uuid.UUID("6d1b5f4e-3c2a-4b7e-9a8f-0c1d2e3f4a5b")
EVENT_NAMESPACE = uuid.UUID("0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d")
MAX_CULPRIT_CHARS = 200
CAUSE_DISPLAY_NAME = "Likely cause"


def occurrence_id(replay_id: str, segment_id: int, timestamp: float, selector: str) -> str:
    """The same click in the same segment always gets the same id (32 hex digits)."""
    name = f"{replay_id}:{segment_id}:{timestamp!r}:{selector}"
    return uuid.uuid5(OCCURRENCE_NAMESPACE, name).hex


@dataclass(frozen=True, slots=True)
class Occurrence:
    id: str
    project_id: int
    fingerprint: list[str]
    issue_title: str
    subtitle: str
    resource_id: str
    type: int
    detection_time: float
    level: str
    culprit: str
    evidence_data: dict[str, Any]
    evidence_display: list[dict[str, Any]]
    event: dict[str, Any]
    payload_type: str = "occurrence"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> "Occurrence":
        return cls(**{name: value[name] for name in cls.__dataclass_fields__ if name in value})

    @property
    def click_type(self) -> ClickType:
        return TYPES_BY_ID[self.type]

    @property
    def type_slug(self) -> str:
        """The registry's slug of its type (the issue's ``type``)."""
        group_type = grouptypes.get_by_id(self.type)
        return group_type.slug if group_type else str(self.type)


@dataclass(frozen=True, slots=True)
class ClickContext:
    """Where the click happened: the message's ids and the segment's replay_event."""

    project_id: int
    replay_id: str
    segment_id: int
    replay_event: ReplayEvent


def build_occurrence(
    click_type: ClickType,
    breadcrumb: ClickBreadcrumb,
    context: ClickContext,
    *,
    occurrence_id: str,
    fingerprint: list[str],
    url: str | None,
    detection_time: float,
) -> Occurrence:
    """The occurrence of one classified click, with the replay's metadata merged in."""
    return _click_occurrence(
        GROUP_TYPES[click_type],
        breadcrumb,
        context,
        occurrence_id=occurrence_id,
        fingerprint=fingerprint,
        url=url,
        detection_time=detection_time,
        waited=("Time to answer", _waited(breadcrumb, click_type)),
        evidence={},
    )


def build_error_click_occurrence(
    breadcrumb: ClickBreadcrumb,
    context: ClickContext,
    *,
    occurrence_id: str,
    fingerprint: list[str],
    url: str | None,
    detection_time: float,
    window_ms: float,
) -> Occurrence:
    """The occurrence of a plain click (``ui.click``) as an error click: its window is
    ``window_ms`` after the click (``windowMs``), and it is raised only once that window holds
    an error (``is_raised``), which a later segment or error event may bring."""
    return _click_occurrence(
        ERROR_CLICK,
        breadcrumb,
        context,
        occurrence_id=occurrence_id,
        fingerprint=fingerprint,
        url=url,
        detection_time=detection_time,
        waited=("Error within", f"{window_ms:.0f} ms of the click"),
        evidence={"windowMs": window_ms},
    )


def _click_occurrence(
    group_type: grouptypes.GroupType,
    breadcrumb: ClickBreadcrumb,
    context: ClickContext,
    *,
    occurrence_id: str,
    fingerprint: list[str],
    url: str | None,
    detection_time: float,
    waited: tuple[str, str],
    evidence: dict[str, Any],
) -> Occurrence:
    node = breadcrumb.node
    component = node.component_name
    evidence = {
        "selector": breadcrumb.selector,
        "node": {
            "id": node.id,
            "tagName": node.tag_name,
            "textContent": node.text,
            "attributes": node.attributes,
        },
        "component_name": component,
        "url": url,
        "route": breadcrumb.route,
        "timeAfterClickMs": breadcrumb.time_after_click_ms,
        "endReason": breadcrumb.end_reason,
        "clickCount": breadcrumb.click_count,
        "replay_id": context.replay_id,
        "segment_id": context.segment_id,
        "timestamp": breadcrumb.timestamp,
        **evidence,
    }
    display = [
        {"name": "Clicked Element", "value": breadcrumb.selector, "important": True},
        {"name": "Page", "value": breadcrumb.route or url or "", "important": False},
        {"name": waited[0], "value": waited[1], "important": False},
        {"name": "Clicks", "value": str(breadcrumb.click_count), "important": False},
    ]
    if component:
        display.insert(1, {"name": "Component", "value": component, "important": False})
    return Occurrence(
        id=occurrence_id,
        project_id=context.project_id,
        fingerprint=fingerprint,
        issue_title=group_type.title,
        subtitle=breadcrumb.selector,
        resource_id=context.replay_id,
        type=group_type.type_id,
        detection_time=detection_time,
        level=group_type.default_level,
        culprit=(breadcrumb.route or url or breadcrumb.selector)[:MAX_CULPRIT_CHARS],
        evidence_data=evidence,
        evidence_display=display,
        event=_event(breadcrumb.timestamp, context, occurrence_id, url, component),
    )


def build_hydration_occurrence(
    breadcrumb: HydrationErrorBreadcrumb,
    context: ClickContext,
    *,
    occurrence_id: str,
    fingerprint: list[str],
    url: str | None,
    page: str,
    detection_time: float,
) -> Occurrence:
    """The occurrence of one hydration error: the page it happened on (``page``: the route or
    the folded path that groups it) and the replay's metadata, at the moment React reported it."""
    evidence = {
        "url": url,
        "route": breadcrumb.route,
        "page": page,
        "replay_id": context.replay_id,
        "segment_id": context.segment_id,
        "timestamp": breadcrumb.timestamp,
    }
    display = [
        {"name": "Page", "value": page, "important": True},
        {"name": "URL", "value": url or "", "important": False},
    ]
    return Occurrence(
        id=occurrence_id,
        project_id=context.project_id,
        fingerprint=fingerprint,
        issue_title=HYDRATION_ERROR.title,
        subtitle=page,
        resource_id=context.replay_id,
        type=HYDRATION_ERROR.type_id,
        detection_time=detection_time,
        level=HYDRATION_ERROR.default_level,
        culprit=page[:MAX_CULPRIT_CHARS],
        evidence_data=evidence,
        evidence_display=display,
        event=_event(breadcrumb.timestamp, context, occurrence_id, url, None),
    )


def _waited(breadcrumb: ClickBreadcrumb, click_type: ClickType) -> str:
    waited = f"{breadcrumb.time_after_click_ms:.0f} ms"
    if click_type is ClickType.SLOW:
        return waited
    return f"no answer within {waited}"


def _event(
    timestamp: float,
    context: ClickContext,
    occurrence_id: str,
    url: str | None,
    component: str | None,
) -> dict[str, Any]:
    replay_event = context.replay_event
    client = replay_event.client
    contexts: dict[str, Any] = {"replay": {"replay_id": context.replay_id}}
    if client.browser:
        contexts["browser"] = {"name": client.browser, "version": client.browser_version}
    if client.os:
        contexts["os"] = {"name": client.os, "version": client.os_version}
    if client.device:
        contexts["device"] = {
            "family": client.device,
            "brand": client.device_brand,
            "model": client.device_model,
        }
    if replay_event.trace_ids:
        contexts["trace"] = {"trace_id": replay_event.trace_ids[0]}
    # Ours, from the breadcrumb, then the app's (``Sentry.setTag``, ``transaction``); ours win.
    own_tags = {
        "replayId": context.replay_id,
        "url": url,
        "environment": replay_event.environment,
        "release": replay_event.release,
        "browser.name": client.browser,
        "os.name": client.os,
        "component": component,
    }
    event = {
        "event_id": uuid.uuid5(EVENT_NAMESPACE, occurrence_id).hex,
        "project_id": context.project_id,
        "timestamp": timestamp,
        "received": replay_event.timestamp,
        "platform": replay_event.platform or "javascript",
        "environment": replay_event.environment,
        "release": replay_event.release,
        "dist": replay_event.dist,
        "user": replay_event.user.to_dict(),
        "tags": merged_tags(own_tags, replay_event.tags),
        "contexts": contexts,
        "trace_ids": list(replay_event.trace_ids),
        "sdk": {"name": replay_event.sdk_name, "version": replay_event.sdk_version},
        "request": {"url": url},
    }
    return event


def with_window(occurrence: Occurrence, window: ClickWindow) -> Occurrence:
    """The click occurrence with its window, cause and revision in ``evidence_data`` and the
    cause as a line in ``evidence_display`` (in place of the one an earlier build put there)."""
    evidence = {
        **occurrence.evidence_data,
        "window": window.window,
        "cause": window.cause,
        "revision": window.revision,
    }
    display = [line for line in occurrence.evidence_display if line["name"] != CAUSE_DISPLAY_NAME]
    if window.display:
        display.insert(1, {"name": CAUSE_DISPLAY_NAME, "value": window.display, "important": True})
    return replace(occurrence, evidence_data=evidence, evidence_display=display)


def windowed(occurrence: Occurrence, entries: Iterable[SegmentEntry]) -> Occurrence:
    """The click occurrence built with the window that the replay's entries (any of them: its
    timeline's, its error events') give it: how the consumer builds a stored window, and how
    reprocessing builds it again from what the consumer stored."""
    return with_window(occurrence, window_of(occurrence, entries))


def window_ms_of(evidence: dict[str, Any]) -> float:
    """How long a click occurrence's window lasts: an error click's ``windowMs``, else the SDK's
    wait (``timeAfterClickMs``)."""
    return evidence.get("windowMs") or evidence.get("timeAfterClickMs") or 0.0


def is_raised(occurrence: Occurrence) -> bool:
    """Whether a click occurrence goes to the issue platform as built: always, but an error
    click only once its window holds an error (until then it waits, unpublished)."""
    return occurrence.type != ERROR_CLICK.type_id or bool(
        (occurrence.evidence_data.get("window") or {}).get("errors")
    )


def window_of(occurrence: Occurrence, entries: Iterable[SegmentEntry]) -> ClickWindow:
    """The window of a click occurrence, from its evidence (the click's time, the SDK's wait,
    the node) and the replay's timeline entries."""
    evidence = occurrence.evidence_data
    node = evidence.get("node") or {}
    return click_window(
        evidence["timestamp"],
        window_ms_of(evidence),
        node.get("id"),
        node.get("attributes") or {},
        entries,
        evidence["segment_id"],
    )
