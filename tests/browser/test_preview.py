"""The detection settings preview in Chromium: an operator edits a threshold in the admin (or a
member on the web UI's settings page), asks for a preview, watches the page follow the worker's run
(static JS polling, under the strict Content-Security-Policy) and reads the comparison; nothing
saved until "Save this draft"."""

import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Page, expect

from issues.models import Issue
from replays.models import DetectionSettings, PreviewRun
from tests.browser.conftest import PASSWORD
from tests.browser.support import INSTALL_HINT, chromium_path

pytestmark = pytest.mark.skipif(chromium_path() is None, reason=INSTALL_HINT)


@pytest.fixture
def operator(transactional_db, django_user_model, organization) -> User:
    user = django_user_model.objects.create_superuser("preview-operator", password=PASSWORD)
    organization.members.add(user)
    return user


def test_an_operator_previews_a_higher_dead_click_threshold(
    page: Page,
    operator: User,
    fixture_issues: list[Issue],
    page_errors: list[str],
    failed_responses: list[str],
):
    project_id = fixture_issues[0].project_id
    page.goto("/admin/login/")
    page.locator("input[name=username]").fill(operator.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.goto(f"/admin/replays/detectionsettings/{project_id}/change/")
    page.locator("input[name=dead_click_ms]").fill("8000")
    page.locator("input[name=preview_days]").fill("30")
    page.locator("input[name=_preview]").click()

    page.wait_for_url(re.compile(rf"/admin/replays/detectionsettings/{project_id}/preview/\d+/$"))
    expect(page.locator("#preview-status")).to_have_text("Queued")
    call_command("run_previews", "--once")  # the worker, while the page polls

    dead = page.locator('#preview-types tr[data-type="replay_dead_click"]')
    expect(dead.locator(".before")).to_have_text("3")
    expect(dead.locator(".after")).to_have_text("0")
    slow = page.locator('#preview-types tr[data-type="replay_slow_click"]')
    expect(slow.locator(".after")).to_have_text("5")
    expect(page.locator("#preview-covered")).to_contain_text("7 segments of 1 replay")
    assert PreviewRun.objects.get().status == PreviewRun.Status.DONE
    assert DetectionSettings.objects.get(project_id=project_id).dead_click_ms == 7000
    assert page_errors == []
    assert failed_responses == []


def test_a_member_previews_it_on_the_settings_page_and_saves_the_draft(
    logged_in_page: Page,
    fixture_issues: list[Issue],
    page_errors: list[str],
    failed_responses: list[str],
):
    """The same preview from the web UI's settings page, by a member (no admin permission)."""
    page = logged_in_page
    project_id = fixture_issues[0].project_id
    page.goto(f"/projects/{project_id}/settings/")
    page.locator("input[name=dead_click_ms]").fill("8000")
    page.locator("input[name=preview_days]").fill("30")
    page.get_by_test_id("preview-detection").click()

    page.wait_for_url(re.compile(rf"/projects/{project_id}/settings/preview/\d+/$"))
    expect(page.locator("#preview-status")).to_have_text("Queued")
    call_command("run_previews", "--once")  # the worker, while the page polls

    dead = page.locator('#preview-types tr[data-type="replay_dead_click"]')
    expect(dead.locator(".before")).to_have_text("3")
    expect(dead.locator(".after")).to_have_text("0")
    slow = page.locator('#preview-types tr[data-type="replay_slow_click"]')
    expect(slow.locator(".after")).to_have_text("5")
    expect(page.locator("#preview-covered")).to_contain_text("7 segments of 1 replay")
    assert DetectionSettings.objects.get(project_id=project_id).dead_click_ms == 7000

    page.get_by_test_id("save-draft").click()
    page.wait_for_url(re.compile(rf"/projects/{project_id}/settings/$"))
    expect(page.locator("input[name=dead_click_ms]")).to_have_value("8000")
    assert DetectionSettings.objects.get(project_id=project_id).dead_click_ms == 8000
    assert page_errors == []
    assert failed_responses == []
