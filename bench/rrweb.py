"""rrweb events shaped like the browser SDK's, made by a seeded random generator.

The shapes follow the SDK's captures (``../shared/fixtures/sdk/``): a segment 0 opens with the
meta, options and full-snapshot events, the DOM as nested element and text nodes with their
attributes; later segments hold incremental events (mouse moves and interactions, scrolls, masked
inputs, DOM mutations that add whole subtrees), the SDK's ``ui.click``, ``console`` and
``navigation`` breadcrumbs, performance spans, and now and then a ``ui.slowClickDetected`` or
``ui.multiClick`` breadcrumb. Sizes are set by the caller; content is drawn from ``random.Random``
only, so one seed gives the same bytes on every machine.
"""

import itertools
import random
from dataclasses import dataclass
from typing import Any

import orjson

Event = dict[str, Any]
Node = dict[str, Any]


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SYLLABLES = _split(
    "ka ri to na mo le si ve pa dan or el un ta ble ing er ti con pro ment ex de com "
    "sta lo gi fa mi ra se ne bu ca ho ster ful less port form"
)
_UTILITY_CLASSES = _split(
    "flex grid block hidden inline-flex items-center justify-between justify-center gap-2 gap-4 "
    "p-2 p-4 px-4 py-2 mt-2 mb-4 mx-auto w-full h-full rounded rounded-lg shadow border "
    "text-sm text-lg font-bold font-medium text-gray-700 bg-white bg-gray-50 hover:bg-gray-100 "
    "truncate sr-only container col-span-2 md:grid-cols-3 lg:grid-cols-4 space-y-2"
)
_PROPERTIES = _split(
    "display margin padding color background font-size line-height border width height "
    "align-items justify-content gap flex-direction position top left z-index opacity transition "
    "box-shadow border-radius"
)
_CSS_VALUES = ("0", "4px", "1rem", "auto", "flex", "100%", "none", "center")
_PAGES = ("/", "/products/{id}", "/category/{slug}", "/cart", "/checkout", "/account/orders/{id}")
_COMPONENTS = ("ProductCard", "AddToCart", "CheckoutForm", "NavBar", "SearchBox", "OrderRow")
SLOW_CLICK = "ui.slowClickDetected"
MULTI_CLICK = "ui.multiClick"


class Words:
    """A made-up vocabulary drawn with Zipf-like weights, so text compresses like prose."""

    def __init__(self, rng: random.Random, size: int = 3000) -> None:
        self.rng = rng
        words = set()
        while len(words) < size:
            words.add("".join(rng.choices(_SYLLABLES, k=rng.choice((1, 2, 2, 3, 3, 4)))))
        self.words = sorted(words)
        rng.shuffle(self.words)
        self.cumulative = list(itertools.accumulate(1 / rank for rank in range(1, size + 1)))

    def some(self, count: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=count)

    def sentence(self, low: int = 3, high: int = 20) -> str:
        text = " ".join(self.some(self.rng.randint(low, high)))
        return text[:1].upper() + text[1:] + self.rng.choice(".....!?:")

    def slug(self) -> str:
        return "-".join(self.some(self.rng.randint(1, 3)))


@dataclass(frozen=True, slots=True)
class Clickable:
    """An element the SDK watches for clicks (a, button, input[type=submit]), as its breadcrumbs
    describe it."""

    node_id: int
    tag_name: str
    text: str
    attributes: dict[str, str]
    selector: str


def size_of(value: object) -> int:
    return len(orjson.dumps(value))


class Page:
    """One page of a session: its DOM ids, its clickable elements, and a clock."""

    def __init__(self, rng: random.Random, words: Words, origin: str, start_ms: int) -> None:
        self.rng = rng
        self.words = words
        self.origin = origin
        self.now_ms = start_ms
        self.path = self.new_path()
        self.next_id = 1
        self.element_ids: list[int] = []
        self.clickables: list[Clickable] = []
        self.class_pool = [f"css-{rng.getrandbits(28):07x}" for _ in range(120)]

    @property
    def url(self) -> str:
        return self.origin + self.path

    def new_path(self) -> str:
        template = self.rng.choice(_PAGES)
        return template.format(id=self.rng.randint(1, 99_999), slug=self.words.slug())

    def tick(self, low_ms: int = 5, high_ms: int = 400) -> int:
        self.now_ms += self.rng.randint(low_ms, high_ms)
        return self.now_ms

    # --- serialized DOM nodes (rrweb's snapshot format) --------------------------------------
    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def text(self, content: str, style: bool = False) -> Node:
        node: Node = {"type": 3, "textContent": content}
        if style:
            node["isStyle"] = True
        node["id"] = self.new_id()
        return node

    def element(
        self, tag: str, attributes: dict[str, Any], children: list[Node], node_id: int
    ) -> Node:
        self.element_ids.append(node_id)
        return {
            "type": 2,
            "tagName": tag,
            "attributes": attributes,
            "childNodes": children,
            "id": node_id,
        }

    def classes(self, low: int = 1, high: int = 5) -> str:
        rng = self.rng
        picked = rng.sample(_UTILITY_CLASSES, rng.randint(low, high))
        if rng.random() < 0.6:
            picked.append(rng.choice(self.class_pool))
        return " ".join(picked)

    def leaf(self, tag: str, attributes: dict[str, Any], content: str) -> Node:
        node_id = self.new_id()
        return self.element(tag, attributes, [self.text(content)], node_id)

    def clickable(self, tag: str, parents: list[str]) -> Node:
        """A button, link or submit input, remembered for the click breadcrumbs."""
        rng, words = self.rng, self.words
        node_id = self.new_id()
        label = " ".join(words.some(rng.randint(1, 3))).capitalize()
        attributes: dict[str, str] = {"class": self.classes(1, 3)}
        if rng.random() < 0.5:
            attributes["id"] = f"{words.slug()}-{rng.randint(1, 999)}"
        if rng.random() < 0.3:
            attributes["data-testid"] = words.slug()
        if rng.random() < 0.3:
            attributes["data-sentry-component"] = rng.choice(_COMPONENTS)
        if tag == "a":
            attributes["href"] = f"{self.origin}/{words.slug()}/{rng.randint(1, 9999)}"
        if tag == "input":
            attributes.update(type="submit", value=label)
            children: list[Node] = []
        else:
            children = [self.text(label)]
        node = self.element(tag, attributes, children, node_id)
        compound = tag + (f"#{attributes['id']}" if "id" in attributes else "")
        compound += "".join(f".{name}" for name in attributes["class"].split()[:2])
        # The SDK describes the node with its attributes, ``data-testid`` as ``testId``.
        described = {
            ("testId" if key == "data-testid" else key): value
            for key, value in attributes.items()
            if key != "href"
        }
        self.clickables.append(
            Clickable(node_id, tag, label, described, " > ".join([*parents[-4:], compound]))
        )
        return node

    def svg_icon(self) -> Node:
        rng = self.rng
        svg_id, path_id = self.new_id(), self.new_id()
        points = " ".join(f"{rng.uniform(0, 24):.2f},{rng.uniform(0, 24):.2f}" for _ in range(24))
        path = {"type": 2, "tagName": "path", "attributes": {"d": f"M{points}Z"}, "childNodes": []}
        path.update(isSVG=True, id=path_id)
        svg = {
            "type": 2,
            "tagName": "svg",
            "attributes": {"viewBox": "0 0 24 24", "class": "h-5 w-5", "aria-hidden": "true"},
            "childNodes": [path],
            "isSVG": True,
            "id": svg_id,
        }
        self.element_ids.append(svg_id)
        return svg

    def block(self, parents: list[str]) -> Node:
        """A piece of a real-looking page: a product grid, an article, a list, a table or a form."""
        kind = self.rng.choice(("grid", "article", "list", "table", "form", "grid", "article"))
        return getattr(self, f"_{kind}")(parents)

    def _grid(self, parents: list[str]) -> Node:
        rng, words = self.rng, self.words
        grid_id = self.new_id()
        cards = []
        for _ in range(rng.randint(3, 12)):
            card_id = self.new_id()
            here = [*parents, "div.grid", "div.card"]
            image = {
                "src": f"{self.origin}/img/{words.slug()}-{rng.randint(1, 9999)}.webp",
                "alt": words.sentence(2, 6),
                "loading": "lazy",
                "width": "320",
                "height": "240",
            }
            children = [
                self.element("img", image, [], self.new_id()),
                self.text("\n      "),
                self.leaf("h3", {"class": self.classes(1, 2)}, words.sentence(2, 6)),
                self.leaf("p", {"class": self.classes(1, 3)}, words.sentence(8, 30)),
                self.leaf(
                    "span", {"class": "price"}, f"${rng.randint(1, 999)}.{rng.randint(0, 99):02d}"
                ),
                self.svg_icon(),
                self.clickable(rng.choice(("button", "button", "a")), here),
            ]
            cards.append(
                self.element("div", {"class": "card " + self.classes()}, children, card_id)
            )
            cards.append(self.text("\n    "))
        return self.element("div", {"class": "grid " + self.classes()}, cards, grid_id)

    def _article(self, parents: list[str]) -> Node:
        rng, words = self.rng, self.words
        section_id = self.new_id()
        children = [self.leaf("h2", {"class": self.classes(1, 2)}, words.sentence(3, 9))]
        for _ in range(rng.randint(2, 8)):
            paragraph_id = self.new_id()
            inline = [self.text(words.sentence(10, 40) + " ")]
            if rng.random() < 0.5:
                inline.append(self.leaf("strong", {}, " ".join(words.some(rng.randint(1, 4)))))
                inline.append(self.text(" " + words.sentence(5, 25)))
            if rng.random() < 0.4:
                inline.append(self.clickable("a", [*parents, "section", "p"]))
            children.append(self.element("p", {"class": self.classes(0, 2)}, inline, paragraph_id))
        return self.element("section", {"class": self.classes()}, children, section_id)

    def _list(self, parents: list[str]) -> Node:
        rng, words = self.rng, self.words
        list_id = self.new_id()
        items = []
        for _ in range(rng.randint(4, 20)):
            item_id = self.new_id()
            if rng.random() < 0.5:
                content = [self.clickable("a", [*parents, "ul", "li"])]
            else:
                content = [self.text(words.sentence(2, 10))]
            items.append(self.element("li", {"class": self.classes(0, 2)}, content, item_id))
        return self.element("ul", {"class": self.classes(), "role": "list"}, items, list_id)

    def _table(self, parents: list[str]) -> Node:
        rng, words = self.rng, self.words
        table_id, body_id = self.new_id(), self.new_id()
        rows = []
        columns = rng.randint(3, 7)
        for _ in range(rng.randint(3, 25)):
            row_id = self.new_id()
            cells = [
                self.leaf(
                    "td",
                    {"class": "px-4 py-2"},
                    rng.choice((words.sentence(1, 4), str(rng.randint(0, 10**6)))),
                )
                for _ in range(columns)
            ]
            rows.append(self.element("tr", {}, cells, row_id))
        body = self.element("tbody", {}, rows, body_id)
        return self.element("table", {"class": self.classes()}, [body], table_id)

    def _form(self, parents: list[str]) -> Node:
        rng, words = self.rng, self.words
        form_id = self.new_id()
        fields = []
        for _ in range(rng.randint(2, 8)):
            name = words.slug()
            fields.append(self.leaf("label", {"for": name}, words.sentence(1, 4)))
            attributes = {
                "id": name,
                "name": name,
                "type": rng.choice(("text", "email", "tel")),
                "class": self.classes(1, 3),
            }
            fields.append(self.element("input", attributes, [], self.new_id()))
        fields.append(self.clickable(rng.choice(("button", "input")), [*parents, "form"]))
        return self.element("form", {"method": "post", "class": self.classes()}, fields, form_id)

    def css_value(self) -> str:
        rng = self.rng
        return rng.choice(_CSS_VALUES) if rng.random() < 0.7 else f"#{rng.getrandbits(24):06x}"

    def stylesheet(self, target_bytes: int) -> Node:
        """An inlined style sheet (rrweb's ``_cssText``) of about ``target_bytes``."""
        rng, rules, size = self.rng, [], 0
        while size < target_bytes:
            pseudo = rng.choice(("", " > a", ":hover", " .icon", "::before"))
            selector = f".{rng.choice(self.class_pool)}{pseudo}"
            body = ";".join(
                f"{prop}:{self.css_value()}" for prop in rng.sample(_PROPERTIES, rng.randint(1, 6))
            )
            rule = f"{selector}{{{body}}}"
            rules.append(rule)
            size += len(rule)
        node_id = self.new_id()
        return self.element("style", {"_cssText": "".join(rules)}, [], node_id)


def full_snapshot(page: Page, target_bytes: int) -> list[Event]:
    """The events that open a segment 0: meta, options, the DOM of about ``target_bytes``."""
    rng, words = page.rng, page.words
    start = page.now_ms
    document_id, doctype_id, html_id, head_id = (page.new_id() for _ in range(4))
    head = page.element(
        "head",
        {},
        [
            page.leaf("title", {}, words.sentence(2, 5)),
            page.element("meta", {"charset": "utf-8"}, [], page.new_id()),
            page.element(
                "meta",
                {"name": "viewport", "content": "width=device-width, initial-scale=1"},
                [],
                page.new_id(),
            ),
            page.stylesheet(int(target_bytes * rng.uniform(0.08, 0.2))),
        ],
        head_id,
    )
    body_id, main_id = page.new_id(), page.new_id()
    header = page.element(
        "header",
        {"class": page.classes()},
        [page.clickable("a", ["body", "header"]) for _ in range(6)],
        page.new_id(),
    )
    blocks: list[Node] = []
    size = size_of(head) + size_of(header) + 600
    while size < target_bytes:
        block = page.block(["body", "main"])
        blocks += [block, page.text("\n  ")]
        size += size_of(block) + 40
    main = page.element("main", {"class": page.classes()}, blocks, main_id)
    body = page.element("body", {"class": page.classes()}, [header, page.text("\n"), main], body_id)
    html = page.element("html", {"lang": "en"}, [head, page.text("\n"), body], html_id)
    document = {
        "type": 0,
        "childNodes": [
            {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": doctype_id},
            html,
        ],
        "id": document_id,
    }
    options = {
        "shouldRecordCanvas": False,
        "sessionSampleRate": 1,
        "errorSampleRate": 1,
        "useCompressionOption": True,
        "blockAllMedia": False,
        "maskAllText": rng.random() < 0.5,
        "maskAllInputs": True,
        "useCompression": False,
        "networkDetailHasUrls": False,
        "networkCaptureBodies": True,
        "networkRequestHasHeaders": True,
        "networkResponseHasHeaders": True,
    }
    return [
        {"type": 0, "data": {}, "timestamp": start},
        {"type": 5, "timestamp": start + 1, "data": {"tag": "options", "payload": options}},
        {"type": 1, "data": {}, "timestamp": start + 8},
        {
            "type": 4,
            "data": {"href": page.url, "width": 1280, "height": 720},
            "timestamp": start + 8,
        },
        {
            "type": 2,
            "data": {"node": document, "initialOffset": {"left": 0, "top": 0}},
            "timestamp": start + 24,
        },
        _span(
            page,
            "navigation.navigate",
            page.url,
            {"size": rng.randint(1000, 90_000), "duration": rng.uniform(50, 900)},
        ),
    ]


# --- incremental events -------------------------------------------------------------------------
def _incremental(page: Page, data: dict[str, Any]) -> Event:
    return {"type": 3, "data": data, "timestamp": page.tick()}


def _mouse_moves(page: Page) -> Event:
    """A pointer's path, as the SDK batches it: small steps over a few elements."""
    rng = page.rng
    x, y = rng.randint(0, 1280), rng.randint(0, 720)
    node_id, positions = rng.choice(page.element_ids), []
    offset = -rng.randint(200, 500)
    for _ in range(rng.randint(1, 12)):
        x, y = (
            min(1280, max(0, x + rng.randint(-40, 40))),
            min(720, max(0, y + rng.randint(-25, 25))),
        )
        if rng.random() < 0.2:
            node_id = rng.choice(page.element_ids)
        offset = min(0, offset + rng.randint(10, 60))
        positions.append({"x": x, "y": y, "id": node_id, "timeOffset": offset})
    return _incremental(page, {"source": 1, "positions": positions})


def _interaction(page: Page, node_id: int, kind: int) -> Event:
    rng = page.rng
    return _incremental(
        page,
        {
            "source": 2,
            "type": kind,
            "id": node_id,
            "x": rng.uniform(0, 1280),
            "y": rng.uniform(0, 720),
            "pointerType": 0,
        },
    )


def _mutation(page: Page) -> Event:
    rng = page.rng
    data: dict[str, Any] = {"source": 0, "texts": [], "attributes": [], "removes": [], "adds": []}
    for _ in range(rng.randint(0, 6)):
        data["texts"].append(
            {"id": rng.choice(page.element_ids), "value": page.words.sentence(1, 8)}
        )
    for _ in range(rng.randint(0, 6)):
        changed = {"class": page.classes(), "style": f"opacity: {rng.random():.2f};"}
        data["attributes"].append({"id": rng.choice(page.element_ids), "attributes": changed})
    for _ in range(rng.randint(0, 4)):
        data["removes"].append(
            {"parentId": rng.choice(page.element_ids), "id": rng.choice(page.element_ids)}
        )
    if rng.random() < 0.6:
        parent = rng.choice(page.element_ids)
        node = (
            page.block(["body", "main"])
            if rng.random() < 0.5
            else page.leaf("div", {"class": page.classes()}, page.words.sentence())
        )
        data["adds"].append({"parentId": parent, "nextId": None, "node": node})
    return _incremental(page, data)


def _breadcrumb(
    page: Page, category: str, message: str, data: dict[str, Any] | None = None, **extra: Any
) -> Event:
    timestamp_ms = page.tick()
    payload: dict[str, Any] = {
        "timestamp": timestamp_ms / 1000,
        "type": "default",
        "category": category,
        "message": message,
        **extra,
    }
    if data is not None:
        payload["data"] = data
    return {"type": 5, "timestamp": timestamp_ms, "data": {"tag": "breadcrumb", "payload": payload}}


def _node(clickable: Clickable) -> dict[str, Any]:
    return {
        "id": clickable.node_id,
        "tagName": clickable.tag_name,
        "textContent": clickable.text,
        "attributes": clickable.attributes,
    }


def _span(page: Page, op: str, description: str, data: dict[str, Any]) -> Event:
    start = page.tick() / 1000
    end = start + page.rng.uniform(0.005, 0.8)
    payload = {
        "op": op,
        "description": description,
        "startTimestamp": start,
        "endTimestamp": end,
        "data": data,
    }
    # The SDK stamps performance spans in seconds, unlike the other events (see the captures).
    return {"type": 5, "timestamp": start, "data": {"tag": "performanceSpan", "payload": payload}}


def _fetch(page: Page) -> Event:
    rng = page.rng
    url = f"{page.origin}/api/{page.words.slug()}/{rng.randint(1, 9999)}?page={rng.randint(1, 9)}"
    data = {
        "method": rng.choice(("GET", "GET", "POST")),
        "statusCode": rng.choice((200, 200, 200, 201, 304, 404, 500)),
        "request": {"size": rng.randint(0, 2000), "headers": {"content-type": "application/json"}},
        "response": {
            "size": rng.randint(100, 60_000),
            "headers": {"content-type": "application/json", "cache-control": "no-cache"},
        },
    }
    return _span(page, rng.choice(("resource.fetch", "resource.xhr")), url, data)


def _user_click(page: Page, target: Clickable) -> list[Event]:
    """What one ordinary click leaves: pointer events and the SDK's ``ui.click`` breadcrumb."""
    return [
        _mouse_moves(page),
        _interaction(page, target.node_id, 1),
        _interaction(page, target.node_id, 0),
        _interaction(page, target.node_id, 2),
        _breadcrumb(
            page, "ui.click", target.selector, {"nodeId": target.node_id, "node": _node(target)}
        ),
    ]


def _moment(page: Page) -> list[Event]:
    """A few seconds of a session: what the SDK records between two flushes, in small parts."""
    rng = page.rng
    roll = rng.random()
    if roll < 0.35:
        return [_mouse_moves(page) for _ in range(rng.randint(1, 5))]
    if roll < 0.55:
        return _user_click(page, rng.choice(page.clickables))
    if roll < 0.8:
        return [_mutation(page)]
    if roll < 0.87:
        return [_incremental(page, {"source": 3, "id": 1, "x": 0, "y": rng.randint(0, 8000)})]
    if roll < 0.92:
        return [
            _incremental(
                page,
                {
                    "source": 5,
                    "text": "*" * rng.randint(1, 20),
                    "isChecked": False,
                    "id": rng.choice(page.element_ids),
                },
            )
        ]
    if roll < 0.97:
        return [_fetch(page)]
    if roll < 0.99:
        arguments = [page.words.sentence(2, 12), {"status": rng.randint(100, 599)}]
        return [
            _breadcrumb(
                page,
                "console",
                page.words.sentence(2, 12),
                {"arguments": arguments, "logger": "console"},
                level="log",
            )
        ]
    previous = page.url
    page.path = page.new_path()
    return [_breadcrumb(page, "navigation", "", {"from": previous, "to": page.url})]


def click_breadcrumb(page: Page, kind: str, target: Clickable | None = None) -> Event:
    """A ``ui.slowClickDetected`` (``dead``, ``rage``, ``slow``) or ``ui.multiClick`` (``multi``)
    breadcrumb, in the SDK's shape (see the captures)."""
    rng = page.rng
    target = target or rng.choice(page.clickables)
    data: dict[str, Any] = {"nodeId": target.node_id, "node": _node(target), "url": page.url}
    if rng.random() < 0.3:
        data["route"] = page.path.rsplit("/", 1)[0] + "/:id"
    if kind == "multi":
        data.update(clickCount=rng.randint(2, 6), metric=True)
        return _breadcrumb(page, MULTI_CLICK, target.selector, data)
    if kind == "slow":
        data.update(
            timeAfterClickMs=rng.randint(3000, 6999),
            endReason="mutation",
            clickCount=rng.randint(1, 2),
        )
    else:
        count = rng.randint(5, 12) if kind == "rage" else rng.randint(1, 4)
        data.update(timeAfterClickMs=7000, endReason="timeout", clickCount=count)
    return _breadcrumb(page, SLOW_CLICK, target.selector, data)


def incremental_segment(page: Page, target_bytes: int, clicks: tuple[str, ...] = ()) -> list[Event]:
    """About ``target_bytes`` of incremental events, with a click breadcrumb of each kind in
    ``clicks`` at a random place (the SDK adds it when it gives up waiting)."""
    events: list[Event] = []
    size = 2
    while size < target_bytes:
        for event in _moment(page):
            events.append(event)
            size += size_of(event) + 1
    for kind in clicks:
        events.insert(page.rng.randrange(len(events) + 1), click_breadcrumb(page, kind))
    memory = {
        "memory": {
            "jsHeapSizeLimit": 4395630592,
            "totalJSHeapSize": 7676630,
            "usedJSHeapSize": page.rng.randint(10**6, 10**8),
        }
    }
    events.append(_span(page, "memory", "memory", memory))
    return events
