"""Writes of the issues stage: group occurrences into their issues, and change an issue's status.

``issue_record_occurrences`` is the one place counters change. It groups a batch of occurrences in
one transaction that holds the row locks of the batch's issues (PostgreSQL) or the database's write
lock (SQLite in IMMEDIATE mode), so consumers side by side count each occurrence exactly once.
Within the transaction, the batch counts as if its occurrences were recorded one after another in
their order: a few queries for the whole batch instead of a few for each occurrence.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone

from alerts.services import alerts_decide
from issues import clock
from issues.aggregates import (
    Counted,
    StatusKey,
    aggregates_add,
    elements_issue_deleted,
    elements_remove_issue,
    increments_of,
    occurrence_values,
    status_counts_add,
)
from issues.archive import IgnoreUntil, ignore_ended, newest_release, release_is_newer
from issues.causes import cause_of, evidence_version
from issues.impact import Revision, issues_keep_causes_and_impact
from issues.models import (
    ActivityKind,
    Issue,
    IssueActivity,
    IssueHash,
    IssueStatus,
    IssueUser,
    Occurrence,
    ProjectFilterValue,
    ProjectStatusCount,
    allocate_short_numbers,
)
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
class CreationQuota:
    """At most ``issues`` issues of a project are shown for the first time in any ``window``
    (None: no quota). Sentry's quota against floods of new issues: 5 per project per hour."""

    issues: int | None = None
    window: timedelta = timedelta(hours=1)


NO_QUOTA = CreationQuota()


def quota_slots(
    shown: Sequence[datetime], count: int, quota: CreationQuota, now: datetime
) -> list[datetime]:
    """When each of ``count`` issues that pass the noise threshold now is shown: now while the
    quota allows, else as soon as the window slides past the issue ``quota.issues`` places
    before it. ``shown`` is when the project's issues were (or will be) shown, oldest first
    (the last ``quota.issues`` are enough). Each slot is at least ``quota.window`` after the one
    ``quota.issues`` places before it, so no window holds more than ``quota.issues``."""
    if quota.issues is None:
        return [now] * count
    times = list(shown)
    slots = []
    for _ in range(count):
        slot = now
        if len(times) >= quota.issues:
            slot = max(now, times[-quota.issues] + quota.window)
        times.append(slot)
        slots.append(slot)
    return slots


@dataclass(frozen=True, slots=True)
class RecordedOccurrence:
    issue_id: int
    issue_created: bool
    regressed: bool
    # This occurrence made the issue visible (created visible, or past the noise threshold now):
    # what a ``new_issue`` alert fires on.
    became_visible: bool = False


IssueKey = tuple[int, str]  # (project id, primary fingerprint hash): an issue to make
HashKey = tuple[int, str]  # (project id, hash): one of the hashes that group occurrences

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
    "shown_at",
    "resolved_in_release",
    "ignore_until",
    "ignore_count",
    "ignore_user_count",
    "ignore_times_seen",
    "ignore_users_seen",
]
IGNORED_FOR_GOOD = IgnoreUntil()

# What a status change writes (and nothing else: the counters are the consumer's).
STATUS_FIELDS = [
    "status",
    "resolved_at",
    "resolved_in_release",
    "ignore_until",
    "ignore_count",
    "ignore_user_count",
    "ignore_times_seen",
    "ignore_users_seen",
]


def issue_record_occurrence(
    record: OccurrenceRecord,
    noise: NoiseThreshold = SHOW_AT_ONCE,
    quota: CreationQuota = NO_QUOTA,
) -> RecordedOccurrence | None:
    """Group the occurrence into its issue and count it; None if it was recorded before.

    A resolved issue that gets an occurrence newer than its resolution reopens (a regression);
    an ignored issue stays ignored. The first occurrence's element and page become the issue's.
    """
    try:
        project_id = record.occurrence.project_id
        return issue_record_occurrences([record], {project_id: noise}, {project_id: quota})[0]
    except IntegrityError:
        # The same id under another fingerprint, stored a moment ago by another consumer.
        if Occurrence.objects.filter(occurrence_id=record.occurrence.id).exists():
            return None
        raise


def issue_record_occurrences(
    records: Sequence[OccurrenceRecord],
    noise: Mapping[int, NoiseThreshold] | None = None,
    quotas: Mapping[int, CreationQuota] | None = None,
) -> list[RecordedOccurrence | None]:
    """Group a batch of occurrences in one transaction, as ``issue_record_occurrence`` groups
    each; one result per record, None for one recorded before (also earlier in the batch).

    ``noise`` holds each project's noise threshold (SHOW_AT_ONCE when it has none there),
    ``quotas`` each project's creation quota (NO_QUOTA when it has none there). The alerts the
    batch triggers are decided in the same transaction (the outbox: they commit or roll back
    with the counts that triggered them).
    """
    with transaction.atomic():
        results = _record(records, noise or {}, quotas or {})
        alerts_decide(records, results)
        return results


def _record(
    records: Sequence[OccurrenceRecord],
    noise: Mapping[int, NoiseThreshold],
    quotas: Mapping[int, CreationQuota],
) -> list[RecordedOccurrence | None]:
    first_of: dict[str, int] = {}  # occurrence id -> the position of its first delivery
    for position, record in enumerate(records):
        first_of.setdefault(record.occurrence.id, position)
    latest = _latest_versions(records)
    issues = _lock_issues([records[position] for position in first_of.values()])
    # Only under the locks: a consumer that recorded one of these a moment ago has committed.
    stored = _stored_evidence(first_of)
    recorded_before = set(stored)
    revisions = _revisions(stored, latest)
    new = [
        position
        for occurrence_id, position in first_of.items()
        if occurrence_id not in recorded_before
    ]
    users = _known_users(issues, (records[position] for position in new))
    hidden_before = {issue.pk for issue in issues.values() if not issue.is_visible}
    counted_before = {issue.pk: _counted_status(issue) for issue in issues.values()}
    # Release order, only for the projects with an issue resolved in the next release.
    releases = _release_first_seen(
        {issue.project_id for issue in issues.values() if issue.resolved_in_release}
    )
    now = clock.now()
    activities: list[IssueActivity] = []

    results: list[RecordedOccurrence | None] = [None] * len(records)
    occurrences: list[Occurrence] = []
    new_users: list[IssueUser] = []
    counted: dict[int, Issue] = {}
    aggregated: list[Counted] = []
    for position in new:
        record = records[position]
        issue = issues[record.occurrence.id]
        created = issue.times_seen == 0 and issue.pk not in counted
        occurrences.append(_occurrence(issue, latest[record.occurrence.id]))
        new_user = bool(record.user_key) and (issue.pk, record.user_key) not in users
        if new_user:
            users.add((issue.pk, record.user_key))
            new_users.append(
                IssueUser(issue=issue, user_key=record.user_key, first_seen=record.timestamp)
            )
        was_visible = issue.is_visible
        before = issue.status
        change = _count(
            issue,
            record,
            new_user,
            noise.get(record.occurrence.project_id, SHOW_AT_ONCE),
            releases.get(issue.project_id, {}),
            now,
        )
        regressed = change == ActivityKind.REGRESSION
        if change is not None:
            activities.append(
                IssueActivity(
                    issue=issue,
                    kind=change,
                    from_status=before,
                    to_status=issue.status,
                    data={"occurrence": record.occurrence.id, "release": record.release},
                    created_at=now,
                )
            )
        counted[issue.pk] = issue
        aggregated.append(_aggregated(issue, record, new_user, created))
        became_visible = issue.is_visible and not was_visible
        results[position] = RecordedOccurrence(issue.pk, created, regressed, became_visible)

    issues_keep_causes_and_impact(occurrences, revisions, counted)
    _insert(occurrences)
    _insert(new_users)
    created = {result.issue_id for result in results if result and result.issue_created}
    _number_new_issues(created)
    _show_passed_issues(
        [issue for issue in counted.values() if issue.pk in hidden_before and issue.is_visible],
        quotas,
    )
    _save_counts(counted.values())
    _aggregates_count(aggregated, counted.values(), counted_before)
    _insert(activities)
    # An issue made for occurrences that all turned out to be recorded before (under another
    # fingerprint) stays unmade, as if the transaction had not made it.
    unused = [issue.pk for issue in issues.values() if issue.times_seen == 0]
    if unused:
        Issue.objects.filter(pk__in=unused).delete()
    return results


def _latest_versions(records: Sequence[OccurrenceRecord]) -> dict[str, OccurrenceRecord]:
    """Each occurrence id's latest version in the batch (by ``evidence_version``, compared only
    for an id delivered more than once): what is stored, whichever order the versions came in."""
    latest: dict[str, OccurrenceRecord] = {}
    for record in records:
        occurrence_id = record.occurrence.id
        best = latest.get(occurrence_id)
        if best is None or _version(record) > _version(best):
            latest[occurrence_id] = record
    return latest


def _version(record: OccurrenceRecord) -> tuple[int, bytes]:
    return evidence_version(record.occurrence.evidence_data, record.occurrence.evidence_display)


def _stored_evidence(occurrence_ids: Iterable[str]) -> dict[str, tuple[int, int, dict, list]]:
    """The stored ones of ``occurrence_ids``: (pk, issue id, evidence, evidence display) by id,
    their rows locked until the transaction ends (a revision is read and written once)."""
    return {
        occurrence_id: (pk, issue_id, evidence, display)
        for occurrence_id, pk, issue_id, evidence, display in Occurrence.objects.select_for_update()
        .filter(occurrence_id__in=list(occurrence_ids))
        .order_by("pk")
        .values_list("occurrence_id", "pk", "issue_id", "evidence", "evidence_display")
    }


def _revisions(
    stored: Mapping[str, tuple[int, int, dict, list]], latest: Mapping[str, OccurrenceRecord]
) -> list[Revision]:
    """The stored occurrences that a later version in the batch revises; the same evidence again
    (or an older version) is no change. Each revision's new evidence is written here."""
    revisions = []
    for occurrence_id, (pk, issue_id, evidence, display) in stored.items():
        record = latest.get(occurrence_id)
        if record is None:
            continue
        new_evidence = record.occurrence.evidence_data
        new_display = record.occurrence.evidence_display
        if evidence_version(new_evidence, new_display) <= evidence_version(evidence, display):
            continue
        Occurrence.objects.filter(pk=pk).update(evidence=new_evidence, evidence_display=new_display)
        revisions.append(Revision(issue_id, cause_of(evidence), cause_of(new_evidence)))
    return revisions


def _aggregated(issue: Issue, record: OccurrenceRecord, new_user: bool, created: bool) -> Counted:
    return Counted(
        project_id=issue.project_id,
        issue_id=issue.pk,
        timestamp=record.timestamp,
        new_user=new_user,
        values=occurrence_values(
            record.url,
            _route(record.occurrence.evidence_data),
            record.browser,
            record.os,
            record.release,
            record.environment,
        ),
        selector=issue.selector,
        type=issue.type,
        new_issue=created,
    )


def _route(evidence: object) -> object:
    return evidence.get("route") if isinstance(evidence, dict) else None


def _aggregates_count(
    aggregated: Sequence[Counted],
    issues: Iterable[Issue],
    counted_before: Mapping[int, str | None],
) -> None:
    """Add the batch's recorded occurrences to the aggregates (``issues.aggregates``), and move
    the issues that the batch showed or reopened between their project's status counts."""
    aggregates_add(increments_of(aggregated))
    changes: dict[StatusKey, int] = {}
    for issue in issues:
        _status_change(changes, issue.project_id, counted_before[issue.pk], _counted_status(issue))
    status_counts_add(changes)


def _counted_status(issue: Issue) -> str | None:
    """The status under which the project's status counts count the issue: None while the
    noise threshold hides it."""
    return issue.status if issue.is_visible else None


def _status_change(
    changes: dict[StatusKey, int], project_id: int, old: str | None, new: str | None
) -> None:
    if old == new:
        return
    if old is not None:
        changes[(project_id, old)] = changes.get((project_id, old), 0) - 1
    if new is not None:
        changes[(project_id, new)] = changes.get((project_id, new), 0) + 1


def _status_counts_changed(project_id: int, old: str | None, new: str | None) -> None:
    """One issue of the project moved from status ``old`` to ``new`` in the status counts
    (None: not counted, i.e. hidden by the noise threshold or deleted). Every status change
    outside the consumer's batch (the UI, the API, the admin, a bulk change) calls this in the
    transaction that changes the issue."""
    changes: dict[StatusKey, int] = {}
    _status_change(changes, project_id, old, new)
    status_counts_add(changes)


def _number_new_issues(issue_ids: Iterable[int]) -> None:
    """Give the batch's new issues their numbers in their projects (the 12 of SHOP-12), oldest
    first (first_seen, then id), from each project's counter (which locks the project's row)."""
    issue_ids = list(issue_ids)
    if not issue_ids:
        return
    new = list(
        Issue.objects.filter(pk__in=issue_ids, short_number__isnull=True)
        .order_by("project_id", "first_seen", "pk")
        .values_list("pk", "project_id")
    )
    per_project: dict[int, list[int]] = {}
    for issue_id, project_id in new:
        per_project.setdefault(project_id, []).append(issue_id)
    numbered = []
    for project_id in sorted(per_project):
        numbers = allocate_short_numbers(project_id, len(per_project[project_id]))
        numbered.extend(zip(numbers, per_project[project_id], strict=True))
    if numbered:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {quote(Issue._meta.db_table)} "
                f"SET {quote(Issue._meta.get_field('short_number').column)} = %s "
                f"WHERE {quote(Issue._meta.pk.column)} = %s",
                numbered,
            )


def _show_passed_issues(issues: Sequence[Issue], quotas: Mapping[int, CreationQuota]) -> None:
    """Set when the issues that passed the noise threshold in this batch are shown: now, or
    later for those beyond their project's creation quota (held back by the quota until then,
    in the order they passed, oldest first within the batch).

    The project's row is locked first (``allocate_short_numbers`` with no number), so consumers
    side by side read and extend the project's shown times one at a time: the quota holds
    across them."""
    now = timezone.now()
    per_project: dict[int, list[Issue]] = {}
    for issue in sorted(issues, key=lambda issue: (issue.first_seen, issue.pk)):
        per_project.setdefault(issue.project_id, []).append(issue)
    for project_id in sorted(per_project):
        quota = quotas.get(project_id, NO_QUOTA)
        shown: list[datetime] = []
        if quota.issues is not None:
            allocate_short_numbers(project_id, 0)
            shown = list(
                Issue.objects.filter(project_id=project_id, shown_at__isnull=False)
                .order_by("-shown_at")
                .values_list("shown_at", flat=True)[: quota.issues]
            )[::-1]
        passed = per_project[project_id]
        for issue, slot in zip(passed, quota_slots(shown, len(passed), quota, now), strict=True):
            issue.shown_at = slot


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
    # The connection itself: ``connection`` is a proxy, looked up again at each of the
    # batch's thousands of values.
    db = connections[DEFAULT_DB_ALIAS]
    values = [
        [field.get_db_prep_save(field.pre_save(row, add=True), db) for field in fields]
        for row in rows
    ]
    with db.cursor() as cursor:
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
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy, at each value (``_insert``)
    rows = [
        [field.get_db_prep_save(getattr(issue, field.attname), db) for field in fields] + [issue.pk]
        for issue in issues
    ]
    with db.cursor() as cursor:
        cursor.executemany(statement, rows)


def _lock_issues(records: Sequence[OccurrenceRecord]) -> dict[str, Issue]:
    """The issue of each of ``records`` (by occurrence id), made when new and locked until the
    transaction ends.

    The issue platform's grouping: a record joins the issue of the first of its hashes that is
    known, else makes a new issue under its primary hash; every hash of it not yet known is added
    to the issue it goes to, as if the batch were grouped one record after another (a hash that a
    record adds is known to the records after it). A hash known for another issue stays with that
    issue. The new issues are inserted first (a consumer that inserts one at the same moment makes
    the other wait, then the other's insert does nothing), then all are locked in primary key
    order, so two consumers never wait for each other in a circle; the new hashes last, in order.
    """
    if not records:
        return {}
    for _attempt in range(3):
        known: dict[HashKey, int | IssueKey] = dict(_hash_owners(records))
        # Found by their fingerprint_hash alone: their hash is added, as any new one.
        added: dict[HashKey, int | IssueKey] = dict(_unlisted_issues(records, known))
        known.update(added)
        targets: dict[str, int | IssueKey] = {}  # an issue's id, or a new issue's key
        firsts: dict[IssueKey, OccurrenceRecord] = {}  # the new issues' first records
        for record in records:
            project_id = record.occurrence.project_id
            keys = [
                (project_id, fingerprint_hash) for fingerprint_hash in record.fingerprint_hashes
            ]
            target = next((known[key] for key in keys if key in known), None)
            if target is None:
                target = _key(record)
                firsts.setdefault(target, record)
            targets[record.occurrence.id] = target
            for key in keys:
                if key not in known:
                    known[key] = added[key] = target
        made: dict[IssueKey, int] = {}
        if firsts:
            Issue.objects.bulk_create(
                [_new_issue(firsts[key]) for key in sorted(firsts)], ignore_conflicts=True
            )
            made = {
                (project_id, fingerprint_hash): pk
                for pk, project_id, fingerprint_hash in Issue.objects.filter(
                    _issues_where(firsts)
                ).values_list("pk", "project_id", "fingerprint_hash")
            }
        ids = {oid: _issue_id(target, made) for oid, target in targets.items()}
        locked = {
            issue.pk: issue
            for issue in Issue.objects.select_for_update()
            .filter(pk__in={pk for pk in ids.values() if pk is not None})
            .only("project_id", "fingerprint_hash", "selector", "type", *COUNTED_FIELDS)
            .order_by("pk")
        }
        if all(pk in locked for pk in ids.values()):
            IssueHash.objects.bulk_create(
                [
                    IssueHash(
                        project_id=project_id,
                        hash=fingerprint_hash,
                        issue_id=_issue_id(target, made),
                    )
                    for (project_id, fingerprint_hash), target in sorted(added.items())
                ],
                ignore_conflicts=True,
            )
            return {occurrence_id: locked[pk] for occurrence_id, pk in ids.items()}
        # One was deleted (in the admin) since it was read: again.
    # Deleted again and again (in the admin) while being made: the consumer tries again later.
    raise OperationalError("issues were deleted while occurrences were grouped into them")


def _unlisted_issues(
    records: Sequence[OccurrenceRecord], known: Mapping[HashKey, object]
) -> dict[HashKey, int]:
    """Issues found by their ``fingerprint_hash`` alone, for the records that no ``IssueHash``
    groups: one made by an issues consumer of the previous version (which adds no hashes) while
    a rolling upgrade ran. One query, and only in a batch that would make an issue."""
    unknown = {
        (record.occurrence.project_id, fingerprint_hash)
        for record in records
        if not any(
            (record.occurrence.project_id, one) in known for one in record.fingerprint_hashes
        )
        for fingerprint_hash in record.fingerprint_hashes
    }
    if not unknown:
        return {}
    return {
        (project_id, fingerprint_hash): pk
        for pk, project_id, fingerprint_hash in Issue.objects.filter(
            _issues_where(sorted(unknown))
        ).values_list("pk", "project_id", "fingerprint_hash")
    }


def _issue_id(target: int | IssueKey, made: Mapping[IssueKey, int]) -> int | None:
    """An existing issue's id, or the id of the new issue made for a key (None: deleted since)."""
    return made.get(target) if isinstance(target, tuple) else target


def _hash_owners(records: Iterable[OccurrenceRecord]) -> dict[HashKey, int]:
    """The issue that each known hash of ``records`` groups into."""
    keys = sorted(
        {
            (record.occurrence.project_id, fingerprint_hash)
            for record in records
            for fingerprint_hash in record.fingerprint_hashes
        }
    )
    # Within the backend's limit of parameters per statement (999 on SQLite, for Django).
    chunk = (connection.features.max_query_params or 2000) // 2
    owners: dict[HashKey, int] = {}
    for start in range(0, len(keys), chunk):
        where = _issues_where(keys[start : start + chunk], field="hash")
        owners.update(
            ((project_id, fingerprint_hash), issue_id)
            for project_id, fingerprint_hash, issue_id in IssueHash.objects.filter(
                where
            ).values_list("project_id", "hash", "issue_id")
        )
    return owners


def _issues_where(keys: Iterable[IssueKey], field: str = "fingerprint_hash") -> Q:
    hashes: dict[int, list[str]] = {}
    for project_id, fingerprint_hash in keys:
        hashes.setdefault(project_id, []).append(fingerprint_hash)
    return reduce(
        or_,
        (
            Q(project_id=project_id, **{f"{field}__in": in_project})
            for project_id, in_project in hashes.items()
        ),
    )


def _known_users(
    issues: Mapping[str, Issue], records: Iterable[OccurrenceRecord]
) -> set[tuple[int, str]]:
    """The (issue id, user key) pairs of ``records`` that their issues have counted before.

    One lookup of each pair in the unique index, joined against the pairs as a VALUES list:
    ``issue_id__in=... AND user_key__in=...`` would probe every issue with every user, and a
    ``Q`` per issue costs more to compile than to run."""
    pairs = list(
        {
            (issues[record.occurrence.id].pk, record.user_key)
            for record in records
            if record.user_key
        }
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


def _count(
    issue: Issue,
    record: OccurrenceRecord,
    new_user: bool,
    noise: NoiseThreshold,
    releases: Mapping[str, datetime],
    now: datetime,
) -> str | None:
    """Count the occurrence on its issue (in memory); what it changed of the issue's status:
    ``ActivityKind.REGRESSION`` when it reopens a resolved issue, ``UNIGNORED`` when an ignored
    issue's condition is met, None otherwise."""
    issue.times_seen += 1
    issue.users_seen += int(new_user)
    issue.first_seen = min(issue.first_seen, record.timestamp)
    issue.last_seen = max(issue.last_seen, record.timestamp)
    if not issue.is_visible:
        issue.is_visible = noise.reached(issue.times_seen, issue.users_seen)
    if _regressed(issue, record, releases):
        issue.status = IssueStatus.UNRESOLVED
        issue.resolved_at = None
        issue.resolved_in_release = ""
        issue.regressed_at = timezone.now()
        return ActivityKind.REGRESSION
    if issue.status == IssueStatus.IGNORED and ignore_ended(
        IgnoreUntil(issue.ignore_until, issue.ignore_count, issue.ignore_user_count),
        issue.times_seen - issue.ignore_times_seen,
        issue.users_seen - issue.ignore_users_seen,
        now,
    ):
        issue.status = IssueStatus.UNRESOLVED
        issue.ignore_until = issue.ignore_count = issue.ignore_user_count = None
        return ActivityKind.UNIGNORED
    return None


def _regressed(issue: Issue, record: OccurrenceRecord, releases: Mapping[str, datetime]) -> bool:
    """A click after the issue was resolved: the fix did not hold. Resolved in the next
    release: a click from a newer release than the one it was resolved in."""
    if issue.status != IssueStatus.RESOLVED:
        return False
    if issue.resolved_in_release:
        return release_is_newer(record.release, issue.resolved_in_release, releases)
    return issue.resolved_at is None or record.timestamp > issue.resolved_at


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


def issue_set_status(
    issue: Issue,
    status: str,
    *,
    user=None,
    ignore: IgnoreUntil = IGNORED_FOR_GOOD,
    in_next_release: bool = False,
) -> Issue:
    """Resolve, ignore or reopen an issue (from the UI or the API, one or in bulk), and note
    it in the issue's activity. Only the status fields are written: the counters are the
    consumer's. ``ignore`` holds the conditions of an ignore (until a time, N more occurrences,
    N more users); ``in_next_release`` resolves until a click from a newer release than the
    project's newest now (a plain resolve when the project has no release yet)."""
    if status not in IssueStatus.values:
        raise ValueError(f"unknown status {status!r}: use one of {', '.join(IssueStatus.values)}")
    now = clock.now()
    with transaction.atomic():
        # Locked and read again: the project's status counts move from the status the issue has
        # now (a consumer may have reopened it since ``issue`` was read).
        current = (
            Issue.objects.select_for_update()
            .only("project_id", "status", "is_visible")
            .filter(pk=issue.pk)
            .first()
        )
        before = current.status if current is not None else issue.status
        _write_status(issue, status, ignore, in_next_release, user, before, now)
        if current is not None:
            _status_counts_changed(
                current.project_id,
                _counted_status(current),
                status if current.is_visible else None,
            )
    return issue


def _write_status(
    issue: Issue,
    status: str,
    ignore: IgnoreUntil,
    in_next_release: bool,
    user,
    before: str,
    now: datetime,
) -> None:
    """Write the status fields of one change (the caller holds the issue's row lock) and its
    activity row."""
    issue.status = status
    issue.resolved_at = now if status == IssueStatus.RESOLVED else None
    issue.resolved_in_release = ""
    if status == IssueStatus.RESOLVED and in_next_release:
        issue.resolved_in_release = newest_release(
            _release_first_seen([issue.project_id]).get(issue.project_id, {})
        )
    if status != IssueStatus.IGNORED:
        ignore = IGNORED_FOR_GOOD
    issue.ignore_until, issue.ignore_count, issue.ignore_user_count = (
        ignore.until,
        ignore.count,
        ignore.user_count,
    )
    issue.ignore_times_seen, issue.ignore_users_seen = issue.times_seen, issue.users_seen
    issue.save(update_fields=STATUS_FIELDS)
    IssueActivity.objects.create(
        issue=issue,
        kind=ActivityKind.STATUS,
        user=user if user is not None and user.is_authenticated else None,
        from_status=before,
        to_status=status,
        data=_status_details(issue),
        created_at=now,
    )


def issues_set_status(issues: QuerySet[Issue], status: str, **change) -> list[Issue]:
    """The bulk change: each of ``issues`` through ``issue_set_status``, as one by one, in one
    transaction that holds their row locks (a consumer counting them meanwhile waits, and its
    counters are not overwritten: only the status fields are written)."""
    if status not in IssueStatus.values:
        raise ValueError(f"unknown status {status!r}: use one of {', '.join(IssueStatus.values)}")
    with transaction.atomic():
        # Locked by id: the filters' query may be DISTINCT (a multiple choice), which PostgreSQL
        # does not lock (FOR UPDATE is not allowed with DISTINCT).
        ids = list(issues.order_by().values_list("pk", flat=True).distinct())
        locked = list(Issue.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        return [issue_set_status(issue, status, **change) for issue in locked]


def issues_wake_ignored(issues: QuerySet[Issue]) -> int:
    """Return to unresolved those of ``issues`` ignored until a time that has passed (read
    before a list or a page is shown, as the consumer does when an occurrence arrives);
    returns how many."""
    now = clock.now()
    woken = list(
        issues.filter(status=IssueStatus.IGNORED, ignore_until__lte=now).values_list(
            "pk", flat=True
        )
    )
    if not woken:
        return 0
    with transaction.atomic():
        changed = Issue.objects.filter(
            pk__in=woken, status=IssueStatus.IGNORED, ignore_until__lte=now
        )
        # Locked, and read again once locked: two readers at once write one activity row.
        locked = list(changed.select_for_update().values_list("pk", "project_id", "is_visible"))
        ids = [pk for pk, _, _ in locked]
        for _, project_id, visible in locked:
            if visible:
                _status_counts_changed(project_id, IssueStatus.IGNORED, IssueStatus.UNRESOLVED)
        Issue.objects.filter(pk__in=ids).update(
            status=IssueStatus.UNRESOLVED,
            ignore_until=None,
            ignore_count=None,
            ignore_user_count=None,
        )
        IssueActivity.objects.bulk_create(
            [
                IssueActivity(
                    issue_id=pk,
                    kind=ActivityKind.UNIGNORED,
                    from_status=IssueStatus.IGNORED,
                    to_status=IssueStatus.UNRESOLVED,
                    data={"reason": "until"},
                    created_at=now,
                )
                for pk in ids
            ]
        )
    return len(ids)


def _status_details(issue: Issue) -> dict[str, object]:
    """What an activity row keeps of a status change's conditions (only those set)."""
    details = {
        "ignore_until": issue.ignore_until.isoformat() if issue.ignore_until else None,
        "ignore_count": issue.ignore_count,
        "ignore_user_count": issue.ignore_user_count,
        "in_release": issue.resolved_in_release or None,
    }
    return {key: value for key, value in details.items() if value is not None}


def _release_first_seen(project_ids: Iterable[int]) -> dict[int, dict[str, datetime]]:
    """When each project first saw each of its releases: the first seen of its release filter
    values (``ProjectFilterValue``, kept in the consumers' transaction as its occurrences are
    recorded), not a grouping of the project's occurrences, whose cost grew with its history
    (issue 23). A release whose occurrences were deleted keeps its place."""
    rows = ProjectFilterValue.objects.filter(
        project_id__in=list(project_ids), field="release"
    ).values_list("project_id", "value", "first_seen")
    first_seen: dict[int, dict[str, datetime]] = {}
    for project_id, release, first in rows:
        first_seen.setdefault(project_id, {})[release] = first
    return first_seen


def issue_deleted(issue: Issue) -> None:
    """An issue was deleted (the admin, a project's deletion): it leaves its project's status
    counts and its element's rows (``issue_deleting`` took its clicks out). Its per issue
    aggregates go with it (ON DELETE CASCADE)."""
    status = _counted_status(issue)
    if status is not None:
        # An update, not the upsert: in a project's deletion the project's status rows may be
        # gone already, and an inserted one would point at the deleted project.
        ProjectStatusCount.objects.filter(project_id=issue.project_id, status=status).update(
            issues=F("issues") - 1
        )
    elements_issue_deleted(issue.project_id, issue.selector, issue.type)


def issue_deleting(issue: Issue) -> None:
    """An issue is about to be deleted (the admin, a project's deletion): its clicks leave its
    element's rows, read from its daily rows before they go with it (``issue_deleted``
    finishes)."""
    elements_remove_issue(issue.pk)


def issues_show_now(issues: QuerySet[Issue]) -> int:
    """Show at once those of ``issues`` that the creation quota holds back (an operator's call
    in the admin, past the quota); returns how many. Issues held later keep their times."""
    now = timezone.now()
    return issues.filter(is_visible=True, shown_at__gt=now).update(shown_at=now)
