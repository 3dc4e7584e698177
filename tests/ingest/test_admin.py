"""The admin pages an operator uses to manage projects and keys."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_project_admin_lists_and_shows_the_dsn(admin_client, sdk_project):
    listing = admin_client.get(reverse("admin:ingest_project_changelist"))
    assert listing.status_code == 200
    assert b"shop" in listing.content

    change = admin_client.get(reverse("admin:ingest_project_change", args=[sdk_project.project_id]))
    assert change.status_code == 200
    assert f"{sdk_project.public_key}@".encode() in change.content


@pytest.mark.django_db
def test_disabling_a_key_in_the_admin(admin_client, sdk_project):
    url = reverse("admin:ingest_projectkey_change", args=[sdk_project.pk])
    response = admin_client.post(
        url,
        {
            "project": sdk_project.project_id,
            "public_key": sdk_project.public_key,
            "label": "Default",
            "rate_limit_window_s": 60,
        },
    )
    assert response.status_code == 302
    sdk_project.refresh_from_db()
    assert sdk_project.is_active is False


def test_admin_needs_a_login(client):
    assert client.get(reverse("admin:ingest_project_changelist")).status_code == 302
