"""The replay page in a real browser: the timeline beside the player, its rows seeking the player,
the header's duration, the URL above the player, the trail back to the issue.

Runs over two real SDK captures stored as the consumers store them: ``failing`` (the click on
"Place order" posts to /api/checkout, which answers 500, and the page logs an error) and the main
capture (clicks on /, then a navigation to /cart).
"""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from issues.models import Issue, IssueType, Occurrence
from replays.models import Replay
from tests.browser.support import INSTALL_HINT, chromium_path, screenshot_path
from tests.issues.builders import FIXTURE_REPLAY_ID, store_fixture_replay

pytestmark = pytest.mark.skipif(chromium_path() is None, reason=INSTALL_HINT)

FAILING_REPLAY_ID = "0d0d96a4bc914d9d91fd25394941757b"
PENDING_REPLAY_ID = "8345dd04fd49406aa668563e7ea9f312"
# The failing capture: its first rrweb event (the player's 00:00), the POST's start, the console
# error (epoch ms, as the SDK recorded them).
FAILING_FIRST_EVENT_MS = 1_796_141_660_502
CHECKOUT_START_MS = 1_796_141_661_887
CONSOLE_ERROR_MS = 1_796_141_662_102
# The main capture: its first rrweb event, the pushState from /index.html to /cart.
MAIN_FIRST_EVENT_MS = 1_795_537_769_000
NAVIGATION_MS = 1_795_537_816_159


@pytest.fixture
def fixture_issues(live_server, transactional_db, sdk_project) -> list[Issue]:
    """The three captures in the fixture project, as the consumers store and group them."""
    store_fixture_replay(sdk_project.project_id)
    store_fixture_replay(sdk_project.project_id, scenario="failing")
    store_fixture_replay(sdk_project.project_id, scenario="pending")
    return list(Issue.objects.order_by("pk"))


def replay_url(replay_id: str, **params: str) -> str:
    project_id = Replay.objects.get(replay_id=replay_id).project_id
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"/projects/{project_id}/replays/{replay_id}/" + (f"?{query}" if query else "")


def ready(page: Page) -> Locator:
    player = page.get_by_test_id("player")
    expect(player).to_have_attribute("data-state", "ready")
    return player


def timeline_row(page: Page, kind: str, text: str) -> Locator:
    return page.locator(f"[data-testid=timeline-row][data-kind={kind}]", has_text=text)


def player_time_ms(page: Page) -> float:
    """Where the player is, from rrweb's replayer itself (ms from the recording's start)."""
    return page.evaluate("window.replayPlayer.getReplayer().getCurrentTime()")


def failing_click() -> Occurrence:
    return Occurrence.objects.get(replay_id=FAILING_REPLAY_ID, issue__type=IssueType.DEAD_CLICK)


def test_the_timeline_lists_the_failed_request_and_the_console_error_in_the_clicks_window(
    logged_in_page: Page,
):
    page = logged_in_page
    page.set_viewport_size({"width": 1400, "height": 900})
    click = failing_click()
    page.goto(replay_url(FAILING_REPLAY_ID, occurrence=click.occurrence_id))
    ready(page)

    request = timeline_row(page, "request", "POST /api/checkout")
    expect(request).to_have_count(1)
    expect(request).to_have_class(re.compile(r"\bfailed\b"))
    expect(request).to_contain_text("500")
    expect(request).to_contain_text("212 ms")
    expect(request).not_to_contain_text("pending")
    assert request.get_attribute("data-ms") == str(CHECKOUT_START_MS)
    console = timeline_row(page, "console", "Checkout failed: HTTP 500")
    expect(console).to_have_count(1)
    assert console.get_attribute("data-ms") == str(CONSOLE_ERROR_MS)
    # The click, with its issue's marker, and everything in its window (the SDK waited 7 s) is
    # highlighted; the page load before it is not.
    place = timeline_row(page, "click", "button#place")
    expect(place).to_contain_text("dead click")
    for in_window in (place, request, console):
        expect(in_window).to_have_class(re.compile(r"\bin-window\b"))
    expect(timeline_row(page, "navigation", "Page load")).not_to_have_class(
        re.compile(r"\bin-window\b")
    )
    expect(page.get_by_test_id("window-note")).to_be_visible()
    # The request is not a breadcrumb; the console error is both a breadcrumb and an error.
    page.locator("[data-testid=timeline] .lane[data-lane=errors]").click()
    expect(console).to_be_visible()
    expect(request).to_be_hidden()
    page.locator("[data-testid=timeline] .lane[data-lane=network]").click()
    expect(request).to_be_visible()
    expect(console).to_be_hidden()
    page.locator("[data-testid=timeline] .lane[data-lane=all]").click()
    # The trail leads back to the issue the reader came from.
    came_from = page.get_by_test_id("came-from")
    expect(came_from).to_have_text(click.issue.short_id)
    expect(came_from).to_have_attribute("href", f"/issues/{click.issue.pk}/")
    page.screenshot(path=screenshot_path("replay"), full_page=True)


def test_a_request_still_running_at_the_end_of_the_clicks_window_is_marked_pending(
    logged_in_page: Page,
):
    """In ``pending`` the click's GET /api/quote answers 200 after 12 s, its span in the third
    segment; the SDK gave up on the click after 7 s."""
    page = logged_in_page
    click = Occurrence.objects.filter(replay_id=PENDING_REPLAY_ID).order_by("timestamp").first()
    assert click is not None
    page.goto(replay_url(PENDING_REPLAY_ID, occurrence=click.occurrence_id))
    ready(page)
    quote = timeline_row(page, "request", "GET /api/quote")
    expect(quote).to_have_count(1)
    expect(quote).to_contain_text("200")
    expect(quote).to_contain_text("12.0 s")
    expect(quote).to_contain_text("pending when the SDK gave up")
    expect(quote).to_have_class(re.compile(r"\bin-window\b"))
    expect(quote).not_to_have_class(re.compile(r"\bfailed\b"))


def test_a_click_on_a_timeline_row_seeks_the_player_to_its_moment(logged_in_page: Page):
    page = logged_in_page
    page.goto(replay_url(FAILING_REPLAY_ID, occurrence=failing_click().occurrence_id))
    player = ready(page)
    # The page starts 5 s before the click, which is before the recording's start: at 00:00.
    assert player_time_ms(page) == pytest.approx(0, abs=50)

    timeline_row(page, "request", "POST /api/checkout").get_by_role("link").click()
    expected = CHECKOUT_START_MS - FAILING_FIRST_EVENT_MS
    expect(player).to_have_attribute("data-current-ms", str(expected))
    assert player_time_ms(page) == pytest.approx(expected, abs=50)
    expect(page.locator("[data-testid=timeline-row].current")).to_have_attribute(
        "data-ms", str(CHECKOUT_START_MS)
    )
    # The row was followed by the player, not by the browser: the page did not reload.
    expect(page).to_have_url(re.compile(r"\?occurrence="))

    timeline_row(page, "console", "Checkout failed").get_by_role("link").click()
    assert player_time_ms(page) == pytest.approx(CONSOLE_ERROR_MS - FAILING_FIRST_EVENT_MS, abs=50)


def test_the_headers_duration_is_the_players_total(logged_in_page: Page):
    page = logged_in_page
    page.goto(replay_url(FIXTURE_REPLAY_ID))
    player = ready(page)
    duration = page.get_by_test_id("replay-duration")
    expect(duration).to_be_visible()
    players_total = page.locator("#player .rr-timeline__time").last.inner_text()
    assert duration.inner_text().strip() == f"· {players_total} long"
    total_ms = page.evaluate("window.replayPlayer.getMetaData().totalTime")
    assert player.get_attribute("data-total-ms") == str(round(total_ms))
    # The player runs from the first recorded event to the last thing the SDK recorded (its
    # last memory sample, 56.2 s later), not only to the page's last change (47.7 s): every
    # timeline row is a moment of the player.
    assert players_total == "00:56"
    last_row_ms = int(page.get_by_test_id("timeline-row").last.get_attribute("data-ms"))
    assert last_row_ms - MAIN_FIRST_EVENT_MS <= total_ms


def test_the_player_keeps_the_seconds_the_sdk_waited_after_a_dead_click(logged_in_page: Page):
    """In ``failing`` the page stops changing 2 ms after the click, and the SDK waits 7 s more:
    the player lasts until the SDK's last record (9.9 s), the click's window drawn on it."""
    page = logged_in_page
    page.goto(replay_url(FAILING_REPLAY_ID, occurrence=failing_click().occurrence_id))
    ready(page)
    expect(page.locator("#player .rr-timeline__time").last).to_have_text("00:09")
    expect(page.get_by_test_id("replay-duration")).to_have_text(" · 00:09 long")
    band = page.get_by_test_id("window-band").bounding_box()
    progress = page.locator("#player .rr-progress").bounding_box()
    assert band is not None
    assert progress is not None
    # The window (1.38 s to 8.38 s of 9.9 s) is about 70 % of the bar, from about 14 %.
    assert band["width"] / progress["width"] == pytest.approx(7000 / 9898, abs=0.02)
    assert (band["x"] - progress["x"]) / progress["width"] == pytest.approx(1382 / 9898, abs=0.02)


def test_the_url_above_the_player_follows_a_seek_across_a_navigation(logged_in_page: Page):
    page = logged_in_page
    page.goto(replay_url(FIXTURE_REPLAY_ID))
    ready(page)
    url = page.get_by_test_id("player-url")
    expect(url).to_have_text(re.compile(r"http://127\.0\.0\.1:18766/index\.html$"))

    navigation = timeline_row(page, "navigation", "/cart").first
    assert navigation.get_attribute("data-ms") == str(NAVIGATION_MS)
    navigation.get_by_role("link").click()
    expect(url).to_have_text(re.compile(r"http://127\.0\.0\.1:18766/cart$"))
    page.screenshot(path=screenshot_path("replay-navigation"), full_page=True)

    # 2 ms later the page jumps to its anchor (/cart#cart): still the page /cart, as grouping
    # and the Pages card say.
    timeline_row(page, "navigation", "/cart#cart").get_by_role("link").click()
    expect(url).to_have_text(re.compile(r"http://127\.0\.0\.1:18766/cart$"))
    expect(url.locator("code")).to_have_attribute("title", "http://127.0.0.1:18766/cart")

    timeline_row(page, "click", "Click").first.get_by_role("link").click()
    expect(url).to_have_text(re.compile(r"/index\.html$"))


def test_the_recording_fills_the_players_width(logged_in_page: Page):
    page = logged_in_page
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(replay_url(FIXTURE_REPLAY_ID))
    ready(page)
    card = page.locator(".player-card").bounding_box()
    frame = page.locator("#player .replayer-wrapper").bounding_box()
    assert card is not None
    assert frame is not None
    # The recording (1280 x 720) is scaled to the card's width, and the card ends below the
    # player's controller: no band of empty space around it.
    assert frame["width"] == pytest.approx(card["width"], abs=4)
    controls = page.locator("#player .rr-controller").bounding_box()
    assert controls is not None
    assert card["y"] + card["height"] - (controls["y"] + controls["height"]) < 8


def test_the_issue_param_keeps_the_trail_when_jumping_between_clicks(
    logged_in_page: Page, fixture_issues: list[Issue]
):
    page = logged_in_page
    dead = next(
        issue
        for issue in fixture_issues
        if issue.type == IssueType.DEAD_CLICK
        and issue.occurrences.filter(replay_id=FIXTURE_REPLAY_ID).exists()
    )
    page.goto(replay_url(FIXTURE_REPLAY_ID, issue=str(dead.pk)))
    ready(page)
    expect(page.get_by_test_id("came-from")).to_have_text(dead.short_id)
    page.get_by_test_id("replay-click").nth(1).locator("a.jump").click()
    expect(page).to_have_url(re.compile(rf"\?occurrence=[0-9a-f]+&issue={dead.pk}$"))
    page.reload()
    expect(page.get_by_test_id("came-from")).to_have_text(dead.short_id)
