"""Ignore selectors: the CSS forms an operator writes, matched against the SDK's breadcrumbs."""

import orjson
import pytest

from replays.detection.breadcrumbs import find_click_breadcrumbs
from replays.detection.detect import decode_segment
from replays.detection.ignore import is_ignored, parse_chain, parse_ignore_selectors
from tests.replays.messages import MAX_INFLATED_BYTES, click_event, fixture_messages

BUY_NODE = {
    "id": 19,
    "tagName": "button",
    "textContent": "Buy now",
    "attributes": {"id": "buy", "class": "btn primary", "testId": "buy-button"},
}


def breadcrumb(selector: str, node: dict | None = None):
    [found] = find_click_breadcrumbs(orjson.dumps([click_event(selector, node=node or {})]))
    return found


BUY = breadcrumb("body > button#buy.btn.primary", BUY_NODE)
CART = breadcrumb("body > nav > a#cart", {"tagName": "a", "attributes": {"id": "cart"}})
SUBMIT = breadcrumb(
    'body > input#submit[type="submit"]', {"tagName": "input", "attributes": {"id": "submit"}}
)


def ignored(click, rules: str) -> bool:
    return is_ignored(click, parse_ignore_selectors(rules))


@pytest.mark.parametrize(
    "rule",
    [
        "#buy",
        ".primary",
        ".btn.primary",
        "button",
        "BUTTON",
        "button.btn",
        "button#buy.btn",
        "*",
        "*.btn",
        "[testId]",
        "[data-testid]",
        '[data-testid="buy-button"]',
        "[data-testid='buy-button']",
        "[data-testid=buy-button]",
        '[data-test-id="buy-button"]',
        '[ data-testid = "buy-button" ]',
        '[class="btn primary"]',
        "[id=buy]",
        "body > button",
        "body button.primary",
        "body > button#buy.btn.primary",
        "BODY >  BUTTON#buy.btn.primary",
        "body>button",
    ],
)
def test_rules_that_match_the_buy_button(rule):
    assert ignored(BUY, rule), rule


@pytest.mark.parametrize(
    "rule",
    [
        "#Buy",
        "#buy-now",
        ".Primary",
        ".secondary",
        ".btn.secondary",
        "a",
        "a.btn",
        "button#cart",
        '[data-testid="sell-button"]',
        "[data-test]",
        "[type=submit]",
        "nav > button",
        "nav button",
        "html > button",
        "main button",
        "body > div > button",
        "button > body",
        "body + button",
        "body ~ button",
        "button:hover",
        "button::after",
        "#",
        "[",
        '[data-testid="buy"]',
        '[class="btn"]',
    ],
)
def test_rules_that_do_not_match_the_buy_button(rule):
    assert not ignored(BUY, rule), rule


def test_child_and_descendant_rules_are_matched_against_the_selectors_ancestors():
    assert ignored(CART, "nav > a")
    assert ignored(CART, "body > nav > a#cart")
    assert ignored(CART, "body a")
    assert ignored(CART, "body > nav a")
    assert ignored(CART, "body nav > a")
    assert not ignored(CART, "body > a")
    assert not ignored(CART, "nav > nav > a")
    assert not ignored(CART, "main a")
    assert not ignored(BUY, "nav > a")


def test_a_descendant_rule_tries_every_ancestor_it_may_match():
    click = breadcrumb(
        "section > div.outer > div.inner > a#x", {"tagName": "a", "attributes": {"id": "x"}}
    )
    assert ignored(click, "section > div a")
    assert ignored(click, "section > div > div > a")
    assert ignored(click, "section div div a")
    assert ignored(click, "section > div.outer a")
    assert not ignored(click, "section > div.inner a")
    assert not ignored(click, "section div div div a")
    assert not ignored(click, "div > section a")


def test_the_elements_selector_completes_what_the_node_lacks():
    assert ignored(SUBMIT, "[type=submit]")
    assert ignored(SUBMIT, 'input[type="submit"]')
    assert ignored(SUBMIT, "#submit")
    assert not ignored(SUBMIT, '[type="button"]')
    bare = breadcrumb("div#menu.open.Wide")  # a breadcrumb without a node
    assert ignored(bare, "div.open")
    assert ignored(bare, ".Wide")
    assert ignored(bare, "#menu")
    assert not ignored(bare, ".wide")
    assert not ignored(bare, "span#menu")


def test_several_rules_by_comma_or_by_line():
    assert ignored(BUY, "#nothing, .primary")
    assert ignored(BUY, "#nothing\n.primary\n")
    assert ignored(CART, "  \n#nothing,\r\n  nav > a  ,")
    assert not ignored(BUY, "#nothing, .secondary\nnav > a")
    assert parse_ignore_selectors("") == ()
    assert parse_ignore_selectors(" ,\n , ") == ()
    assert [r.text for r in parse_ignore_selectors("#a,\n.b\nNAV  >  A")] == ["#a", ".b", "nav > a"]


def test_attribute_values_may_hold_spaces_commas_and_combinators():
    click = breadcrumb(
        'body > div[title="a > b, c"] > button[aria-label="Close, then save"]',
        {"tagName": "button", "attributes": {"aria-label": "Close, then save"}},
    )
    assert ignored(click, '[aria-label="Close, then save"]')
    assert ignored(click, '#other, [aria-label="Close, then save"]')
    assert ignored(click, '[title="a > b, c"] > button')
    assert ignored(click, "div > button[aria-label]")
    assert not ignored(click, '[aria-label="Close"]')
    assert not ignored(click, '[title="a > b"] > button')
    rules = parse_ignore_selectors('#x, [aria-label="Close, then save"],.y')
    assert [rule.text for rule in rules] == ["#x", '[aria-label="Close, then save"]', ".y"]
    assert all(rule.chain is not None for rule in rules)


def test_unsupported_syntax_matches_only_an_equal_selector():
    [rule] = parse_ignore_selectors("li:nth-child(2) > a")
    assert rule.chain is None
    click = breadcrumb("li:nth-child(2) > a", {"tagName": "a"})
    assert ignored(click, "li:nth-child(2) > a")
    assert not ignored(click, "li:nth-child(3) > a")
    assert not ignored(breadcrumb("li > a", {"tagName": "a"}), "li:nth-child(2) > a")


def test_parse_chain_orders_the_element_first():
    chain = parse_chain("main nav > a.x")
    assert chain is not None
    assert [(combinator, compound.tag) for combinator, compound in chain] == [
        ("", "a"),
        (">", "nav"),
        (" ", "main"),
    ]
    assert parse_chain("a + b") is None


def test_the_capture_buy_button_is_ignored_by_its_test_id():
    rules = parse_ignore_selectors('[data-testid="buy-button"]')
    decisions = {}
    for raw in fixture_messages():
        for click in find_click_breadcrumbs(decode_segment(raw, MAX_INFLATED_BYTES).events):
            decisions[click.selector] = is_ignored(click, rules)
    assert decisions["body > button#buy.btn.primary"] is True
    assert not any(v for k, v in decisions.items() if "#buy" not in k)


def test_a_component_in_the_selector_is_matched_as_before_without_case():
    search = breadcrumb(
        "div.xyz > SmartSearchBar",
        {"tagName": "input", "attributes": {"data-sentry-component": "SmartSearchBar"}},
    )
    assert search.selector == "div.xyz > SmartSearchBar"
    for rule in (
        "div.xyz > SmartSearchBar",
        "div.xyz > smartsearchbar",
        "DIV.xyz > SMARTSEARCHBAR",
        "[data-sentry-component=SmartSearchBar]",
        "div.xyz > input",
    ):
        assert ignored(search, rule), rule
    for rule in ("div.xyz > OtherBar", "[data-sentry-component=smartsearchbar]"):
        assert not ignored(search, rule), rule
