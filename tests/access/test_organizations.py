"""Organizations: made by ``createproject --org-id``, by the migration for existing projects, and
in the admin, where their members are edited."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from ingest.models import Project
from organizations.models import Organization

KEY = "0123456789abcdef0123456789abcdef"


def createproject(*args: str) -> None:
    call_command("createproject", "--name", "shop", "--public-key", KEY, *args, stdout=None)


@pytest.mark.django_db
def test_createproject_makes_the_organization_once():
    createproject("--id", "42", "--org-id", "9")
    createproject("--id", "42", "--org-id", "9")

    assert list(Organization.objects.values_list("id", "slug")) == [(9, "org-9")]
    assert Project.objects.get().org_id == 9


@pytest.mark.django_db
def test_createproject_puts_a_project_in_organization_1_by_default():
    createproject("--id", "42")
    assert Project.objects.values_list("org_id", "org__name").get() == (1, "Organization 1")


@pytest.mark.django_db
def test_createproject_keeps_an_organizations_name():
    Organization.objects.create(id=9, name="Initech", slug="initech")
    createproject("--id", "42", "--org-id", "9")
    assert Organization.objects.get().name == "Initech"


def test_members_are_edited_in_the_admin(admin_client, acme, globex):
    url = reverse("admin:organizations_organization_change", args=[7])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b"alice" in page.content

    form = {"id": 7, "name": "Acme", "slug": "acme", "members": [acme.user.pk, globex.user.pk]}
    assert admin_client.post(url, form).status_code == 302

    assert set(Organization.objects.get(id=7).members.all()) == {acme.user, globex.user}
    listing = admin_client.get(reverse("admin:organizations_organization_changelist"))
    assert listing.status_code == 200
    assert b"Globex" in listing.content


def test_a_project_is_moved_to_another_organization_in_the_admin(admin_client, acme, globex):
    url = reverse("admin:ingest_project_change", args=[acme.project_id])
    page = admin_client.get(url)
    assert page.status_code == 200
    project = Project.objects.get(id=acme.project_id)

    form = {
        "id": project.id,
        "name": project.name,
        "org": 8,
        "keys-TOTAL_FORMS": 0,
        "keys-INITIAL_FORMS": 0,
    }
    assert admin_client.post(url, form).status_code == 302
    assert Project.objects.get(id=acme.project_id).org_id == 8


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_an_organization_of_each_org_id():
    """Projects of before organizations existed: each distinct org_id becomes an organization."""
    executor = MigrationExecutor(connection)
    before, after = [("ingest", "0002_projectkey_rate_limit")], executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        old_project = executor.loader.project_state(before).apps.get_model("ingest", "Project")
        for project_id, org_id in ((1, 5), (2, 5), (3, 6)):
            old_project.objects.create(id=project_id, name=f"p{project_id}", org_id=org_id)

        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        MigrationExecutor(connection).migrate(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )

    assert list(Organization.objects.values_list("id", "name", "slug")) == [
        (5, "Organization 5", "org-5"),
        (6, "Organization 6", "org-6"),
    ]
    assert list(Project.objects.values_list("id", "org_id")) == [(1, 5), (2, 5), (3, 6)]
