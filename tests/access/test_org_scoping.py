"""Members see their organizations' projects only, in the web UI and the API; another
organization's project, issue or replay is not found (404, as an id that does not exist), so its
existence is not told. Superusers (the operators) see every organization."""

import pytest
from django.test import Client

from issues.models import Issue, IssueStatus
from tests.access.conftest import API_URLS, UI_URLS, Tenant, url_of


@pytest.fixture
def alice(client: Client, acme: Tenant) -> Client:
    client.force_login(acme.user)
    return client


@pytest.mark.parametrize("template", UI_URLS + API_URLS)
def test_own_organization_answers(alice, acme, globex, template):
    response = alice.get(url_of(template, acme))
    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("template", UI_URLS + API_URLS)
def test_the_other_organizations_ids_are_not_found(alice, acme, globex, template):
    assert alice.get(url_of(template, globex)).status_code == 404


@pytest.mark.parametrize(
    "template",
    [
        "/projects/{project}/replays/{replay}/",
        "/projects/{project}/replays/{replay}/recording.json",
        "/api/0/projects/{project}/replays/{replay}/",
    ],
)
def test_the_other_organizations_replay_under_ones_own_project_is_not_found(
    alice, acme, globex, template
):
    assert alice.get(url_of(template, acme, replay=globex.replay_id)).status_code == 404


def test_the_other_organizations_issue_cannot_be_changed(alice, acme, globex):
    ui = alice.post(f"/issues/{globex.issue_id}/status/", {"status": IssueStatus.RESOLVED})
    api = alice.patch(
        f"/api/0/issues/{globex.issue_id}/",
        {"status": IssueStatus.IGNORED},
        content_type="application/json",
    )

    assert (ui.status_code, api.status_code) == (404, 404)
    assert Issue.objects.get(pk=globex.issue_id).status == IssueStatus.UNRESOLVED


def test_the_other_organizations_issues_cannot_be_changed_in_bulk(alice, acme, globex):
    ours = Issue.objects.filter(project_id=acme.project_id).values_list("pk", flat=True)
    mixed = "&".join(f"id={pk}" for pk in [*ours, globex.issue_id])

    answers = [
        alice.patch(
            f"/api/0/projects/{acme.project_id}/issues/?{mixed}",
            {"status": IssueStatus.RESOLVED},
            content_type="application/json",
        ),
        alice.patch(
            f"/api/0/projects/{globex.project_id}/issues/?id={globex.issue_id}",
            {"status": IssueStatus.RESOLVED},
            content_type="application/json",
        ),
        alice.patch(
            f"/api/0/projects/{globex.project_id}/issues/",
            {"status": IssueStatus.RESOLVED},
            content_type="application/json",
        ),
    ]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert set(Issue.objects.values_list("status", flat=True)) == {IssueStatus.UNRESOLVED}


def test_project_lists_show_only_ones_own_organizations(alice, acme, globex):
    api = alice.get("/api/0/projects/").json()
    home = alice.get("/", follow=True)

    assert [project["id"] for project in api["results"]] == [acme.project_id]
    assert home.redirect_chain == [(f"/projects/{acme.project_id}/issues/", 302)]
    assert b"globex-storefront" not in home.content


def test_a_user_of_no_organization_sees_no_project(client, acme, globex, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody"))

    assert client.get("/api/0/projects/").json()["count"] == 0
    assert client.get(url_of("/issues/{issue}/", acme)).status_code == 404


def test_a_member_of_both_organizations_sees_both(client, acme, globex, organization):
    organization.members.add(globex.user)
    client.force_login(globex.user)

    projects = client.get("/api/0/projects/").json()["results"]

    assert [project["id"] for project in projects] == [acme.project_id, globex.project_id]
    assert client.get(url_of("/issues/{issue}/", acme)).status_code == 200


def test_superusers_see_every_organization(admin_client, acme, globex):
    projects = admin_client.get("/api/0/projects/").json()["results"]

    assert [(project["id"], project["org_id"]) for project in projects] == [(42, 7), (43, 8)]
    for tenant in (acme, globex):
        assert admin_client.get(url_of("/issues/{issue}/", tenant)).status_code == 200
        assert admin_client.get(url_of(API_URLS[3], tenant)).status_code == 200
