"""The alert rules API: create, list, read, change, delete, a rule's deliveries; validation;
secrets never shown back; another organization's project and rules are 404."""

from typing import Any

import pytest
from django.test import Client

from alerts.models import AlertDelivery, AlertRule
from ingest.models import Project
from organizations.models import Organization
from tests.alerts.builders import SECRET, webhook_rule
from tests.issues.builders import fixture_occurrences, record

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/replay"


@pytest.fixture
def member(django_user_model, organization):
    user = django_user_model.objects.create_user("member", password="pw")
    organization.members.add(user)
    return user


@pytest.fixture
def api(client: Client, member) -> Client:
    client.force_login(member)
    return client


def rules_url(project_id: int) -> str:
    return f"/api/0/projects/{project_id}/alert-rules/"


def new_rule(**fields: Any) -> dict[str, Any]:
    return {
        "name": "new issues",
        "trigger": "new_issue",
        "action": {"type": "webhook", "url": HOOK, "secret": SECRET},
        **fields,
    }


def post(api: Client, project_id: int, body: dict[str, Any]):
    return api.post(rules_url(project_id), body, content_type="application/json")


def test_create_list_read_change_and_delete_a_rule(api, sdk_project):
    project_id = sdk_project.project_id
    created = post(api, project_id, new_rule(issue_types=["replay_dead_click"]))
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["action"] == {"type": "webhook", "url": HOOK, "secret_hint": "…cret"}
    assert SECRET not in created.content.decode()
    assert rule["project"] == project_id
    assert rule["enabled"] is True

    listed = api.get(rules_url(project_id)).json()
    assert [each["id"] for each in listed["results"]] == [rule["id"]]
    assert SECRET not in api.get(rules_url(project_id)).content.decode()

    detail = f"{rules_url(project_id)}{rule['id']}/"
    changed = api.patch(
        detail,
        {"enabled": False, "action": {"type": "webhook", "url": HOOK + "/v2"}},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    stored = AlertRule.objects.get()
    assert stored.enabled is False
    assert stored.action == {"type": "webhook", "url": HOOK + "/v2", "secret": SECRET}

    assert api.delete(detail).status_code == 204
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"trigger": "sometimes"}, "trigger"),
        ({"issue_types": ["replay_sneeze"]}, "issue_types"),
        ({"trigger": "frequency"}, "count or users"),
        ({"trigger": "page_frequency", "users": 3}, "count"),
        ({"action": {"type": "webhook", "url": "file:///etc/passwd", "secret": SECRET}}, "url"),
        ({"action": {"type": "webhook", "url": HOOK, "secret": "short"}}, "secret"),
        ({"action": {"type": "email"}}, "recipients"),
        ({"action": {"type": "pigeon"}}, "type"),
        ({"enviroment": "production"}, "enviroment"),
        ({"action": {"type": "email", "recipients": ["a@b.co"], "cc": []}}, "cc"),
        ({"window_s": 10**12}, "window_s"),
        ({"count": 0, "trigger": "page_frequency"}, "count"),
        (
            {
                "action": {
                    "type": "webhook",
                    "url": "http://169.254.169.254/latest",
                    "secret": SECRET,
                }
            },
            "url: 169.254.169.254 is a link-local or cloud metadata address",
        ),
        (
            {"action": {"type": "slack", "url": "http://2852039166/services/x"}},
            "url: 169.254.169.254 is a link-local or cloud metadata address",
        ),
    ],
)
def test_invalid_rules_are_refused_with_the_reason(api, sdk_project, fields, error):
    answer = post(api, sdk_project.project_id, new_rule(**fields))
    assert answer.status_code == 400
    assert error in answer.content.decode()
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize(
    ("url", "allow_private", "status"),
    [
        ("http://10.0.0.1/hook", False, 400),
        ("http://127.0.0.1:9000/hook", False, 400),
        ("http://10.0.0.1/hook", True, 201),
        ("http://127.0.0.1:9000/hook", True, 201),
        ("http://internal.example/hook", False, 201),  # a name is checked when sent
    ],
)
def test_private_addresses_are_refused_on_saving_unless_allowed(
    api, sdk_project, settings, url, allow_private, status
):
    settings.ALERTS_ALLOW_PRIVATE_ADDRESSES = allow_private
    action = {"type": "webhook", "url": url, "secret": SECRET}
    answer = post(api, sdk_project.project_id, new_rule(action=action))
    assert answer.status_code == status, answer.content
    if status == 400:
        assert answer.json()["action"] == [
            f"url: {url.split('/')[2].split(':')[0]} is a private or loopback address "
            "(allowed only with ALERTS_ALLOW_PRIVATE_ADDRESSES)"
        ]
    assert AlertRule.objects.exists() == (status == 201)


def test_a_change_to_a_metadata_address_is_refused(api, sdk_project):
    rule = webhook_rule(sdk_project.project_id, HOOK)
    answer = api.patch(
        f"{rules_url(sdk_project.project_id)}{rule.pk}/",
        {"action": {"type": "webhook", "url": "http://169.254.169.254/"}},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert "link-local or cloud metadata" in answer.content.decode()
    rule.refresh_from_db()
    assert rule.action["url"] == HOOK


def test_a_rules_deliveries_with_status_and_attempts(api, sdk_project):
    rule = webhook_rule(sdk_project.project_id, HOOK, issue_types=["replay_rage_click"])
    for occurrence in fixture_occurrences():
        record(occurrence)
    answer = api.get(f"{rules_url(sdk_project.project_id)}{rule.pk}/deliveries/")
    assert answer.status_code == 200
    [delivery] = answer.json()["results"]
    assert delivery["delivery_id"] == AlertDelivery.objects.get().delivery_id
    assert (delivery["status"], delivery["attempts"], delivery["trigger"]) == (
        "pending",
        0,
        "new_issue",
    )
    assert "payload" not in delivery


def test_another_organizations_project_rules_and_deliveries_are_404(api, sdk_project):
    other_org = Organization.objects.create(id=8, name="Other", slug="other")
    other = Project.objects.create(id=99, name="theirs", org=other_org)
    theirs = webhook_rule(other.pk, HOOK)
    base = rules_url(other.pk)
    assert api.get(base).status_code == 404
    assert post(api, other.pk, new_rule()).status_code == 404
    assert api.get(f"{base}{theirs.pk}/").status_code == 404
    assert api.patch(f"{base}{theirs.pk}/", {}, content_type="application/json").status_code == 404
    assert api.delete(f"{base}{theirs.pk}/").status_code == 404
    assert api.get(f"{base}{theirs.pk}/deliveries/").status_code == 404
    # Their rule under our project's URL is not found either.
    ours = rules_url(sdk_project.project_id)
    assert api.get(f"{ours}{theirs.pk}/").status_code == 404
    assert AlertRule.objects.filter(pk=theirs.pk).exists()


def test_signed_out_is_refused(client, sdk_project):
    assert client.get(rules_url(sdk_project.project_id)).status_code in (401, 403)
