"""The project's ignore selectors: clicks on elements an operator muted, without an SDK release.

Each rule is a CSS selector of the common forms: ``#id``, ``.class``, ``tag``, ``[attr]``,
``[attr="value"]`` and their compounds (``button.btn[type=submit]``), matched against the clicked
element (its tag, id, classes and attributes as the SDK sent them, then the last part of its
selector). A rule with ancestors (``nav > a``) matches when the breadcrumb's selector ends with it.
"""

import re
from dataclasses import dataclass

from replays.detection.breadcrumbs import ClickBreadcrumb, normalize_selector

_TAG = re.compile(r"[A-Za-z][\w-]*|\*")
_PART = re.compile(
    r"""\#(?P<id>[\w-]+)
      | \.(?P<cls>[\w-]+)
      | \[\s*(?P<attr>[\w:-]+)\s*
          (?:=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\]\s]*))\s*)?
        \]
    """,
    re.VERBOSE,
)
_COMBINATOR = re.compile(r"\s*[>+~]\s*|\s+")
# The SDK records ``data-testid`` and ``data-test-id`` under the name ``testId``.
_ATTRIBUTE_ALIASES = {"data-testid": "testId", "data-test-id": "testId"}


@dataclass(frozen=True, slots=True)
class Compound:
    tag: str | None = None
    id: str | None = None
    classes: frozenset[str] = frozenset()
    attributes: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    text: str
    compound: Compound | None  # None: the rule is matched as a selector suffix only
    has_ancestors: bool


def parse_compound(text: str) -> Compound | None:
    """A compound selector, or None when it uses syntax this matcher does not read."""
    index, tag = 0, None
    if match := _TAG.match(text):
        tag, index = match.group().lower(), match.end()
    element_id, classes, attributes = None, set(), []
    while index < len(text):
        match = _PART.match(text, index)
        if match is None:
            return None
        if match.group("id"):
            element_id = match.group("id")
        elif match.group("cls"):
            classes.add(match.group("cls"))
        else:
            value = next((v for v in match.group("dq", "sq", "bare") if v is not None), None)
            attributes.append((match.group("attr"), value))
        index = match.end()
    if tag is None and element_id is None and not classes and not attributes:
        return None
    return Compound(tag, element_id, frozenset(classes), tuple(attributes))


def parse_ignore_selectors(text: str) -> tuple[IgnoreRule, ...]:
    """Rules from the admin's field: one selector per line, or several separated by commas."""
    rules = []
    for line in text.replace(",", "\n").splitlines():
        rule = normalize_selector(" ".join(line.split()))
        if not rule:
            continue
        compounds = [part for part in _COMBINATOR.split(rule) if part]
        rules.append(IgnoreRule(rule, parse_compound(compounds[-1]), len(compounds) > 1))
    return tuple(rules)


def _last_compound(selector: str) -> Compound | None:
    parts = [part for part in _COMBINATOR.split(selector) if part]
    return parse_compound(parts[-1]) if parts else None


def _matches(rule: Compound, breadcrumb: ClickBreadcrumb) -> bool:
    node = breadcrumb.node
    described = _last_compound(breadcrumb.selector) or Compound()
    tag = node.tag_name or described.tag
    element_id = node.attributes.get("id") or described.id
    classes = set(node.attributes.get("class", "").split()) | described.classes
    attributes = dict(described.attributes) | node.attributes
    if rule.tag not in (None, "*") and rule.tag != tag:
        return False
    if rule.id is not None and rule.id != element_id:
        return False
    if not rule.classes <= classes:
        return False
    for name, value in rule.attributes:
        actual = attributes.get(name, attributes.get(_ATTRIBUTE_ALIASES.get(name, ""), None))
        if name == "id":
            actual = element_id
        if actual is None or (value is not None and actual != value):
            return False
    return True


def is_ignored(breadcrumb: ClickBreadcrumb, rules: tuple[IgnoreRule, ...]) -> bool:
    """Whether any rule mutes this click."""
    selector = " ".join(breadcrumb.selector.split())
    for rule in rules:
        if selector == rule.text or (rule.has_ancestors and _ends_with(selector, rule.text)):
            return True
        if (
            not rule.has_ancestors
            and rule.compound is not None
            and _matches(rule.compound, breadcrumb)
        ):
            return True
    return False


def _ends_with(selector: str, suffix: str) -> bool:
    """``suffix`` ends ``selector`` at a compound boundary (``nav > a`` ends ``body > nav > a``)."""
    squeeze = re.compile(r"\s*([>+~])\s*")
    selector, suffix = squeeze.sub(r"\1", selector), squeeze.sub(r"\1", suffix)
    if not selector.endswith(suffix):
        return False
    before = selector[: len(selector) - len(suffix)]
    return before == "" or before[-1] in " >+~"
