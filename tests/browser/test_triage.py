"""Triage in a real browser (issue 21): bulk actions, the time range, ignore until… with a clock
the test moves (``ISSUES_NOW``: the live server runs in this process and reads the same
settings), resolve in the next release, the issue page's words and activity, and tables that fit
their pages at 1400 px.

Over the SDK fixture's replay: five issues clicked on 2026-11-24 around 16:29 UTC, release
shop@1.4.2. Screenshots ``issue_list`` and ``issue`` at 1400 px land in
var/test-artifacts/screenshots/.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from alerts.models import AlertDelivery, DeliveryStatus
from issues.models import Issue, IssueStatus, IssueType
from tests.alerts.builders import webhook_rule
from tests.browser.conftest import PASSWORD
from tests.browser.support import (
    INSTALL_HINT,
    box_inside,
    cells_past_their_box,
    chromium_path,
    screenshot_path,
)
from tests.browser.test_ui import first_of_type, issue_list_url, issue_row, issue_rows
from tests.issues.builders import FIXTURE_REPLAY_ID, another_click, fixture_occurrences, record

pytestmark = pytest.mark.skipif(chromium_path() is None, reason=INSTALL_HINT)

# An hour after the fixture's clicks: the clock of these tests.
NOW = datetime(2026, 11, 24, 17, 30, tzinfo=UTC)
WIDE = {"width": 1400, "height": 900}


@pytest.fixture
def frozen(settings):
    settings.ISSUES_NOW = NOW
    return settings


def test_bulk_resolve_of_ticked_issues_then_ignore_all_matching(
    logged_in_page: Page, fixture_issues: list[Issue], settings
):
    page = logged_in_page
    page.set_viewport_size({"width": 1400, "height": 900})
    counters = dict(Issue.objects.values_list("pk", "times_seen"))
    ticked = fixture_issues[:2]
    for issue in ticked:
        issue_row(page, issue).get_by_test_id("select-issue").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.screenshot(path=screenshot_path("issue_list"), full_page=True)
    page.get_by_test_id("bulk-resolve").click()

    expect(page.locator(".message").first).to_contain_text("2 issues resolved")
    expect(issue_rows(page)).to_have_count(3)
    assert set(Issue.objects.filter(status=IssueStatus.RESOLVED)) == set(ticked)
    assert dict(Issue.objects.values_list("pk", "times_seen")) == counters

    # Two to a page: "all 3 matching" reaches past the page.
    settings.ISSUES_PAGE_SIZE = 2
    page.goto(issue_list_url(ticked[0]))
    expect(issue_rows(page)).to_have_count(2)
    page.get_by_test_id("select-all").check()
    page.get_by_test_id("bulk-ignore").click()
    expect(page.locator(".message").first).to_contain_text("3 issues ignored")
    assert Issue.objects.filter(status=IssueStatus.IGNORED).count() == 3
    assert Issue.objects.filter(status=IssueStatus.RESOLVED).count() == 2


def test_the_time_range_applies_to_counts_and_keeps_to_the_url(
    logged_in_page: Page, fixture_issues: list[Issue], frozen
):
    page = logged_in_page
    dead = first_of_type(fixture_issues, IssueType.DEAD_CLICK)
    fixture = next(
        o for o in fixture_occurrences() if o["id"] == dead.occurrences.get().occurrence_id
    )
    ten_days_before = (NOW - timedelta(days=10)).timestamp()
    record(another_click(fixture, timestamp=ten_days_before))
    page.goto(issue_list_url(dead))
    expect(issue_row(page, dead).get_by_test_id("issue-times")).to_have_text("2")

    page.get_by_test_id("filter-period").select_option("24h")
    page.wait_for_url(re.compile(r"[?&]period=24h(&|$)"))
    expect(page.get_by_test_id("range-label")).to_have_text("Last 24 hours")
    expect(issue_row(page, dead).get_by_test_id("issue-times")).to_have_text("1")
    expect(issue_rows(page)).to_have_count(5)
    expect(page.get_by_test_id("apply-filters")).to_have_count(0)

    page.get_by_test_id("filter-period").select_option("30d")
    page.wait_for_url(re.compile(r"[?&]period=30d(&|$)"))
    expect(issue_row(page, dead).get_by_test_id("issue-times")).to_have_text("2")

    # A custom range of the days before the fixture's: only the older click's issue.
    page.get_by_test_id("filter-period").select_option("custom")
    page.wait_for_url(re.compile(r"[?&]period=custom(&|$)"))
    page.get_by_test_id("filter-until").fill("2026-11-20")
    page.get_by_test_id("filter-until").dispatch_event("change")
    page.wait_for_url(re.compile(r"[?&]until=2026-11-20(&|$)"))
    expect(issue_rows(page)).to_have_count(1)
    expect(issue_row(page, dead).get_by_test_id("issue-times")).to_have_text("1")


def test_ignore_for_two_hours_ends_when_the_clock_passes(
    logged_in_page: Page, fixture_issues: list[Issue], frozen
):
    page = logged_in_page
    rage = first_of_type(fixture_issues, IssueType.RAGE_CLICK)
    page.goto(f"/issues/{rage.pk}/")
    page.get_by_test_id("ignore-button").click()
    page.get_by_test_id("ignore-2h").click()

    expect(page.get_by_test_id("status-badge")).to_have_text(re.compile(r"ignored", re.I))
    expect(page.get_by_test_id("ignore-note")).to_contain_text("Ignored until")
    expect(page.get_by_test_id("activity-status")).to_contain_text("ui-tester")
    expect(page.get_by_test_id("activity-status")).to_contain_text(
        "ignored until 2026-11-24 19:30 UTC"
    )
    page.goto(issue_list_url(rage))
    expect(issue_row(page, rage)).to_have_count(0)

    frozen.ISSUES_NOW = NOW + timedelta(hours=2)
    page.reload()
    expect(issue_row(page, rage)).to_have_count(1)
    page.goto(f"/issues/{rage.pk}/")
    expect(page.get_by_test_id("activity-unignored")).to_contain_text("unresolved again")
    rage.refresh_from_db()
    assert (rage.status, rage.ignore_until) == (IssueStatus.UNRESOLVED, None)


def test_ignore_until_ten_more_events_and_resolve_in_the_next_release(
    logged_in_page: Page, fixture_issues: list[Issue], frozen
):
    page = logged_in_page
    slow = first_of_type(fixture_issues, IssueType.SLOW_CLICK)
    page.goto(f"/issues/{slow.pk}/")
    page.get_by_test_id("ignore-button").click()
    page.get_by_test_id("ignore-10-events").click()
    expect(page.get_by_test_id("ignore-note")).to_contain_text("until 10 more events")

    page.get_by_test_id("unresolve-button").click()
    page.get_by_test_id("resolve-menu").locator("summary").click()
    page.get_by_test_id("resolve-next-release").click()
    expect(page.get_by_test_id("release-note")).to_contain_text("shop@1.4.2")
    slow.refresh_from_db()
    assert (slow.status, slow.resolved_in_release) == (IssueStatus.RESOLVED, "shop@1.4.2")


def test_the_issue_page_says_what_happened_in_plain_words(
    logged_in_page: Page, fixture_issues: list[Issue]
):
    page = logged_in_page
    page.set_viewport_size({"width": 1400, "height": 900})
    rage = first_of_type(fixture_issues, IssueType.RAGE_CLICK)
    dead = Issue.objects.get(type=IssueType.DEAD_CLICK, selector=rage.selector)  # button#buy
    page.goto(f"/issues/{rage.pk}/")

    outcome = page.get_by_test_id("click-outcome").first
    expect(outcome).to_contain_text(re.compile(r"no response after \d+\.\d s"))
    expect(outcome).to_contain_text(re.compile(r"clicked \d+ times"))
    exact = page.get_by_test_id("last-seen-exact").locator("time")
    expect(exact).to_have_attribute("datetime", re.compile(r"^2026-11-24T16:29"))
    # The dead click on the same button, linked both ways.
    if dead.selector == rage.selector:
        page.get_by_test_id("same-element-link").filter(has_text=dead.short_id).click()
        expect(page).to_have_url(re.compile(rf"/issues/{dead.pk}/$"))
        expect(
            page.get_by_test_id("same-element-link").filter(has_text=rage.short_id)
        ).to_be_visible()
    page.get_by_test_id("element-row-link").click()
    expect(page.locator("tr[data-testid=selector-row]:target")).to_have_count(1)
    page.goto(f"/issues/{rage.pk}/")
    # The occurrences fit their card (it clips what overflows): the replay link is in sight.
    expect(page.get_by_test_id("replay-link")).to_have_count(1)
    assert box_inside(page.get_by_test_id("replay-link"), occurrences_card(page))
    page.screenshot(path=screenshot_path("issue"), full_page=True)


def occurrences_card(page: Page):
    return page.locator("section.card", has=page.get_by_test_id("occurrence-row"))


def record_a_long_winded_click(fixture_issues: list[Issue]) -> Issue:
    """The rage click again, in the fixture's (stored) replay, by a user with a long e-mail on a
    long release and environment: what widens an occurrences table most."""
    rage = first_of_type(fixture_issues, IssueType.RAGE_CLICK)
    fixture = next(
        o for o in fixture_occurrences() if o["id"] == rage.occurrences.get().occurrence_id
    )
    click = another_click(
        fixture,
        user={"email": "someone.with.a.rather.long.name@subsidiary.example-company.com"},
        release="storefront-web@12.13.140+8c3f1e2d9b7a41c0",
        environment="production-eu-west-1",
    )
    click["resource_id"] = click["evidence_data"]["replay_id"] = FIXTURE_REPLAY_ID
    record(click)
    return rage


def test_every_occurrence_keeps_its_replay_link_in_sight_at_1400_px(
    logged_in_page: Page, fixture_issues: list[Issue]
):
    page = logged_in_page
    page.set_viewport_size(WIDE)
    rage = record_a_long_winded_click(fixture_issues)
    for issue in fixture_issues:
        page.goto(f"/issues/{issue.pk}/")
        links = page.get_by_test_id("replay-link")
        expect(links).to_have_count(2 if issue == rage else 1)
        for link in links.all():
            assert box_inside(link, occurrences_card(page)), issue.short_id
        assert cells_past_their_box(page) == [], issue.short_id
    page.goto(f"/issues/{rage.pk}/")
    page.screenshot(path=screenshot_path("issue-long-values"), full_page=True)


def test_the_tables_of_every_page_fit_at_1400_px(logged_in_page: Page, fixture_issues: list[Issue]):
    """The issue list, the elements, a replay and the settings' tabs (an alert rule with its
    deliveries among them), with long values where a page shows them."""
    page = logged_in_page
    page.set_viewport_size(WIDE)
    record_a_long_winded_click(fixture_issues)
    project_id = fixture_issues[0].project_id
    rule = webhook_rule(
        project_id,
        "https://hooks.example.com/services/T0000/B0000/a-long-webhook-path-that-goes-on",
        name="Frustration on the checkout pages, told to the on-call channel",
    )
    for number, (issue, page_key, error) in enumerate(
        [(fixture_issues[0], "", "connection refused " * 8), (None, "/products/{id}/reviews", "")]
    ):
        AlertDelivery.objects.create(
            delivery_id=f"delivery-{number}",
            rule=rule,
            project_id=project_id,
            issue=issue,
            page=page_key,
            trigger="new_issue" if issue else "page_frequency",
            status=DeliveryStatus.FAILED if error else DeliveryStatus.SENT,
            attempts=5,
            last_error=error,
            response_status=503,
            payload={},
            created_at=NOW,
            next_attempt_at=NOW,
        )
    pages = [
        f"/projects/{project_id}/issues/?status=all",
        f"/projects/{project_id}/elements/",
        f"/projects/{project_id}/replays/{FIXTURE_REPLAY_ID}/",
        f"/projects/{project_id}/settings/",
        f"/projects/{project_id}/settings/keys/",
        f"/projects/{project_id}/settings/alerts/",
        f"/projects/{project_id}/settings/alerts/{rule.pk}/",
        f"/projects/{project_id}/settings/token/",
    ]
    for path in pages:
        page.goto(path)
        assert cells_past_their_box(page) == [], path


def test_exact_times_are_shown_in_the_readers_time_zone(
    browser: Browser, live_server, ui_user, fixture_issues: list[Issue]
):
    """app.js rewrites each <time datetime> (UTC) to the browser's zone: 16:29 UTC on Nov 24
    is 01:29 on Nov 25 in Tokyo."""
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.locator("input[name=username]").fill(ui_user.username)
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(re.compile(r"/issues/"))
        rage = first_of_type(fixture_issues, IssueType.RAGE_CLICK)
        page.goto(f"/issues/{rage.pk}/")
        exact = page.get_by_test_id("last-seen-exact").locator("time")
        expect(exact).to_have_text(re.compile(r"Nov 25, 2026.*01:29:\d\d.*(GMT\+9|JST)"))
    finally:
        context.close()
