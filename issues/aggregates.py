"""The aggregates that the pages read instead of the occurrences (issue 23): counts per issue per
day, per issue per field value (the breakdowns), the values each project has had in a filterable
field, the project's issues per status, and each element's clicks per type (over all time, per
day and per week: the elements page).

They are written in the issues consumer's transaction (``issues.services._record``), under the
row locks of the batch's issues, for the occurrences that the batch actually recorded (a
re-delivered occurrence is not recorded again, so it is not counted again): they are exactly as
right as ``times_seen``. A batch is added with one upsert statement per table (``INSERT ... ON
CONFLICT DO UPDATE SET n = n + excluded.n``, on SQLite and PostgreSQL alike), the rows in key
order, so two consumers that touch the same project's rows take their locks in the same order.

``aggregates_recomputed`` computes the same rows from the occurrences (the backfill and
``manage.py check_aggregates``, which is also the repair after an edit made outside the
services, such as a raw UPDATE of an issue's status).
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.apps import apps as django_apps
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import Coalesce, Greatest, TruncDate, TruncWeek

from issues.models import IssueType, allocate_short_numbers
from replays.detection.fingerprint import page_of

# The breakdowns of an issue's page, and what the issue list's menus filter by.
VALUE_FIELDS = ("page", "browser", "os", "release", "environment")
FILTER_FIELDS = ("environment", "release", "browser")
VALUE_MAX_LENGTH = 1024
FILTER_VALUE_MAX_LENGTH = 200

DayKey = tuple[int, date]  # (issue id, UTC day)
ValueKey = tuple[int, str, str]  # (issue id, field, value)
FilterKey = tuple[int, str, str]  # (project id, field, value)
StatusKey = tuple[int, str]  # (project id, status)
ElementKey = tuple[int, str, str]  # (project id, selector, issue type)
ElementDayKey = tuple[int, date, str, str]  # (project id, UTC day, selector, issue type)
ElementWeekKey = tuple[int, date, str]  # (project id, the week's Monday, selector)
# A weekly element row's clicks: dead, rage, slow, and every type's.
WeekClicks = tuple[int, int, int, int]
# The elements page's clicks columns and the type each counts.
ELEMENT_CLICK_COLUMNS = {
    "dead": IssueType.DEAD_CLICK,
    "rage": IssueType.RAGE_CLICK,
    "slow": IssueType.SLOW_CLICK,
}
WEEK_COLUMNS = tuple(ELEMENT_CLICK_COLUMNS)
WEEK_TYPES = tuple(ELEMENT_CLICK_COLUMNS.values())


@dataclass(frozen=True, slots=True)
class Counted:
    """What the aggregates need of one recorded occurrence."""

    project_id: int
    issue_id: int
    timestamp: datetime
    new_user: bool
    values: Mapping[str, str]  # VALUE_FIELDS -> the occurrence's value
    # The issue's element (its selector; "" for a type without one) and type, and whether this
    # is the issue's first counted occurrence (the element has one issue more).
    selector: str = ""
    type: str = ""
    new_issue: bool = False


def occurrence_values(
    url: str, route: object, browser: str, os: str, release: str, environment: str
) -> dict[str, str]:
    """An occurrence's value in each breakdown field. The page is the SDK's route, else the URL's
    path with ids folded (as a weak identity's issue is grouped), so an issue of an element that
    is the same on every page shows where it was clicked."""
    page = page_of(route if isinstance(route, str) else None, url)
    return {
        "page": page[:VALUE_MAX_LENGTH],
        "browser": browser[:VALUE_MAX_LENGTH],
        "os": os[:VALUE_MAX_LENGTH],
        "release": release[:VALUE_MAX_LENGTH],
        "environment": environment[:VALUE_MAX_LENGTH],
    }


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def week_of(day: date) -> date:
    """The Monday of ``day``'s week (the key of the weekly element rows)."""
    return day - timedelta(days=day.weekday())


def week_clicks(kind: str, times: int) -> WeekClicks:
    """What ``times`` clicks of type ``kind`` add to a weekly element row (pure)."""
    counts = [times if kind == week_type else 0 for week_type in WEEK_TYPES]
    return (counts[0], counts[1], counts[2], times)


def element_weeks_of(element_days: Mapping[ElementDayKey, int]) -> dict[ElementWeekKey, WeekClicks]:
    """The weekly element rows that daily ones add up to (pure)."""
    weeks: dict[ElementWeekKey, WeekClicks] = {}
    for (project_id, day, selector, kind), times in element_days.items():
        key = (project_id, week_of(day), selector)
        added = week_clicks(kind, times)
        before = weeks.get(key, (0, 0, 0, 0))
        weeks[key] = (
            before[0] + added[0],
            before[1] + added[1],
            before[2] + added[2],
            before[3] + added[3],
        )
    return weeks


@dataclass
class Increments:
    """What a batch adds to the aggregates."""

    times: Counter[DayKey] = field(default_factory=Counter)
    new_users: Counter[DayKey] = field(default_factory=Counter)
    values: Counter[ValueKey] = field(default_factory=Counter)
    filters: dict[FilterKey, datetime] = field(default_factory=dict)
    element_times: Counter[ElementKey] = field(default_factory=Counter)
    element_issues: Counter[ElementKey] = field(default_factory=Counter)
    element_seen: dict[ElementKey, datetime] = field(default_factory=dict)
    element_days: Counter[ElementDayKey] = field(default_factory=Counter)
    # The earliest time of each filter value in the batch (a release's first seen).
    filters_first: dict[FilterKey, datetime] = field(default_factory=dict)


def increments_of(occurrences: Iterable[Counted]) -> Increments:
    """Sum a batch's occurrences per row of each aggregate (pure: no database)."""
    increments = Increments()
    for occurrence in occurrences:
        day = (occurrence.issue_id, utc_day(occurrence.timestamp))
        increments.times[day] += 1
        increments.new_users[day] += int(occurrence.new_user)
        for name in VALUE_FIELDS:
            increments.values[(occurrence.issue_id, name, occurrence.values[name])] += 1
        for name in FILTER_FIELDS:
            value = occurrence.values[name][:FILTER_VALUE_MAX_LENGTH]
            if value:
                key = (occurrence.project_id, name, value)
                seen = increments.filters.get(key)
                if seen is None or occurrence.timestamp > seen:
                    increments.filters[key] = occurrence.timestamp
                first = increments.filters_first.get(key)
                if first is None or occurrence.timestamp < first:
                    increments.filters_first[key] = occurrence.timestamp
        if occurrence.selector:
            element = (occurrence.project_id, occurrence.selector, occurrence.type)
            increments.element_times[element] += 1
            increments.element_issues[element] += int(occurrence.new_issue)
            seen = increments.element_seen.get(element)
            if seen is None or occurrence.timestamp > seen:
                increments.element_seen[element] = occurrence.timestamp
            day = utc_day(occurrence.timestamp)
            increments.element_days[
                (occurrence.project_id, day, occurrence.selector, occurrence.type)
            ] += 1
    return increments


def aggregates_add(increments: Increments) -> None:
    """Add a batch's increments: one upsert statement per table, its rows in key order."""
    IssueDayCount, IssueValueCount, ProjectFilterValue = _models(
        django_apps, "IssueDayCount", "IssueValueCount", "ProjectFilterValue"
    )
    day_field = IssueDayCount._meta.get_field("day")
    _upsert(
        IssueDayCount,
        ("issue", "day"),
        ("times", "new_users"),
        [
            (issue_id, day_field.get_db_prep_save(day, connection), times, new_users)
            for (issue_id, day), times, new_users in (
                (key, increments.times[key], increments.new_users[key])
                for key in sorted(increments.times)
            )
        ],
    )
    _upsert(
        IssueValueCount,
        ("issue", "field", "value"),
        ("times",),
        [(*key, increments.values[key]) for key in sorted(increments.values)],
    )
    seen_field = ProjectFilterValue._meta.get_field("last_seen")
    _upsert(
        ProjectFilterValue,
        ("project", "field", "value"),
        (),
        [
            (
                *key,
                seen_field.get_db_prep_save(increments.filters[key], connection),
                seen_field.get_db_prep_save(increments.filters_first[key], connection),
            )
            for key in sorted(increments.filters)
        ],
        latest="last_seen",
        earliest="first_seen",
    )
    elements_add(increments)


def elements_add(increments: Increments) -> None:
    """Add a batch's clicks to its elements' rows (over all time, per day, per week)."""
    ElementCount, ElementDayCount, ElementWeekCount = _models(
        django_apps, "ElementCount", "ElementDayCount", "ElementWeekCount"
    )
    seen_field = ElementCount._meta.get_field("last_seen")
    _upsert(
        ElementCount,
        ("project", "selector", "type"),
        ("times", "issues"),
        [
            (
                *key,
                increments.element_times[key],
                increments.element_issues[key],
                seen_field.get_db_prep_save(increments.element_seen[key], connection),
            )
            for key in sorted(increments.element_times)
        ],
        latest="last_seen",
    )
    day_field = ElementDayCount._meta.get_field("day")
    _upsert(
        ElementDayCount,
        ("project", "day", "selector", "type"),
        ("times",),
        [
            (project_id, day_field.get_db_prep_save(day, connection), selector, kind, times)
            for (project_id, day, selector, kind), times in sorted(increments.element_days.items())
        ],
    )
    week_field = ElementWeekCount._meta.get_field("week")
    _upsert(
        ElementWeekCount,
        ("project", "week", "selector"),
        (*WEEK_COLUMNS, "total"),
        [
            (project_id, week_field.get_db_prep_save(week, connection), selector, *clicks)
            for (project_id, week, selector), clicks in sorted(
                element_weeks_of(increments.element_days).items()
            )
        ],
    )


def elements_remove_issue(issue_id: int) -> None:
    """Take an issue's clicks out of its element's rows, before the issue is deleted (its daily
    rows, which go with it, say what it added); under the issue's row lock, as the consumers
    count into it. ``elements_issue_deleted`` finishes once the issue is gone."""
    Issue, IssueDayCount, ElementCount, ElementDayCount, ElementWeekCount = _models(
        django_apps, "Issue", "IssueDayCount", "ElementCount", "ElementDayCount", "ElementWeekCount"
    )
    found = list(
        Issue.objects.select_for_update()
        .filter(pk=issue_id)
        .values_list("project_id", "selector", "type", "times_seen")
    )
    if not found or not found[0][1] or not found[0][3]:
        return
    project_id, selector, kind, times_seen = found[0]
    element = {"project_id": project_id, "selector": selector, "type": kind}
    # The consumers' order: the element's row, then its daily rows by day, then its weekly rows.
    ElementCount.objects.filter(**element).update(
        times=Greatest(F("times") - times_seen, 0), issues=Greatest(F("issues") - 1, 0)
    )
    days = IssueDayCount.objects.filter(issue_id=issue_id).order_by("day")
    weeks: Counter[date] = Counter()
    for day, times in days.values_list("day", "times"):
        ElementDayCount.objects.filter(day=day, **element).update(
            times=Greatest(F("times") - times, 0)
        )
        weeks[week_of(day)] += times
    column = dict(zip(WEEK_TYPES, WEEK_COLUMNS, strict=True)).get(kind)
    for week, times in sorted(weeks.items()):
        taken = {"total": Greatest(F("total") - times, 0)}
        if column:
            taken[column] = Greatest(F(column) - times, 0)
        ElementWeekCount.objects.filter(project_id=project_id, week=week, selector=selector).update(
            **taken
        )


def elements_issue_deleted(project_id: int, selector: str, kind: str) -> None:
    """After an issue of the element was deleted (with others, perhaps): the element's last
    seen becomes its remaining issues' latest (an index of the project's issues by selector),
    and its rows left with nothing go. Updates and deletes only, so a project being deleted
    gets no row back."""
    if not selector:
        return
    Issue, ElementCount, ElementDayCount, ElementWeekCount = _models(
        django_apps, "Issue", "ElementCount", "ElementDayCount", "ElementWeekCount"
    )
    element = {"project_id": project_id, "selector": selector, "type": kind}
    last_seen = Issue.objects.filter(times_seen__gt=0, **element).aggregate(
        latest=Max("last_seen")
    )["latest"]
    if last_seen is None:
        ElementCount.objects.filter(**element).delete()
    else:
        ElementCount.objects.filter(**element).update(last_seen=last_seen)
    ElementDayCount.objects.filter(times=0, **element).delete()
    ElementWeekCount.objects.filter(project_id=project_id, selector=selector, total=0).delete()


def status_counts_add(changes: Mapping[StatusKey, int]) -> None:
    """Add to the projects' issue counts per status (negative: fewer)."""
    (ProjectStatusCount,) = _models(django_apps, "ProjectStatusCount")
    _upsert(
        ProjectStatusCount,
        ("project", "status"),
        ("issues",),
        [(*key, changes[key]) for key in sorted(changes) if changes[key]],
    )


def _upsert(
    model,
    keys: tuple[str, ...],
    added: tuple[str, ...],
    rows: list[tuple],
    latest: str | None = None,
    earliest: str | None = None,
) -> None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE``: the ``added`` columns grow by the row's
    values; the ``latest`` column keeps the later of the two times, ``earliest`` the earlier."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    key_columns = [quote(model._meta.get_field(name).column) for name in keys]
    added_columns = [quote(model._meta.get_field(name).column) for name in added]
    latest_columns = [quote(model._meta.get_field(latest).column)] if latest else []
    earliest_columns = [quote(model._meta.get_field(earliest).column)] if earliest else []
    columns = key_columns + added_columns + latest_columns + earliest_columns
    assignments = [f"{column} = {table}.{column} + excluded.{column}" for column in added_columns]
    assignments += [
        f"{column} = CASE WHEN excluded.{column} {order} {table}.{column} "
        f"THEN excluded.{column} ELSE {table}.{column} END"
        for order, kept in ((">", latest_columns), ("<", earliest_columns))
        for column in kept
    ]
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {', '.join(assignments)}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def _models(apps, *names: str) -> list:
    return [apps.get_model("issues", name) for name in names]


def _model_or_none(apps, name: str):
    try:
        return apps.get_model("issues", name)
    except LookupError:
        return None


# --- Recomputed from the occurrences: the backfill and the check ---------------------------------


@dataclass
class Recomputed:
    """The aggregate rows that the occurrences (and the issues' users and statuses) give."""

    days: dict[DayKey, tuple[int, int]] = field(default_factory=dict)  # (times, new users)
    values: dict[ValueKey, int] = field(default_factory=dict)
    filters: dict[FilterKey, datetime] = field(default_factory=dict)
    statuses: dict[StatusKey, int] = field(default_factory=dict)
    elements: dict[ElementKey, tuple[int, int, datetime]] = field(default_factory=dict)
    element_days: dict[ElementDayKey, int] = field(default_factory=dict)
    element_weeks: dict[ElementWeekKey, WeekClicks] = field(default_factory=dict)
    filters_first: dict[FilterKey, datetime] = field(default_factory=dict)  # first seen


def issues_recomputed(issue_ids: Iterable[int], apps=django_apps) -> Recomputed:
    """The per issue rows (days, values) of ``issue_ids``, grouped from their occurrences."""
    Occurrence, IssueUser = _models(apps, "Occurrence", "IssueUser")
    issue_ids = list(issue_ids)
    recomputed = Recomputed()
    if not issue_ids:
        return recomputed
    occurrences = Occurrence.objects.filter(issue_id__in=issue_ids).order_by()
    times = {
        (row["issue_id"], row["day"]): row["n"]
        for row in occurrences.annotate(day=TruncDate("timestamp", tzinfo=UTC))
        .values("issue_id", "day")
        .annotate(n=Count("*"))
    }
    users = {
        (row["issue_id"], row["day"]): row["n"]
        for row in IssueUser.objects.filter(issue_id__in=issue_ids)
        .order_by()
        .annotate(day=TruncDate("first_seen", tzinfo=UTC))
        .values("issue_id", "day")
        .annotate(n=Count("*"))
    }
    recomputed.days = {key: (times.get(key, 0), users.get(key, 0)) for key in times | users}
    values: Counter[ValueKey] = Counter()
    for name in VALUE_FIELDS[1:]:
        for issue_id, value, n in occurrences.values_list("issue_id", name).annotate(n=Count("*")):
            values[(issue_id, name, value[:VALUE_MAX_LENGTH])] += n
    for issue_id, url, route, n in occurrences.values_list(
        "issue_id", "url", "evidence__route"
    ).annotate(n=Count("*")):
        page = occurrence_values(url, route, "", "", "", "")["page"]
        values[(issue_id, "page", page)] += n
    recomputed.values = dict(values)
    return recomputed


def project_recomputed(project_id: int, apps=django_apps) -> Recomputed:
    """The per project rows (filter values, status counts) of one project."""
    Occurrence, Issue = _models(apps, "Occurrence", "Issue")
    recomputed = Recomputed()
    for name in FILTER_FIELDS:
        rows = (
            Occurrence.objects.filter(project_id=project_id)
            .exclude(**{name: ""})
            .order_by()
            .values_list(name)
            .annotate(last_seen=Max("timestamp"), first_seen=Min("timestamp"))
        )
        for value, last_seen, first_seen in rows:
            key = (project_id, name, value[:FILTER_VALUE_MAX_LENGTH])
            if key not in recomputed.filters or last_seen > recomputed.filters[key]:
                recomputed.filters[key] = last_seen
            if key not in recomputed.filters_first or first_seen < recomputed.filters_first[key]:
                recomputed.filters_first[key] = first_seen
    recomputed.statuses = {
        (project_id, status): n
        for status, n in Issue.objects.filter(project_id=project_id, is_visible=True)
        .order_by()
        .values_list("status")
        .annotate(n=Count("*"))
    }
    return recomputed


def elements_recomputed(project_id: int, apps=django_apps) -> Recomputed:
    """The element rows of one project, grouped from its occurrences by their issue's selector
    and type: (clicks, issues, last click) over all time, and clicks per UTC day and week."""
    (Occurrence,) = _models(apps, "Occurrence")
    clicks = Occurrence.objects.filter(project_id=project_id).exclude(issue__selector="").order_by()
    recomputed = Recomputed()
    recomputed.elements = {
        (project_id, selector, kind): (times, issues, last_seen)
        for selector, kind, times, issues, last_seen in clicks.values_list(
            "issue__selector", "issue__type"
        ).annotate(n=Count("*"), issues=Count("issue", distinct=True), last_seen=Max("timestamp"))
    }
    recomputed.element_days = {
        (project_id, day, selector, kind): n
        for selector, kind, day, n in clicks.annotate(day=TruncDate("timestamp", tzinfo=UTC))
        .values_list("issue__selector", "issue__type", "day")
        .annotate(n=Count("*"))
    }
    recomputed.element_weeks = element_weeks_of(recomputed.element_days)
    return recomputed


def elements_stored(project_id: int, apps=django_apps) -> Recomputed:
    """The element rows of one project as stored, in ``Recomputed``'s shape."""
    ElementCount, ElementDayCount, ElementWeekCount = _models(
        apps, "ElementCount", "ElementDayCount", "ElementWeekCount"
    )
    stored = Recomputed()
    stored.elements = {
        (project_id, selector, kind): (times, issues, last_seen)
        for selector, kind, times, issues, last_seen in ElementCount.objects.filter(
            project_id=project_id
        ).values_list("selector", "type", "times", "issues", "last_seen")
        if times or issues
    }
    stored.element_days = {
        (project_id, day, selector, kind): times
        for day, selector, kind, times in ElementDayCount.objects.filter(
            project_id=project_id
        ).values_list("day", "selector", "type", "times")
        if times
    }
    stored.element_weeks = {
        (project_id, week, selector): tuple(clicks)
        for week, selector, *clicks in ElementWeekCount.objects.filter(
            project_id=project_id
        ).values_list("week", "selector", *WEEK_COLUMNS, "total")
        if any(clicks)
    }
    return stored


def elements_replace(project_id: int, recomputed: Recomputed, apps=django_apps) -> None:
    """Replace the element rows of one project with ``recomputed``'s."""
    ElementCount, ElementDayCount = _models(apps, "ElementCount", "ElementDayCount")
    # Migration 0010's backfill runs this with the models as they were before the weekly rows.
    ElementWeekCount = _model_or_none(apps, "ElementWeekCount")
    ElementCount.objects.filter(project_id=project_id).delete()
    ElementDayCount.objects.filter(project_id=project_id).delete()
    ElementCount.objects.bulk_create(
        ElementCount(
            project_id=project_id,
            selector=selector,
            type=kind,
            times=times,
            issues=issues,
            last_seen=last_seen,
        )
        for (_, selector, kind), (times, issues, last_seen) in sorted(recomputed.elements.items())
    )
    ElementDayCount.objects.bulk_create(
        ElementDayCount(project_id=project_id, day=day, selector=selector, type=kind, times=times)
        for (_, day, selector, kind), times in sorted(recomputed.element_days.items())
    )
    if ElementWeekCount is not None:
        ElementWeekCount.objects.filter(project_id=project_id).delete()
        ElementWeekCount.objects.bulk_create(
            ElementWeekCount(
                project_id=project_id,
                week=week,
                selector=selector,
                **dict(zip((*WEEK_COLUMNS, "total"), clicks, strict=True)),
            )
            for (_, week, selector), clicks in sorted(recomputed.element_weeks.items())
        )


def element_weeks_replace(project_id: int, apps=django_apps) -> None:
    """Replace one project's weekly element rows with the sums of its daily ones (the migration
    that added them): grouped by the database, inserted a thousand rows at a time."""
    ElementDayCount, ElementWeekCount = _models(apps, "ElementDayCount", "ElementWeekCount")
    ElementWeekCount.objects.filter(project_id=project_id).delete()
    clicks = {
        column: Coalesce(Sum("times", filter=Q(type=kind)), 0)
        for column, kind in zip(WEEK_COLUMNS, WEEK_TYPES, strict=True)
    }
    weeks = (
        ElementDayCount.objects.filter(project_id=project_id, times__gt=0)
        .annotate(week=TruncWeek("day"))
        .order_by()
        .values("week", "selector")
        .annotate(**clicks, total=Sum("times"))
        .iterator(chunk_size=1000)
    )
    ElementWeekCount.objects.bulk_create(
        (ElementWeekCount(project_id=project_id, **week) for week in weeks), batch_size=1000
    )


def issues_stored(issue_ids: Iterable[int], apps=django_apps) -> Recomputed:
    """The per issue rows of ``issue_ids`` as stored, in ``Recomputed``'s shape."""
    IssueDayCount, IssueValueCount = _models(apps, "IssueDayCount", "IssueValueCount")
    issue_ids = list(issue_ids)
    stored = Recomputed()
    stored.days = {
        (issue_id, day): (times, new_users)
        for issue_id, day, times, new_users in IssueDayCount.objects.filter(
            issue_id__in=issue_ids
        ).values_list("issue_id", "day", "times", "new_users")
        if times or new_users
    }
    stored.values = {
        (issue_id, name, value): times
        for issue_id, name, value, times in IssueValueCount.objects.filter(
            issue_id__in=issue_ids
        ).values_list("issue_id", "field", "value", "times")
        if times
    }
    return stored


def project_stored(project_id: int, apps=django_apps) -> Recomputed:
    ProjectFilterValue, ProjectStatusCount = _models(
        apps, "ProjectFilterValue", "ProjectStatusCount"
    )
    stored = Recomputed()
    rows = ProjectFilterValue.objects.filter(project_id=project_id).values_list(
        "field", "value", "last_seen", "first_seen"
    )
    for name, value, last_seen, first_seen in rows:
        stored.filters[(project_id, name, value)] = last_seen
        stored.filters_first[(project_id, name, value)] = first_seen
    stored.statuses = {
        (project_id, status): n
        for status, n in ProjectStatusCount.objects.filter(project_id=project_id).values_list(
            "status", "issues"
        )
        if n
    }
    return stored


def issues_replace(issue_ids: Iterable[int], recomputed: Recomputed, apps=django_apps) -> None:
    """Replace the per issue rows of ``issue_ids`` with ``recomputed``'s."""
    IssueDayCount, IssueValueCount = _models(apps, "IssueDayCount", "IssueValueCount")
    issue_ids = list(issue_ids)
    IssueDayCount.objects.filter(issue_id__in=issue_ids).delete()
    IssueValueCount.objects.filter(issue_id__in=issue_ids).delete()
    IssueDayCount.objects.bulk_create(
        IssueDayCount(issue_id=issue_id, day=day, times=times, new_users=new_users)
        for (issue_id, day), (times, new_users) in sorted(recomputed.days.items())
    )
    IssueValueCount.objects.bulk_create(
        IssueValueCount(issue_id=issue_id, field=name, value=value, times=times)
        for (issue_id, name, value), times in sorted(recomputed.values.items())
    )


def project_replace(project_id: int, recomputed: Recomputed, apps=django_apps) -> None:
    """Replace the per project rows of one project with ``recomputed``'s."""
    ProjectFilterValue, ProjectStatusCount = _models(
        apps, "ProjectFilterValue", "ProjectStatusCount"
    )
    ProjectFilterValue.objects.filter(project_id=project_id).delete()
    ProjectStatusCount.objects.filter(project_id=project_id).delete()
    # Migration 0007's backfill runs this with the model as it was before first_seen (0010).
    first = {field.name for field in ProjectFilterValue._meta.fields} >= {"first_seen"}
    ProjectFilterValue.objects.bulk_create(
        ProjectFilterValue(
            project_id=project_id,
            field=key[1],
            value=key[2],
            last_seen=last_seen,
            **({"first_seen": recomputed.filters_first.get(key, last_seen)} if first else {}),
        )
        for key, last_seen in sorted(recomputed.filters.items())
    )
    ProjectStatusCount.objects.bulk_create(
        ProjectStatusCount(project_id=project_id, status=status, issues=n)
        for (_, status), n in sorted(recomputed.statuses.items())
    )


# --- The check: stored rows against the recomputation ---------------------------------------------

CHECK_BATCH_ISSUES = 500


def differences(stored: Recomputed, recomputed: Recomputed) -> list[str]:
    """What differs between the stored rows and the recomputed ones, one line each (pure).

    A filter value stays listed when its occurrences go (an issue deleted in the admin): a stored
    value that the occurrences no longer have is not a difference, nor a stored last seen later
    than theirs, nor a stored first seen earlier than theirs; a value they have that is missing,
    older, or first seen later is."""
    lines = []
    for name, left, right in (
        ("day", stored.days, recomputed.days),
        ("value", stored.values, recomputed.values),
        ("status", stored.statuses, recomputed.statuses),
        ("element", stored.elements, recomputed.elements),
        ("element day", stored.element_days, recomputed.element_days),
        ("element week", stored.element_weeks, recomputed.element_weeks),
    ):
        for key in sorted(left.keys() | right.keys(), key=repr):
            if left.get(key) != right.get(key):
                lines.append(
                    f"{name} {key}: stored {left.get(key)}, occurrences give {right.get(key)}"
                )
    for key, last_seen in sorted(recomputed.filters.items()):
        seen = stored.filters.get(key)
        if seen is None or seen < last_seen:
            lines.append(f"filter {key}: stored last seen {seen}, occurrences give {last_seen}")
    for key, first_seen in sorted(recomputed.filters_first.items()):
        first = stored.filters_first.get(key)
        if key in stored.filters and (first is None or first > first_seen):
            lines.append(f"filter {key}: stored first seen {first}, occurrences give {first_seen}")
    return lines


def aggregates_check(project_id: int, fix: bool = False) -> list[str]:
    """The differences of one project's aggregates from a recomputation (``differences``);
    ``fix`` replaces the rows that differ, a batch of issues (or the project's rows) at a time,
    each in its own transaction under the issues' row locks."""
    Issue, Project = (
        django_apps.get_model("issues", "Issue"),
        django_apps.get_model("ingest", "Project"),
    )
    if not Project.objects.filter(pk=project_id).exists():
        raise Project.DoesNotExist(f"project {project_id} does not exist")
    found = []
    ids = list(
        Issue.objects.filter(project_id=project_id).order_by("pk").values_list("pk", flat=True)
    )
    for start in range(0, len(ids), CHECK_BATCH_ISSUES):
        batch = ids[start : start + CHECK_BATCH_ISSUES]
        with transaction.atomic():
            # Under the issues' row locks: no consumer counts into them between the two reads.
            _lock(Issue.objects.filter(pk__in=batch))
            recomputed = issues_recomputed(batch)
            lines = differences(issues_stored(batch), recomputed)
            if lines and fix:
                issues_replace(batch, recomputed)
        found.extend(lines)
    with transaction.atomic():
        if fix:
            # Every issue of the project locked, then the project's row (the consumers' order:
            # issues by id, then the project), so no status changes while the counts are
            # replaced. Without --fix a status changed between the two reads shows as a
            # difference: check again.
            _lock(Issue.objects.filter(project_id=project_id))
            allocate_short_numbers(project_id, 0)
        recomputed = project_recomputed(project_id)
        stored = project_stored(project_id)
        lines = differences(stored, recomputed)
        if lines and fix:
            # Values no occurrence has any more (a deleted issue's) stay, as the writes keep them.
            for key, last_seen in stored.filters.items():
                if key not in recomputed.filters or last_seen > recomputed.filters[key]:
                    recomputed.filters[key] = last_seen
            for key, first_seen in stored.filters_first.items():
                if (
                    key not in recomputed.filters_first
                    or first_seen < recomputed.filters_first[key]
                ):
                    recomputed.filters_first[key] = first_seen
            project_replace(project_id, recomputed)
        # The element rows: over the project's occurrences (its issues locked with --fix).
        elements = elements_recomputed(project_id)
        element_lines = differences(elements_stored(project_id), elements)
        if element_lines and fix:
            elements_replace(project_id, elements)
    found.extend(lines + element_lines)
    return found


def _lock(issues) -> None:
    list(issues.select_for_update().order_by("pk").values_list("pk"))
