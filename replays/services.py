"""Writes of the replays consumer: store a segment and merge it into its replay, idempotently."""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.db import connection, transaction

from replays.click_windows import click_windows_record, timeline_record
from replays.detection.classify import ClickType
from replays.detection.detect import Detection, Segment
from replays.detection.replay_event import ReplayEvent, replay_event_to_dict
from replays.locks import lock_replays
from replays.models import (
    DetectionSettings,
    ElementClicks,
    PageSessions,
    PageVisit,
    Replay,
    ReplaySegment,
)

MAX_URLS = 100
MAX_IDS = 100


class RecordingStorageUnavailable(Exception):
    """The recordings storage could not take a file (a full disk, an unreachable bucket)."""


# What the storages raise when they cannot write: the file system's errors, and boto3's for
# S3-compatible object storage (unreachable endpoint, missing bucket, refused credentials).
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


def detection_settings_create_defaults(instance: object, created: bool, **_kwargs: object) -> None:
    """Every new project gets its settings row with the defaults, for the admin to list."""
    if created:
        DetectionSettings.objects.get_or_create(project_id=instance.pk)


def recording_name(segment: Segment) -> str:
    """Where a segment's recording lives in the ``recordings`` storage: one name per segment, so
    processing it again overwrites the same file."""
    return f"{segment.project_id}/{segment.replay_id}/{segment.segment_id}.rrweb.zlib"


def _datetime(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def _merged(existing: list[str], new: tuple[str, ...], limit: int) -> list[str]:
    merged = list(existing)
    for value in new:
        if value not in merged and len(merged) < limit:
            merged.append(value)
    return merged


def _write_recording(segment: Segment) -> None:
    """Write the segment's recording file (over an earlier copy)."""
    name = recording_name(segment)
    try:
        storages["recordings"].save(name, ContentFile(segment.stored_recording))
    except STORAGE_ERRORS as exc:
        raise RecordingStorageUnavailable(
            f"recordings storage unavailable: cannot write {name}: {exc}"
        ) from exc


def _write_recordings(segments: Sequence[Segment]) -> None:
    """Write the files of a batch: one after another on a local disk (tens of microseconds each;
    threads would only contend for the GIL), side by side on object storage (milliseconds each)."""
    if len(segments) == 1 or isinstance(storages["recordings"], FileSystemStorage):
        for segment in segments:
            _write_recording(segment)
        return
    for future in [_writers.submit(_write_recording, segment) for segment in segments]:
        future.result()


_writers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="recording-writer")


def _segment_row(replay: Replay, segment: Segment, detection: Detection) -> ReplaySegment:
    return ReplaySegment(
        replay=replay,
        segment_id=segment.segment_id,
        recording=recording_name(segment),
        compressed_size=len(segment.stored_recording),
        size=len(segment.events),
        timestamp=_datetime(segment.replay_event.timestamp),
        received_at=datetime.fromtimestamp(segment.received, UTC),
        replay_event=replay_event_to_dict(segment.replay_event),
        dead_clicks=detection.count(ClickType.DEAD),
        rage_clicks=detection.count(ClickType.RAGE),
        slow_clicks=detection.count(ClickType.SLOW),
        multi_clicks=detection.multi_clicks,
        hydration_errors=len(detection.hydration_errors),
        # Nothing to send is as good as sent: most segments need no second write.
        occurrences_published=not detection.occurrences,
    )


def replay_record_segment(segment: Segment, detection: Detection) -> ReplaySegment:
    """Store the segment's recording and row, and merge it into its replay: a batch of one.

    A segment stored before (a re-delivered message) is returned as it is and the replay is left
    alone, so processing a segment twice changes nothing.
    """
    return replay_record_segments([(segment, detection)])[0]


def replay_record_segments(batch: Sequence[tuple[Segment, Detection]]) -> list[ReplaySegment]:
    """Store a batch of segments as ``replay_record_segment`` stores one, in one transaction: a
    few queries for the batch instead of a few for each segment.

    Returns each segment's row, in the batch's order: new, or found when the segment was stored
    before (then its replay is left alone). A segment twice in the batch is stored once. Each new
    segment's timeline entries are kept, and the click windows built (``click_windows_record``):
    under the replays' locks, so the windows see every entry stored before them.
    """
    unique: dict[tuple[int, str, int], tuple[Segment, Detection]] = {}
    for segment, detection in batch:
        key = (segment.project_id, segment.replay_id, segment.segment_id)
        unique.setdefault(key, (segment, detection))
    _write_recordings([segment for segment, _ in unique.values()])
    with transaction.atomic():
        # Before the rows: the replay-errors consumer takes the same locks (replays.locks).
        lock_replays((segment.project_id, segment.replay_id) for segment, _ in unique.values())
        replays = _locked_replays([segment for segment, _ in unique.values()])
        rows = {
            (row.replay_id, row.segment_id): row
            for row in ReplaySegment.objects.filter(
                replay__in=[replay.pk for replay in replays.values()],
                segment_id__in={segment_id for _, _, segment_id in unique},
            )
        }
        new_rows, merged, new, unpublished, exposed = [], {}, [], [], []
        for segment, detection in unique.values():
            replay = replays[(segment.project_id, segment.replay_id)]
            if (replay.pk, segment.segment_id) in rows:
                # Stored by an earlier delivery; if it crashed before publishing, the click
                # windows are built (again) below.
                if not rows[(replay.pk, segment.segment_id)].occurrences_published:
                    unpublished.append((replay, segment, detection))
                continue
            row = _segment_row(replay, segment, detection)
            rows[(replay.pk, segment.segment_id)] = row
            new_rows.append(row)
            _merge_into_replay(replay, segment, detection, row.received_at)
            merged[replay.pk] = replay
            new.append((replay, segment, detection))
            exposed.append((replay, detection))
        ReplaySegment.objects.bulk_create(new_rows)
        Replay.objects.bulk_update(merged.values(), MERGED_FIELDS)
        replay_count_exposure(exposed)
        timeline_record(new)
        click_windows_record(new, [*new, *unpublished])
    return [
        rows[(replays[(segment.project_id, segment.replay_id)].pk, segment.segment_id)]
        for segment, _ in batch
    ]


def replay_count_exposure(new: Sequence[tuple[Replay, Detection]]) -> None:
    """Count the pages and element clicks of newly stored segments (each segment once: the
    caller passes only those that no earlier delivery stored), in the caller's transaction.

    A page counts once per replay and day: the visits of the batch's replays are read and added
    under their replays' row locks (the caller holds them), so no other consumer adds the same
    visit meanwhile; the day's count then grows by the new visits. Counters are upserts in one
    key order, so consumers side by side neither lose an increment nor wait in a circle."""
    visits: dict[tuple[int, str, object], tuple[Replay, str]] = {}
    clicks: dict[tuple[int, str, object], int] = {}
    for replay, detection in new:
        exposure = detection.exposure
        for page_hash, page in exposure.pages.items():
            visits.setdefault((replay.pk, page_hash, exposure.day), (replay, page))
        for (element_hash, day), count in exposure.clicks.items():
            key = (replay.project_id, element_hash, day)
            clicks[key] = clicks.get(key, 0) + count
    if visits:
        known = set(
            PageVisit.objects.filter(replay__in={key[0] for key in visits}).values_list(
                "replay_id", "page_hash", "day"
            )
        )
        fresh = {key: each for key, each in visits.items() if key not in known}
        PageVisit.objects.bulk_create(
            [PageVisit(replay_id=key[0], page_hash=key[1], day=key[2]) for key in sorted(fresh)]
        )
        sessions: dict[tuple[int, str, object], list] = {}
        for (_, page_hash, day), (replay, page) in fresh.items():
            row = sessions.setdefault((replay.project_id, page_hash, day), [page, 0])
            row[1] += 1
        _add_to_counters(
            PageSessions,
            ("project", "page_hash", "day", "page", "sessions"),
            [(*key, page, count) for key, (page, count) in sorted(sessions.items())],
        )
    _add_to_counters(
        ElementClicks,
        ("project", "element_hash", "day", "clicks"),
        [(*key, count) for key, count in sorted(clicks.items())],
    )


def _add_to_counters(model: type, fields: Sequence[str], rows: Sequence[tuple]) -> None:
    """Add to counters of ``model`` keyed by its first three ``fields`` (project, key, day): each
    row holds the values of ``fields``, the count to add last; an insert, or an increment of the
    row that exists."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = [quote(model._meta.get_field(name).column) for name in fields]
    table, count = quote(model._meta.db_table), columns[-1]
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(columns[:3])}) "
        f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(statement, [list(row) for row in rows])


def _locked_replays(segments: Sequence[Segment]) -> dict[tuple[int, str], Replay]:
    """The segments' replays by (project, replay id), made where missing, locked until the
    transaction ends (in one order, so consumers side by side cannot deadlock)."""
    replay_ids = {segment.replay_id for segment in segments}

    def locked() -> dict[tuple[int, str], Replay]:
        found = Replay.objects.select_for_update().filter(replay_id__in=replay_ids).order_by("pk")
        return {(replay.project_id, replay.replay_id.hex): replay for replay in found}

    replays = locked()
    missing = {
        (segment.project_id, segment.replay_id): Replay(
            project_id=segment.project_id,
            replay_id=segment.replay_id,
            retention_days=segment.retention_days,
        )
        for segment in segments
        if (segment.project_id, segment.replay_id) not in replays
    }
    if missing:
        # Another consumer may make one at the same moment: its row is found just after.
        Replay.objects.bulk_create(missing.values(), ignore_conflicts=True)
        replays = locked()
    return replays


def replay_mark_published(*stored: ReplaySegment) -> None:
    """Record that the segments' occurrences are on the broker (none to send counts too)."""
    ReplaySegment.objects.filter(pk__in=[row.pk for row in stored]).update(
        occurrences_published=True
    )


def _merge_into_replay(
    replay: Replay, segment: Segment, detection: Detection, received_at: datetime
) -> None:
    """Fold one new segment into the replay: times widen, counts add, lists grow, and the
    first known value of each descriptive field stays."""
    event = segment.replay_event
    started = _datetime(event.replay_start_timestamp) or _datetime(event.timestamp) or received_at
    last_seen = _datetime(event.timestamp) or received_at
    replay.started_at = min(filter(None, (replay.started_at, started)))
    replay.last_seen_at = max(filter(None, (replay.last_seen_at, last_seen)))
    replay.segment_count += 1
    replay.urls = _merged(replay.urls, event.urls, MAX_URLS)
    replay.error_ids = _merged(replay.error_ids, event.error_ids, MAX_IDS)
    replay.trace_ids = _merged(replay.trace_ids, event.trace_ids, MAX_IDS)
    replay.dead_clicks += detection.count(ClickType.DEAD)
    replay.rage_clicks += detection.count(ClickType.RAGE)
    replay.slow_clicks += detection.count(ClickType.SLOW)
    replay.multi_clicks += detection.multi_clicks
    replay.hydration_errors += len(detection.hydration_errors)
    for field, value in _descriptive_fields(event).items():
        if value and not getattr(replay, field):
            setattr(replay, field, value[: Replay._meta.get_field(field).max_length])


def _descriptive_fields(event: ReplayEvent) -> dict[str, str | None]:
    """The replay's descriptive fields as this segment's replay_event gives them."""
    client, user = event.client, event.user
    return {
        "user_id": user.id,
        "user_email": user.email,
        "user_name": user.username,
        "user_ip": user.ip_address,
        "browser": client.browser,
        "browser_version": client.browser_version,
        "os": client.os,
        "os_version": client.os_version,
        "device": client.device,
        "release": event.release,
        "environment": event.environment,
        "platform": event.platform,
        "sdk_name": event.sdk_name,
        "sdk_version": event.sdk_version,
        "replay_type": event.replay_type,
    }


# What merging a segment into its replay may change (``_merge_into_replay``).
MERGED_FIELDS = (
    "started_at",
    "last_seen_at",
    "segment_count",
    "urls",
    "error_ids",
    "trace_ids",
    "dead_clicks",
    "rage_clicks",
    "slow_clicks",
    "multi_clicks",
    "hydration_errors",
    *_descriptive_fields(ReplayEvent()),
)


@dataclass(frozen=True, slots=True)
class Purged:
    replays: int
    segments: int


def replay_purge_expired(now: datetime, batch_size: int = 500) -> Purged:
    """Delete the replays older than their own retention (``retention_days`` from ingest, counted
    from when the first segment was stored), their segments and their recording files.

    Files go first: a crash between the two leaves rows whose recordings read as missing (the
    player says so), never files that no row points to. Issues and their occurrences stay, as in
    Sentry: an issue outlives the replays that raised it."""
    storage = storages["recordings"]
    replays = segments = 0
    for retention_days in Replay.objects.values_list("retention_days", flat=True).distinct():
        expired = Replay.objects.filter(
            retention_days=retention_days, created_at__lt=now - timedelta(days=retention_days)
        )
        while batch := list(expired.values_list("pk", flat=True)[:batch_size]):
            names = ReplaySegment.objects.filter(replay__in=batch).values_list(
                "recording", flat=True
            )
            for name in names:
                try:
                    storage.delete(name)
                except STORAGE_ERRORS as exc:
                    raise RecordingStorageUnavailable(
                        f"recordings storage unavailable: cannot delete {name}: {exc}"
                    ) from exc
            _, per_model = Replay.objects.filter(pk__in=batch).delete()
            replays += per_model.get(Replay._meta.label, 0)
            segments += per_model.get(ReplaySegment._meta.label, 0)
    return Purged(replays, segments)
