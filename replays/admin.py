from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse

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
    readonly_fields = ("updated_at",)
    fieldsets = (
        (None, {"fields": ("project", "updated_at")}),
        (
            "Issue types",
            {
                "fields": (
                    "dead_clicks_enabled",
                    "rage_clicks_enabled",
                    "slow_clicks_enabled",
                    "hydration_errors_enabled",
                )
            },
        ),
        (
            "Sampling (0 to 1; the same click always gets the same decision)",
            {
                "fields": (
                    "dead_click_sample_rate",
                    "rage_click_sample_rate",
                    "slow_click_sample_rate",
                    "hydration_error_sample_rate",
                )
            },
        ),
        ("Thresholds", {"fields": ("dead_click_ms", "slow_click_ms", "rage_click_count")}),
        ("Ignored elements", {"fields": ("ignore_selectors",)}),
        ("Noise", {"fields": ("noise_threshold", "noise_threshold_users")}),
        ("Creation quota", {"fields": ("issue_quota", "issue_quota_window_s")}),
    )
