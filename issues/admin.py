"""Admin for issues and their occurrences.

The issues consumer owns every counter (``issue_record_occurrence`` keeps them under a row lock),
so the admin reads them and never writes them: the one thing an operator changes is an issue's
status, and that goes through ``issue_set_status`` as in the UI and the API. Occurrences are the
producer's record of what happened and are read-only.
"""

import uuid
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from issues.filters import short_id_parts, short_id_q
from issues.models import Issue, IssueStatus, Occurrence
from issues.services import issue_set_status, issues_show_now


def replay_page_url(occurrence: Occurrence) -> str:
    """The web UI's replay page, opened at this occurrence's click."""
    page = reverse("issues:replay", args=[occurrence.project_id, occurrence.replay_id])
    return f"{page}?{urlencode({'occurrence': occurrence.occurrence_id})}"


def _set_status(
    modeladmin: admin.ModelAdmin, request: HttpRequest, issues: QuerySet[Issue], status: str
) -> None:
    changed = 0
    for issue in issues:
        if issue.status != status:
            issue_set_status(issue, status, user=request.user)
            changed += 1
    label = IssueStatus(status).label.lower()
    modeladmin.message_user(request, f"{changed} issue(s) marked {label}.", messages.SUCCESS)


@admin.action(description="Resolve selected issues")
def resolve_issues(modeladmin: admin.ModelAdmin, request: HttpRequest, issues: QuerySet) -> None:
    _set_status(modeladmin, request, issues, IssueStatus.RESOLVED)


@admin.action(description="Ignore selected issues")
def ignore_issues(modeladmin: admin.ModelAdmin, request: HttpRequest, issues: QuerySet) -> None:
    _set_status(modeladmin, request, issues, IssueStatus.IGNORED)


@admin.action(description="Unresolve selected issues")
def unresolve_issues(modeladmin: admin.ModelAdmin, request: HttpRequest, issues: QuerySet) -> None:
    _set_status(modeladmin, request, issues, IssueStatus.UNRESOLVED)


@admin.action(description="Show selected issues held back by the creation quota now")
def show_now(modeladmin: admin.ModelAdmin, request: HttpRequest, issues: QuerySet) -> None:
    shown = issues_show_now(issues)
    modeladmin.message_user(request, f"{shown} issue(s) shown now.", messages.SUCCESS)


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    """Counters are the consumer's: only ``status`` is editable, through ``issue_set_status``."""

    list_display = (
        "short_id",
        "type",
        "title_and_selector",
        "culprit",
        "status",
        "times_seen",
        "users_seen",
        "first_seen",
        "last_seen",
        "project",
        "held_by",
    )
    list_display_links = ("short_id", "title_and_selector")
    list_filter = ("type", "status", "is_visible", "project", "level")
    search_fields = ("selector", "culprit", "title", "=fingerprint_hash")
    date_hierarchy = "last_seen"
    list_select_related = ("project",)
    actions = (resolve_issues, ignore_issues, unresolve_issues, show_now)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "short_id",
                    "project",
                    "type",
                    "title",
                    "subtitle",
                    "culprit",
                    "level",
                    "status",
                )
            },
        ),
        (
            "Counters (kept by the issues consumer)",
            {
                "fields": (
                    "times_seen",
                    "users_seen",
                    "is_visible",
                    "shown_at",
                    "held_by",
                    "first_seen",
                    "last_seen",
                    "resolved_at",
                    "regressed_at",
                    "occurrences_link",
                )
            },
        ),
        (
            "Grouping",
            {"fields": ("selector", "fingerprint", "fingerprint_hash", "metadata", "created_at")},
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Issue | None = None) -> list[str]:
        fields = [field.name for field in Issue._meta.fields if field.name != "status"]
        return [*fields, "short_id", "held_by", "occurrences_link"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def view_on_site(self, issue: Issue) -> str:
        """The issue's page in the web UI."""
        return reverse("issues:issue-detail", args=[issue.pk])

    def save_model(self, request: HttpRequest, obj: Issue, form, change: bool) -> None:
        """Write the status alone: a full save would overwrite counters the consumer just moved."""
        if "status" in form.changed_data:
            # The status as stored, so the activity row says what it changed from.
            obj.status = form.initial.get("status", obj.status)
            issue_set_status(obj, form.cleaned_data["status"], user=request.user)

    @admin.display(description="ID", ordering="short_number")
    def short_id(self, issue: Issue) -> str:
        return issue.short_id

    @admin.display(description="Held back by")
    def held_by(self, issue: Issue) -> str:
        """ "noise" (its threshold not reached), "quota" (the creation quota: shown at
        ``shown_at``) or "-" (shown)."""
        return issue.held_by() or "-"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """A search for a short id (SHOP-12, or an old CLICK-<id>) also finds that issue."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        parts = short_id_parts(search_term)
        if parts is not None:
            found |= queryset.filter(short_id_q(*parts))
        return found, may_have_duplicates

    @admin.display(description="Title / selector", ordering="selector")
    def title_and_selector(self, issue: Issue) -> str:
        selector = Truncator(issue.selector or issue.subtitle).chars(80)
        return format_html("{}<br><code>{}</code>", issue.title, selector)

    @admin.display(description="Occurrences")
    def occurrences_link(self, issue: Issue) -> str:
        url = reverse("admin:issues_occurrence_changelist")
        return format_html(
            '<a href="{}?issue__id__exact={}">{} occurrence(s)</a>',
            url,
            issue.pk,
            issue.times_seen,
        )


@admin.register(Occurrence)
class OccurrenceAdmin(admin.ModelAdmin):
    """What the producer published, as stored: viewable, never changed by hand."""

    list_display = (
        "occurrence_id",
        "issue_link",
        "timestamp",
        "replay",
        "user_key",
        "environment",
        "release",
        "browser",
        "url",
    )
    list_filter = ("environment", "browser", "project")
    search_fields = ("=occurrence_id", "user_key", "url")
    date_hierarchy = "timestamp"
    list_select_related = ("issue__project", "project")
    fields = (
        "occurrence_id",
        "issue_link",
        "replay_link",
        "project",
        "event_id",
        "replay_id",
        "segment_id",
        "timestamp",
        "received_at",
        "user_key",
        "user_id",
        "user_email",
        "user_name",
        "user_ip",
        "release",
        "environment",
        "browser",
        "browser_version",
        "os",
        "os_version",
        "device",
        "url",
        "evidence",
        "evidence_display",
        "tags",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Occurrence | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Occurrence | None = None) -> bool:
        # Deleting one would leave its issue's counters counting a click that is gone.
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Occurrence], search_term: str
    ) -> tuple[QuerySet[Occurrence], bool]:
        """Also find a replay by its id, with or without dashes, on every database."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            replay_id = uuid.UUID(search_term.strip())
        except ValueError:
            return results, may_have_duplicates
        return queryset.filter(Q(pk__in=results.values("pk")) | Q(replay_id=replay_id)), False

    @admin.display(description="Issue", ordering="issue")
    def issue_link(self, occurrence: Occurrence) -> str:
        url = reverse("admin:issues_issue_change", args=[occurrence.issue_id])
        return format_html('<a href="{}">{}</a>', url, occurrence.issue.short_id)

    @admin.display(description="Replay", ordering="replay_id")
    def replay(self, occurrence: Occurrence) -> str:
        if occurrence.replay_id is None:
            return "-"
        return format_html('<a href="{}">{}</a>', replay_page_url(occurrence), occurrence.replay_id)

    @admin.display(description="Replay page")
    def replay_link(self, occurrence: Occurrence) -> str:
        if occurrence.replay_id is None:
            return "-"
        return format_html('<a href="{}">Watch the click</a>', replay_page_url(occurrence))
