"""Admin for alert rules and their deliveries. A rule is checked as the REST API checks it and
its secret is write-only there too. Deliveries are the outbox: read-only but for one action,
sending failed ones again (a new attempt under the same delivery id)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from alerts.api.schema import flat_errors
from alerts.api.serializers import AlertRuleSerializer, secret_hint
from alerts.models import AlertDelivery, AlertRule, DeliveryStatus

RULE_FIELDS = (
    *("name", "enabled", "trigger", "issue_types", "environment", "count", "users"),
    *("window_s", "action_interval_s", "action"),
)


class AlertRuleAdminForm(forms.ModelForm):
    """The action's secret is shown as its last four characters (``secret_hint``), as the API
    and the settings page show it; left as shown, or emptied, it keeps the rule's secret. The
    fields then go through the API's serializer, so the admin cannot save a rule the API would
    refuse (an unsafe URL, a short secret, a frequency rule without a count)."""

    class Meta:
        model = AlertRule
        fields = ("project", *RULE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        secret = self.instance.action.get("secret") if self.instance.pk else None
        if secret:
            self.initial["action"] = {**self.instance.action, "secret": secret_hint(secret)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        body = {name: cleaned[name] for name in RULE_FIELDS}
        action = body["action"]
        if isinstance(action, dict) and self.instance.pk:
            stored = self.instance.action.get("secret", "")
            if action.get("secret") in ("", secret_hint(stored)):
                body["action"] = {key: value for key, value in action.items() if key != "secret"}
        serializer = AlertRuleSerializer(
            instance=self.instance if self.instance.pk else None, data=body
        )
        if not serializer.is_valid():
            for field, errors in flat_errors(serializer.errors).items():
                for error in errors:
                    self.add_error(field if field in self.fields else None, error)
            return cleaned
        cleaned["action"] = serializer.validated_data["action"]
        return cleaned


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleAdminForm
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
