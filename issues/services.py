"""Writes of the issues stage: group occurrences into their issues, and change an issue's status.

``issue_record_occurrences`` is the one place counters change. It groups a batch of occurrences in
one transaction that holds the row locks of the batch's issues (PostgreSQL) or the database's write
lock (SQLite in IMMEDIATE mode), so consumers side by side count each occurrence exactly once.
Within the transaction, the batch counts as if its occurrences were recorded one after another in
their order: a few queries for the whole batch instead of a few for each occurrence.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

from alerts.services import alerts_decide
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
    # This occurrence made the issue visible (created visible, or past the noise threshold now):
    # what a ``new_issue`` alert fires on.
    became_visible: bool = False


IssueKey = tuple[int, str]  # (project id, fingerprint hash): what groups occurrences

# What recording an occurrence changes on its issue.
COUNTED_FIELDS = [
    "times_seen",
    "users_seen",
    "first_seen",
    "last_seen",
    "is_visible",
    "status",
    "resolved_at",
    "regressed_at",
]


def issue_record_occurrence(
    record: OccurrenceRecord, noise: NoiseThreshold = SHOW_AT_ONCE
) -> RecordedOccurrence | None:
    """Group the occurrence into its issue and count it; None if it was recorded before.

    A resolved issue that gets an occurrence newer than its resolution reopens (a regression);
    an ignored issue stays ignored. The first occurrence's element and page become the issue's.
    """
    try:
        return issue_record_occurrences([record], {record.occurrence.project_id: noise})[0]
    except IntegrityError:
        # The same id under another fingerprint, stored a moment ago by another consumer.
        if Occurrence.objects.filter(occurrence_id=record.occurrence.id).exists():
            return None
        raise


def issue_record_occurrences(
    records: Sequence[OccurrenceRecord], noise: Mapping[int, NoiseThreshold] | None = None
) -> list[RecordedOccurrence | None]:
    """Group a batch of occurrences in one transaction, as ``issue_record_occurrence`` groups
    each; one result per record, None for one recorded before (also earlier in the batch).

    ``noise`` holds each project's noise threshold (SHOW_AT_ONCE when it has none there).
    The alerts the batch triggers are decided in the same transaction (the outbox: they commit
    or roll back with the counts that triggered them).
    """
    with transaction.atomic():
        results = _record(records, noise or {})
        alerts_decide(records, results)
        return results


def _record(
    records: Sequence[OccurrenceRecord], noise: Mapping[int, NoiseThreshold]
) -> list[RecordedOccurrence | None]:
    first_of: dict[str, int] = {}  # occurrence id -> the position of its first delivery
    for position, record in enumerate(records):
        first_of.setdefault(record.occurrence.id, position)
    issues = _lock_issues(records[position] for position in first_of.values())
    # Only under the locks: a consumer that recorded one of these a moment ago has committed.
    recorded_before = set(
        Occurrence.objects.filter(occurrence_id__in=first_of).values_list(
            "occurrence_id", flat=True
        )
    )
    new = [
        position
        for occurrence_id, position in first_of.items()
        if occurrence_id not in recorded_before
    ]
    users = _known_users(issues, (records[position] for position in new))

    results: list[RecordedOccurrence | None] = [None] * len(records)
    occurrences: list[Occurrence] = []
    new_users: list[IssueUser] = []
    counted: dict[int, Issue] = {}
    for position in new:
        record = records[position]
        issue = issues[_key(record)]
        created = issue.times_seen == 0 and issue.pk not in counted
        occurrences.append(_occurrence(issue, record))
        new_user = bool(record.user_key) and (issue.pk, record.user_key) not in users
        if new_user:
            users.add((issue.pk, record.user_key))
            new_users.append(
                IssueUser(issue=issue, user_key=record.user_key, first_seen=record.timestamp)
            )
        was_visible = issue.is_visible
        regressed = _count(
            issue, record, new_user, noise.get(record.occurrence.project_id, SHOW_AT_ONCE)
        )
        counted[issue.pk] = issue
        became_visible = issue.is_visible and not was_visible
        results[position] = RecordedOccurrence(issue.pk, created, regressed, became_visible)

    _insert(occurrences)
    _insert(new_users)
    _save_counts(counted.values())
    # An issue made for occurrences that all turned out to be recorded before (under another
    # fingerprint) stays unmade, as if the transaction had not made it.
    unused = [issue.pk for issue in issues.values() if issue.times_seen == 0]
    if unused:
        Issue.objects.filter(pk__in=unused).delete()
    return results


def _insert(rows: Sequence[Model]) -> None:
    """Insert ``rows`` of one model: one INSERT statement run with each row's values
    (``executemany``), where ``bulk_create`` compiles a statement per few dozen rows on SQLite,
    each value through the SQL compiler. No primary keys come back."""
    if not rows:
        return
    meta = rows[0]._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    values = [
        [field.get_db_prep_save(field.pre_save(row, add=True), connection) for field in fields]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, values)


def _save_counts(issues: Iterable[Issue]) -> None:
    """Write the counted fields of ``issues``: one UPDATE statement run with each issue's values
    (``executemany``), where ``QuerySet.update`` would build and compile a statement per issue."""
    quote = connection.ops.quote_name
    fields = [Issue._meta.get_field(name) for name in COUNTED_FIELDS]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    statement = (
        f"UPDATE {quote(Issue._meta.db_table)} SET {assignments} "
        f"WHERE {quote(Issue._meta.pk.column)} = %s"
    )
    rows = [
        [field.get_db_prep_save(getattr(issue, field.attname), connection) for field in fields]
        + [issue.pk]
        for issue in issues
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def _lock_issues(records: Iterable[OccurrenceRecord]) -> dict[IssueKey, Issue]:
    """The issues of ``records``, made when new and locked until the transaction ends.

    The missing ones are inserted first (a consumer that inserts one at the same moment makes the
    other wait, then the other's insert does nothing), then all are locked in primary key order,
    so two consumers never wait for each other in a circle.
    """
    firsts: dict[IssueKey, OccurrenceRecord] = {}
    for record in records:
        firsts.setdefault(_key(record), record)
    if not firsts:
        return {}
    known = set(
        Issue.objects.filter(_issues_where(firsts)).values_list("project_id", "fingerprint_hash")
    )
    issues: dict[IssueKey, Issue] = {}
    for _attempt in range(3):
        wanted = [key for key in firsts if key not in issues]
        missing = sorted(set(wanted) - known)
        if missing:
            Issue.objects.bulk_create(
                [_new_issue(firsts[key]) for key in missing], ignore_conflicts=True
            )
        locked = (
            Issue.objects.select_for_update()
            .filter(_issues_where(wanted))
            .only("project_id", "fingerprint_hash", *COUNTED_FIELDS)
            .order_by("pk")
        )
        issues.update({(issue.project_id, issue.fingerprint_hash): issue for issue in locked})
        if len(issues) == len(firsts):
            return issues
        known = set()  # one still missing was deleted (in the admin) since it was read: again
    # Deleted again and again (in the admin) while being made: the consumer tries again later.
    raise OperationalError("issues were deleted while occurrences were grouped into them")


def _issues_where(keys: Iterable[IssueKey]) -> Q:
    hashes: dict[int, list[str]] = {}
    for project_id, fingerprint_hash in keys:
        hashes.setdefault(project_id, []).append(fingerprint_hash)
    return reduce(
        or_,
        (
            Q(project_id=project_id, fingerprint_hash__in=in_project)
            for project_id, in_project in hashes.items()
        ),
    )


def _known_users(
    issues: Mapping[IssueKey, Issue], records: Iterable[OccurrenceRecord]
) -> set[tuple[int, str]]:
    """The (issue id, user key) pairs of ``records`` that their issues have counted before.

    One lookup of each pair in the unique index, joined against the pairs as a VALUES list:
    ``issue_id__in=... AND user_key__in=...`` would probe every issue with every user, and a
    ``Q`` per issue costs more to compile than to run."""
    pairs = list(
        {(issues[_key(record)].pk, record.user_key) for record in records if record.user_key}
    )
    quote = connection.ops.quote_name
    meta = IssueUser._meta
    issue, user_key = (quote(meta.get_field(name).column) for name in ("issue", "user_key"))
    # Within the backend's limit of parameters per statement (999 on SQLite, for Django).
    chunk = (connection.features.max_query_params or 2000) // 2
    known: set[tuple[int, str]] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), chunk):
            some = pairs[start : start + chunk]
            cursor.execute(
                f"SELECT known.{issue}, known.{user_key} FROM {quote(meta.db_table)} known "
                f"JOIN (VALUES {', '.join(['(%s, %s)'] * len(some))}) batch "
                f"ON known.{issue} = batch.column1 AND known.{user_key} = batch.column2",
                [value for pair in some for value in pair],
            )
            known.update((issue_id, key) for issue_id, key in cursor.fetchall())
    return known


def _count(issue: Issue, record: OccurrenceRecord, new_user: bool, noise: NoiseThreshold) -> bool:
    """Count the occurrence on its issue (in memory); True when it reopens the issue."""
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
    return regressed


def _regressed(issue: Issue, timestamp: datetime) -> bool:
    """A click after the issue was resolved: the fix did not hold."""
    if issue.status != IssueStatus.RESOLVED:
        return False
    return issue.resolved_at is None or timestamp > issue.resolved_at


def _key(record: OccurrenceRecord) -> IssueKey:
    return (record.occurrence.project_id, record.fingerprint_hash)


def _new_issue(record: OccurrenceRecord) -> Issue:
    """An issue as its first occurrence makes it, not yet counted nor shown."""
    occurrence = record.occurrence
    return Issue(
        project_id=occurrence.project_id,
        fingerprint_hash=record.fingerprint_hash,
        fingerprint=occurrence.fingerprint,
        type=record.issue_type,
        title=occurrence.issue_title[:200],
        subtitle=occurrence.subtitle[:1024],
        culprit=occurrence.culprit[:200],
        level=occurrence.level,
        selector=record.metadata["selector"],
        metadata=record.metadata,
        first_seen=record.timestamp,
        last_seen=record.timestamp,
        is_visible=False,
    )


def _occurrence(issue: Issue, record: OccurrenceRecord) -> Occurrence:
    occurrence = record.occurrence
    event = occurrence.event if isinstance(occurrence.event, dict) else {}
    user = record.user
    return Occurrence(
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
        tags=record.tags,
    )


def issue_set_status(issue: Issue, status: str) -> Issue:
    """Resolve, ignore or reopen an issue (from the UI or the API)."""
    if status not in IssueStatus.values:
        raise ValueError(f"unknown status {status!r}: use one of {', '.join(IssueStatus.values)}")
    issue.status = status
    issue.resolved_at = timezone.now() if status == IssueStatus.RESOLVED else None
    issue.save(update_fields=["status", "resolved_at"])
    return issue
