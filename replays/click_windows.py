"""Writes of the click windows: keep each segment's timeline entries, give each published click
occurrence the window the replay's whole timeline gives it, and build again the occurrences whose
window a later segment filled (``replays.detection.window``).

Runs inside ``replay_record_segments``' transaction, with the batch's replays locked: two
consumers never interleave one replay's entries and windows, so the last build of an occurrence
always saw every entry stored before it, and the result does not depend on the order in which
the segments arrived.

A window holds the replay's error events too (``replay_errors``, read by (project, replay id)
and time): an event stored before the click's segment is read when the window is built; one that
arrives after is put in by ``click_windows_add_errors``, from the replay-errors consumer, which
builds again the windows it falls in. Both writers hold the replay's transaction lock
(``replays.locks``) while they read and write, so an event is never missed by both.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q

from replay_errors.models import ReplayErrorEvent
from replays.detection.detect import Detection, Segment
from replays.detection.occurrence import (
    Occurrence,
    is_raised,
    window_ms_of,
    window_of,
    windowed,
    with_window,
)
from replays.detection.timeline import TimelineEntry
from replays.detection.window import (
    ERROR_CLOCK_TOLERANCE_S,
    SegmentEntry,
    error_event_entry,
    window_bounds,
)
from replays.models import Replay, ReplayClickWindow, ReplayTimelineEntry

# How long after its click a window may still take an entry that arrives late: a request's span
# arrives once the request ended; one that took longer than this leaves its click's occurrence as
# it was last published. The windows of a replay's clicks older than this (behind the latest click
# of the same batch) are forgotten once published: a replay keeps the windows of its last
# ``REOPEN_HORIZON_S`` of clicks (at most 200 clicks per segment).
REOPEN_HORIZON_S = 15 * 60

Batch = Sequence[tuple[Replay, Segment, Detection]]
# Windows marked published per query (two parameters each).
MARK_CHUNK = 400


def timeline_record(new: Batch) -> None:
    """Keep the new segments' timeline entries, in one query (one row per (segment, index): a
    segment stored again adds nothing)."""
    rows = [
        ReplayTimelineEntry(
            replay=replay,
            segment_id=segment.segment_id,
            index=index,
            kind=entry.kind,
            start=entry.start,
            end=entry.end,
            data=entry.data,
        )
        for replay, segment, detection in new
        for index, entry in enumerate(detection.timeline)
    ]
    if rows:
        ReplayTimelineEntry.objects.bulk_create(rows, ignore_conflicts=True)


def click_windows_record(new: Batch, unpublished: Batch) -> None:
    """Build the windows of the click occurrences of the segments not yet published
    (``unpublished``: new, or stored by a delivery that crashed before publishing), and build
    again those of earlier clicks whose window may hold an entry of a ``new`` segment (window end
    after the earliest new entry, start before the latest). A changed occurrence is left
    unpublished (``click_windows_to_publish``). A few queries, whatever the batch's size."""
    candidates = {
        (replay.pk, occurrence.id): (replay, occurrence)
        for replay, _, detection in unpublished
        for occurrence in detection.click_occurrences
    }
    times = _new_entry_times(new)
    if not candidates and not times:
        return
    # One condition per replay, never one per click (a batch may hold 200 segments of 200 clicks
    # each, more than a query's parameters): the windows built before of the candidates (by their
    # clicks' time span), and those the new entries may fall in.
    clicks: dict[int, tuple[float, float]] = {}
    for replay, occurrence in candidates.values():
        clicks[replay.pk] = _span(clicks.get(replay.pk), occurrence.evidence_data["timestamp"])
    maybe = Q(pk__in=[])
    for replay_pk, (first, last) in clicks.items():
        maybe |= Q(replay=replay_pk, start__gte=first, start__lte=last)
    for replay_pk, (earliest, latest) in times.items():
        maybe |= Q(replay=replay_pk, start__lte=latest, end__gte=earliest)
    stored = [
        window
        for window in ReplayClickWindow.objects.filter(maybe)
        if (window.replay_id, window.occurrence_id) in candidates
        or _reopened(window, times.get(window.replay_id))
    ]
    known = {(window.replay_id, window.occurrence_id) for window in stored}
    created = [
        (replay, occurrence) for key, (replay, occurrence) in candidates.items() if key not in known
    ]
    if not created and not stored:
        return
    ranges: dict[int, tuple[float, float]] = {}
    for replay_pk, start, end in [
        *((replay.pk, *_bounds(occurrence)) for replay, occurrence in created),
        *((window.replay_id, window.start, window.end) for window in stored),
    ]:
        ranges[replay_pk] = _span(_span(ranges.get(replay_pk), start), end)
    entries = _entries_within(ranges, _identities(replay for replay, _, _ in [*new, *unpublished]))
    if created:
        ReplayClickWindow.objects.bulk_create(
            [
                _built(replay, occurrence, entries.get(replay.pk, []))
                for replay, occurrence in created
            ]
        )
        _forget_old(created)
    rebuilt = [window for window in stored if _rebuild(window, entries.get(window.replay_id, []))]
    if rebuilt:
        ReplayClickWindow.objects.bulk_update(
            rebuilt, ["occurrence", "revision", "version", "published"]
        )


def click_windows_add_errors(replay_errors: Iterable[tuple[int, str, datetime]]) -> None:
    """Build again the stored windows that the new error events (project id, replay id as 32 hex
    digits, time) fall in, as ``click_windows_record`` builds them; a changed occurrence is left
    unpublished. The caller holds the replays' transaction locks (``replays.locks``) and stored
    the events in the same transaction. A few queries, whatever the count of events."""
    times: dict[tuple[int, str], tuple[float, float]] = {}
    for project_id, replay_id, moment in replay_errors:
        key = (project_id, replay_id)
        times[key] = _span(times.get(key), moment.timestamp())
    if not times:
        return
    keys = Q(pk__in=[])
    for project_id, replay_id in times:
        keys |= Q(project_id=project_id, replay_id=replay_id)
    replay_pks = {
        replay_pk: (project_id, replay_id)
        for replay_pk, project_id, replay_id in Replay.objects.filter(keys).values_list(
            "pk", "project_id", "replay_id"
        )
    }
    overlapping = Q(pk__in=[])
    for replay_pk, key in replay_pks.items():
        earliest, latest = times[(key[0], key[1].hex)]
        overlapping |= Q(
            replay=replay_pk,
            start__lte=latest + ERROR_CLOCK_TOLERANCE_S,
            end__gte=earliest - ERROR_CLOCK_TOLERANCE_S,
        )
    stored = list(ReplayClickWindow.objects.filter(overlapping))
    if not stored:
        return
    ranges: dict[int, tuple[float, float]] = {}
    for window in stored:
        ranges[window.replay_id] = _span(
            _span(ranges.get(window.replay_id), window.start), window.end
        )
    entries = _entries_within(ranges, replay_pks)
    rebuilt = [window for window in stored if _rebuild(window, entries.get(window.replay_id, []))]
    if rebuilt:
        ReplayClickWindow.objects.bulk_update(
            rebuilt, ["occurrence", "revision", "version", "published"]
        )


def click_windows_to_publish(replay_pks: Iterable[int]) -> list[ReplayClickWindow]:
    """The click windows of these replays whose last build is not on the broker yet."""
    return list(
        ReplayClickWindow.objects.filter(replay__in=list(replay_pks), published=False).order_by(
            "pk"
        )
    )


def click_windows_mark_published(windows: Sequence[ReplayClickWindow]) -> None:
    """Record that these builds are on the broker; a window built again meanwhile (another
    consumer, a later segment) keeps waiting for its own publication."""
    for first in range(0, len(windows), MARK_CHUNK):
        matching = Q(pk__in=[])
        for window in windows[first : first + MARK_CHUNK]:
            matching |= Q(pk=window.pk, version=window.version)
        ReplayClickWindow.objects.filter(matching).update(published=True)


def _built(
    replay: Replay, occurrence: Occurrence, entries: list[SegmentEntry]
) -> ReplayClickWindow:
    start, end = _bounds(occurrence)
    occurrence = windowed(occurrence, entries)
    raised = is_raised(occurrence)
    return ReplayClickWindow(
        replay=replay,
        occurrence_id=occurrence.id,
        start=start,
        end=end,
        occurrence=occurrence.to_dict(),
        revision=occurrence.evidence_data["revision"],
        # An error click with no error yet: nothing to publish, and no build published (0).
        version=1 if raised else 0,
        published=not raised,
    )


def _rebuild(stored: ReplayClickWindow, entries: list[SegmentEntry]) -> bool:
    """Build the occurrence again from the replay's timeline; changed (true) only if its window
    changed (the same entries give the same window). A changed build is a new version to
    publish, but an error click's that still holds no error (kept, published never)."""
    previous = Occurrence.from_dict(stored.occurrence)
    window = window_of(previous, entries)
    evidence = previous.evidence_data
    if (evidence.get("window"), evidence.get("cause")) == (window.window, window.cause):
        return False
    occurrence = with_window(previous, window)
    stored.occurrence = occurrence.to_dict()
    stored.revision = window.revision
    if is_raised(occurrence):
        stored.version += 1
        stored.published = False
    return True


def _bounds(occurrence: Occurrence) -> tuple[float, float]:
    evidence = occurrence.evidence_data
    return window_bounds(evidence["timestamp"], window_ms_of(evidence))


def _span(span: tuple[float, float] | None, time: float) -> tuple[float, float]:
    """``span`` widened to hold ``time``."""
    return (time, time) if span is None else (min(span[0], time), max(span[1], time))


def _reopened(window: ReplayClickWindow, new_entries: tuple[float, float] | None) -> bool:
    return (
        new_entries is not None and window.start <= new_entries[1] and window.end >= new_entries[0]
    )


def replay_timeline_within(replay: Replay, start: float, end: float) -> list[SegmentEntry]:
    """The replay's stored timeline entries that start within ``[start, end]``, and its error
    events there."""
    return _entries_within({replay.pk: (start, end)}, _identities([replay])).get(replay.pk, [])


def _identities(replays: Iterable[Replay]) -> dict[int, tuple[int, Any]]:
    """(project id, replay id) by primary key: what a replay's error events are found by."""
    return {replay.pk: (replay.project_id, replay.replay_id) for replay in replays}


def _entries_within(
    ranges: dict[int, tuple[float, float]], identities: Mapping[int, tuple[int, Any]]
) -> dict[int, list[SegmentEntry]]:
    """The timeline entries of each replay (by primary key; ``identities`` has its project and
    replay id) that start within its range, and its error events within the range widened by the
    clock tolerance, in two queries (each window picks its own among them)."""
    if not ranges:
        return {}
    within = Q(pk__in=[])
    for replay_pk, (start, end) in ranges.items():
        within |= Q(replay=replay_pk, start__gte=start, start__lte=end)
    entries: dict[int, list[SegmentEntry]] = {}
    for row in ReplayTimelineEntry.objects.filter(within):
        entry = TimelineEntry(row.kind, row.start, row.end, row.data)
        entries.setdefault(row.replay_id, []).append(SegmentEntry(row.segment_id, entry))
    by_key = {
        (project_id, uuid.UUID(str(replay_id))): replay_pk
        for replay_pk, (project_id, replay_id) in identities.items()
        if replay_pk in ranges
    }
    errors = Q(pk__in=[])
    tolerance = timedelta(seconds=ERROR_CLOCK_TOLERANCE_S)
    for (project_id, replay_id), replay_pk in by_key.items():
        start, end = ranges[replay_pk]
        errors |= Q(
            project_id=project_id,
            replay_id=replay_id,
            timestamp__gte=_datetime(start) - tolerance,
            timestamp__lte=_datetime(end) + tolerance,
        )
    for event_id, project_id, replay_id, error_type, value, moment in (
        ReplayErrorEvent.objects.filter(errors)
        .order_by()
        .values_list("event_id", "project_id", "replay_id", "type", "value", "timestamp")
    ):
        entries.setdefault(by_key[(project_id, replay_id)], []).append(
            error_event_entry(event_id.hex, error_type, value, moment.timestamp())
        )
    return entries


def _datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _new_entry_times(new: Batch) -> dict[int, tuple[float, float]]:
    """Per replay, the earliest and latest start of the new segments' entries."""
    times: dict[int, tuple[float, float]] = {}
    for replay, _, detection in new:
        for entry in detection.timeline:
            times[replay.pk] = _span(times.get(replay.pk), entry.start)
    return times


def _forget_old(created: list[tuple[Replay, Occurrence]]) -> None:
    """Forget the published windows that ended ``REOPEN_HORIZON_S`` before the replay's latest
    click of the batch."""
    latest: dict[int, float] = {}
    for replay, occurrence in created:
        click_time = occurrence.evidence_data["timestamp"]
        latest[replay.pk] = max(latest.get(replay.pk, click_time), click_time)
    old = Q(pk__in=[])
    for replay_pk, click_time in latest.items():
        old |= Q(replay=replay_pk, end__lt=click_time - REOPEN_HORIZON_S)
    ReplayClickWindow.objects.filter(old, published=True).delete()
