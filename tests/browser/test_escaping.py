"""No script from a click runs in the web UI: markup in selectors, element text, ids, component
names, release, environment, user and URLs, and a recorded DOM full of scripts and inline
handlers, in Chromium.

Every payload (tests/hostile/inputs.py) would set ``window.__xss`` or open a dialog if it ran. The
test visits the issue list, each issue, the selectors page and the replay page (whose player
rebuilds the hostile DOM), then checks that ``__xss`` is still undefined, no dialog opened, no
JavaScript error was raised, and the payloads are on the page as text.
"""

import pytest
from playwright.sync_api import Dialog, Page, expect

from issues.models import Issue
from tests.browser.conftest import PASSWORD
from tests.browser.support import INSTALL_HINT, chromium_path, screenshot_path
from tests.hostile.inputs import XSS_PAYLOADS
from tests.hostile.stored import HOSTILE_REPLAY_ID, store_hostile_replay

pytestmark = pytest.mark.skipif(chromium_path() is None, reason=INSTALL_HINT)


@pytest.fixture
def hostile_issues(live_server, transactional_db, sdk_project) -> list[Issue]:
    return store_hostile_replay(sdk_project.project_id)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_load_state("networkidle")


def assert_nothing_ran(page: Page, dialogs: list[str], where: str) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined", f"a payload ran on {where}"
    assert dialogs == [], f"a dialog opened on {where}: {dialogs}"


def test_no_script_from_a_click_runs_on_any_page(
    page: Page,
    ui_user,
    hostile_issues: list[Issue],
    page_errors: list[str],
    failed_responses: list[str],
):
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    log_in(page, ui_user.username)
    project_id = hostile_issues[0].project_id
    pages = [
        f"/projects/{project_id}/issues/?status=all",
        *(f"/issues/{issue.pk}/" for issue in hostile_issues),
        f"/projects/{project_id}/elements/",
    ]
    seen = ""
    for url in pages:
        response = page.goto(url)
        assert response is not None
        assert response.ok, f"{url} answered {response.status}"
        page.wait_for_load_state("networkidle")
        assert_nothing_ran(page, dialogs, url)
        seen += page.locator("body").inner_text()
        # No link of the page leads to a javascript: URL.
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        assert not [href for href in hrefs if href.lower().startswith("javascript:")], url
    for payload in XSS_PAYLOADS:
        assert payload in seen, f"{payload!r} is not shown as text"

    # The replay: the player rebuilds the recorded DOM (a <script>, onerror, onload, onclick,
    # onfocus with autofocus, a javascript: link) in its sandboxed iframe.
    page.goto(f"/projects/{project_id}/replays/{HOSTILE_REPLAY_ID}/")
    expect(page.get_by_test_id("player")).to_have_attribute("data-state", "ready")
    replayed = page.frame_locator("#player .replayer-wrapper iframe")
    expect(replayed.get_by_role("button")).to_be_attached()
    # rrweb's iframe is sandboxed without allow-scripts: the recorded page's scripts never run.
    sandbox = page.locator("#player .replayer-wrapper iframe").get_attribute("sandbox")
    assert sandbox is not None
    assert "allow-scripts" not in sandbox
    page.get_by_test_id("replay-click").first.locator("a.jump").click()
    page.wait_for_timeout(500)
    assert_nothing_ran(page, dialogs, "the replay page")
    clicks = page.get_by_test_id("replay-click")
    expect(clicks).to_have_count(len(XSS_PAYLOADS))
    for payload in XSS_PAYLOADS:
        expect(clicks.filter(has_text=payload).first).to_be_visible()
    page.screenshot(path=screenshot_path("hostile-replay"), full_page=True)

    assert page_errors == []
    assert failed_responses == []
