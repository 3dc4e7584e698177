"""The one check of a rule's fields, for the REST API and the web UI's settings page alike: the
body against the JSON Schema that /api/schema/ publishes, then the serializer (URL safety,
secrets, the trigger's needs). A form of the UI builds the API's body and comes here, so the two
cannot accept different rules."""

from typing import Any

from alerts.api.schema import body_errors, flat_errors
from alerts.api.serializers import AlertRuleSerializer
from alerts.models import AlertRule
from ingest.models import Project


def rule_errors_or_save(
    body: object, project: Project, rule: AlertRule | None = None
) -> tuple[AlertRule | None, dict[str, list[str]]]:
    """(the saved rule, {}) or (None, errors by field as the API answers them). Without ``rule``
    the body makes a new one (a POST); with it, the body changes it (a PATCH: what is left out
    is kept, a webhook without a secret keeps its secret)."""
    errors = body_errors(body, creating=rule is None)
    if errors:
        return None, errors
    serializer = AlertRuleSerializer(instance=rule, data=body, partial=rule is not None)
    if not serializer.is_valid():
        return None, flat_errors(serializer.errors)
    extra: dict[str, Any] = {"project": project} if rule is None else {}
    return serializer.save(**extra), {}
