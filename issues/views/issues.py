"""The issue stream, one issue, and its status change."""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from alerts.queries import issue_deliveries
from issues import charts, cursors, presentation
from issues.api.serializers import IssueStatusSerializer
from issues.filters import PERIOD_LABELS, SORTS, IssueFilter, short_id_parts
from issues.grouptypes import has_element
from issues.models import IssueStatus, IssueType
from issues.queries import (
    BREAKDOWN_FIELDS,
    TREND_DAYS,
    IssueCount,
    IssuePage,
    creation_quota_for,
    daily_occurrence_counts,
    held_by_quota_count,
    issue_activity_rows,
    issue_breakdowns,
    issue_count_bound,
    issue_counts_between,
    issue_list_page,
    issue_occurrence_page,
    issue_occurrences,
    issue_status_counts,
    issues_for,
    project_dsn,
    project_filter_choices,
    projects_with_open_issue_counts,
    same_element_issues,
    utc_today,
)
from issues.search_slots import SearchesBusy, search_slot
from issues.services import issue_set_status, issues_set_status, issues_wake_ignored
from issues.templatetags.issues_ui import query
from issues.views.common import page_context, page_number, project_or_404

MAX_TREND_DAYS = 90
SORT_LABELS = {
    "last_seen": "Last seen",
    "times_seen": "Times seen",
    "users": "Users",
    "first_seen": "First seen",
    "impact": "Impact",
}
BREAKDOWN_LABELS = {
    "page": "Page",
    "browser": "Browser",
    "os": "OS",
    "release": "Release",
    "environment": "Environment",
}
STATUS_DONE = {
    IssueStatus.RESOLVED: "resolved",
    IssueStatus.IGNORED: "ignored",
    IssueStatus.UNRESOLVED: "reopened (unresolved)",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Straight to the issues when there is one project; otherwise a list to choose from."""
    projects = list(projects_with_open_issue_counts(request.user))
    if len(projects) == 1:
        return redirect("issues:issue-list", project_id=projects[0].pk)
    return render(request, "issues/home.html", page_context(request, None, project_rows=projects))


def _issue_filter_data(query: QueryDict) -> QueryDict:
    """The list's query string for IssueFilter: unresolved issues unless a status is asked for
    (``status=all`` or an empty ``status=`` asks for all; a search for a short id looks in
    every status, as it names one issue), and empty choices, sort and days dropped (the form's "All
    types" and the like)."""
    data = query.copy()
    if "status" not in data and short_id_parts(data.get("query", "")) is not None:
        data.setlist("status", [])
    elif "status" not in data:
        data.setlist("status", [IssueStatus.UNRESOLVED])
    for key in ("status", "type"):
        data.setlist(key, [value for value in data.getlist(key) if value and value != "all"])
    for key in ("sort", "since", "until"):
        if not data.get(key):
            data.pop(key, None)
    return data


@login_required
def issue_list(request: HttpRequest, project_id: int) -> HttpResponse:
    try:
        with search_slot(request.GET.get("query")):
            return _issue_list(request, project_id)
    except SearchesBusy as busy:
        return HttpResponse(str(busy), status=503, content_type="text/plain; charset=utf-8")


def _issue_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_or_404(request, project_id)
    project_issues = issues_for(request.user, project.pk)
    issues_wake_ignored(project_issues)
    data = _issue_filter_data(request.GET)
    issue_filter = IssueFilter(data, queryset=project_issues)
    issue_filter.is_valid()
    cleaned = issue_filter.form.cleaned_data
    statuses = cleaned.get("status") or []

    # The status tabs count what the other filters let through: the project's status counts
    # when there is no other filter, else each status's matching issues up to a bound.
    without_status = data.copy()
    without_status.setlist("status", [])
    for key in ("sort", "page", "cursor"):
        without_status.pop(key, None)
    others = IssueFilter(without_status, queryset=project_issues)
    status_counts = issue_status_counts(project, others.qs, others.narrowed(), issue_count_bound())
    list_count = sum(
        (n for status, n in status_counts.items() if not statuses or status in statuses),
        IssueCount(0),
    )
    issue_page = _page(request, issue_filter, cleaned.get("sort") or "last_seen", list_count)

    # A time range: the counts and sparklines of the page are those of the range (its days).
    bounds = issue_filter.bounds() if issue_filter.is_valid() else None
    last_day = utc_today() if bounds is None else (bounds[1] - timedelta(microseconds=1)).date()
    days = charts.days_ending(last_day, _trend_days(bounds))
    ids = [issue.pk for issue in issue_page.rows]
    trends = daily_occurrence_counts(ids, days=len(days), last_day=days[-1])
    counts = issue_counts_between(ids, *bounds) if bounds else {}
    for issue in issue_page.rows:
        issue.trend = trends[issue.pk]
        issue.times_seen, issue.users_seen = counts.get(
            issue.pk, (issue.times_seen, issue.users_seen)
        )

    selected_status = data.getlist("status")
    status_tabs = [
        {
            "value": status.value,
            "label": status.label,
            "count": _count_words(status_counts[status.value]),
            "active": selected_status == [status.value],
        }
        for status in IssueStatus
    ]
    status_tabs.append(
        {
            "value": "all",
            "label": "All",
            "count": _count_words(sum(status_counts.values(), IssueCount(0))),
            "active": not selected_status,
        }
    )
    context = page_context(
        request,
        project,
        issue_page=issue_page,
        pagination=_pagination(request, issue_page, list_count),
        list_count=list_count,
        list_count_words=_count_words(list_count),
        days=days,
        issue_filter=issue_filter,
        filter_errors=issue_filter.errors,
        status_tabs=status_tabs,
        choices=project_filter_choices(project),
        types=IssueType.choices,
        sorts=[(name, SORT_LABELS.get(name, name)) for name in SORTS],
        periods=list(PERIOD_LABELS.items()),
        tab_status=selected_status[0] if len(selected_status) == 1 else "",
        range_label=_range_label(issue_filter, bounds),
        selected={
            "period": data.get("period", ""),
            "since": data.get("since", ""),
            "until": data.get("until", ""),
            "type": data.get("type", ""),
            "statuses": selected_status or ["all"],
            "environment": data.get("environment", ""),
            "release": data.get("release", ""),
            "browser": data.get("browser", ""),
            "query": data.get("query", ""),
            "sort": data.get("sort") or "last_seen",
        },
        filtered=any(
            data.get(key)
            for key in ("type", "environment", "release", "browser", "query", "period")
        ),
    )
    context["held_by_quota"] = held_by_quota_count(project)
    if context["held_by_quota"]:
        quota = creation_quota_for(project.pk)
        context["quota_text"] = f"{quota.issues} per {presentation.duration_words(quota.window)}"
    context["project_has_issues"] = bool(issue_page.rows) or project_issues.exists()
    if not context["project_has_issues"]:
        context["dsn"] = project_dsn(project)
    # A refused filter (a search past its bounds, an unknown type) is left out of the list, and
    # the page says why, with 400: the request as asked was not served.
    status = 400 if issue_filter.errors else 200
    return render(request, "issues/issue_list.html", context, status=status)


def _page_numbers() -> int:
    """The web UI's page numbers: those within the count's bound (40 pages of 25), an OFFSET
    of at most that many rows; past them the list pages by cursor."""
    return max(1, issue_count_bound() // settings.ISSUES_PAGE_SIZE)


def _page(
    request: HttpRequest, issue_filter: IssueFilter, sort: str, count: IssueCount
) -> IssuePage:
    """The asked page: after (or before) ``?cursor=``, or ``?page=`` kept within the page
    numbers and the last page. A cursor that is not one, or of another sort, is the first page."""
    size = settings.ISSUES_PAGE_SIZE
    cursor = cursors.decode(request.GET.get("cursor", ""))
    if cursor is not None and cursor.sort == sort:
        return issue_list_page(issue_filter.qs, sort, size, cursor=cursor)
    last = _page_numbers() if count.more else max(1, math.ceil(count.n / size))
    number = min(page_number(request), last, _page_numbers())
    return issue_list_page(issue_filter.qs, sort, size, page=number)


def _pagination(request: HttpRequest, page: IssuePage, count: IssueCount) -> dict[str, str]:
    """The list's page links: by number up to the last page number, by cursor from there (and
    back from a page reached by cursor); "26-50 of 1,000+" on a numbered page."""
    links: dict[str, str] = {}
    if page.number is not None and page.number > 1:
        links["previous"] = query(request, page=page.number - 1)
    elif page.previous_cursor:
        links["previous"] = query(request, cursor=page.previous_cursor)
    if page.next_cursor and page.number is not None and page.number < _page_numbers():
        links["next"] = query(request, page=page.number + 1)
    elif page.next_cursor:
        links["next"] = query(request, cursor=page.next_cursor)
    if page.number is not None and page.rows:
        start = (page.number - 1) * settings.ISSUES_PAGE_SIZE + 1
        end = start + len(page.rows) - 1
        links["range"] = f"{start:,}\N{EN DASH}{end:,} of {_count_words(count)}"
    return links


def _count_words(count: IssueCount) -> str:
    return presentation.count_words(count.n, count.more)


def _trend_days(bounds: tuple[datetime, datetime] | None) -> int:
    """The sparkline's days: the range's (at least 2: a day's bars say little alone), capped
    at 90; 14 without a range."""
    if bounds is None:
        return TREND_DAYS
    span = bounds[1] - bounds[0]
    return min(max(math.ceil(span / timedelta(days=1)), 2), MAX_TREND_DAYS)


def _range_label(issue_filter: IssueFilter, bounds: tuple[datetime, datetime] | None) -> str:
    """The graph column's heading: the range the counts are of."""
    if bounds is None:
        return f"Last {TREND_DAYS} days"
    period = issue_filter.form.cleaned_data.get("period") or ""
    if period != "custom":
        return PERIOD_LABELS[period]
    first = bounds[0].date() if bounds[0].year > 1 else None
    last = (bounds[1] - timedelta(microseconds=1)).date()
    return f"{first or '…'} to {last}"


@login_required
def issue_detail(request: HttpRequest, issue_id: int) -> HttpResponse:
    issues_wake_ignored(issues_for(request.user).filter(pk=issue_id))
    issue = get_object_or_404(issues_for(request.user).select_related("project"), pk=issue_id)
    days = charts.days_ending(utc_today(), TREND_DAYS)
    trend = daily_occurrence_counts([issue.pk], last_day=days[-1])[issue.pk]
    breakdowns = [
        {
            "field": breakdown.field,
            "label": BREAKDOWN_LABELS.get(breakdown.field, breakdown.field),
            "shares": presentation.shares(breakdown.top, breakdown.total),
        }
        for breakdown in issue_breakdowns(issue, BREAKDOWN_FIELDS)
    ]
    occurrence_page = issue_occurrence_page(
        issue,
        settings.ISSUE_OCCURRENCES_PAGE_SIZE,
        page=page_number(request),
        cursor=request.GET.get("cursor"),
    )
    occurrences = occurrence_page.rows
    latest = issue_occurrences(issue).filter(replay_stored=True).first()
    metadata = issue.metadata or {}
    # What the producer wants shown (``evidence_display``), from the page's latest occurrence.
    shown = occurrences[0].evidence_display if len(occurrences) else []
    deliveries = issue_deliveries(issue.pk)
    context = page_context(
        request,
        issue.project,
        issue=issue,
        # The element card when the type has an element and the producer named one (an occurrence
        # posted to the occurrence endpoint may not): otherwise its evidence_display.
        has_element=has_element(issue.type) and bool(issue.selector),
        metadata=metadata,
        attributes=sorted((metadata.get("attributes") or {}).items()),
        days=days,
        trend=trend,
        trend_total=sum(trend),
        breakdowns=breakdowns,
        occurrences=occurrences,
        occurrence_page=occurrence_page,
        latest_with_replay=latest,
        evidence_display=[entry for entry in shown if isinstance(entry, dict)],
        activity=presentation.activity_entries(
            issue_activity_rows(issue),
            (
                (
                    delivery.created_at,
                    f"{delivery.get_trigger_display()} · {delivery.rule.name}",
                    delivery.get_status_display()
                    + (f" · {delivery.attempts} attempts" if delivery.attempts > 1 else ""),
                )
                for delivery in deliveries
            ),
        ),
        alerts_sent=bool(deliveries),
        same_element=same_element_issues(request.user, issue) if has_element(issue.type) else [],
    )
    return render(request, "issues/issue_detail.html", context)


def _status_change(request: HttpRequest) -> IssueStatusSerializer:
    """The POSTed status and its conditions, checked as the API checks them (one set of rules);
    the form's other fields (the CSRF token, ``next``, the ids) are not the change's."""
    fields = IssueStatusSerializer().fields
    data = {name: request.POST[name] for name in fields if request.POST.get(name, "") != ""}
    return IssueStatusSerializer(data=data)


def _refused(change: IssueStatusSerializer) -> HttpResponse:
    reasons = "; ".join(
        f"{field}: {' '.join(str(error) for error in errors)}"
        for field, errors in change.errors.items()
    )
    return HttpResponseBadRequest(reasons, content_type="text/plain; charset=utf-8")


def _back(request: HttpRequest, default: str) -> HttpResponse:
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect(default)


@login_required
@require_POST
def issue_status(request: HttpRequest, issue_id: int) -> HttpResponse:
    """Resolve, ignore (until…) or reopen, then back to where the button was (or the issue)."""
    issue = get_object_or_404(issues_for(request.user), pk=issue_id)
    change = _status_change(request)
    if not change.is_valid():
        return _refused(change)
    status = change.validated_data["status"]
    issue_set_status(issue, status, user=request.user, **change.change())
    messages.success(request, f"{issue.short_id} {STATUS_DONE[status]}.")
    return _back(request, reverse("issues:issue-detail", args=[issue.pk]))


@login_required
@require_POST
def issue_bulk_status(request: HttpRequest, project_id: int) -> HttpResponse:
    """The list's bulk change: the ticked issues (``id``), or with ``all`` every issue that the
    list's filters (``filters``, its query string) match, through the same service as one."""
    project = project_or_404(request, project_id)
    project_issues = issues_for(request.user, project.pk)
    change = _status_change(request)
    if not change.is_valid():
        return _refused(change)
    if request.POST.get("all"):
        filters = QueryDict(request.POST.get("filters", ""))
        issue_filter = IssueFilter(_issue_filter_data(filters), queryset=project_issues)
        if not issue_filter.is_valid():
            return HttpResponseBadRequest("The list's filters are not valid.")
        chosen = issue_filter.qs
    else:
        try:
            ids = {int(value) for value in request.POST.getlist("id")}
        except ValueError:
            return HttpResponseBadRequest("An issue id is a number.")
        chosen = project_issues.filter(pk__in=ids)
        if not ids or chosen.count() != len(ids):
            return HttpResponseBadRequest("Choose issues of this project.")
    status = change.validated_data["status"]
    changed = issues_set_status(chosen, status, user=request.user, **change.change())
    messages.success(
        request, f"{len(changed)} issue{pluralize(len(changed))} {STATUS_DONE[status]}."
    )
    return _back(request, reverse("issues:issue-list", args=[project.pk]))
