"""What the API shows of alert rules and their deliveries. A rule's secret is write-only: the
answer shows only its last four characters (``secret_hint``), and a PATCH without a secret keeps
the one the rule has. A webhook or Slack URL is checked as the worker checks it where that can be
known on saving: http(s), no credentials, and no IP address the worker would refuse."""

import re
from typing import Any

from django.conf import settings
from rest_framework import serializers

from alerts.api.schema import EMAIL_PATTERN, MIN_SECRET_CHARS, URL_PATTERN
from alerts.models import ActionType, AlertDelivery, AlertRule, Trigger
from alerts.sending import UnsafeDestination, check_url, literal_address_refusal
from alerts.services import alert_rule_save
from issues.grouptypes import get_by_slug


def secret_hint(secret: str) -> str:
    return f"…{secret[-4:]}" if len(secret) >= MIN_SECRET_CHARS else ""


def _refuse_unknown(serializer: serializers.Serializer, data: object) -> None:
    """A field the serializer does not take is refused (400), not silently dropped: a client's
    typo (``"enviroment"``) must not make a rule that alerts on every environment."""
    writable = {name for name, field in serializer.fields.items() if not field.read_only}
    if not isinstance(data, dict):
        return  # DRF answers that it wants an object
    unknown = sorted(set(data) - writable)
    if unknown:
        raise serializers.ValidationError({name: ["Not a writable field."] for name in unknown})


ACTION_FIELDS = {
    ActionType.WEBHOOK: {"type", "url", "secret"},
    ActionType.SLACK: {"type", "url"},
    ActionType.EMAIL: {"type", "recipients"},
}


class ActionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ActionType.choices)
    url = serializers.CharField(required=False, max_length=2048, trim_whitespace=False)
    secret = serializers.CharField(
        required=False, write_only=True, max_length=200, trim_whitespace=False
    )
    recipients = serializers.ListField(
        child=serializers.CharField(max_length=254, trim_whitespace=False),
        required=False,
        min_length=1,
        max_length=50,
    )

    def to_internal_value(self, data: object) -> dict[str, Any]:
        if isinstance(data, dict) and data.get("type") in ACTION_FIELDS:
            allowed = ACTION_FIELDS[data["type"]]
            unknown = sorted(set(data) - allowed)
            if unknown:
                raise serializers.ValidationError(
                    {name: [f"Not a field of a {data['type']} action."] for name in unknown}
                )
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["type"]
        if kind in (ActionType.WEBHOOK, ActionType.SLACK):
            url = attrs.get("url", "")
            try:
                if not re.search(URL_PATTERN, url):
                    raise UnsafeDestination("an http(s) URL with a host name and a path")
                _, host, _, _ = check_url(url)
                # An IP address the worker would refuse is refused now; a host name is checked
                # when sent, on what it resolves to then.
                allow_private = settings.ALERTS_ALLOW_PRIVATE_ADDRESSES
                if reason := literal_address_refusal(host, allow_private):
                    raise UnsafeDestination(reason)
            except UnsafeDestination as exc:
                raise serializers.ValidationError({"url": [str(exc)]}) from None
        else:
            recipients = attrs.get("recipients") or []
            if not recipients:
                raise serializers.ValidationError({"recipients": ["an e-mail action needs them"]})
            bad = [each for each in recipients if not re.search(EMAIL_PATTERN, each)]
            if bad:
                raise serializers.ValidationError({"recipients": [f"not addresses: {bad}"]})
        return attrs


class AlertRuleSerializer(serializers.ModelSerializer):
    action = ActionSerializer()

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "project",
            "name",
            "enabled",
            "trigger",
            "issue_types",
            "environment",
            "count",
            "users",
            "window_s",
            "action_interval_s",
            "action",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "project", "created_at", "updated_at"]
        extra_kwargs = {
            "name": {"trim_whitespace": False},
            "environment": {"trim_whitespace": False},
        }

    def validate_issue_types(self, value: object) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(each, str) for each in value):
            raise serializers.ValidationError("a list of issue type slugs")
        unknown = [slug for slug in value if get_by_slug(slug) is None]
        if unknown:
            raise serializers.ValidationError(f"unknown issue types: {', '.join(unknown)}")
        return value

    def to_internal_value(self, data: object) -> dict[str, Any]:
        _refuse_unknown(self, data)
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current = self.instance
        merged = {
            name: attrs.get(name, getattr(current, name, None))
            for name in ("trigger", "count", "users", "window_s")
        }
        if merged["trigger"] == Trigger.FREQUENCY and not (merged["count"] or merged["users"]):
            raise serializers.ValidationError(
                {"count": ["a frequency rule needs a count or users"]}
            )
        if merged["trigger"] == Trigger.PAGE_FREQUENCY and not merged["count"]:
            raise serializers.ValidationError({"count": ["a page_frequency rule needs a count"]})
        if merged["window_s"] is not None and merged["window_s"] < 1:
            raise serializers.ValidationError({"window_s": ["at least 1 second"]})
        if "action" in attrs:
            attrs["action"] = self._with_secret(attrs["action"])
        return attrs

    def _with_secret(self, action: dict[str, Any]) -> dict[str, Any]:
        """A webhook signs with a secret: the one given, else the rule's current one."""
        action = dict(action)
        if action["type"] != ActionType.WEBHOOK:
            action.pop("secret", None)
            return action
        secret = action.get("secret") or (
            self.instance.action.get("secret") if self.instance else ""
        )
        if not secret or len(secret) < MIN_SECRET_CHARS:
            raise serializers.ValidationError(
                {
                    "action": {
                        "secret": f"a webhook needs a secret of {MIN_SECRET_CHARS}+ characters"
                    }
                }
            )
        action["secret"] = secret
        return action

    def create(self, validated_data: dict[str, Any]) -> AlertRule:
        return alert_rule_save(AlertRule(), validated_data)

    def update(self, instance: AlertRule, validated_data: dict[str, Any]) -> AlertRule:
        return alert_rule_save(instance, validated_data)

    def to_representation(self, instance: AlertRule) -> dict[str, Any]:
        data = super().to_representation(instance)
        secret = instance.action.get("secret", "")
        data["action"]["secret_hint"] = secret_hint(secret) if secret else ""
        return data


class AlertDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertDelivery
        fields = [
            "id",
            "delivery_id",
            "trigger",
            "issue",
            "page",
            "status",
            "attempts",
            "next_attempt_at",
            "response_status",
            "last_error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields


class AlertRulePatchSerializer(AlertRuleSerializer):
    """A PATCH's body, for the schema: any of the rule's fields (what is left out is kept)."""

    action = ActionSerializer(required=False)

    class Meta(AlertRuleSerializer.Meta):
        extra_kwargs = {
            **AlertRuleSerializer.Meta.extra_kwargs,
            "name": {"required": False, "trim_whitespace": False},
            "trigger": {"required": False},
        }
