"""Reads of the issues stage, shared by the consumer, the HTML views and the API."""

import uuid
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.core.files.storage import storages
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

from ingest.models import Project
from issues import clock
from issues.cursors import IssueCursor, cursor_of, keyset, reverse_ordering
from issues.element_rows import ElementQuery, ElementRows
from issues.filters import PERIODS, SORTS, range_days
from issues.models import (
    Issue,
    IssueActivity,
    IssueDayCount,
    IssueStatus,
    IssueValueCount,
    Occurrence,
    ProjectFilterValue,
    ProjectStatusCount,
)
from issues.services import CreationQuota, NoiseThreshold
from pipeline.ttl_cache import TtlCache
from replays.detection.fingerprint import page_of
from replays.models import (
    DEFAULT_ISSUE_QUOTA,
    DEFAULT_ISSUE_QUOTA_WINDOW_S,
    DetectionSettings,
    Replay,
)
from replays.services import STORAGE_ERRORS

_noise_cache: TtlCache[int, NoiseThreshold | None] = TtlCache("ISSUES_SETTINGS_CACHE_TTL_S")
_quota_cache: TtlCache[int, CreationQuota] = TtlCache("ISSUES_SETTINGS_CACHE_TTL_S")


def forget_cached_noise_thresholds(**_signal_kwargs: object) -> None:
    """Forget the cached noise thresholds and creation quotas (the detection settings changed)."""
    _noise_cache.clear()
    _quota_cache.clear()


def noise_threshold_for(project_id: int) -> NoiseThreshold | None:
    """The project's noise threshold (set with its detection settings in the admin), cached for
    ``ISSUES_SETTINGS_CACHE_TTL_S`` seconds so the admin's changes reach running consumers;
    None when there is no such project."""
    return _noise_cache.get(project_id, _load_noise_threshold)


def _load_noise_threshold(project_id: int) -> NoiseThreshold | None:
    row = (
        DetectionSettings.objects.filter(project_id=project_id)
        .values("noise_threshold", "noise_threshold_users")
        .first()
    )
    if row is not None:
        return NoiseThreshold(row["noise_threshold"] or 1, row["noise_threshold_users"])
    if Project.objects.filter(id=project_id).exists():
        return NoiseThreshold()
    return None


def creation_quota_for(project_id: int) -> CreationQuota:
    """The project's creation quota (with its detection settings in the admin; the default,
    5 per hour, without them), cached as the noise threshold is."""
    return _quota_cache.get(project_id, _load_creation_quota)


def _load_creation_quota(project_id: int) -> CreationQuota:
    row = (
        DetectionSettings.objects.filter(project_id=project_id)
        .values("issue_quota", "issue_quota_window_s")
        .first()
    )
    issues, window_s = (
        (row["issue_quota"], row["issue_quota_window_s"])
        if row is not None
        else (DEFAULT_ISSUE_QUOTA, DEFAULT_ISSUE_QUOTA_WINDOW_S)
    )
    return CreationQuota(issues, timedelta(seconds=max(window_s, 1)))


def shown(prefix: str = "", now: datetime | None = None) -> Q:
    """The issues shown now: past the noise threshold, and not held back by the creation quota
    (``shown_at`` not in the future). ``prefix`` reaches them through a relation (``issue__``)."""
    return Q(**{f"{prefix}is_visible": True}) & (
        Q(**{f"{prefix}shown_at__isnull": True})
        | Q(**{f"{prefix}shown_at__lte": now or datetime.now(UTC)})
    )


def held_by_quota_count(project: Project, now: datetime | None = None) -> int:
    """How many of the project's issues the creation quota holds back now."""
    return Issue.objects.filter(
        project=project, is_visible=True, shown_at__gt=now or datetime.now(UTC)
    ).count()


def projects_for(user) -> QuerySet[Project]:
    """The projects a user may see: every project for a superuser (the operators), the projects
    of the organizations the user is a member of for anyone else, none when signed out.

    This is the one place of that rule: every read of the web UI and the API starts here (or at
    ``issues_for``, ``replay_for``), so another organization's project, issue or replay is not
    found (404), never forbidden, and its existence is not told."""
    if not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(org__members=user)


def issues_for(user, project_id: int | None = None) -> QuerySet[Issue]:
    """The shown issues (past the noise threshold, not held by the creation quota) of the
    user's projects, newest first, each with its project (for its short id)."""
    issues = Issue.objects.filter(shown(), project__in=projects_for(user)).select_related("project")
    if project_id is not None:
        issues = issues.filter(project_id=project_id)
    return issues.order_by(*SORTS["last_seen"])


# --- Reads of the web UI (and of the API, which shares them) -------------------------------------

TREND_DAYS = 14
BREAKDOWN_FIELDS = ("page", "browser", "os", "release", "environment")
FILTER_CHOICE_FIELDS = ("environment", "release", "browser")
# What the selectors page sorts by: the column name, then the ORDER BY that backs it.
ELEMENT_SORTS = {
    "total": ("-total", "-last_seen", "selector"),
    "dead": ("-dead", "-total", "selector"),
    "rage": ("-rage", "-total", "selector"),
    "slow": ("-slow", "-total", "selector"),
    "last_seen": ("-last_seen", "selector"),
}


def projects_with_open_issue_counts(user) -> QuerySet[Project]:
    """The user's projects, each with ``open_issues``: its visible unresolved issues (the
    project's status count, less those the creation quota holds back)."""
    unresolved = ProjectStatusCount.objects.filter(
        project=OuterRef("pk"), status=IssueStatus.UNRESOLVED
    ).values("issues")[:1]
    held = (
        Issue.objects.filter(
            project=OuterRef("pk"),
            is_visible=True,
            status=IssueStatus.UNRESOLVED,
            shown_at__gt=datetime.now(UTC),
        )
        .order_by()
        .values("project")
        .annotate(n=Count("*"))
        .values("n")[:1]
    )
    return projects_for(user).annotate(
        open_issues=Coalesce(Subquery(unresolved), 0) - Coalesce(Subquery(held), 0)
    )


def project_status_counts(project: Project, now: datetime | None = None) -> dict[str, int]:
    """The project's shown issues per status (the issue list's status tabs when no other filter
    is set): its status counts, less the issues that the creation quota holds back now (few,
    found by the (project, shown_at) index). One query."""
    held = (
        Issue.objects.filter(
            project=project,
            is_visible=True,
            status=OuterRef("status"),
            shown_at__gt=now or datetime.now(UTC),
        )
        .order_by()
        .values("status")
        .annotate(n=Count("*"))
        .values("n")[:1]
    )
    rows = (
        ProjectStatusCount.objects.filter(project=project)
        .annotate(shown=F("issues") - Coalesce(Subquery(held), 0))
        .values_list("status", "shown")
    )
    return {status: n for status, n in rows if n}


# --- The issue list's counts and pages (issue 23) -----------------------------------------------


def issue_count_bound() -> int:
    """How far a count of the issues that a filter matches goes (``ISSUES_COUNT_BOUND``, 1,000):
    as Sentry's issue stream counts its tabs ("1000+"), since counting every match costs what
    the project holds. The web UI pages by number within it, by cursor past it."""
    return settings.ISSUES_COUNT_BOUND


@dataclass(frozen=True, slots=True)
class IssueCount:
    """How many issues match: ``n``, or when ``more``, more than ``n`` (a count that stopped)."""

    n: int
    more: bool = False

    def __add__(self, other: "IssueCount") -> "IssueCount":
        return IssueCount(self.n + other.n, self.more or other.more)


def bounded_count(issues: QuerySet[Issue], bound: int) -> IssueCount:
    """``issues`` counted up to ``bound`` + 1, in a LIMITed subquery: the count reads at most
    that many rows whatever the project holds, and past ``bound`` says "``bound`` and more"."""
    n = issues.order_by()[: bound + 1].count()
    return IssueCount(bound, more=True) if n > bound else IssueCount(n)


def issue_status_counts(
    project: Project, issues: QuerySet[Issue], narrowed: bool, bound: int
) -> dict[str, IssueCount]:
    """The list's issues per status, for the status tabs: ``issues`` are the project's shown
    issues with the list's filters but the status applied, ``narrowed`` whether any of those
    filters is set. Without one, the project's status counts (exact: kept at write time);
    with one, each status's matching issues counted up to ``bound``."""
    if not narrowed:
        counts = project_status_counts(project)
        return {status: IssueCount(counts.get(status, 0)) for status in IssueStatus.values}
    return {
        status: bounded_count(issues.filter(status=status), bound) for status in IssueStatus.values
    }


def issue_list_count(
    project: Project,
    issues: QuerySet[Issue],
    statuses: Sequence[str],
    narrowed: bool,
    bound: int,
) -> IssueCount:
    """How many issues the list holds: ``issues`` are the project's shown issues with the list's
    filters applied, ``statuses`` its status filter (empty: every status), ``narrowed`` whether
    another filter is set. Without one, the sum of the project's status counts (exact); with
    one, the matching issues counted up to ``bound``."""
    if not narrowed:
        counts = project_status_counts(project)
        return IssueCount(
            sum(n for status, n in counts.items() if not statuses or status in statuses)
        )
    return bounded_count(issues, bound)


@dataclass(frozen=True, slots=True)
class IssuePage:
    """A page of the issue list: its ``rows``, the cursors of the pages after and before it
    (None: no issue there), and, when it was asked for by number, that ``number``."""

    rows: list[Issue]
    next_cursor: str | None
    previous_cursor: str | None
    number: int | None = None


def issue_list_page(
    issues: QuerySet[Issue],
    sort: str,
    size: int,
    page: int = 1,
    cursor: IssueCursor | None = None,
) -> IssuePage:
    """A page of ``issues`` (the list's query, ordered by ``SORTS[sort]`` or a time range's
    count): the ``size`` issues after or before ``cursor``'s position, found from it by the
    sort's index, or else page number ``page`` (an OFFSET: the web UI keeps it within the
    count's bound). One query, of ``size`` + 1 rows: the one more says whether a
    page follows. ``cursor`` is of ``sort`` (the caller checks)."""
    ordering = tuple(issues.query.order_by)
    if cursor is None:
        start = (page - 1) * size
        rows = list(issues[start : start + size + 1])
        after, before = len(rows) > size, page > 1
        rows = rows[:size]
    elif cursor.before:
        nearest = issues.filter(keyset(ordering, cursor)).order_by(*reverse_ordering(ordering))
        rows = list(nearest[: size + 1])
        after, before = True, len(rows) > size
        rows = rows[:size][::-1]
    else:
        rows = list(issues.filter(keyset(ordering, cursor))[: size + 1])
        after, before = len(rows) > size, True
        rows = rows[:size]
    return IssuePage(
        rows,
        cursor_of(rows[-1], sort, ordering) if rows and after else None,
        cursor_of(rows[0], sort, ordering, before=True) if rows and before else None,
        number=page if cursor is None else None,
    )


def project_dsn(project: Project) -> str | None:
    """The DSN of the project's first active key, for the "send your first replay" hint."""
    key = project.keys.filter(is_active=True).order_by("id").first()
    return key.dsn() if key is not None else None


def utc_today() -> date:
    return datetime.now(UTC).date()


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def daily_occurrence_counts(
    issue_ids: Iterable[int], days: int = TREND_DAYS, last_day: date | None = None
) -> dict[int, list[int]]:
    """Occurrences per UTC day over the ``days`` days up to ``last_day`` (today), oldest first,
    for each issue: one query of the daily rows for a whole page of issues."""
    issue_ids = list(issue_ids)
    last_day = last_day or utc_today()
    first_day = last_day - timedelta(days=days - 1)
    series = {issue_id: [0] * days for issue_id in issue_ids}
    if not issue_ids:
        return series
    rows = IssueDayCount.objects.filter(
        issue_id__in=issue_ids, day__gte=first_day, day__lte=last_day
    ).values_list("issue_id", "day", "times")
    for issue_id, day, times in rows:
        series[issue_id][(day - first_day).days] += times
    return series


def issue_counts_between(
    issue_ids: Iterable[int], since: datetime, until: datetime
) -> dict[int, tuple[int, int]]:
    """Each issue's (times seen, users seen) from ``since`` to ``until``, read from the daily
    rows: the UTC days from ``since``'s to ``until``'s, both included, so a range counts whole
    days (the issue list's 24 h … 30 d ranges).

    Users are an upper bound: distinct users over a range would need every (issue, user, day);
    the daily rows hold the users first counted each day, so the users in the range are at most
    those first counted up to ``until``'s day, and at most the occurrences in the range. One
    query for a page of issues; an issue with nothing in the range is (0, 0)."""
    issue_ids = list(issue_ids)
    counts = {issue_id: (0, 0) for issue_id in issue_ids}
    if not issue_ids:
        return counts
    first_day, last_day = range_days(since, until)
    rows = (
        IssueDayCount.objects.filter(issue_id__in=issue_ids, day__lte=last_day)
        .values("issue_id")
        .annotate(
            times=Coalesce(Sum("times", filter=Q(day__gte=first_day)), 0),
            users=Coalesce(Sum("new_users"), 0),
        )
        .order_by()
    )
    for row in rows:
        counts[row["issue_id"]] = (row["times"], min(row["times"], row["users"]))
    return counts


def issue_activity_rows(issue: Issue, limit: int = 50) -> list[tuple]:
    """The issue's activity (newest first): (when, kind, who, from, to, details) rows."""
    return [
        (
            row.created_at,
            row.kind,
            row.user.username if row.user else "",
            row.from_status,
            row.to_status,
            row.data or {},
        )
        for row in IssueActivity.objects.filter(issue=issue).select_related("user")[:limit]
    ]


def same_element_issues(user, issue: Issue) -> list[Issue]:
    """The other shown issues on the issue's element (a dead, a rage and a slow click on one
    button): the same selector on the same page in the project. The fingerprint's parts are the
    type, the selector and the page (``replays.detection.fingerprint``); the selector column and
    the page of the first occurrence (``metadata``) say the same without reading hashes."""
    if not issue.selector:
        return []
    page = page_of(issue.metadata.get("route"), issue.metadata.get("url"))
    candidates = (
        issues_for(user, issue.project_id).filter(selector=issue.selector).exclude(pk=issue.pk)
    )
    return [
        other
        for other in candidates[:20]
        if page_of(other.metadata.get("route"), other.metadata.get("url")) == page
    ]


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The most frequent values of one occurrence field for an issue, most first."""

    field: str
    top: list[tuple[str, int]]
    total: int


def issue_breakdowns(
    issue: Issue, fields: Sequence[str] = BREAKDOWN_FIELDS, limit: int = 5
) -> list[Breakdown]:
    """Per field (page, browser, OS, release, environment), the ``limit`` most frequent values of
    the issue's occurrences with their counts, from the issue's value counts; ``total`` is every
    occurrence (the issue's ``times_seen``, read again: ``issue`` may be older than the counts),
    so the rest is "other". One query for each field, each reading ``limit`` rows of an index."""
    total = Issue.objects.filter(pk=issue.pk).values_list("times_seen", flat=True).first() or 0
    return [
        Breakdown(
            field,
            list(
                IssueValueCount.objects.filter(issue=issue, field=field, times__gt=0)
                .order_by("-times", "value")
                .values_list("value", "times")[:limit]
            ),
            total,
        )
        for field in fields
    ]


def _replay_stored() -> Exists:
    """Whether the occurrence's replay is stored (retention may have removed it since)."""
    return Exists(
        Replay.objects.filter(project_id=OuterRef("project_id"), replay_id=OuterRef("replay_id"))
    )


def issue_occurrences(issue: Issue) -> QuerySet[Occurrence]:
    """The issue's occurrences, latest click first, each with ``replay_stored``."""
    return (
        Occurrence.objects.filter(issue=issue)
        .annotate(replay_stored=_replay_stored())
        .order_by("-timestamp", "-id")
    )


@dataclass(frozen=True, slots=True)
class OccurrencePage:
    """A page of an issue's occurrences on the issue page: ``rows``, the cursor of the older
    ones (None: no more), whether newer ones exist, and "21-40 of 132" when paged by number."""

    rows: list[Occurrence]
    older_cursor: str | None
    newer: bool
    range_text: str = ""


# Page numbers are served up to this page (an OFFSET of at most this many pages of rows, on the
# (issue, timestamp) index); past it, and from any page's "Older" link, a cursor.
OCCURRENCE_PAGE_NUMBERS = 50


def occurrence_cursor(occurrence: Occurrence) -> str:
    """The position after ``occurrence`` in the newest-first order: microseconds since the
    epoch and the id, so the next page is found by the index, not by counting rows."""
    return f"{(occurrence.timestamp - _EPOCH) // timedelta(microseconds=1)}_{occurrence.pk}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor_position(cursor: str) -> tuple[datetime, int] | None:
    micros, _, pk = cursor.partition("_")
    if not (micros.isascii() and micros.isdigit() and pk.isascii() and pk.isdigit()):
        return None
    if len(micros) > 17 or len(pk) > 19:
        return None
    return _EPOCH + timedelta(microseconds=int(micros)), int(pk)


def issue_occurrence_page(
    issue: Issue, size: int, page: int = 1, cursor: str | None = None
) -> OccurrencePage:
    """A page of the issue's occurrences, newest first: after ``cursor`` (from an "Older" link),
    or page number ``page`` (kept at most ``OCCURRENCE_PAGE_NUMBERS``; the total is the issue's
    ``times_seen``, so no COUNT over its occurrences). A cursor that is not one is page 1."""
    occurrences = issue_occurrences(issue)
    position = _cursor_position(cursor) if cursor else None
    if position is not None:
        timestamp, pk = position
        # ``timestamp <= t`` beside the OR: the index (issue, -timestamp) then starts at the
        # cursor instead of walking every newer occurrence of a hot issue (issue 23).
        after = Q(timestamp__lt=timestamp) | Q(timestamp=timestamp, id__lt=pk)
        rows = list(occurrences.filter(after, timestamp__lte=timestamp)[: size + 1])
        older = occurrence_cursor(rows[size - 1]) if len(rows) > size else None
        return OccurrencePage(rows[:size], older, newer=True)
    pages = max(1, -(-issue.times_seen // size))
    page = max(1, min(page, pages, OCCURRENCE_PAGE_NUMBERS))
    start = (page - 1) * size
    rows = list(occurrences[start : start + size + 1])
    older = occurrence_cursor(rows[size - 1]) if len(rows) > size else None
    rows = rows[:size]
    text = f"{start + 1}\N{EN DASH}{start + len(rows)} of {issue.times_seen}" if rows else ""
    return OccurrencePage(rows, older, newer=page > 1, range_text=text)


def project_filter_choices(
    project: Project, fields: Sequence[str] = FILTER_CHOICE_FIELDS, limit: int = 100
) -> dict[str, list[str]]:
    """The values that the project's occurrences have had in each filterable field
    (environments, releases, browsers), the most recently seen first, so the issue list offers
    only filters that can match: ``limit`` rows of an index for each field."""
    return {
        field: list(
            ProjectFilterValue.objects.filter(project=project, field=field)
            .order_by("-last_seen", "value")
            .values_list("value", flat=True)[:limit]
        )
        for field in fields
    }


def element_click_counts(
    user, project_id: int, sort: str = "total", period: str = ""
) -> ElementRows | list[dict[str, Any]]:
    """The project's clicked elements (one row per selector, over its shown issues of every
    status): dead, rage and slow clicks, their total, the number of issues and the last click,
    over all time or over one of the issue list's time ranges (``PERIODS``: the UTC days from
    the range's start to today, as the issue list counts ranges). Rows are dicts; sorted by
    ``ELEMENT_SORTS[sort]``.

    Read from the element rows kept at write time (``ElementCount``, ``ElementDayCount``), which
    count every issue; the issues not shown now (below the noise threshold, held by the
    creation quota) are taken out. A sequence for a ``Paginator`` whose pages are queries
    (``issues.element_rows``): the database groups, sorts and slices, a page of rows reaches
    Python."""
    if not projects_for(user).filter(pk=project_id).exists():
        return []
    first_day = None
    if period in PERIODS:
        since = clock.now() - PERIODS[period]
        first_day, _ = range_days(since, clock.now())
    # The range's now is the issue list's (``clock``); whether an issue is shown now is read
    # against the real time, as ``issues_for`` reads it.
    order = ELEMENT_SORTS.get(sort, ELEMENT_SORTS["total"])
    now = datetime.now(UTC)
    unshown = (
        Issue.objects.filter(project_id=project_id, is_visible=False).exclude(selector="").exists()
        or Issue.objects.filter(project_id=project_id, is_visible=True, shown_at__gt=now)
        .exclude(selector="")
        .exists()
    )
    return ElementRows(ElementQuery(project_id, order, first_day, now, unshown))


def element_components(user, project_id: int, selectors: Iterable[str]) -> dict[str, str | None]:
    """For each selector of a page of the elements list: the component name that its shown
    issues have (the greatest, when they differ), or None."""
    return dict(
        issues_for(user, project_id)
        .filter(selector__in=list(selectors))
        .order_by()
        .values_list("selector")
        .annotate(component=Max(KeyTextTransform("component", "metadata")))
    )


def latest_clicks_on(user, project_id: int, selectors: Iterable[str]) -> dict[str, Occurrence]:
    """For each selector, its latest click whose replay is stored: the latest such click of
    each of the selectors' issues (one walk down each issue's (issue, timestamp) index, stopping
    at the first with a stored replay), then the latest of those per selector. Two queries for a
    page of rows, whatever the issues' history."""
    selectors = list(selectors)
    if not selectors:
        return {}
    latest_of_issue = (
        Occurrence.objects.filter(_replay_stored(), issue=OuterRef("pk"))
        .order_by("-timestamp", "-id")
        .values("id")[:1]
    )
    candidates = [
        pk
        for pk in issues_for(user, project_id)
        .order_by()
        .filter(selector__in=selectors)
        .annotate(latest=Subquery(latest_of_issue))
        .values_list("latest", flat=True)
        if pk is not None
    ]
    latest: dict[str, Occurrence] = {}
    for occurrence in (
        Occurrence.objects.filter(pk__in=candidates)
        .annotate(selector=F("issue__selector"))
        .order_by("-timestamp", "-id")
    ):
        latest.setdefault(occurrence.selector, occurrence)
    return latest


ELEMENT_PAGES_SHOWN = 3


def element_texts_and_pages(
    user, project_id: int, selectors: Iterable[str]
) -> dict[str, tuple[str, list[str]]]:
    """For each selector of a page of the elements list: the element's text (as the SDK read it,
    from its latest issue) and the pages it was clicked on (its issues' routes, else their URLs'
    paths with ids folded), most clicked first, at most ``ELEMENT_PAGES_SHOWN``."""
    selectors = list(selectors)
    if not selectors:
        return {}
    issues = (
        issues_for(user, project_id)
        .filter(selector__in=selectors)
        .order_by("-last_seen", "-id")
        .values_list("selector", "metadata", "times_seen")
    )
    texts: dict[str, str] = {}
    pages: dict[str, dict[str, int]] = {}
    for selector, metadata, times_seen in issues:
        metadata = metadata if isinstance(metadata, dict) else {}
        if not texts.get(selector):
            texts[selector] = str(metadata.get("text") or "")
        route, url = metadata.get("route"), metadata.get("url")
        if route or url:
            page = page_of(route if isinstance(route, str) else None, str(url or ""))
            counts = pages.setdefault(selector, {})
            counts[page] = counts.get(page, 0) + times_seen
    return {
        selector: (
            texts.get(selector, ""),
            [
                page
                for page, _ in sorted(
                    pages.get(selector, {}).items(), key=lambda item: (-item[1], item[0])
                )
            ][:ELEMENT_PAGES_SHOWN],
        )
        for selector in selectors
    }


def replay_for(user, project_id: int, replay_id: uuid.UUID) -> Replay | None:
    return Replay.objects.filter(
        project__in=projects_for(user), project_id=project_id, replay_id=replay_id
    ).first()


def replay_clicks(replay: Replay) -> QuerySet[Occurrence]:
    """The replay's dead, rage and slow clicks that belong to visible issues, in time order."""
    return (
        Occurrence.objects.filter(
            shown("issue__"), project_id=replay.project_id, replay_id=replay.replay_id
        )
        .select_related("issue__project")
        .order_by("timestamp", "id")
    )


@dataclass(frozen=True, slots=True)
class Recording:
    """A replay's rrweb events, all segments in order; ``missing_segments`` lists the segments
    whose file could not be read (gone from the storage, or not a zlib JSON array)."""

    events: list[dict[str, Any]]
    missing_segments: list[int]


def replay_recording(replay: Replay) -> Recording:
    storage = storages["recordings"]
    events: list[dict[str, Any]] = []
    missing = []
    for segment in replay.segments.order_by("segment_id").only("segment_id", "recording"):
        try:
            with storage.open(segment.recording, "rb") as recording_file:
                segment_events = orjson.loads(zlib.decompress(recording_file.read()))
        except (*STORAGE_ERRORS, zlib.error, orjson.JSONDecodeError):
            missing.append(segment.segment_id)
            continue
        if not isinstance(segment_events, list):
            missing.append(segment.segment_id)
            continue
        events.extend(segment_events)
    return Recording(events, missing)
