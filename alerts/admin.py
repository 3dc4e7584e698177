"""Admin for alert rules and their deliveries. Deliveries are the outbox: read-only but for one
action, sending failed ones again (a new attempt under the same delivery id)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from alerts.models import AlertDelivery, AlertRule, DeliveryStatus


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "trigger", "enabled", "action_type", "updated_at")
    list_filter = ("enabled", "trigger", "project")
    search_fields = ("name",)

    @admin.display(description="action")
    def action_type(self, rule: AlertRule) -> str:
        return str(rule.action.get("type", ""))


@admin.action(description="Send selected failed deliveries again")
def send_again(modeladmin: admin.ModelAdmin, request: HttpRequest, deliveries: QuerySet) -> None:
    count = deliveries.filter(status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), created_at=timezone.now()
    )
    modeladmin.message_user(request, f"{count} delivery(ies) queued again.", messages.SUCCESS)


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "delivery_id",
        "rule",
        "trigger",
        "issue",
        "page",
        "status",
        "attempts",
        "response_status",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "trigger")
    search_fields = ("delivery_id", "page")
    actions = [send_again]
    list_select_related = ("rule", "issue")
    raw_id_fields = ("issue",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
