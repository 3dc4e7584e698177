"""Reads of the issues stage, shared by the consumer, the HTML views and the API."""

import uuid
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from django.core.files.storage import storages
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, RowNumber, TruncDate

from ingest.models import Project
from issues.filters import SORTS
from issues.models import Issue, IssueActivity, IssueStatus, IssueType, Occurrence
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
# The page breakdown folds URLs in Python: it reads at most this many distinct (url, route) pairs,
# the most frequent; occurrences on the others count as "other".
PAGE_BREAKDOWN_MAX_URLS = 2000
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
    """The user's projects, each with ``open_issues``: its visible unresolved issues."""
    return projects_for(user).annotate(
        open_issues=Count(
            "issues",
            filter=shown("issues__") & Q(issues__status=IssueStatus.UNRESOLVED),
        )
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
    for each issue: one query for a whole page of issues."""
    issue_ids = list(issue_ids)
    last_day = last_day or utc_today()
    first_day = last_day - timedelta(days=days - 1)
    series = {issue_id: [0] * days for issue_id in issue_ids}
    if not issue_ids:
        return series
    rows = (
        Occurrence.objects.filter(
            issue_id__in=issue_ids,
            timestamp__gte=_day_start(first_day),
            timestamp__lt=_day_start(last_day + timedelta(days=1)),
        )
        .annotate(day=TruncDate("timestamp", tzinfo=UTC))
        .values("issue_id", "day")
        .annotate(count=Count("id"))
        .order_by()
    )
    for row in rows:
        index = (row["day"] - first_day).days
        if 0 <= index < days:
            series[row["issue_id"]][index] += row["count"]
    return series


def issue_counts_between(
    issue_ids: Iterable[int], since: datetime, until: datetime
) -> dict[int, tuple[int, int]]:
    """(occurrences, distinct users) of each issue in [since, until): the list's counts for a
    time range; one query for a page of issues."""
    issue_ids = list(issue_ids)
    counts = dict.fromkeys(issue_ids, (0, 0))
    rows = (
        Occurrence.objects.filter(issue_id__in=issue_ids, timestamp__gte=since, timestamp__lt=until)
        .values("issue_id")
        .annotate(
            times=Count("id"),
            users=Count("user_key", distinct=True, filter=~Q(user_key="")),
        )
        .order_by()
    )
    for row in rows:
        counts[row["issue_id"]] = (row["times"], row["users"])
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
    the issue's occurrences with their counts; ``total`` is every occurrence, so the rest is
    "other"."""
    total = Occurrence.objects.filter(issue=issue).count()
    breakdowns = []
    for field in fields:
        if field == "page":
            breakdowns.append(Breakdown(field, _page_counts(issue)[:limit], total))
            continue
        rows = (
            Occurrence.objects.filter(issue=issue)
            .values_list(field)
            .annotate(count=Count("id"))
            .order_by("-count", field)[:limit]
        )
        breakdowns.append(Breakdown(field, [(value, count) for value, count in rows], total))
    return breakdowns


def _page_counts(issue: Issue) -> list[tuple[str, int]]:
    """The pages of the issue's occurrences, most first: the SDK's route, else the URL's path with
    ids folded and no query or fragment (as a weak identity's issue is grouped), so an issue of an
    element that is the same on every page (a component, a test id) shows where it was clicked."""
    rows = (
        Occurrence.objects.filter(issue=issue)
        .values_list("url", "evidence__route")
        .annotate(count=Count("id"))
        .order_by("-count", "url")[:PAGE_BREAKDOWN_MAX_URLS]
    )
    pages: dict[str, int] = {}
    for url, route, count in rows:
        page = page_of(route if isinstance(route, str) else None, url)
        pages[page] = pages.get(page, 0) + count
    return sorted(pages.items(), key=lambda item: (-item[1], item[0]))


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


def project_filter_choices(
    project: Project, fields: Sequence[str] = FILTER_CHOICE_FIELDS, limit: int = 100
) -> dict[str, list[str]]:
    """The values that the project's occurrences have in each filterable field (environments,
    releases, browsers), so the issue list offers only filters that can match."""
    return {
        field: list(
            Occurrence.objects.filter(project=project)
            .exclude(**{field: ""})
            .order_by(field)
            .values_list(field, flat=True)
            .distinct()[:limit]
        )
        for field in fields
    }


def element_click_counts(user, project_id: int, sort: str = "total") -> QuerySet:
    """The project's clicked elements (one row per selector, over its visible issues of every
    status): dead, rage and slow clicks, their total, the number of issues, a component name and
    the last click. Rows are dicts; sorted by ``ELEMENT_SORTS[sort]``."""
    issues = issues_for(user, project_id).order_by()

    def clicks_of(issue_type: str) -> Coalesce:
        return Coalesce(Sum("times_seen", filter=Q(type=issue_type)), 0)

    return (
        issues.exclude(selector="")  # a type without an element (a hydration error, say)
        .values("selector")
        .annotate(
            component=Max(KeyTextTransform("component", "metadata")),
            dead=clicks_of(IssueType.DEAD_CLICK),
            rage=clicks_of(IssueType.RAGE_CLICK),
            slow=clicks_of(IssueType.SLOW_CLICK),
            total=Coalesce(Sum("times_seen"), 0),
            issue_count=Count("id"),
            last_seen=Max("last_seen"),
        )
        .order_by(*ELEMENT_SORTS.get(sort, ELEMENT_SORTS["total"]))
    )


def latest_clicks_on(user, project_id: int, selectors: Iterable[str]) -> dict[str, Occurrence]:
    """For each selector, its latest click whose replay is stored (one query for a page of
    rows)."""
    selectors = list(selectors)
    if not selectors:
        return {}
    latest = (
        Occurrence.objects.filter(
            _replay_stored(),
            issue__in=issues_for(user, project_id).order_by(),
            issue__selector__in=selectors,
        )
        .annotate(
            selector=F("issue__selector"),
            rank=Window(
                RowNumber(),
                partition_by=F("issue__selector"),
                order_by=[F("timestamp").desc(), F("id").desc()],
            ),
        )
        .filter(rank=1)
    )
    return {occurrence.selector: occurrence for occurrence in latest}


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
