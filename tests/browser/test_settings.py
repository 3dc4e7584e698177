"""The project settings page in Chromium: a threshold edited there is used by the next segment
posted to the live server and consumed from the real broker; the keys' DSNs, the API token, an
alert rule and its test alert to a real local receiver; another organization's settings (404);
and the admin's project page at 1400 px."""

import re
import urllib.request

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from organizations.models import Organization
from replays.models import Replay, ReplaySegment
from tests.alerts.receivers import receiving
from tests.browser.conftest import PASSWORD
from tests.browser.support import INSTALL_HINT, chromium_path, screenshot_path
from tests.consumers import start_recordings_consumer, wait_until
from tests.sdk_fixtures import replay_requests

pytestmark = pytest.mark.skipif(chromium_path() is None, reason=INSTALL_HINT)

WIDE = {"width": 1400, "height": 900}
SECRET = "a-webhook-secret-of-16+"


def sign_in(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(re.compile(r"/(projects/\d+/issues/)?$"))


@pytest.fixture
def settings_page(page: Page, ui_user: User, sdk_project) -> Page:
    """Signed in as a member, on the project's settings (reached from the navigation)."""
    sign_in(page, ui_user)
    page.goto(f"/projects/{sdk_project.project_id}/issues/")
    page.get_by_test_id("nav-settings").click()
    page.wait_for_url(re.compile(rf"/projects/{sdk_project.project_id}/settings/$"))
    return page


def post_captures_to(base_url: str) -> None:
    """The SDK's captured replay requests, sent over HTTP to the live server as it sent them."""
    for sdk_request in replay_requests():
        request = urllib.request.Request(
            base_url + sdk_request.path,
            data=sdk_request.body,
            headers={"Content-Type": "text/plain;charset=UTF-8", **sdk_request.client_headers},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


def test_a_threshold_edited_in_the_settings_is_used_by_the_next_segment(
    settings_page: Page, live_server, recordings_topic, occurrences_topic, recordings_dlq_topic
):
    page = settings_page
    page.set_viewport_size(WIDE)
    # The fixture's slow click answered after about 3.5 s: a 60 s threshold makes it not slow.
    page.locator("input[name=slow_click_ms]").fill("60000")
    page.get_by_test_id("save-detection").click()
    expect(page.locator(".messages")).to_contain_text("Detection settings saved")
    expect(page.locator("input[name=slow_click_ms]")).to_have_value("60000")
    page.screenshot(path=screenshot_path("settings"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDE["width"]

    post_captures_to(live_server.url)
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplaySegment.objects.count() == len(replay_requests()), what="segments")
    finally:
        consumer.stop()
    replay = Replay.objects.get()
    assert replay.dead_clicks > 0  # the same segments, detected
    assert replay.slow_clicks == 0  # with the new threshold: no slow click


def test_the_keys_tab_shows_the_dsn_with_a_copy_button(settings_page: Page, sdk_project):
    page = settings_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_test_id("settings-tab-keys").click()
    expect(page.get_by_test_id("dsn")).to_have_text(sdk_project.dsn())
    page.get_by_test_id("copy-dsn").click()
    expect(page.get_by_test_id("copy-dsn")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == sdk_project.dsn()


def test_an_api_token_is_created_shown_once_and_revoked(settings_page: Page):
    page = settings_page
    page.get_by_test_id("settings-tab-token").click()
    expect(page.get_by_test_id("no-token")).to_be_visible()
    page.get_by_test_id("create-token").click()
    key = page.get_by_test_id("new-token").text_content()
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    page.get_by_test_id("settings-tab-token").click()
    expect(page.get_by_test_id("token-hint")).to_have_text(key[:6] + "…")
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    page.get_by_test_id("revoke-token").click()
    expect(page.get_by_test_id("no-token")).to_be_visible()


def test_an_alert_rule_made_in_the_ui_sends_a_test_alert_and_shows_the_answer(
    settings_page: Page,
):
    page = settings_page
    with receiving() as receiver:
        page.get_by_test_id("settings-tab-alerts").click()
        page.get_by_test_id("new-rule").click()
        page.locator("input[name=name]").fill("To the hook")
        page.locator("input[name=url]").fill(receiver.url)
        page.locator("input[name=secret]").fill(SECRET)
        page.get_by_test_id("save-rule").click()
        expect(page.locator(".messages")).to_contain_text("created")
        expect(page.locator("input[name=secret]")).to_have_value("")
        page.get_by_test_id("send-test").click()
        expect(page.get_by_test_id("test-status")).to_have_text("200")
        expect(page.get_by_test_id("test-body")).to_have_text("ok")
        assert [each.json["action"] for each in receiver.received] == ["test"]
    assert SECRET not in page.content()
    page.screenshot(path=screenshot_path("settings-alert-rule"), full_page=True)
    page.get_by_test_id("settings-tab-alerts").click()
    row = page.get_by_test_id("rule-row")
    expect(row).to_contain_text("To the hook")
    row.get_by_test_id("toggle-rule").click()
    expect(page.get_by_test_id("rule-status")).to_have_text("Disabled")


def test_another_organizations_project_settings_are_404(
    page: Page, django_user_model, sdk_project, failed_responses: list[str]
):
    other = Organization.objects.create(id=8, name="Other", slug="other")
    stranger = django_user_model.objects.create_user("stranger", password=PASSWORD)
    other.members.add(stranger)
    sign_in(page, stranger)
    response = page.goto(f"/projects/{sdk_project.project_id}/settings/")
    assert response.status == 404
    failed_responses.clear()  # the 404 was the point


def test_the_admin_project_page_fits_1400_px(
    page: Page, transactional_db, django_user_model, sdk_project
):
    for label in ("Default", "Staging", "A key for the load tests"):
        sdk_project.project.keys.create(label=label, rate_limit_count=1000)
    operator = django_user_model.objects.create_superuser("operator", password=PASSWORD)
    page.set_viewport_size(WIDE)
    page.goto("/admin/login/")
    page.locator("input[name=username]").fill(operator.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(re.compile(r"/admin/$"))
    page.goto(f"/admin/ingest/project/{sdk_project.project_id}/change/")
    expect(page.locator("#content")).to_contain_text(sdk_project.public_key)
    page.screenshot(path=screenshot_path("admin-project"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDE["width"]
