"""The elements page: which elements of a project get the most dead, rage and slow clicks, with
each one's component, text and pages."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from issues.element_rows import ElementRows
from issues.filters import PERIOD_LABELS, PERIODS
from issues.queries import (
    ELEMENT_SORTS,
    element_click_counts,
    element_components,
    element_texts_and_pages,
    latest_clicks_on,
)
from issues.views.common import page_context, page_number, project_or_404

COLUMNS = [
    ("dead", "Dead"),
    ("rage", "Rage"),
    ("slow", "Slow"),
    ("total", "Total"),
    ("last_seen", "Last seen"),
]


@login_required
def elements(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_or_404(request, project_id)
    sort = request.GET.get("sort", "")
    if sort not in ELEMENT_SORTS:
        sort = "total"
    # The issue list's ranges (not its custom one: the element rows are whole UTC days).
    period = request.GET.get("period", "")
    if period not in PERIODS:
        period = ""
    elements = element_click_counts(request.user, project.pk, sort, period)
    number, size = page_number(request), settings.ISSUES_PAGE_SIZE
    if isinstance(elements, ElementRows):
        elements.expect((number - 1) * size, size)  # one query: the count and this page
    page = Paginator(elements, size).get_page(number)
    rows = list(page)
    selectors = [row["selector"] for row in rows]
    latest = latest_clicks_on(request.user, project.pk, selectors)
    details = element_texts_and_pages(request.user, project.pk, selectors)
    components = element_components(request.user, project.pk, selectors)
    for row in rows:
        row["component"] = components.get(row["selector"])
        row["latest_click"] = latest.get(row["selector"])
        row["text"], row["pages"] = details.get(row["selector"], ("", []))
    context = page_context(
        request,
        project,
        page=page,
        rows=rows,
        sort=sort,
        columns=COLUMNS,
        period=period,
        periods=[(value, PERIOD_LABELS[value]) for value in PERIODS],
    )
    return render(request, "issues/elements.html", context)
