"""The answers' security headers: ``Cache-Control: private`` on everything a signed-in user (a
session or an API token) is answered, and the Content-Security-Policy on every page and API
answer (tests/browser/test_csp.py shows in Chromium that the pages work under it)."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.issues.builders import FIXTURE_REPLAY_ID, store_fixture_replay

pytestmark = pytest.mark.django_db

SIGNED_IN_PAGES = [
    "/projects/42/issues/",
    "/projects/42/elements/",
    "/projects/42/settings/",
    "/projects/42/settings/token/",
    f"/projects/42/replays/{FIXTURE_REPLAY_ID}/",
    "/api/0/projects/",
    "/api/0/projects/42/issues/",
    "/api/schema/",
    "/api/docs/",
    "/api/redoc/",
]


@pytest.fixture
def member(django_user_model, organization, sdk_project):
    store_fixture_replay(sdk_project.project_id)
    user = django_user_model.objects.create_user("header-reader", password="not-a-secret")
    organization.members.add(user)
    return user


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_a_signed_in_users_answers_are_private(client: Client, member, path):
    client.force_login(member)
    response = client.get(path)

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_an_api_token_users_answers_are_private(client: Client, member):
    token = Token.objects.create(user=member)
    response = client.get("/api/0/projects/", headers={"Authorization": f"Token {token.key}"})

    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


def test_the_recording_keeps_no_cache_and_is_private(client: Client, member):
    client.force_login(member)
    response = client.get(f"/projects/42/replays/{FIXTURE_REPLAY_ID}/recording.json")

    assert set(response["Cache-Control"].replace(" ", "").split(",")) == {"private", "no-cache"}


def test_anonymous_answers_are_not_marked_private(client: Client, db):
    # (The login page and /healthz are never cached at all: never_cache.)
    response = client.get("/api/0/projects/")

    assert response.status_code == 401
    assert "private" not in response.get("Cache-Control", "")
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-eval" not in policy
