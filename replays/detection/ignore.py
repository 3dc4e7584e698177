"""The project's ignore selectors: clicks on elements an operator muted, without an SDK release.

Each rule is a CSS selector of the common forms: ``#id``, ``.class``, ``tag``, ``[attr]``,
``[attr="value"]`` and their compounds (``button.btn[type=submit]``), matched against the clicked
element (its tag, id, classes and attributes as the SDK sent them, completed by the last part of
its selector). Ancestors (``nav > a``, ``main a``) are matched against the rest of the
breadcrumb's selector, the path the SDK wrote. Other syntax (pseudo-classes, sibling combinators)
matches only a breadcrumb whose selector is exactly the rule.
"""

import re
from dataclasses import dataclass

from replays.detection.breadcrumbs import ClickBreadcrumb, fold_element_names, mask_brackets

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
_COMBINATOR_SPLIT = re.compile(r"(\s*[>+~]\s*|\s+)")
_RULE_SEPARATOR = re.compile(r",")
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
    # Compounds from the element outwards, each with the combinator that joins it to the one
    # before it ("" for the element itself). None: syntax this matcher does not read; the rule
    # then matches a breadcrumb's selector only when the two are equal.
    chain: tuple[tuple[str, Compound], ...] | None


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


def _split_outside_brackets(pattern: re.Pattern[str], text: str) -> list[str]:
    """``pattern.split(text)``, its separators only outside ``[...]``: an attribute's value may
    hold spaces, ``>`` or commas (``[aria-label="Close, then save"]``, as the SDK writes it)."""
    parts, start = [], 0
    for match in pattern.finditer(mask_brackets(text)):
        parts.append(text[start : match.start()])
        parts += [text[match.start(g) : match.end(g)] for g in range(1, pattern.groups + 1)]
        start = match.end()
    parts.append(text[start:])
    return parts


def parse_chain(selector: str) -> tuple[tuple[str, Compound], ...] | None:
    """``nav > a.x`` → ``(("", a.x), (">", nav))``: the element first, then its ancestors."""
    parts = _split_outside_brackets(_COMBINATOR_SPLIT, selector.strip())
    compounds, combinators = parts[0::2], ["", *(c.strip() or " " for c in parts[1::2])]
    chain = []
    for text, combinator in zip(reversed(compounds), reversed(combinators), strict=True):
        compound = parse_compound(text)
        if compound is None or combinator in ("+", "~"):
            return None
        chain.append((combinator, compound))
    # Each compound's combinator is the one to its left: shift them onto the next ancestor.
    shifted = [("", chain[0][1])]
    shifted += [(chain[i - 1][0], chain[i][1]) for i in range(1, len(chain))]
    return tuple(shifted)


def parse_ignore_selectors(text: str) -> tuple[IgnoreRule, ...]:
    """Rules from the admin's field: one selector per line, or several separated by commas."""
    rules = []
    for line in text.splitlines():
        for part in _split_outside_brackets(_RULE_SEPARATOR, line):
            rule = fold_element_names(" ".join(part.split()))
            if rule:
                rules.append(IgnoreRule(rule, parse_chain(rule)))
    return tuple(rules)


def _covers(
    rule: Compound,
    tag: str | None,
    element_id: str | None,
    classes: set[str],
    attributes: dict[str, str],
) -> bool:
    if rule.tag not in (None, "*") and rule.tag != tag:
        return False
    if rule.id is not None and rule.id != element_id:
        return False
    if not rule.classes <= classes:
        return False
    for name, value in rule.attributes:
        if name == "id":
            actual = element_id
        else:
            actual = attributes.get(name, attributes.get(_ATTRIBUTE_ALIASES.get(name, "")))
        if actual is None or (value is not None and actual != value):
            return False
    return True


def _covers_element(rule: Compound, breadcrumb: ClickBreadcrumb, described: Compound) -> bool:
    """The clicked element: what the SDK sent of the node, completed by its selector's last part."""
    node = breadcrumb.node
    return _covers(
        rule,
        node.tag_name or described.tag,
        node.attributes.get("id") or described.id,
        set(node.attributes.get("class", "").split()) | described.classes,
        dict(described.attributes) | node.attributes,
    )


def _covers_ancestor(rule: Compound, ancestor: Compound) -> bool:
    return _covers(
        rule, ancestor.tag, ancestor.id, set(ancestor.classes), dict(ancestor.attributes)
    )


def _chain_matches(
    rule: tuple[tuple[str, Compound], ...],
    breadcrumb: ClickBreadcrumb,
    path: tuple[tuple[str, Compound], ...],
) -> bool:
    """The element, then the rule's ancestors outwards. A descendant compound may match several
    ancestors, and the nearest is not always the one the rest of the rule needs (``section > div
    a`` in ``section > div > div > a``): every position each rule step can reach is kept."""
    if not _covers_element(rule[0][1], breadcrumb, path[0][1] if path else Compound()):
        return False
    ancestors = [compound for _, compound in path[1:]]
    positions = {0}  # where the next rule step may look: the index of an ancestor
    for combinator, compound in rule[1:]:
        if combinator == ">":
            candidates = {index for index in positions if index < len(ancestors)}
        else:
            candidates = set(range(min(positions), len(ancestors)))
        positions = {
            index + 1 for index in candidates if _covers_ancestor(compound, ancestors[index])
        }
        if not positions:
            return False
    return True


def is_ignored(breadcrumb: ClickBreadcrumb, rules: tuple[IgnoreRule, ...]) -> bool:
    """Whether any rule mutes this click."""
    if not rules:
        return False
    # Element names compare without case, as in ``parse_compound``: the rule ``smartsearchbar``
    # mutes the SDK's ``SmartSearchBar``, as it did when selectors were stored folded.
    selector = fold_element_names(" ".join(breadcrumb.selector.split()))
    path = parse_chain(selector) or ()
    for rule in rules:
        if selector == rule.text:
            return True
        if rule.chain is not None and _chain_matches(rule.chain, breadcrumb, path):
            return True
    return False
