"""The issue list's filters, search and sort: one FilterSet for the web UI and the API."""

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from issues.models import Issue, IssueStatus, IssueType, Occurrence

SORTS = {
    "last_seen": ("-last_seen", "-id"),
    "times_seen": ("-times_seen", "-last_seen", "-id"),
    "users": ("-users_seen", "-last_seen", "-id"),
    "first_seen": ("-first_seen", "-id"),
}


class IssueFilter(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(choices=IssueType.choices)
    status = django_filters.MultipleChoiceFilter(choices=IssueStatus.choices)
    environment = django_filters.CharFilter(method="filter_occurrence_field")
    release = django_filters.CharFilter(method="filter_occurrence_field")
    browser = django_filters.CharFilter(method="filter_occurrence_field")
    query = django_filters.CharFilter(
        method="filter_query", help_text="Words found in the selector, URL, route or title."
    )
    sort = django_filters.ChoiceFilter(
        choices=[(name, name.replace("_", " ")) for name in SORTS],
        method="filter_sort",
        empty_label=None,
        help_text="last_seen (default), times_seen, users or first_seen; most first.",
    )

    class Meta:
        model = Issue
        fields = ["type", "status", "environment", "release", "browser", "query", "sort"]

    def filter_occurrence_field(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Issues with at least one occurrence in that environment, release or browser."""
        matching = Occurrence.objects.filter(issue=OuterRef("pk"), **{name: value})
        return queryset.filter(Exists(matching))

    def filter_query(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split():
            queryset = queryset.filter(
                Q(selector__icontains=word)
                | Q(culprit__icontains=word)
                | Q(title__icontains=word)
                | Q(metadata__url__icontains=word)
                | Q(metadata__route__icontains=word)
                | Q(metadata__component__icontains=word)
            )
        return queryset

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*SORTS.get(value, SORTS["last_seen"]))
