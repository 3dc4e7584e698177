"""Fixtures of the browser tests: Playwright's Chromium, the live server, a logged-in page.

The live server runs in a thread of this process and answers from the test database (a SQLite
file, or PostgreSQL in CI), so each test's data is committed (``transactional_db``) and flushed
after it. The browser starts once per module: a new context per test keeps cookies apart.
"""

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, Request, Response, expect, sync_playwright

from issues.models import Issue
from tests.browser.support import CHROMIUM_ARGS, INSTALL_HINT, chromium_path, screenshot_path
from tests.issues.builders import store_fixture_replay

PASSWORD = "not-a-secret-only-a-test"
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip(INSTALL_HINT)
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an asyncio loop running in this thread; Django refuses
        # ORM calls (the tests' own, pytest-django's flush) under a running loop unless told
        # that this is safe. It is: nothing else runs on that loop. Only this module sees it.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught JavaScript errors of the test's page (``pageerror``)."""
    return []


@pytest.fixture
def failed_responses() -> list[str]:
    """Requests to the live server that failed or answered 4xx/5xx (a missing asset, say)."""
    return []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test, so ``page`` knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server,
    page_errors: list[str],
    failed_responses: list[str],
) -> Iterator[Page]:
    """A fresh context and page on the live server; a failed test leaves a screenshot."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    def ours(url: str) -> bool:
        return url.startswith(live_server.url) and not url.endswith("/favicon.ico")

    def check_response(response: Response) -> None:
        if ours(response.url) and response.status >= 400:
            failed_responses.append(f"{response.status} {response.url}")

    def check_request(failed: Request) -> None:
        # net::ERR_ABORTED is the browser cancelling a request itself (the favicon of a page the
        # test already left, say): nothing the server did. A missing asset answers 404 (above),
        # a broken server fails with a connection error.
        if ours(failed.url) and failed.failure != "net::ERR_ABORTED":
            failed_responses.append(f"{failed.failure} {failed.url}")

    page.on("pageerror", lambda error: page_errors.append(f"{page.url}: {error}"))
    page.on("response", check_response)
    page.on("requestfailed", check_request)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        page.screenshot(path=screenshot_path(f"failed-{request.node.name}"), full_page=True)
    context.close()


@pytest.fixture
def fixture_issues(live_server, transactional_db, sdk_project) -> list[Issue]:
    """The SDK fixture's replay, stored as the consumers do, and its five issues."""
    store_fixture_replay(sdk_project.project_id)
    return list(Issue.objects.order_by("pk"))


@pytest.fixture
def ui_user(transactional_db, django_user_model, organization) -> User:
    """A member of the organization that owns the fixture's project."""
    user = django_user_model.objects.create_user("ui-tester", password=PASSWORD)
    organization.members.add(user)
    return user


@pytest.fixture
def logged_in_page(page: Page, ui_user: User, fixture_issues: list[Issue]) -> Page:
    """Log in through the real login form, from ``/``; the page ends on the issue list."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.locator("input[name=username]").fill(ui_user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    project_id = fixture_issues[0].project_id
    page.wait_for_url(re.compile(rf"/projects/{project_id}/issues/"))
    return page
