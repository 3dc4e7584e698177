"""What identifies a clicked element across deploys (pure): the part of a fingerprint that a build
must not change.

The SDK's selector (``div.css-a1b2c3d.Checkout_actions__Zx81q > button.Button_primary__x7Yz9``)
holds class names that a build regenerates: CSS modules (``Name_local__hash``), emotion
(``css-hash``), styled-components (``sc-hash`` and a bare random class), styled-jsx, svelte, JSS.
Grouping by it splits an issue on every deploy. The identity is built from what the developer wrote
instead: the React component (``data-sentry-component``), the test id, an id that is not generated,
aria-label, role, name, type, alt and title, the tag and its text, and the selector path with the
generated class names removed (CSS modules keep their ``Name_local`` part).

A component name or a test id names the element wherever it is: that identity is *strong* and
groups one issue across pages. Anything less (a ``button.btn`` with its text) is *weak*: the page
joins it, as every element was grouped before.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

import orjson

from replays.detection.breadcrumbs import HTML_ELEMENT_NAMES, Node, mask_brackets

MAX_TEXT_CHARS = 64  # of the element's text, after normalizing
MAX_PATH_CHARS = 512
MAX_ATTRIBUTE_CHARS = 128
TEST_ID_ATTRIBUTES = ("testId", "data-testid", "data-test-id")
# Attributes a developer writes to name an element, in the identity's order.
NAMING_ATTRIBUTES = ("aria-label", "role", "name", "type", "alt", "title")

# Class names that a build generates whole: emotion (``css-1q2w3e4``, ``css-1q2w3e4-Label``),
# styled-components' component id (``sc-bdVaJa``), styled-jsx (``jsx-123456``), svelte
# (``svelte-1x2y3z``), JSS (``jss12``, ``makeStyles-root-12``'s counter is handled below).
_GENERATED_CLASS = re.compile(
    r"css-[a-z0-9]{5,10}(?:-[\w-]+)?|sc-[A-Za-z]{4,10}|jsx-\d{3,}|svelte-[a-z0-9]{5,}|jss\d+"
)
# A class with a stable name and a generated suffix: the name is kept.
_SUFFIXED_CLASS = (
    # styled-components with a display name: ``Button__Wrapper-sc-1a2b3c-0``.
    re.compile(r"(?P<stable>[\w-]+?)-sc-[A-Za-z0-9]+(?:-\d+)?"),
    # CSS modules: Next.js ``Name_local__hash``, css-loader ``name__local___hash`` / ``--hash``.
    re.compile(r"(?P<stable>[A-Za-z_][\w-]*)(?:__|--)(?P<hash>[A-Za-z0-9_-]{5,})"),
    # CSS modules in Vite: ``_local_hash5_line``.
    re.compile(r"_(?P<stable>[A-Za-z][\w-]*?)_(?P<hash>[a-z0-9]{5})_\d+"),
    # JSS / MUI makeStyles: ``makeStyles-root-12``.
    re.compile(r"(?P<stable>(?:makeStyles|jss)-[\w-]+?)-\d+"),
    # Any ``name-hash`` / ``name_hash`` whose last part looks random.
    re.compile(r"(?P<stable>[A-Za-z][\w-]*?)[_-](?P<hash>[A-Za-z0-9]{5,})"),
)
_LETTER_DIGIT_RUNS = re.compile(r"[A-Za-z]+|\d+")
# ``isOpen``, ``NavBar``, ``iPhone``: words of two lower-case letters or more after each capital.
_CAMEL_CASE_WORDS = re.compile(r"[A-Z]?[a-z]*(?:[A-Z][a-z]{2,})*")
_WHITESPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")
_MASK = re.compile(r"\*+")  # the SDK masks text as asterisks, one per character
_COMBINATOR = re.compile(r"\s*([>+~])\s*|\s+")
# One compound selector's parts: ``tag``, ``#id``, ``.class``, ``[attr="value"]``, ``:pseudo``.
_SIMPLE_SELECTOR = re.compile(
    r"(?P<kind>[#.:]?)(?P<name>(?:\\.|[^#.:\[\\])+)|(?P<attribute>\[[^\]]*\]?)"
)


def looks_generated(token: str, min_runs: int = 3) -> bool:
    """Whether a class name part or an id reads as a build's or a runtime's random output: letters
    and digits interleaved (``x7Yz9``, ``1q2w3e4``: at least ``min_runs`` runs of each kind), a
    long mixed string (css-loader's base64 hash), or letters in a case pattern that no camelCase
    word has (``bdVaJa``, ``kZzHcN``). A word with a number (``item12``, ``128px``) is not."""
    if len(token) < 5:
        return False
    runs = _LETTER_DIGIT_RUNS.findall(token)
    has_digit = any(run.isdigit() for run in runs)
    has_letter = any(run.isalpha() for run in runs)
    if has_digit and has_letter:
        return len(runs) >= min_runs or (len(token) >= 16 and not token.islower())
    if token.isalpha() and not token.islower() and not token.isupper():
        return _CAMEL_CASE_WORDS.fullmatch(token) is None
    return False


@lru_cache(maxsize=8192)
def stable_class(name: str) -> str | None:
    """The part of a class name that a build keeps, or None when all of it is generated.
    Ordinary classes (``btn-primary``, ``col-md-6``, ``mt-4``, ``card__title``) are kept whole.
    Cached, as ``stable_path``: an app has a few thousand class names and its users click the
    same elements again and again."""
    if name.isalpha() and name.islower():  # most classes (``btn``, ``active``): nothing to do
        return name
    if _GENERATED_CLASS.fullmatch(name):
        return None
    for pattern in _SUFFIXED_CLASS:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        hashed = match.groupdict().get("hash")
        # BEM's ``block__element`` and words are not hashes: a lower-case word suffix stays.
        if hashed is not None and not _is_hash_suffix(hashed, pattern is _SUFFIXED_CLASS[1]):
            continue
        return match.group("stable").rstrip("_-")
    return None if looks_generated(name, min_runs=4) else name


def _is_hash_suffix(suffix: str, after_double_separator: bool) -> bool:
    if after_double_separator:
        # css-loader writes 5 base64 characters: a BEM element is a lower-case word.
        return not suffix.replace("-", "").islower() or any(c.isdigit() for c in suffix)
    return looks_generated(suffix)


def is_generated_id(value: str) -> bool:
    """An id that a framework or the data made (React's ``:r1:`` / ``«r1»``, ``radix-:r2:``,
    ``headlessui-menu-3``, ``post-1234``, a uuid): it changes between renders or records."""
    return (
        any(char in value for char in ":«»") or any(char.isdigit() for char in value)
    ) or looks_generated(value)


@lru_cache(maxsize=2048)
def stable_path(selector: str) -> str:
    """The SDK's selector with generated class names (and generated ids) removed; component
    names keep their case, HTML element names are lower-cased."""
    masked = mask_brackets(selector)
    compounds, start = [], 0
    for match in _COMBINATOR.finditer(masked):
        compounds.append((selector[start : match.start()], (match.group(1) or " ")))
        start = match.end()
    compounds.append((selector[start:], ""))
    out = []
    for compound, combinator in compounds:
        if compound:
            out.append(_stable_compound(compound))
        if combinator and out:
            out.append(f" {combinator} " if combinator != " " else " ")
    return "".join(out).strip()[:MAX_PATH_CHARS]


@lru_cache(maxsize=8192)  # ancestors (``body``, ``main#app``) repeat in every selector
def _stable_compound(compound: str) -> str:
    parts = []
    for match in _SIMPLE_SELECTOR.finditer(compound):
        if match.group("attribute"):
            parts.append(match.group("attribute"))
            continue
        kind, name = match.group("kind"), match.group("name")
        if kind == ".":
            kept = stable_class(name)
            if kept is not None:
                parts.append("." + kept)
        elif kind == "#":
            if not is_generated_id(name):
                parts.append("#" + name)
        elif kind == ":":
            parts.append(":" + name)
        else:
            parts.append(name.lower() if is_html_tag_name(name) else name)
    return "".join(parts)


def normalize_text(text: str) -> str:
    """The element's text as an identity holds it: whitespace collapsed, numbers and masked runs
    folded (``Cart (3)`` and ``Cart (12)`` are one button), bounded."""
    text = _WHITESPACE.sub(" ", text).strip()
    text = _MASK.sub("*", _DIGITS.sub("0", text))
    return text[:MAX_TEXT_CHARS]


@dataclass(frozen=True, slots=True)
class ElementIdentity:
    """What identifies an element, in a fixed order; ``strong`` when it holds a component name or
    a test id (the element is the same one on every page)."""

    fields: tuple[tuple[str, str], ...]
    strong: bool

    def describe(self) -> str:
        """``key="value"`` pairs, each value a JSON string: unambiguous whatever the values hold."""
        return " ".join(f"{key}={orjson.dumps(value).decode()}" for key, value in self.fields)


def element_identity(node: Node, selector: str) -> ElementIdentity:
    """The identity of the element ``node`` / ``selector`` (a breadcrumb's, as parsed)."""
    attributes = node.attributes
    component = attributes.get("data-sentry-component", "").strip()
    test_id = next(
        (value.strip() for name in TEST_ID_ATTRIBUTES if (value := attributes.get(name, ""))), ""
    )
    element_id = attributes.get("id", "").strip()
    fields: list[tuple[str, str]] = []
    if component:
        fields.append(("component", component[:MAX_ATTRIBUTE_CHARS]))
    if test_id:
        fields.append(("testid", test_id[:MAX_ATTRIBUTE_CHARS]))
    tag = node.tag_name or _last_tag(selector)
    if tag:
        fields.append(("tag", tag))
    if test_id:
        # A test id is the developer's own name for the element: text and path may change
        # (translations, a moved button) while it still names the same one.
        return ElementIdentity(tuple(fields), strong=True)
    if element_id and not is_generated_id(element_id):
        fields.append(("id", element_id[:MAX_ATTRIBUTE_CHARS]))
    for name in NAMING_ATTRIBUTES:
        value = attributes.get(name, "").strip()
        if value:
            fields.append((name, value[:MAX_ATTRIBUTE_CHARS]))
    text = normalize_text(node.text)
    if text:
        fields.append(("text", text))
    path = stable_path(selector)
    if path:
        fields.append(("path", path))
    return ElementIdentity(tuple(fields), strong=bool(component))


def is_html_tag_name(name: str) -> bool:
    """An element name as the DOM's ``tagName`` writes it (``BUTTON``, ``MY-WIDGET``) or as
    ``normalize_selector`` lowered it: not a component's (``Button``), whose case is kept."""
    lowered = name.lower()
    return (name == lowered or name == name.upper()) and (
        lowered in HTML_ELEMENT_NAMES or "-" in name
    )


def _last_tag(selector: str) -> str:
    """The last compound's element name when the node names none (a selector-only producer)."""
    last = re.split(r"[\s>+~]+", mask_brackets(selector).strip())[-1]
    match = re.match(r"[A-Za-z][A-Za-z0-9-]*", last)
    if match is None:
        return ""
    name = match.group()
    return name.lower() if is_html_tag_name(name) else name
