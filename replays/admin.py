from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

from ingest.models import Project
from replays.forms import DETECTION_SECTIONS, DetectionSettingsForm
from replays.models import DetectionSettings, Replay, ReplaySegment


class ReplaySegmentInline(admin.TabularInline):
    model = ReplaySegment
    extra = 0
    can_delete = False
    fields = (
        "segment_id",
        "timestamp",
        "size",
        "compressed_size",
        "dead_clicks",
        "rage_clicks",
        "slow_clicks",
        "multi_clicks",
        "hydration_errors",
        "occurrences_published",
        "recording",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Replay)
class ReplayAdmin(admin.ModelAdmin):
    """Replays are written by the consumer only: the admin reads and deletes them."""

    list_display = (
        "replay_id",
        "project",
        "user_id",
        "browser",
        "os",
        "environment",
        "release",
        "segment_count",
        "dead_clicks",
        "rage_clicks",
        "slow_clicks",
        "multi_clicks",
        "hydration_errors",
        "last_seen_at",
    )
    list_filter = ("project", "environment", "browser", "os", "release")
    search_fields = ("=replay_id", "user_id", "user_email", "user_name", "release")
    date_hierarchy = "last_seen_at"
    list_select_related = ("project",)
    inlines = [ReplaySegmentInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Replay | None = None) -> list[str]:
        return [field.name for field in Replay._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def view_on_site(self, replay: Replay) -> str:
        """The admin's "View on site" plays the replay in the web UI."""
        return reverse("issues:replay", args=[replay.project_id, replay.replay_id])


@admin.register(DetectionSettings)
class DetectionSettingsAdmin(admin.ModelAdmin):
    """Per-project detection: consumers pick a change up within REPLAYS_SETTINGS_CACHE_TTL_S."""

    list_display = (
        "project",
        "dead_clicks_enabled",
        "rage_clicks_enabled",
        "slow_clicks_enabled",
        "dead_click_sample_rate",
        "rage_click_sample_rate",
        "slow_click_sample_rate",
        "hydration_errors_enabled",
        "hydration_error_sample_rate",
        "noise_threshold",
        "issue_quota",
        "updated_at",
    )
    list_editable = (
        "dead_clicks_enabled",
        "rage_clicks_enabled",
        "slow_clicks_enabled",
        "hydration_errors_enabled",
    )
    search_fields = ("project__name", "=project__id")
    autocomplete_fields = ("project",)
    form = DetectionSettingsForm
    fieldsets = (
        (None, {"fields": ("project", "updated_at")}),
        *((title, {"fields": names}) for title, names in DETECTION_SECTIONS),
    )

    def get_readonly_fields(
        self, request: HttpRequest, obj: DetectionSettings | None = None
    ) -> tuple[str, ...]:
        """A project's settings stay its own: the project is chosen when a row is added only."""
        return ("updated_at",) if obj is None else ("project", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Every project gets its row when it is made: "Add" only for a project without one
        (made before this app, say), not a form whose every choice would be refused."""
        without_settings = Project.objects.filter(detection_settings__isnull=True)
        return super().has_add_permission(request) and without_settings.exists()
