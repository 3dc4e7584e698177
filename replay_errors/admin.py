from django.contrib import admin
from django.http import HttpRequest

from replay_errors.models import ReplayErrorEvent


@admin.register(ReplayErrorEvent)
class ReplayErrorEventAdmin(admin.ModelAdmin):
    """Read-only: rows come from the SDK through the consumer."""

    list_display = ("timestamp", "project", "replay_id", "level", "type", "value", "url")
    list_filter = ("level", "project")
    search_fields = ("=replay_id", "=event_id", "type", "value")
    readonly_fields = [field.name for field in ReplayErrorEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
