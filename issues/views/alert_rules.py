"""The settings page's Alerts tab: a project's alert rules (list, create, edit, delete, enable),
their deliveries, and "send a test alert". Rules are checked and saved by the same code as the
REST API (alerts.api.rule_input); another organization's rules are 404 (alerts.queries)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from alerts.api.rule_input import rule_errors_or_save
from alerts.api.serializers import secret_hint
from alerts.forms import AlertRuleForm
from alerts.models import AlertRule
from alerts.queries import rule_deliveries, rules_for
from alerts.sample_alert import send_sample_alert
from alerts.services import alert_rule_delete
from issues.views.common import page_number, project_or_404
from issues.views.project_settings import settings_context

DELIVERIES_PAGE_SIZE = 20


def _rule_or_404(request: HttpRequest, project_id: int, rule_id: int) -> AlertRule:
    return get_object_or_404(
        rules_for(request.user, project_id).select_related("project"), pk=rule_id
    )


def action_summary(rule: AlertRule) -> str:
    """Where the rule sends, without its secret."""
    action = rule.action
    if action.get("type") == "email":
        return "e-mail to " + ", ".join(action.get("recipients") or [])
    where = f"{action.get('type')} to {action.get('url', '')}"
    if action.get("secret"):
        where += f" (secret {secret_hint(action['secret'])})"
    return where


@login_required
def rule_list(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_or_404(request, project_id)
    rules = [(rule, action_summary(rule)) for rule in rules_for(request.user, project.pk)]
    context = settings_context(request, project, "alerts", rules=rules)
    return render(request, "issues/settings/alerts.html", context)


@login_required
def rule_create(request: HttpRequest, project_id: int) -> HttpResponse:
    project = project_or_404(request, project_id)
    form = AlertRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule, errors = rule_errors_or_save(form.as_body(), project)
        if rule is not None:
            messages.success(request, f"Alert rule “{rule.name}” created.")
            return redirect("issues:settings-alert-rule", project_id=project.pk, rule_id=rule.pk)
        form.add_api_errors(errors)
    context = settings_context(request, project, "alerts", form=form, rule=None)
    return render(request, "issues/settings/alert_rule.html", context)


@login_required
def rule_edit(request: HttpRequest, project_id: int, rule_id: int) -> HttpResponse:
    project = project_or_404(request, project_id)
    rule = _rule_or_404(request, project.pk, rule_id)
    form = AlertRuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        saved, errors = rule_errors_or_save(form.as_body(), project, rule)
        if saved is not None:
            messages.success(request, f"Alert rule “{saved.name}” saved.")
            return redirect("issues:settings-alert-rule", project_id=project.pk, rule_id=rule.pk)
        form.add_api_errors(errors)
        rule.refresh_from_db()
    deliveries = Paginator(rule_deliveries(rule), DELIVERIES_PAGE_SIZE).get_page(
        page_number(request)
    )
    context = settings_context(
        request,
        project,
        "alerts",
        form=form,
        rule=rule,
        page=deliveries,
        test_result=request.session.pop(f"alert-test-{rule.pk}", None),
    )
    return render(request, "issues/settings/alert_rule.html", context)


@login_required
@require_POST
def rule_delete(request: HttpRequest, project_id: int, rule_id: int) -> HttpResponse:
    rule = _rule_or_404(request, project_id, rule_id)
    alert_rule_delete(rule)
    messages.success(request, f"Alert rule “{rule.name}” deleted.")
    return redirect("issues:settings-alerts", project_id=project_id)


@login_required
@require_POST
def rule_enable(request: HttpRequest, project_id: int, rule_id: int) -> HttpResponse:
    """Turn a rule on (``enabled=1``) or off from the list (a PATCH of ``enabled``)."""
    rule = _rule_or_404(request, project_id, rule_id)
    enabled = request.POST.get("enabled") == "1"
    rule_errors_or_save({"enabled": enabled}, rule.project, rule)
    messages.success(request, f"Alert rule “{rule.name}” {'enabled' if enabled else 'disabled'}.")
    return redirect("issues:settings-alerts", project_id=project_id)


@login_required
@require_POST
def rule_test(request: HttpRequest, project_id: int, rule_id: int) -> HttpResponse:
    """Send one test alert now and show the receiver's answer on the rule's page."""
    rule = _rule_or_404(request, project_id, rule_id)
    outcome = send_sample_alert(rule)
    request.session[f"alert-test-{rule.pk}"] = {
        "delivered": outcome.delivered,
        "status": outcome.status,
        "body": outcome.body,
        "error": outcome.error,
    }
    return redirect("issues:settings-alert-rule", project_id=project_id, rule_id=rule.pk)
