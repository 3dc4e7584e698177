"""The issue list's filters, search and sort: one FilterSet for the web UI and the API."""

import re

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet

from issues.models import Issue, IssueStatus, IssueType, IssueValueCount

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
    """The issue of that short id; ``CLICK-<n>`` also finds the issue whose primary key is n."""
    found = Q(project__slug=slug, short_number=number)
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
    sort = SortFilter(
        choices=[(name, name.replace("_", " ")) for name in SORTS],
        method="filter_sort",
        empty_label=None,
        help_text="last_seen (default), times_seen, users, first_seen or impact (the share of "
        "the sessions on its page that hit it); most first.",
    )

    class Meta:
        model = Issue
        fields = ["type", "status", "environment", "release", "browser", "query", "sort"]

    def filter_occurrence_field(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Issues with at least one occurrence in that environment, release or browser: one
        probe of the issue's value counts (its breakdown rows, kept at write time) per issue."""
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
