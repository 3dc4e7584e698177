"""Forms and session-authenticated API writes need the CSRF token; token-authenticated API calls
do not (no cookie is sent, so there is nothing to forge). Clients here enforce CSRF checks, as
browsers' requests are checked (Django's test client skips them otherwise)."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from issues.models import Issue, IssueStatus
from tests.access.conftest import Tenant


@pytest.fixture
def browser(acme: Tenant) -> Client:
    """A signed-in browser whose requests are CSRF-checked, with the CSRF cookie a page set."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(acme.user)
    assert client.get(f"/issues/{acme.issue_id}/").status_code == 200
    return client


def status_of(tenant: Tenant) -> str:
    return Issue.objects.get(pk=tenant.issue_id).status


def test_a_status_change_without_the_csrf_token_is_refused(browser, acme):
    response = browser.post(f"/issues/{acme.issue_id}/status/", {"status": IssueStatus.RESOLVED})

    assert response.status_code == 403
    assert status_of(acme) == IssueStatus.UNRESOLVED


def test_a_status_change_with_the_csrf_token_works(browser, acme):
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        f"/issues/{acme.issue_id}/status/",
        {"status": IssueStatus.RESOLVED, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert status_of(acme) == IssueStatus.RESOLVED


def test_a_session_api_patch_needs_the_csrf_token(browser, acme):
    url = f"/api/0/issues/{acme.issue_id}/"
    body = {"status": IssueStatus.IGNORED}

    refused = browser.patch(url, body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert status_of(acme) == IssueStatus.UNRESOLVED

    token = browser.cookies["csrftoken"].value
    accepted = browser.patch(
        url, body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 200
    assert status_of(acme) == IssueStatus.IGNORED


def test_a_token_api_patch_needs_no_csrf_token(acme):
    key = Token.objects.create(user=acme.user).key
    api = Client(enforce_csrf_checks=True, headers={"Authorization": f"Token {key}"})

    response = api.patch(
        f"/api/0/issues/{acme.issue_id}/",
        {"status": IssueStatus.RESOLVED},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert status_of(acme) == IssueStatus.RESOLVED


def test_the_login_form_needs_the_csrf_token(acme):
    browser = Client(enforce_csrf_checks=True)
    form = {"username": "alice", "password": "alice-password"}

    assert browser.post("/accounts/login/", form).status_code == 403

    browser.get("/accounts/login/")
    token = browser.cookies["csrftoken"].value
    signed_in = browser.post("/accounts/login/", {**form, "csrfmiddlewaretoken": token})
    assert signed_in.status_code == 302
