"""The web UI in a real browser: log in, list and filter issues, resolve one, watch its replay.

Runs over the SDK fixture's replay (five issues: dead, rage and slow clicks on /, two dead clicks
on /cart). Screenshots of the pages land in var/test-artifacts/screenshots/.
"""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from issues.models import Issue, IssueStatus, IssueType
from tests.browser.support import INSTALL_HINT, chromium_path, screenshot_path

pytestmark = pytest.mark.skipif(chromium_path() is None, reason=INSTALL_HINT)


def issue_rows(page: Page) -> Locator:
    return page.get_by_test_id("issue-row")


def issue_row(page: Page, issue: Issue) -> Locator:
    return page.locator(f"[data-testid=issue-row][data-issue-id='{issue.pk}']")


def issue_list_url(issue: Issue) -> str:
    return f"/projects/{issue.project_id}/issues/"


def first_of_type(issues: list[Issue], issue_type: str) -> Issue:
    return next(issue for issue in issues if issue.type == issue_type)


def choose_type(page: Page, issue_type: str) -> None:
    """Pick a type in the list's type filter: the toolbar form submits itself on change."""
    page.get_by_test_id("filter-type").select_option(issue_type)
    page.wait_for_url(re.compile(rf"[?&]type={issue_type}(&|$)"))


def test_logging_in_shows_the_fixture_issues(logged_in_page: Page, fixture_issues: list[Issue]):
    page = logged_in_page
    rows = issue_rows(page)
    expect(rows).to_have_count(5)
    assert {row.get_attribute("data-issue-id") for row in rows.all()} == {
        str(issue.pk) for issue in fixture_issues
    }
    assert sorted(row.get_attribute("data-issue-type") for row in rows.all()) == [
        "replay_dead_click",
        "replay_dead_click",
        "replay_dead_click",
        "replay_rage_click",
        "replay_slow_click",
    ]
    expect(page.get_by_test_id("issue-title")).to_have_count(5)
    # The Unresolved tab says their status: no badge repeats it on each row.
    expect(page.get_by_test_id("status-tab-unresolved")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("status-badge")).to_have_count(0)
    page.screenshot(path=screenshot_path("issue-list"), full_page=True)


def test_the_type_filter_shows_the_dead_clicks_only(
    logged_in_page: Page, fixture_issues: list[Issue]
):
    page = logged_in_page
    choose_type(page, IssueType.DEAD_CLICK)

    rows = issue_rows(page)
    expect(rows).to_have_count(3)
    assert {row.get_attribute("data-issue-type") for row in rows.all()} == {"replay_dead_click"}
    page.screenshot(path=screenshot_path("issue-list-dead-clicks"), full_page=True)


def test_resolving_an_issue_takes_it_off_the_unresolved_list(
    logged_in_page: Page, fixture_issues: list[Issue]
):
    page = logged_in_page
    rage = first_of_type(fixture_issues, IssueType.RAGE_CLICK)
    issue_row(page, rage).get_by_test_id("issue-title").click()
    expect(page).to_have_url(re.compile(rf"/issues/{rage.pk}/$"))
    badge = page.get_by_test_id("status-badge")
    expect(badge).to_have_text(re.compile(r"^\s*unresolved\s*$", re.IGNORECASE))
    page.screenshot(path=screenshot_path("issue-detail"), full_page=True)

    page.get_by_test_id("resolve-button").click()
    expect(badge).to_have_text(re.compile(r"^\s*resolved\s*$", re.IGNORECASE))
    expect(page.get_by_test_id("unresolve-button")).to_be_visible()
    rage.refresh_from_db()
    assert rage.status == IssueStatus.RESOLVED
    assert rage.resolved_at is not None

    page.goto(issue_list_url(rage))
    expect(issue_rows(page)).to_have_count(4)
    expect(issue_row(page, rage)).to_have_count(0)


def test_ignoring_and_unresolving_an_issue(logged_in_page: Page, fixture_issues: list[Issue]):
    page = logged_in_page
    slow = first_of_type(fixture_issues, IssueType.SLOW_CLICK)
    page.goto(f"/issues/{slow.pk}/")
    badge = page.get_by_test_id("status-badge")

    page.get_by_test_id("ignore-button").click()  # opens the menu: for good, for…, until…
    page.get_by_test_id("ignore-forever").click()
    expect(badge).to_have_text(re.compile(r"^\s*ignored\s*$", re.IGNORECASE))
    page.get_by_test_id("unresolve-button").click()
    expect(badge).to_have_text(re.compile(r"^\s*unresolved\s*$", re.IGNORECASE))
    slow.refresh_from_db()
    assert (slow.status, slow.resolved_at) == (IssueStatus.UNRESOLVED, None)


def test_the_occurrence_link_opens_the_replay_and_the_player_renders_it(
    logged_in_page: Page, fixture_issues: list[Issue]
):
    page = logged_in_page
    dead = first_of_type(fixture_issues, IssueType.DEAD_CLICK)
    occurrence = dead.occurrences.get()
    page.goto(f"/issues/{dead.pk}/")

    page.get_by_test_id("replay-link").first.click()
    replay_id = rf"({occurrence.replay_id.hex}|{occurrence.replay_id})"
    expect(page).to_have_url(
        re.compile(
            rf"/projects/{dead.project_id}/replays/{replay_id}/"
            rf"\?occurrence={occurrence.occurrence_id}$"
        )
    )
    # rrweb-player rebuilds the recorded page in an iframe: the fixture shop's buttons are there.
    replayed = page.frame_locator("#player .replayer-wrapper iframe")
    expect(replayed.get_by_role("button", name="Buy now")).to_be_attached()
    expect(replayed.get_by_role("button", name="Save")).to_be_attached()
    expect(page.locator("#player .replayer-wrapper iframe")).to_be_visible()


def test_the_elements_page_counts_clicks_per_element(
    logged_in_page: Page, fixture_issues: list[Issue]
):
    page = logged_in_page
    page.get_by_role("link", name="Elements", exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"/projects/{fixture_issues[0].project_id}/elements/$"))
    expect(page).to_have_title(re.compile(r"^Elements · "))
    rows = page.get_by_test_id("selector-row")
    expect(rows).to_have_count(4)
    buy = page.locator("[data-testid=selector-row][data-selector='body > button#buy.btn.primary']")
    expect(buy.get_by_test_id("dead-count")).to_have_text("1")
    expect(buy.get_by_test_id("rage-count")).to_have_text("1")
    expect(buy.get_by_test_id("total-count")).to_have_text("2")
    expect(buy.get_by_test_id("element-text")).to_contain_text("Buy now")
    page.screenshot(path=screenshot_path("elements"), full_page=True)


def test_the_pages_raise_no_javascript_errors(
    logged_in_page: Page,
    fixture_issues: list[Issue],
    page_errors: list[str],
    failed_responses: list[str],
):
    page = logged_in_page
    dead = first_of_type(fixture_issues, IssueType.DEAD_CLICK)
    occurrence = dead.occurrences.get()
    pages = [
        issue_list_url(dead),
        f"{issue_list_url(dead)}?type={IssueType.DEAD_CLICK}",
        f"/issues/{dead.pk}/",
        f"/projects/{dead.project_id}/elements/",
        f"/projects/{dead.project_id}/settings/",
        f"/projects/{dead.project_id}/settings/keys/",
        (
            f"/projects/{dead.project_id}/replays/{occurrence.replay_id.hex}/"
            f"?occurrence={occurrence.occurrence_id}"
        ),
    ]
    for url in pages:
        response = page.goto(url)
        assert response is not None
        assert response.ok, f"{url} answered {response.status}"
        page.wait_for_load_state("networkidle")
    # The player has started (and would have failed by now if it were going to).
    replayed = page.frame_locator("#player .replayer-wrapper iframe")
    expect(replayed.get_by_role("button", name="Buy now")).to_be_attached()

    assert page_errors == []
    assert failed_responses == []
