import pytest
from django.core.management import CommandError, call_command

from ingest.models import Project, ProjectKey

KEY = "0123456789abcdef0123456789abcdef"


@pytest.mark.django_db
def test_createproject_is_idempotent_and_prints_the_dsn(capsys):
    call_command("createproject", "--id", "42", "--name", "shop", "--public-key", KEY)
    call_command("createproject", "--id", "42", "--name", "shop 2", "--public-key", KEY)

    project = Project.objects.get()
    assert (project.id, project.name) == (42, "shop 2")
    assert list(ProjectKey.objects.values_list("public_key", "is_active")) == [(KEY, True)]
    assert f"://{KEY}@" in capsys.readouterr().out


@pytest.mark.django_db
def test_createproject_refuses_a_bad_or_taken_key():
    with pytest.raises(CommandError, match="32 lower-case hex"):
        call_command("createproject", "--id", "1", "--name", "a", "--public-key", "xyz")
    call_command("createproject", "--id", "1", "--name", "a", "--public-key", KEY)
    with pytest.raises(CommandError, match="already belongs to project 1"):
        call_command("createproject", "--id", "2", "--name", "b", "--public-key", KEY)
