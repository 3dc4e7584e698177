"""Writes of the issues stage: group an occurrence into its issue, and change an issue's status.

``issue_record_occurrence`` is the one place counters change. It runs in one transaction that
holds the issue's row lock (PostgreSQL) or the database's write lock (SQLite in IMMEDIATE mode),
so consumers side by side count each occurrence exactly once.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from issues.models import Issue, IssueStatus, IssueUser, Occurrence
from issues.occurrence_message import OccurrenceRecord


@dataclass(frozen=True, slots=True)
class NoiseThreshold:
    """An issue is shown once it has ``occurrences`` occurrences or ``users`` distinct users."""

    occurrences: int = 1
    users: int | None = None

    def reached(self, times_seen: int, users_seen: int) -> bool:
        return times_seen >= self.occurrences or (
            self.users is not None and users_seen >= self.users
        )


SHOW_AT_ONCE = NoiseThreshold()


@dataclass(frozen=True, slots=True)
class RecordedOccurrence:
    issue_id: int
    issue_created: bool
    regressed: bool


class _AlreadyRecorded(Exception):
    pass


def issue_record_occurrence(
    record: OccurrenceRecord, noise: NoiseThreshold = SHOW_AT_ONCE
) -> RecordedOccurrence | None:
    """Group the occurrence into its issue and count it; None if it was recorded before.

    A resolved issue that gets an occurrence newer than its resolution reopens (a regression);
    an ignored issue stays ignored. The first occurrence's element and page become the issue's.
    """
    try:
        with transaction.atomic():
            return _record(record, noise)
    except _AlreadyRecorded:
        return None
    except IntegrityError:
        # The same id under another fingerprint, stored a moment ago by another consumer.
        if Occurrence.objects.filter(occurrence_id=record.occurrence.id).exists():
            return None
        raise


def _record(record: OccurrenceRecord, noise: NoiseThreshold) -> RecordedOccurrence:
    occurrence = record.occurrence
    issue, created = Issue.objects.select_for_update().get_or_create(
        project_id=occurrence.project_id,
        fingerprint_hash=record.fingerprint_hash,
        defaults={
            "fingerprint": occurrence.fingerprint,
            "type": record.issue_type,
            "title": occurrence.issue_title[:200],
            "subtitle": occurrence.subtitle[:1024],
            "culprit": occurrence.culprit[:200],
            "level": occurrence.level,
            "selector": record.metadata["selector"],
            "metadata": record.metadata,
            "first_seen": record.timestamp,
            "last_seen": record.timestamp,
            "is_visible": False,
        },
    )
    if Occurrence.objects.filter(occurrence_id=occurrence.id).exists():
        raise _AlreadyRecorded
    _create_occurrence(issue, record)
    new_user = bool(record.user_key) and _add_user(issue, record.user_key, record.timestamp)

    issue.times_seen += 1
    issue.users_seen += int(new_user)
    issue.first_seen = min(issue.first_seen, record.timestamp)
    issue.last_seen = max(issue.last_seen, record.timestamp)
    if not issue.is_visible:
        issue.is_visible = noise.reached(issue.times_seen, issue.users_seen)
    regressed = _regressed(issue, record.timestamp)
    if regressed:
        issue.status = IssueStatus.UNRESOLVED
        issue.resolved_at = None
        issue.regressed_at = timezone.now()
    issue.save(
        update_fields=[
            "times_seen",
            "users_seen",
            "first_seen",
            "last_seen",
            "is_visible",
            "status",
            "resolved_at",
            "regressed_at",
        ]
    )
    return RecordedOccurrence(issue.pk, created, regressed)


def _regressed(issue: Issue, timestamp: datetime) -> bool:
    """A click after the issue was resolved: the fix did not hold."""
    if issue.status != IssueStatus.RESOLVED:
        return False
    return issue.resolved_at is None or timestamp > issue.resolved_at


def _create_occurrence(issue: Issue, record: OccurrenceRecord) -> Occurrence:
    occurrence = record.occurrence
    event = occurrence.event if isinstance(occurrence.event, dict) else {}
    user = record.user
    return Occurrence.objects.create(
        occurrence_id=occurrence.id,
        issue=issue,
        project_id=occurrence.project_id,
        event_id=str(event.get("event_id") or "")[:32],
        replay_id=record.replay_id,
        segment_id=record.segment_id,
        timestamp=record.timestamp,
        user_key=record.user_key,
        user_id=user.get("id", ""),
        user_email=user.get("email", ""),
        user_name=user.get("username", ""),
        user_ip=user.get("ip_address", "")[:64],
        release=record.release,
        environment=record.environment,
        browser=record.browser,
        browser_version=record.browser_version,
        os=record.os,
        os_version=record.os_version,
        device=record.device,
        url=record.url,
        evidence=occurrence.evidence_data,
        evidence_display=occurrence.evidence_display,
        tags=event.get("tags") if isinstance(event.get("tags"), dict) else {},
    )


def _add_user(issue: Issue, user_key: str, timestamp: datetime) -> bool:
    _, created = IssueUser.objects.get_or_create(
        issue=issue, user_key=user_key, defaults={"first_seen": timestamp}
    )
    return created


def issue_set_status(issue: Issue, status: str) -> Issue:
    """Resolve, ignore or reopen an issue (from the UI or the API)."""
    if status not in IssueStatus.values:
        raise ValueError(f"unknown status {status!r}: use one of {', '.join(IssueStatus.values)}")
    issue.status = status
    issue.resolved_at = timezone.now() if status == IssueStatus.RESOLVED else None
    issue.save(update_fields=["status", "resolved_at"])
    return issue
