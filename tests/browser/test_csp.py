"""The Content-Security-Policy in Chromium: every page works under it and none trips it. The web
UI (the replay player rebuilding the recorded page included), the admin, the API's docs (Swagger
UI, Redoc) and the browsable API are opened by a signed-in superuser; a violation is caught both
as the page's ``securitypolicyviolation`` event and as Chromium's console message."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import ConsoleMessage, Page, expect

from issues.models import Issue, IssueType
from tests.browser.conftest import PASSWORD
from tests.browser.support import INSTALL_HINT, chromium_path, screenshot_path

pytestmark = pytest.mark.skipif(chromium_path() is None, reason=INSTALL_HINT)

# Each page's violations, kept by the page itself (init scripts run before the page's own).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def operator(transactional_db, django_user_model, organization) -> User:
    user = django_user_model.objects.create_superuser("csp-operator", password=PASSWORD)
    organization.members.add(user)
    return user


def sign_in(page: Page, user: User) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(re.compile(r"/projects/\d+/issues/"))


def test_no_page_violates_the_content_security_policy(
    page: Page, operator: User, fixture_issues: list[Issue], page_errors: list[str]
):
    console: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            console.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.add_init_script(RECORD_VIOLATIONS)
    login = page.goto("/accounts/login/")
    assert "script-src 'self'" in login.headers["content-security-policy"]
    sign_in(page, operator)

    dead = next(issue for issue in fixture_issues if issue.type == IssueType.DEAD_CLICK)
    occurrence = dead.occurrences.get()
    project = dead.project_id
    checks = {
        f"/projects/{project}/issues/": lambda: expect(
            page.get_by_test_id("issue-row").first
        ).to_be_visible(),
        f"/projects/{project}/issues/?query=a+b+c+d+e+f+g+h+i": lambda: expect(
            page.get_by_test_id("filter-errors")
        ).to_be_visible(),
        f"/issues/{dead.pk}/": lambda: expect(page.get_by_test_id("status-badge")).to_be_visible(),
        f"/projects/{project}/elements/": lambda: expect(
            page.get_by_test_id("selector-row").first
        ).to_be_visible(),
        f"/projects/{project}/settings/": lambda: expect(
            page.get_by_test_id("detection-form")
        ).to_be_visible(),
        f"/projects/{project}/settings/keys/": lambda: expect(
            page.get_by_test_id("dsn").first
        ).to_be_visible(),
        f"/projects/{project}/settings/alerts/new/": lambda: expect(
            page.get_by_test_id("rule-form")
        ).to_be_visible(),
        (
            f"/projects/{project}/replays/{occurrence.replay_id.hex}/"
            f"?occurrence={occurrence.occurrence_id}"
        ): lambda: expect(
            page.frame_locator("#player .replayer-wrapper iframe").get_by_role(
                "button", name="Buy now"
            )
        ).to_be_attached(),
        "/admin/": lambda: expect(page.locator("#site-name")).to_be_visible(),
        "/admin/issues/issue/": lambda: expect(page.locator("#result_list")).to_be_visible(),
        f"/admin/issues/issue/{dead.pk}/change/": lambda: expect(
            page.locator("#issue_form")
        ).to_be_visible(),
        "/api/docs/": lambda: expect(page.locator(".opblock").first).to_be_visible(),
        "/api/redoc/": lambda: expect(
            page.get_by_text("replay-issues API", exact=False).first
        ).to_be_visible(),
        "/api/0/projects/": lambda: expect(page.locator(".response-info")).to_be_visible(),
    }
    violations = {}
    for url, works in checks.items():
        page.goto(url)
        works()
        page.wait_for_load_state("networkidle")
        found = page.evaluate("window.__cspViolations")
        if found:
            violations[url] = found
        name = re.sub(r"[^a-z0-9]+", "-", url.split("?")[0].lower()).strip("-")
        page.screenshot(path=screenshot_path(f"csp-{name or 'home'}"), full_page=True)

    assert violations == {}
    assert console == []
    assert page_errors == []
