"""An element's identity: what a deploy keeps (component, test id, stable attributes, tag, text, the
path without generated class names), and strong (one issue everywhere) or weak (per page)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replays.detection.breadcrumbs import parse_node
from replays.detection.element_identity import (
    MAX_PATH_CHARS,
    MAX_TEXT_CHARS,
    element_identity,
    is_generated_id,
    looks_generated,
    normalize_text,
    stable_class,
    stable_path,
)


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        # CSS modules: Next.js, css-loader, Vite. The module's own name stays.
        ("Button_primary__x7Yz9", "Button_primary"),
        ("Checkout_actions__Zx81q", "Checkout_actions"),
        ("button-module__primary___3kB7a", "button-module__primary"),
        ("src-Button-module__primary--x7Yz9", "src-Button-module__primary"),
        ("_primary_x7yz9_12", "primary"),
        # emotion, styled-components, styled-jsx, svelte, JSS: generated whole.
        ("css-1q2w3e4", None),
        ("css-a1b2c3d", None),
        ("css-1q2w3e4-Button", None),
        ("sc-bdVaJa", None),
        ("sc-AxjAm", None),
        ("kZzHcN", None),  # styled-components' second, bare class
        ("fTLyml", None),
        ("Button__Wrapper-sc-1a2b3c-0", "Button__Wrapper"),
        ("jsx-1234567", None),
        ("svelte-1x2y3z", None),
        ("jss12", None),
        ("makeStyles-root-12", "makeStyles-root"),
        # css-loader's default base64 hash, other random suffixes.
        ("_3zyde4l1yATCOkgn-DBWEL", None),
        ("a1b2c3d4", None),
        ("Button-x7Yz9", "Button"),
        ("btn_a1b2c3", "btn"),
        # Ordinary classes stay whole.
        ("btn", "btn"),
        ("btn-primary", "btn-primary"),
        ("col-md-6", "col-md-6"),
        ("mt-4", "mt-4"),
        ("h-100", "h-100"),
        ("text-2xl", "text-2xl"),
        ("w-1/2", "w-1/2"),
        ("icon-128px", "icon-128px"),
        ("grid-cols-12", "grid-cols-12"),
        ("card__title", "card__title"),
        ("card--active", "card--active"),
        ("NavBar", "NavBar"),
        ("isOpen", "isOpen"),
        ("iPhone", "iPhone"),
        ("MuiButton-root", "MuiButton-root"),
        ("Mui-focusVisible", "Mui-focusVisible"),
        ("primary", "primary"),
    ],
)
def test_hashed_class_names_are_removed_and_ordinary_ones_kept(name, kept):
    assert stable_class(name) == kept


@pytest.mark.parametrize(
    ("value", "generated"),
    [
        ("buy", False),
        ("main-nav", False),
        ("checkout", False),
        (":r1:", True),
        ("«r2»", True),
        ("radix-:R2a6:", True),
        ("headlessui-menu-button-3", True),
        ("post-1234", True),
        ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", True),
        ("kZzHcN", True),
    ],
)
def test_generated_ids(value, generated):
    assert is_generated_id(value) is generated


def test_the_path_loses_generated_names_and_keeps_components_verbatim():
    before = "body > section#lab > div.css-a1b2c3d.Checkout_actions__Zx81q > button.css-1q2w3e4"
    after = "body > section#lab > div.css-e4f5g6h.Checkout_actions__Pp02w > button.css-9z8y7x6"
    assert stable_path(before) == stable_path(after)
    assert stable_path(before) == "body > section#lab > div.Checkout_actions > button"
    assert stable_path("BODY > DIV.xyz > SmartSearchBar") == "body > div.xyz > SmartSearchBar"
    assert stable_path("div > Button.sc-bdVaJa") == "div > Button"
    assert stable_path('body > input#submit[type="submit"]') == 'body > input#submit[type="submit"]'
    assert stable_path('a[title="x > y.z"] ~ li#\\:r1\\:') == 'a[title="x > y.z"] ~ li'
    assert stable_path("ul  li + li") == "ul li + li"
    assert len(stable_path("div.a > " * 200 + "button")) <= MAX_PATH_CHARS


def test_text_is_normalized_and_bounded():
    assert normalize_text("  Cart\n (3) ") == normalize_text("Cart (12)") == "Cart (0)"
    assert normalize_text("*****") == normalize_text("**") == "*"
    assert len(normalize_text("x" * 1000)) == MAX_TEXT_CHARS


def identity(attributes=None, text="", tag="button", selector="body > button"):
    node = parse_node({"tagName": tag, "textContent": text, "attributes": attributes or {}})
    return element_identity(node, selector)


def test_a_test_id_or_a_component_is_strong_anything_else_weak():
    assert identity({"testId": "pay"}).strong
    assert identity({"data-testid": "pay"}).strong
    assert identity({"data-sentry-component": "PayButton"}).strong
    assert not identity({"id": "pay", "aria-label": "Pay", "role": "button"}, "Pay").strong
    assert not identity({"class": "btn"}).strong


def test_a_test_id_names_the_element_whatever_its_text_and_path():
    one = identity({"testId": "pay", "class": "a"}, "Pay", selector="main > button.a")
    two = identity({"testId": "pay", "class": "b"}, "Payer", selector="div > button.b")
    assert one == two
    assert one.describe() == 'testid="pay" tag="button"'


def test_a_weak_identity_holds_the_stable_attributes_text_and_path():
    found = identity(
        {"id": "buy", "aria-label": "Buy", "role": "button", "name": "b", "title": "T"},
        "Buy  now",
        selector="body > button#buy.css-1q2w3e4",
    )
    assert found.fields == (
        ("tag", "button"),
        ("id", "buy"),
        ("aria-label", "Buy"),
        ("role", "button"),
        ("name", "b"),
        ("title", "T"),
        ("text", "Buy now"),
        ("path", "body > button#buy"),
    )
    generated_id = identity({"id": ":r1:"}, selector="body > button")
    assert ("id", ":r1:") not in generated_id.fields


def test_component_names_keep_their_case():
    lower = identity({"data-sentry-component": "searchbar"})
    upper = identity({"data-sentry-component": "SearchBar"})
    assert lower != upper
    assert 'component="SearchBar"' in upper.describe()


def test_the_tag_comes_from_the_selector_when_the_node_has_none():
    found = element_identity(parse_node(None), "body > div.x > SmartSearchBar")
    assert ("tag", "SmartSearchBar") in found.fields
    assert ("tag", "button") in element_identity(parse_node(None), "DIV > BUTTON.x").fields


# Class names the way builds write them: a stable name and a generated suffix.
_words = st.from_regex(r"[A-Z][a-z]{2,8}", fullmatch=True)
_hashes = st.from_regex(r"[a-z][0-9][A-Za-z][a-z0-9][0-9]", fullmatch=True)


@given(_words, _words, _hashes, _hashes, st.from_regex(r"[a-z0-9]{6}[0-9]", fullmatch=True))
def test_a_deploy_that_changes_every_hash_keeps_the_identity(module, local, one, two, emotion):
    def selector(suffix: str) -> str:
        return (
            f"body > div.{module}_wrap__{suffix} > button.css-{emotion}.{module}_{local}__{suffix}"
        )

    node = parse_node({"tagName": "button", "textContent": "Go"})
    assert element_identity(node, selector(one)) == element_identity(node, selector(two))


@given(st.text(max_size=300), st.dictionaries(st.text(max_size=20), st.text(max_size=50)))
def test_any_node_and_selector_give_a_bounded_identity(selector, attributes):
    found = element_identity(parse_node({"tagName": "a", "attributes": attributes}), selector)
    assert len(found.describe()) < 4000
    assert looks_generated(selector) in (True, False)
