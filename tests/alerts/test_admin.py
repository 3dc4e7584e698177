"""The admin's alert rule pages: the secret is shown only as its last four characters and kept
when left so, and a rule is checked as the API checks it (an unsafe address is refused)."""

import json
from typing import Any

import pytest
from django.urls import reverse

from alerts.models import AlertRule
from tests.alerts.builders import SECRET, webhook_rule

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/replay"


def change_url(rule: AlertRule) -> str:
    return reverse("admin:alerts_alertrule_change", args=[rule.pk])


def shown_action(page: str) -> dict[str, Any]:
    """The action as the change form's JSON field shows it."""
    start = page.index('name="action"')
    text = page[page.index(">", start) + 1 : page.index("</textarea>", start)]
    return json.loads(text.replace("&quot;", '"'))


def form_fields(rule: AlertRule, action: dict[str, Any]) -> dict[str, str]:
    return {
        "project": str(rule.project_id),
        "name": rule.name,
        "enabled": "on",
        "trigger": rule.trigger,
        "issue_types": json.dumps(rule.issue_types),
        "environment": rule.environment,
        "count": "",
        "users": "",
        "window_s": str(rule.window_s),
        "action_interval_s": str(rule.action_interval_s),
        "action": json.dumps(action),
    }


def test_the_admin_shows_a_secret_as_its_last_characters_and_keeps_it(admin_client, sdk_project):
    rule = webhook_rule(sdk_project.project_id, HOOK)
    page = admin_client.get(change_url(rule)).content.decode()
    assert SECRET not in page
    action = shown_action(page)
    assert action == {"type": "webhook", "url": HOOK, "secret": "…cret"}

    # Saved with the secret as shown, then with it emptied: the rule keeps its secret.
    for secret in ("…cret", ""):
        changed = {**action, "url": f"{HOOK}/{len(secret)}", "secret": secret}
        answer = admin_client.post(change_url(rule), form_fields(rule, changed))
        assert answer.status_code == 302, answer.content.decode()
        rule.refresh_from_db()
        assert rule.action == {"type": "webhook", "url": f"{HOOK}/{len(secret)}", "secret": SECRET}

    new_secret = "another-secret-of-16+"
    answer = admin_client.post(
        change_url(rule), form_fields(rule, {**action, "secret": new_secret})
    )
    assert answer.status_code == 302
    rule.refresh_from_db()
    assert rule.action["secret"] == new_secret
    assert new_secret not in admin_client.get(change_url(rule)).content.decode()


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (
            {"type": "webhook", "url": "http://169.254.169.254/latest"},
            "169.254.169.254 is a link-local or cloud metadata address",
        ),
        ({"type": "slack", "url": "ftp://example.com/hook"}, "an http(s) URL"),
        ({"type": "webhook", "url": HOOK, "secret": "short"}, "a webhook needs a secret of 16+"),
    ],
)
def test_the_admin_refuses_what_the_api_refuses(admin_client, sdk_project, action, message):
    rule = webhook_rule(sdk_project.project_id, HOOK)
    answer = admin_client.post(change_url(rule), form_fields(rule, {"secret": "…cret", **action}))
    assert answer.status_code == 200  # the form again, with the error
    assert message in answer.content.decode()
    rule.refresh_from_db()
    assert rule.action == {"type": "webhook", "url": HOOK, "secret": SECRET}


def test_a_rule_added_in_the_admin_is_checked_too(admin_client, sdk_project, settings):
    settings.ALERTS_ALLOW_PRIVATE_ADDRESSES = False
    rule = AlertRule(project_id=sdk_project.project_id, name="private", trigger="new_issue")
    fields = form_fields(rule, {"type": "webhook", "url": "http://10.1.2.3/hook", "secret": SECRET})
    answer = admin_client.post(reverse("admin:alerts_alertrule_add"), fields)
    assert answer.status_code == 200
    assert "10.1.2.3 is a private or loopback address" in answer.content.decode()
    assert not AlertRule.objects.exists()

    fields["action"] = json.dumps({"type": "webhook", "url": HOOK, "secret": SECRET})
    assert admin_client.post(reverse("admin:alerts_alertrule_add"), fields).status_code == 302
    assert AlertRule.objects.get().action == {"type": "webhook", "url": HOOK, "secret": SECRET}
