"""The web UI's alert rule form. It only turns the HTML fields into the REST API's body
(``as_body``); the rule is checked where the API checks it (``alerts.api.rule_input``), and
those errors come back onto this form's fields."""

from typing import Any

from django import forms

from alerts.api.serializers import secret_hint
from alerts.models import ActionType, AlertRule, Trigger
from issues.grouptypes import all_group_types


class AlertRuleForm(forms.Form):
    name = forms.CharField(max_length=200)
    enabled = forms.BooleanField(required=False, initial=True)
    trigger = forms.ChoiceField(choices=Trigger.choices, initial=Trigger.NEW_ISSUE)
    issue_types = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )
    environment = forms.CharField(required=False, help_text="Blank: every environment.")
    count = forms.IntegerField(
        required=False, help_text="frequency / page_frequency: occurrences in the window."
    )
    users = forms.IntegerField(required=False, help_text="frequency: distinct users instead.")
    window_s = forms.IntegerField(label="Window (s)", initial=3600)
    action_interval_s = forms.IntegerField(
        label="At most one alert per issue or page every (s)", initial=3600
    )
    action_type = forms.ChoiceField(
        label="Send", choices=ActionType.choices, initial=ActionType.WEBHOOK
    )
    url = forms.CharField(label="URL", required=False, help_text="Webhook and Slack: http(s).")
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Webhook: signs each body (16+ characters); never shown again.",
    )
    recipients = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E-mail: one address per line.",
    )

    # The API's field for each of this form's action fields, to put its errors in their place.
    ACTION_FIELDS = {"type": "action_type", "url": "url", "secret": "secret"}

    def __init__(self, *args: Any, rule: AlertRule | None = None, **kwargs: Any) -> None:
        if rule is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_of(rule)
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.fields["issue_types"].choices = [(t.slug, t.label) for t in all_group_types()]
        if rule is not None and rule.action.get("secret"):
            hint = secret_hint(rule.action["secret"])
            self.fields["secret"].help_text = f"Now {hint}; leave empty to keep it."

    @staticmethod
    def initial_of(rule: AlertRule) -> dict[str, Any]:
        """The rule's fields as the form shows them; never its secret."""
        action = rule.action
        return {
            "name": rule.name,
            "enabled": rule.enabled,
            "trigger": rule.trigger,
            "issue_types": rule.issue_types,
            "environment": rule.environment,
            "count": rule.count,
            "users": rule.users,
            "window_s": rule.window_s,
            "action_interval_s": rule.action_interval_s,
            "action_type": action.get("type"),
            "url": action.get("url", ""),
            "recipients": "\n".join(action.get("recipients") or []),
        }

    def as_body(self) -> dict[str, Any]:
        """The REST API's body for these fields (after ``is_valid``): a PATCH of every field
        when the form edits a rule, so an empty secret means "keep the rule's"."""
        data = self.cleaned_data
        kind = data["action_type"]
        action: dict[str, Any] = {"type": kind}
        if kind in (ActionType.WEBHOOK, ActionType.SLACK):
            action["url"] = data["url"]
        if kind == ActionType.WEBHOOK and data["secret"]:
            action["secret"] = data["secret"]
        if kind == ActionType.EMAIL:
            action["recipients"] = [
                line.strip() for line in data["recipients"].splitlines() if line.strip()
            ]
        body: dict[str, Any] = {
            "name": data["name"],
            "enabled": data["enabled"],
            "trigger": data["trigger"],
            "issue_types": data["issue_types"],
            "environment": data["environment"],
            "window_s": data["window_s"],
            "action_interval_s": data["action_interval_s"],
            "action": action,
        }
        for name in ("count", "users"):
            if data[name] is not None:
                body[name] = data[name]
        return body

    def add_api_errors(self, errors: dict[str, list[str]]) -> None:
        """The API's errors on the fields they are about (an action's field by its name)."""
        for field, messages in errors.items():
            for message in messages:
                if field == "action":
                    name, _, text = message.partition(": ")
                    if name in self.ACTION_FIELDS and text:
                        self.add_error(self.ACTION_FIELDS[name], text)
                        continue
                    if name == "recipients" or "recipients" in message:
                        self.add_error("recipients", message)
                        continue
                if field in self.fields:
                    self.add_error(field, message)
                else:
                    self.add_error(
                        None, f"{field}: {message}" if field != "non_field_errors" else message
                    )
