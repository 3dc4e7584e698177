"""Fingerprints: version 2 (the element's identity; the page when it is weak) and the legacy
version 1 entry (type, selector, page) that finds the issues made before."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replays.detection.breadcrumbs import parse_node
from replays.detection.classify import ClickType
from replays.detection.element_identity import ElementIdentity, element_identity
from replays.detection.fingerprint import (
    fingerprint,
    fingerprint_hash,
    legacy_entry,
    legacy_parts,
    normalize_path,
)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (None, "/"),
        ("", "/"),
        ("https://shop.example.com", "/"),
        ("https://shop.example.com/", "/"),
        ("https://shop.example.com/cart", "/cart"),
        ("https://shop.example.com/cart/", "/cart"),
        ("/cart", "/cart"),
        ("cart", "/cart"),
        ("cart?x=1#y", "/cart"),
        ("/cart#cart", "/cart"),
        ("?x=1", "/"),
        ("#top", "/"),
        ("  https://shop.example.com/cart  ", "/cart"),
        ("http://127.0.0.1:18766/cart#cart", "/cart"),
        ("//cdn.example.com/cart", "/cart"),
        ("http://[::1/orders/12", "/orders/{id}"),  # an invalid host: urlsplit refuses it
        ("https://shop.example.com/orders/1234", "/orders/{id}"),
        ("/orders/1234/items/5", "/orders/{id}/items/{id}"),
        ("/u/3f2504e0-4f89-11d3-9a0c-0305e82c3301/edit", "/u/{uuid}/edit"),
        ("/u/3F2504E04F8911D39A0C0305E82C3301", "/u/{uuid}"),
        ("/blob/0123456789abcdef0123", "/blob/{hex}"),
        ("/commit/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/commit/{hex}"),
        # Not ids: words, short hex, hex without a digit, mixed segments.
        ("/products/coffee-beans", "/products/coffee-beans"),
        ("/c/abc123", "/c/abc123"),
        ("/c/deadbeefdeadbeefdead", "/c/deadbeefdeadbeefdead"),
        ("/v2/page", "/v2/page"),
        ("/order-12", "/order-12"),
    ],
)
def test_normalize_path(url, path):
    assert normalize_path(url) == path


def weak(selector: str = "button#pay") -> ElementIdentity:
    """A bare element: its identity names the page."""
    return element_identity(parse_node({"tagName": "button"}), selector)


STRONG = element_identity(parse_node({"tagName": "button", "attributes": {"testId": "pay"}}), "x")


def legacy(click_type, selector, route, url) -> list[str]:
    return legacy_parts(fingerprint(click_type, weak(selector), selector, route, url)[1])


def test_query_fragment_host_and_scheme_are_not_part_of_the_fingerprint():
    urls = [
        "https://shop.example.com/orders/1?ref=mail#top",
        "http://localhost:8000/orders/2",
        "https://eu.shop.example.com/orders/99999?utm=x",
        "/orders/7#details",
        "orders/8?x=1",
    ]
    fingerprints = {tuple(fingerprint(ClickType.DEAD, weak(), "button#pay", None, u)) for u in urls}
    assert len(fingerprints) == 1
    [(current, old)] = fingerprints
    assert legacy_parts(old) == ["replay_dead_click", "button#pay", "/orders/{id}"]
    assert current.endswith(' page="/orders/{id}"')


def test_the_route_is_preferred_over_the_url():
    assert legacy(ClickType.RAGE, "a#x", "/orders/:id", "https://x.example/cart") == [
        "replay_rage_click",
        "a#x",
        "/orders/:id",
    ]
    assert legacy(ClickType.RAGE, "a#x", None, "https://x.example/cart")[2] == "/cart"
    assert legacy(ClickType.RAGE, "a#x", "", "https://x.example/cart")[2] == "/cart"
    assert legacy(ClickType.RAGE, "a#x", None, None)[2] == "/"


def test_type_element_and_page_each_split_a_weak_identity():
    def hashes(click_type, selector, page):
        return fingerprint_hash([fingerprint(click_type, weak(selector), selector, None, page)[0]])

    base = hashes(ClickType.DEAD, "button#pay", "/cart")
    others = [
        hashes(ClickType.RAGE, "button#pay", "/cart"),
        hashes(ClickType.SLOW, "button#pay", "/cart"),
        hashes(ClickType.DEAD, "button#buy", "/cart"),
        hashes(ClickType.DEAD, "button#pay", "/checkout"),
    ]
    assert len({base, *others}) == 5
    assert len(base) == 32
    # The separator keeps parts apart: ("ab", "c") is not ("a", "bc").
    assert fingerprint_hash(["ab", "c"]) != fingerprint_hash(["a", "bc"])


def test_a_strong_identity_is_one_fingerprint_on_every_page_and_the_legacy_one_per_page():
    on_cart = fingerprint(ClickType.DEAD, STRONG, "button.a", "/cart", None)
    on_home = fingerprint(ClickType.DEAD, STRONG, "button.b", None, "https://x.example/")
    assert on_cart[0] == on_home[0] == 'v2 replay_dead_click testid="pay" tag="button"'
    assert legacy_parts(on_cart[1]) == ["replay_dead_click", "button.a", "/cart"]
    assert legacy_parts(on_home[1]) == ["replay_dead_click", "button.b", "/"]


def test_the_legacy_entry_carries_its_parts_whatever_they_hold():
    for parts in (["a", "b c", "/"], ['say "hi"', "ünï", "\\x"], ["v1 [", "]"]):
        assert legacy_parts(legacy_entry(parts)) == parts
    for not_legacy in ("v1", "v1 {}", "v1 [1]", "v1 []", "v1 [", "x1 []", 'v2 type tag="a"'):
        assert legacy_parts(not_legacy) is None


# What a breadcrumb holds: no NUL (the parser drops it) and no lone surrogate (orjson refuses it).
@given(
    st.lists(
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")), min_size=1
    )
)
def test_a_legacy_entry_round_trips(parts):
    assert legacy_parts(legacy_entry(parts)) == parts
