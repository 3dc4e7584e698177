from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from ingest.models import Project, ProjectKey


class ProjectKeyInline(admin.TabularInline):
    """The project's keys, narrow enough for the page at 1400 px: the public key is shown in its
    DSN (which wraps) rather than as a field of its own; it is changed on the key's own page."""

    model = ProjectKey
    extra = 0
    fields = ("label", "is_active", "rate_limit_count", "rate_limit_window_s", "dsn", "created_at")
    readonly_fields = ("dsn", "created_at")
    show_change_link = True

    @admin.display(description="DSN")
    def dsn(self, key: ProjectKey) -> str:
        if not key.pk:
            return "-"
        return format_html('<code style="word-break: break-all">{}</code>', key.dsn())


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "slug", "org", "active_keys", "issue_counter", "created_at")
    list_filter = ("org",)
    list_select_related = ("org",)
    search_fields = ("name", "slug", "=id", "keys__public_key", "org__name")
    readonly_fields = ("issue_counter",)
    autocomplete_fields = ("org",)
    inlines = [ProjectKeyInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        active = Count("keys", filter=Q(keys__is_active=True))
        return super().get_queryset(request).annotate(active_key_count=active)

    @admin.display(description="Active keys", ordering="active_key_count")
    def active_keys(self, project: Project) -> int:
        return project.active_key_count


@admin.register(ProjectKey)
class ProjectKeyAdmin(admin.ModelAdmin):
    list_display = (
        "public_key",
        "project",
        "label",
        "is_active",
        "rate_limit_count",
        "rate_limit_window_s",
        "created_at",
    )
    list_filter = ("is_active",)
    list_editable = ("is_active", "rate_limit_count", "rate_limit_window_s")
    search_fields = ("public_key", "label", "project__name")
    autocomplete_fields = ("project",)
    readonly_fields = ("created_at",)
