"""The issue list's filters, search and sort: one FilterSet for the web UI and the API."""

import re
from datetime import UTC, date, datetime, time, timedelta

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Least

from ingest.models import Project
from issues import clock
from issues.models import Issue, IssueDayCount, IssueStatus, IssueType, IssueValueCount

# The list's time ranges (Sentry's statsPeriod); "custom" takes ``since`` and ``until`` (days).
PERIODS = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "14d": timedelta(days=14),
    "30d": timedelta(days=30),
}
PERIOD_LABELS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "14d": "Last 14 days",
    "30d": "Last 30 days",
    "custom": "Custom",
}


def period_bounds(
    period: str, since: date | None, until: date | None, now: datetime
) -> tuple[datetime, datetime] | None:
    """The [since, until) of a time range, or None for any time (no range asked). A custom
    range runs from the start of ``since`` to the end of ``until`` (UTC days; either may be
    left out: from the beginning, up to now)."""
    if period in PERIODS:
        return now - PERIODS[period], now
    if period == "custom" and (since or until):
        start = datetime.combine(since, time(), UTC) if since else datetime.min.replace(tzinfo=UTC)
        end = datetime.combine(until + timedelta(days=1), time(), UTC) if until else now
        return start, end
    return None


def range_days(since: datetime, until: datetime) -> tuple[date, date]:
    """The UTC days that a [since, until) range touches, both included: a time range is read
    from the daily rows (issue 23), so it holds whole days (24 h is yesterday and today)."""
    return since.astimezone(UTC).date(), (until - timedelta(microseconds=1)).astimezone(UTC).date()


SORTS = {
    "last_seen": ("-last_seen", "-id"),
    "times_seen": ("-times_seen", "-last_seen", "-id"),
    "users": ("-users_seen", "-last_seen", "-id"),
    "first_seen": ("-first_seen", "-id"),
    # The share of the sessions on its page that hit it, stored at write time (indexed).
    "impact": ("-impact", "-last_seen", "-id"),
}

# The search's words are separated by ASCII whitespace (a regex class that Python and the JSON
# Schema pattern of the API's schema read alike); other characters, Unicode spaces included,
# belong to a word.
SEARCH_SPACE = r"[ \t\n\r\f\v]"
_SEARCH_SPLIT = re.compile(f"{SEARCH_SPACE}+")


# A short id (``SHOP-12``, any case), or the old ``CLICK-<primary key>`` of earlier links.
_SHORT_ID = re.compile(r"([A-Za-z0-9][A-Za-z0-9_-]*)-([0-9]{1,9})", re.ASCII)


def short_id_parts(value: str) -> tuple[str, int] | None:
    """(slug, number) when the search is one short id, as Sentry's search finds an issue by it."""
    match = _SHORT_ID.fullmatch(value.strip(" \t\n\r\f\v"))
    if match is None:
        return None
    return match.group(1).lower(), int(match.group(2))


def short_id_q(slug: str, number: int) -> Q:
    """The issue of that short id; ``CLICK-<n>`` also finds the issue whose primary key is n.

    The slug's projects are looked up first (one small query), so that the condition is on the
    issue's own columns: ORed with the search's words it stays an index scan that PostgreSQL
    combines with their trigram indexes, where a join to the project scanned every issue."""
    projects = list(Project.objects.filter(slug=slug).values_list("pk", flat=True))
    found = Q(project_id__in=projects, short_number=number)
    if slug == "click":
        found |= Q(pk=number)
    return found


def search_terms(value: str) -> list[str]:
    return [term for term in _SEARCH_SPLIT.split(value) if term]


def validate_search(value: str) -> None:
    """Each word of a search costs a scan of six columns of the project's issues: a search of a
    thousand words held a web thread for a minute. It takes ``ISSUES_SEARCH_MAX_TERMS`` words."""
    terms = len(search_terms(value))
    if terms > settings.ISSUES_SEARCH_MAX_TERMS:
        raise ValidationError(
            f"A search takes at most {settings.ISSUES_SEARCH_MAX_TERMS} words "
            f"(this one has {terms}): keep the words that tell the issue apart.",
            code="max_terms",
        )


def search_pattern(max_terms: int) -> str:
    """The JSON Schema pattern (ECMA regex) of an accepted search: at most ``max_terms`` words
    and no NUL character (no database here stores one)."""
    space, word = SEARCH_SPACE, r"[^ \t\n\r\f\v\u0000]"
    return f"^{space}*({word}+{space}+){{0,{max_terms - 1}}}{word}*{space}*$"


class SortField(django_filters.fields.ChoiceField):
    """A sort that is left out means the default; one that is given empty (``?sort=``) is not a
    sort, and is refused like any other value outside the choices."""

    def clean(self, value: str | None) -> str:
        if value == "":
            raise ValidationError(
                f"sort is one of {', '.join(SORTS)}; leave it out for last_seen.", code="blank"
            )
        return super().clean(value)


class SortFilter(django_filters.ChoiceFilter):
    field_class = SortField


class DayField(forms.DateField):
    """A day (YYYY-MM-DD); one given empty (``?since=``) is not a day, and is refused, as the
    schema's date format says. The web UI leaves empty ones out of its URLs."""

    def clean(self, value: str | None):
        if value == "":
            raise ValidationError("A day is YYYY-MM-DD; leave it out for no bound.", code="blank")
        return super().clean(value)


class DayFilter(django_filters.DateFilter):
    field_class = DayField


class IssueFilter(django_filters.FilterSet):
    # distinct=False: they filter the issue's own columns, no join can repeat a row, and
    # django-filter's default DISTINCT over every column sorts the whole list (issue 23).
    type = django_filters.MultipleChoiceFilter(choices=IssueType.choices, distinct=False)
    status = django_filters.MultipleChoiceFilter(choices=IssueStatus.choices, distinct=False)
    environment = django_filters.CharFilter(method="filter_occurrence_field")
    release = django_filters.CharFilter(method="filter_occurrence_field")
    browser = django_filters.CharFilter(method="filter_occurrence_field")
    query = django_filters.CharFilter(
        method="filter_query",
        max_length=settings.ISSUES_SEARCH_MAX_CHARS,
        # Counted as sent, as the schema's maxLength counts it.
        strip=False,
        validators=[validate_search],
        help_text=(
            "Words found in the selector, URL, route, component or title (every word must be "
            f"found): at most {settings.ISSUES_SEARCH_MAX_TERMS} words and "
            f"{settings.ISSUES_SEARCH_MAX_CHARS} characters, or the answer is 400."
        ),
    )
    period = django_filters.ChoiceFilter(
        choices=list(PERIOD_LABELS.items()),
        method="filter_nothing",
        help_text="A time range: only issues seen in it, counted and sorted by what it holds "
        "(24h, 7d, 14d, 30d, or custom with since and until). Left out: any time.",
    )
    since = DayFilter(
        method="filter_nothing", help_text="With period=custom: the range's first day (UTC)."
    )
    until = DayFilter(
        method="filter_nothing", help_text="With period=custom: the range's last day (UTC)."
    )
    sort = SortFilter(
        choices=[(name, name.replace("_", " ")) for name in SORTS],
        method="filter_sort",
        empty_label=None,
        help_text="last_seen (default), times_seen, users, first_seen or impact (the share of "
        "the sessions on its page that hit it); most first.",
    )

    class Meta:
        model = Issue
        fields = [
            "type",
            "status",
            "environment",
            "release",
            "browser",
            "query",
            "period",
            "since",
            "until",
            "sort",
        ]

    def bounds(self) -> tuple[datetime, datetime] | None:
        """The time range asked for, once the filters are valid."""
        data = self.form.cleaned_data
        return period_bounds(
            data.get("period") or "", data.get("since"), data.get("until"), clock.now()
        )

    def narrowed(self) -> bool:
        """Whether a filter other than the status is applied (a refused one is not): without
        one, the project's status counts say how many issues the list holds."""
        self.is_valid()
        data = self.form.cleaned_data
        fields = ("type", "environment", "release", "browser", "query")
        return any(data.get(name) for name in fields) or self.bounds() is not None

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """The other filters, then the time range: only the issues with an occurrence on one of
        its days, and the counting sorts by what those days hold. Read from the daily rows
        (``IssueDayCount``), never the occurrences, as ``queries.issue_counts_between`` counts
        the page's rows: the users are its upper bound too."""
        queryset = super().filter_queryset(queryset)
        bounds = self.bounds()
        if bounds is None:
            return queryset
        first_day, last_day = range_days(*bounds)
        days = IssueDayCount.objects.filter(issue=OuterRef("pk"), day__lte=last_day).order_by()
        in_range = days.filter(day__gte=first_day)
        queryset = queryset.filter(Exists(in_range.filter(times__gt=0)))
        sort = self.form.cleaned_data.get("sort") or "last_seen"
        if sort in ("times_seen", "users"):
            if sort == "times_seen":  # the range's days only: an index range per issue
                count = in_range.values("issue").annotate(count=Sum("times"))
            else:  # the users first counted up to the range's end, at most its occurrences
                times = Coalesce(Sum("times", filter=Q(day__gte=first_day)), 0)
                count = days.values("issue").annotate(count=Least(times, Sum("new_users")))
            count = count.values("count")
            queryset = queryset.annotate(
                range_count=Coalesce(Subquery(count, output_field=IntegerField()), 0)
            ).order_by("-range_count", "-last_seen", "-id")
        return queryset

    def filter_nothing(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        """The time range's fields apply together, in ``filter_queryset``."""
        return queryset

    def filter_occurrence_field(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Issues with at least one occurrence in that environment, release or browser, from the
        issues' value counts (their breakdown rows, kept at write time): the rows of that value
        are one range of an index by (field, value, issue), joined to the list."""
        matching = IssueValueCount.objects.filter(
            issue=OuterRef("pk"), field=name, value=value, times__gt=0
        )
        return queryset.filter(Exists(matching))

    def filter_query(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Every word found in the issue's text; a search that is one short id also finds the
        issue of that id (``SHOP-12``, or an old ``CLICK-<id>``)."""
        parts = short_id_parts(value)
        if parts is not None:
            return queryset.filter(short_id_q(*parts) | self._words_q(value))
        return queryset.filter(self._words_q(value))

    def _words_q(self, value: str) -> Q:
        found = Q()
        for word in search_terms(value):
            found &= (
                Q(selector__icontains=word)
                | Q(culprit__icontains=word)
                | Q(title__icontains=word)
                | Q(metadata__url__icontains=word)
                | Q(metadata__route__icontains=word)
                | Q(metadata__component__icontains=word)
            )
        return found

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*SORTS.get(value, SORTS["last_seen"]))
