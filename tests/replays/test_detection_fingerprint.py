"""Fingerprints: one issue per click type, element and kind of page."""

import pytest

from replays.detection.classify import ClickType
from replays.detection.fingerprint import fingerprint, fingerprint_hash, normalize_path


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


def test_query_fragment_host_and_scheme_are_not_part_of_the_fingerprint():
    urls = [
        "https://shop.example.com/orders/1?ref=mail#top",
        "http://localhost:8000/orders/2",
        "https://eu.shop.example.com/orders/99999?utm=x",
        "/orders/7#details",
        "orders/8?x=1",
    ]
    parts = {tuple(fingerprint(ClickType.DEAD, "button#pay", None, url)) for url in urls}
    assert parts == {("replay_dead_click", "button#pay", "/orders/{id}")}


def test_the_route_is_preferred_over_the_url():
    assert fingerprint(ClickType.RAGE, "a#x", "/orders/:id", "https://x.example/cart") == [
        "replay_rage_click",
        "a#x",
        "/orders/:id",
    ]
    assert fingerprint(ClickType.RAGE, "a#x", None, "https://x.example/cart")[2] == "/cart"
    assert fingerprint(ClickType.RAGE, "a#x", "", "https://x.example/cart")[2] == "/cart"
    assert fingerprint(ClickType.RAGE, "a#x", None, None)[2] == "/"


def test_type_selector_and_page_each_split_issues():
    base = fingerprint(ClickType.DEAD, "button#pay", None, "/cart")
    others = [
        fingerprint(ClickType.RAGE, "button#pay", None, "/cart"),
        fingerprint(ClickType.SLOW, "button#pay", None, "/cart"),
        fingerprint(ClickType.DEAD, "button#buy", None, "/cart"),
        fingerprint(ClickType.DEAD, "button#pay", None, "/checkout"),
    ]
    hashes = {fingerprint_hash(parts) for parts in [base, *others]}
    assert len(hashes) == 5
    assert fingerprint_hash(base) == fingerprint_hash(list(base))
    assert len(fingerprint_hash(base)) == 32
    # The separator keeps parts apart: ("ab", "c") is not ("a", "bc").
    assert fingerprint_hash(["ab", "c"]) != fingerprint_hash(["a", "bc"])
