"""The web UI's pure helpers: chart geometry (issues.charts) and wording (issues.presentation)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from issues import charts, presentation

DAYS = charts.days_ending(date(2026, 11, 24), 14)


def test_days_ending_counts_back_from_the_last_day():
    assert DAYS[0] == date(2026, 11, 11)
    assert DAYS[-1] == date(2026, 11, 24)
    assert len(DAYS) == 14
    assert charts.days_ending(date(2026, 3, 1), 2) == [date(2026, 2, 28), date(2026, 3, 1)]


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (2, 2), (3, 5), (5, 5), (6, 10), (11, 20), (21, 50), (99, 100), (101, 200)],
)
def test_nice_ceiling_rounds_up_to_1_2_5(value, ceiling):
    assert charts.nice_ceiling(value) == ceiling


def test_sparkline_scales_the_busiest_day_to_the_full_height():
    counts = [0] * 12 + [2, 4]
    chart = charts.sparkline(counts, DAYS, width=84, height=22)
    assert len(chart.bars) == 14
    assert chart.total == 6
    assert chart.peak == 4
    busiest, half = chart.bars[-1], chart.bars[-2]
    assert busiest.height == 22
    assert busiest.y == 0
    assert half.height == 11
    assert half.y == 11
    assert busiest.day == date(2026, 11, 24)
    assert busiest.count == 4


def test_sparkline_days_without_clicks_are_a_sliver_on_the_baseline():
    chart = charts.sparkline([0, 0, 0], width=30, height=20)
    assert all(bar.height == charts.EMPTY_BAR_HEIGHT for bar in chart.bars)
    assert all(bar.y == 20 - charts.EMPTY_BAR_HEIGHT for bar in chart.bars)
    assert chart.total == 0


def test_sparkline_bars_sit_side_by_side_inside_the_width():
    chart = charts.sparkline([1] * 14, width=84, height=22, gap=1.5)
    assert chart.bars[0].x == pytest.approx(0.75)
    assert chart.bars[0].width == pytest.approx(4.5)
    assert chart.bars[-1].x + chart.bars[-1].width <= 84
    xs = [bar.x for bar in chart.bars]
    assert xs == sorted(xs)


def test_sparkline_of_nothing_and_mismatched_days():
    assert charts.sparkline([]).bars == ()
    with pytest.raises(ValueError, match="one day per count"):
        charts.sparkline([1, 2], DAYS)


def test_trend_chart_has_a_nice_axis_and_labels_ending_today():
    counts = [0] * 10 + [1, 3, 0, 7]
    chart = charts.trend_chart(counts, DAYS, width=640, height=160, label_every=2)
    assert chart.total == 11
    assert chart.peak == 7
    assert [tick.value for tick in chart.ticks] == [0, 5, 10]
    assert chart.ticks[0].y == chart.plot_bottom
    assert chart.ticks[-1].y == 8  # the top of the plot
    assert chart.labels[-1].text == "Nov 24"
    assert len(chart.labels) == 7
    assert chart.bars[-1].height == pytest.approx((chart.plot_bottom - 8) * 7 / 10, abs=0.01)
    assert all(bar.x >= chart.plot_left for bar in chart.bars)


def test_trend_chart_without_clicks_still_draws_an_axis():
    chart = charts.trend_chart([0] * 14, DAYS)
    assert [tick.value for tick in chart.ticks] == [0, 1]
    assert chart.total == 0
    with pytest.raises(ValueError, match="one day per count"):
        charts.trend_chart([1], DAYS)


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=10), "just now"),
        (timedelta(seconds=50), "1 min ago"),
        (timedelta(minutes=3, seconds=20), "3 min ago"),
        (timedelta(hours=2, minutes=59), "2 h ago"),
        (timedelta(days=1, hours=1), "1 d ago"),
        (timedelta(days=9), "1 wk ago"),
        (timedelta(days=45), "1 mo ago"),
        (timedelta(days=800), "2 yr ago"),
        (-timedelta(minutes=5), "in 5 min"),
    ],
)
def test_relative_time(delta, text):
    assert presentation.relative_time(NOW - delta, NOW) == text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:18766/index.html", "/index.html"),
        ("https://shop.example/cart?step=2#pay", "/cart?step=2"),  # the fragment is folded
        ("/cart#cart", "/cart"),
        ("#/orders", "#/orders"),  # nothing but a fragment: shown as sent
        ("body > button#buy", "body > button#buy"),  # a culprit that is a selector: an id
        ("https://shop.example", "/"),
        ("/cart", "/cart"),
        ("/users/:id", "/users/:id"),
        ("http://[::1/x", "http://[::1/x"),  # urlsplit cannot read it: shown as sent
        ("", ""),
    ],
)
def test_url_path_keeps_what_tells_pages_apart_and_folds_fragments(url, shown):
    assert presentation.url_path(url) == shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:18766/cart#cart", "http://127.0.0.1:18766/cart"),
        ("https://shop.example/cart?step=2#pay", "https://shop.example/cart?step=2"),
        ("https://shop.example/#/orders/7", "https://shop.example/"),
        ("/cart#cart", "/cart"),
        ("#/orders", "#/orders"),  # nothing but a fragment: shown as sent
        ("body > button#buy", "body > button#buy"),  # a culprit that is a selector: an id
        ("http://[::1/x#y", "http://[::1/x"),  # unreadable by urlsplit, folded all the same
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("", ""),
    ],
)
def test_page_url_is_the_whole_url_less_its_fragment(url, shown):
    assert presentation.page_url(url) == shown


def test_pages_visited_folds_fragments_and_says_a_page_once_in_a_row():
    urls = [
        "http://127.0.0.1:18766/index.html",
        "http://127.0.0.1:18766/cart",
        "http://127.0.0.1:18766/cart#cart",
        "http://127.0.0.1:18766/index.html#top",
        "http://127.0.0.1:18766/cart",
        "",
    ]
    assert presentation.pages_visited(urls) == [
        "http://127.0.0.1:18766/index.html",
        "http://127.0.0.1:18766/cart",
        "http://127.0.0.1:18766/index.html",
        "http://127.0.0.1:18766/cart",
    ]
    assert presentation.pages_visited(None) == []


def test_duration_and_clock():
    assert presentation.duration(7000.0) == "7.0 s"
    assert presentation.duration(4502.000093) == "4.5 s"
    assert presentation.duration(450) == "450 ms"
    assert presentation.duration(None) == ""
    assert presentation.clock(83_000) == "01:23"
    assert presentation.clock(3_723_000) == "1:02:03"
    assert presentation.clock(-5) == "00:00"


def test_shares_are_percentages_with_an_other_row():
    rows = presentation.shares([("Chrome", 6), ("", 2)], total=10)
    assert rows == [
        presentation.Share("Chrome", 6, 60.0),
        presentation.Share("(none)", 2, 20.0),
        presentation.Share("Other", 2, 20.0),
    ]
    assert presentation.shares([], total=0) == []
    assert presentation.shares([("a", 1), ("b", 2)], total=3)[0].percent == 33.3


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://shop.example/cart", "https://shop.example/cart"),
        ("HTTP://shop.example/", "HTTP://shop.example/"),
        ("javascript:alert(1)", ""),
        (" javascript:alert(1)", ""),
        ("data:text/html,hi", ""),
        ("/cart", ""),
        ("http://[::1/x", ""),  # urlsplit cannot read it: never a link
        ("", ""),
    ],
)
def test_http_url_lets_only_web_links_through(url, href):
    assert presentation.http_url(url) == href


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(3600, "hour"), (7200, "2 hours"), (1800, "30 minutes"), (86400, "day"), (90, "90 seconds")],
)
def test_duration_words_name_a_quota_window(seconds, words):
    assert presentation.duration_words(timedelta(seconds=seconds)) == words
