"""Reads of the alerts app, scoped as every read of the UI and API is: through
``issues.queries.projects_for``, so another organization's rules are not found (404)."""

from django.db.models import QuerySet

from alerts.models import AlertDelivery, AlertRule
from issues.queries import projects_for


def rules_for(user, project_id: int | None = None) -> QuerySet[AlertRule]:
    rules = AlertRule.objects.filter(project__in=projects_for(user))
    if project_id is not None:
        rules = rules.filter(project_id=project_id)
    return rules.order_by("name", "pk")


def rule_deliveries(rule: AlertRule) -> QuerySet[AlertDelivery]:
    return rule.deliveries.order_by("-created_at", "-pk")


def issue_deliveries(issue_id: int, limit: int = 20) -> list[AlertDelivery]:
    """The alerts sent (or being sent) for an issue, newest first, for its page."""
    return list(
        AlertDelivery.objects.filter(issue_id=issue_id)
        .select_related("rule")
        .order_by("-created_at", "-pk")[:limit]
    )
