"""The web UI and the admin want a login, the API a token or a session; a wrong token is 401.

The envelope endpoint authenticates the SDK by its project key instead, checked against the
project of the URL: a valid key of another project is refused with 403. That case is
``tests/ingest/test_endpoint.py::test_every_refusal_of_the_table`` ("not a key of project").
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.access.conftest import API_URLS, UI_URLS, Tenant, url_of


@pytest.mark.parametrize("template", ["/", *UI_URLS])
def test_anonymous_web_ui_goes_to_the_login(client, acme, template):
    url = url_of(template, acme)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/ingest/project/", "/admin/organizations/organization/"]
)
def test_anonymous_admin_goes_to_the_admin_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


def test_the_admin_is_for_staff_only(client, acme):
    client.force_login(acme.user)
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("template", ["/api/0/projects/", "/api/schema/", *API_URLS])
def test_anonymous_api_is_401(client, acme, template):
    response = client.get(url_of(template, acme))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("template", API_URLS)
def test_a_token_opens_the_api_to_its_users_organizations_only(acme, globex, template):
    token = Token.objects.create(user=acme.user)
    api = Client(headers={"Authorization": f"Token {token.key}"})

    assert api.get(url_of(template, acme)).status_code == 200
    assert api.get(url_of(template, globex)).status_code == 404


def test_a_wrong_token_is_401(client, acme):
    Token.objects.create(user=acme.user)
    url = url_of(API_URLS[0], acme)

    for authorization in ("Token " + "0" * 40, "Token", "Token a b", "Bearer " + "0" * 40):
        response = client.get(url, headers={"Authorization": authorization})
        assert response.status_code == 401, authorization


def test_tokens_come_from_drf_create_token(acme):
    out = StringIO()
    call_command("drf_create_token", acme.user.username, stdout=out)
    key = Token.objects.get(user=acme.user).key
    assert key in out.getvalue()

    api = Client(headers={"Authorization": f"Token {key}"})
    assert api.get("/api/0/projects/").json()["count"] == 1


def test_an_inactive_users_token_is_refused(acme: Tenant):
    token = Token.objects.create(user=acme.user)
    acme.user.is_active = False
    acme.user.save()

    api = Client(headers={"Authorization": f"Token {token.key}"})
    assert api.get(url_of(API_URLS[0], acme)).status_code == 401
