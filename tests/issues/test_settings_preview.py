"""The detection settings preview on the web UI's settings page (the admin's, through the same
replays.previews), over replays stored by the real endpoint and consumer: a member's valid draft
queued (not run in the request), the ``run_previews`` worker's comparison on the run's page,
"Save this draft" through the settings form; an invalid draft queues nothing; another
organization's project is 404."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from organizations.models import Organization
from replays.models import DetectionSettings, PreviewRun
from tests.replays.stored_replays import store_captures
from tests.replays.test_preview import SAVED_FORM

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def member(client, django_user_model, sdk_project):
    """A plain member of the project's organization (no admin permission): who may Save."""
    user = django_user_model.objects.create_user("dev", "dev@example.com", "secret-pass")
    sdk_project.project.org.members.add(user)
    client.force_login(user)
    return client


def settings_url(project_id: int) -> str:
    return reverse("issues:settings", args=[project_id])


def preview(client, project_id: int, days: int = 7, **draft: str):
    form = {**SAVED_FORM, **draft, "preview_days": str(days), "_preview": "1"}
    return client.post(settings_url(project_id), form)


def test_a_member_previews_a_higher_dead_click_threshold_then_saves_it(
    client, member, sdk_project, recordings_topic, occurrences_topic
):
    store_captures(client)
    project_id = sdk_project.project_id
    page = client.get(settings_url(project_id)).content.decode()
    assert page.count('name="_preview"') == 1
    assert 'form="detection-form"' in page

    response = preview(client, project_id, dead_click_ms="8000")

    assert response.status_code == 302, response.content[:500]
    run = PreviewRun.objects.get()
    assert response["Location"] == reverse("issues:settings-preview", args=[project_id, run.pk])
    assert run.status == PreviewRun.Status.QUEUED  # queued, not run in the request
    assert run.draft_settings["dead_click_ms"] == 8000
    queued = client.get(response["Location"]).content.decode()
    assert 'id="preview-status">Queued<' in queued
    assert "replays/preview.js" in queued

    call_command("run_previews", "--once")
    run.refresh_from_db()
    assert run.status == PreviewRun.Status.DONE, run.error
    page = client.get(response["Location"]).content.decode()
    # The admin's comparison of the captured replay, on the settings page.
    for slug, before, after in [
        ("replay_dead_click", 3, 0),
        ("replay_rage_click", 1, 0),
        ("replay_slow_click", 1, 5),
    ]:
        assert (
            f'<tr data-type="{slug}"><td>{slug}</td><td class="before">{before}</td>'
            f'<td class="after">{after}</td></tr>'
        ) in page
    assert "7 segments of 1 replay" in page
    assert "Issues that would appear (3)" in page
    assert "Issues that would stop getting occurrences (4)" in page
    progress = client.get(
        reverse("issues:settings-preview-progress", args=[project_id, run.pk])
    ).json()
    assert progress == {
        "status": "done",
        "status_display": "Done",
        "done": 7,
        "total": 7,
        "error": "",
    }
    assert DetectionSettings.objects.get(project_id=project_id).dead_click_ms == 7000

    saved = client.post(
        reverse("issues:settings-preview-apply", args=[project_id, run.pk]),
        {"apply": "1", "apply_days": "3"},
    )

    assert saved.status_code == 302
    assert DetectionSettings.objects.get(project_id=project_id).dead_click_ms == 8000
    applied = PreviewRun.objects.get(kind=PreviewRun.Kind.APPLY)
    assert (applied.days, applied.status) == (3, PreviewRun.Status.QUEUED)
    assert saved["Location"] == reverse("issues:settings-preview", args=[project_id, applied.pk])
    assert b"Applying the saved settings" in client.get(saved["Location"]).content


def test_save_this_draft_without_apply_goes_back_to_the_settings(client, member, sdk_project):
    project_id = sdk_project.project_id
    preview(client, project_id, slow_clicks_enabled="", ignore_selectors=".ad")
    run = PreviewRun.objects.get()
    call_command("run_previews", "--once")

    saved = client.post(reverse("issues:settings-preview-apply", args=[project_id, run.pk]))

    assert saved["Location"] == settings_url(project_id)
    row = DetectionSettings.objects.get(project_id=project_id)
    assert (row.slow_clicks_enabled, row.ignore_selectors) == (False, ".ad")
    assert PreviewRun.objects.count() == 1


def test_an_invalid_draft_is_refused_with_its_errors_and_queues_nothing(
    client, member, sdk_project
):
    project_id = sdk_project.project_id
    response = preview(client, project_id, dead_click_sample_rate="1.5", dead_click_ms="8000")

    assert response.status_code == 200
    assert b"less than or equal to 1" in response.content
    assert not PreviewRun.objects.exists()
    out_of_range = preview(client, project_id, days=31, dead_click_ms="8000")
    assert out_of_range.status_code == 302
    assert out_of_range["Location"] == settings_url(project_id)
    assert not PreviewRun.objects.exists()
    assert DetectionSettings.objects.get(project_id=project_id).dead_click_ms == 7000


def test_another_organizations_member_can_neither_run_nor_see_nor_save_a_preview(
    client, member, sdk_project, django_user_model
):
    project_id = sdk_project.project_id
    preview(client, project_id, dead_click_ms="8000")
    run = PreviewRun.objects.get()
    other = Organization.objects.create(id=8, name="Globex", slug="globex")
    outsider = django_user_model.objects.create_user("bob", password="pw")
    other.members.add(outsider)
    client.force_login(outsider)

    assert preview(client, project_id).status_code == 404
    for name in ("settings-preview", "settings-preview-progress"):
        assert client.get(reverse(f"issues:{name}", args=[project_id, run.pk])).status_code == 404
    apply = reverse("issues:settings-preview-apply", args=[project_id, run.pk])
    assert client.post(apply, {"apply": "1"}).status_code == 404
    assert PreviewRun.objects.count() == 1
    assert DetectionSettings.objects.get(project_id=project_id).dead_click_ms == 7000


def test_a_run_of_another_project_is_not_found_under_this_one(client, member, sdk_project):
    other = sdk_project.project.org.projects.create(id=77, name="blog")
    run = PreviewRun.objects.create(project_id=other.pk, days=1, draft_settings={})
    page = reverse("issues:settings-preview", args=[sdk_project.project_id, run.pk])
    assert client.get(page).status_code == 404
    assert (
        client.get(reverse("issues:settings-preview", args=[other.pk, run.pk])).status_code == 200
    )
