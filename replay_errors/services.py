"""Writes of the replay-errors stage: storing error events, purging them with replay retention."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction

from replay_errors.event_message import ErrorEventRecord
from replay_errors.models import ReplayErrorEvent
from replays.click_windows import click_windows_add_errors
from replays.locks import lock_replays


def _row(record: ErrorEventRecord) -> ReplayErrorEvent:
    return ReplayErrorEvent(
        project_id=record.project_id,
        replay_id=record.replay_id,
        event_id=record.event_id,
        timestamp=record.timestamp,
        received_at=record.received_at,
        retention_days=record.retention_days,
        level=record.level,
        type=record.type,
        value=record.value,
        culprit=record.culprit,
        url=record.url,
        release=record.release,
        environment=record.environment,
        event=record.event,
    )


def replay_error_events_record(records: Sequence[ErrorEventRecord]) -> None:
    """Store the events, one INSERT for all; an event already stored (a re-delivery, the SDK
    sending it again, a second consumer) is left as it is: the event id is unique per project,
    and the first copy wins. The click windows of their replays that the events fall in are built
    again (``click_windows_add_errors``; the caller publishes them), in the same transaction and
    under the replays' locks, which the replays consumer takes too (``replays.locks``)."""
    replays = [(each.project_id, each.replay_id.hex, each.timestamp) for each in records]
    with transaction.atomic():
        lock_replays((project_id, replay_id) for project_id, replay_id, _ in replays)
        ReplayErrorEvent.objects.bulk_create(
            [_row(each) for each in records], ignore_conflicts=True
        )
        click_windows_add_errors(replays)


def replay_error_events_purge_expired(now: datetime, batch_size: int = 1000) -> int:
    """Delete the error events older than their retention (``retention_days`` from ingest, as the
    replay's, counted from when ingest accepted each); return how many."""
    deleted = 0
    days = ReplayErrorEvent.objects.values_list("retention_days", flat=True).distinct()
    for retention_days in list(days):
        expired = ReplayErrorEvent.objects.filter(
            retention_days=retention_days, received_at__lt=now - timedelta(days=retention_days)
        )
        while batch := list(expired.values_list("pk", flat=True)[:batch_size]):
            count, _ = ReplayErrorEvent.objects.filter(pk__in=batch).delete()
            deleted += count
    return deleted
