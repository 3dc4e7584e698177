from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from ingest.models import Project, ProjectKey


class ProjectKeyInline(admin.TabularInline):
    model = ProjectKey
    extra = 0
    fields = (
        "public_key",
        "label",
        "is_active",
        "rate_limit_count",
        "rate_limit_window_s",
        "dsn",
        "created_at",
    )
    readonly_fields = ("dsn", "created_at")

    @admin.display(description="DSN")
    def dsn(self, key: ProjectKey) -> str:
        return key.dsn() if key.pk else "-"


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
