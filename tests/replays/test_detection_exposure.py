"""The pure exposure core: pages and element clicks of a segment, named as grouping names them."""

from collections import Counter
from datetime import date

import orjson

from replays.detection.breadcrumbs import Node
from replays.detection.classify import ClickType
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.detection.element_identity import element_identity
from replays.detection.exposure import (
    MAX_COUNTED_CLICKS,
    count_clicks,
    element_description,
    element_key_of_fingerprint,
    key_hash,
    page_key,
    segment_exposure,
)
from replays.detection.fingerprint import fingerprint, page_of
from replays.detection.replay_event import ReplayEvent
from tests.replays.messages import MAX_INFLATED_BYTES, RECEIVED, fixture_messages

CAPTURE_DAY = date(2026, 11, 24)


def fixture_detections():
    for raw in fixture_messages():
        segment = decode_segment(raw, MAX_INFLATED_BYTES)
        yield segment, detect_clicks(segment, DetectionSettings(), float(RECEIVED))


def ui_click(selector: str, attributes: dict, seconds: float = 1_795_537_770.0) -> dict:
    tag = selector.rsplit(" ", 1)[-1].split("#")[0].split(".")[0]
    return {
        "type": 5,
        "timestamp": seconds * 1000,
        "data": {
            "tag": "breadcrumb",
            "payload": {
                "timestamp": seconds,
                "type": "default",
                "category": "ui.click",
                "message": selector,
                "data": {"nodeId": 1, "node": {"id": 1, "tagName": tag, "attributes": attributes}},
            },
        },
    }


def test_an_element_is_named_as_its_version_2_fingerprint_names_it():
    for node, selector in [
        (Node(1, "button", "Buy", {"testId": "buy"}), "body > button#buy"),  # strong
        (Node(2, "button", "Save", {"id": "save"}), "body > button#save.btn"),  # weak: + page
    ]:
        identity = element_identity(node, selector)
        page = page_of(None, "https://shop.example/orders/12")
        current = fingerprint(
            ClickType.DEAD, identity, selector, None, "https://shop.example/orders/12"
        )
        assert current[0] == f"v2 {ClickType.DEAD.value} {element_description(identity, page)}"
        assert element_key_of_fingerprint(current) == key_hash(element_description(identity, page))


def test_a_fingerprint_without_an_element_has_no_element_key():
    assert element_key_of_fingerprint(["replay_hydration_error", "/cart"]) is None
    assert element_key_of_fingerprint([]) is None


def test_pages_are_folded_as_grouping_folds_them():
    assert page_key("https://shop.example/orders/12?x=1") == page_key("/orders/99#top")
    assert page_key("https://shop.example/orders/12")[1] == "/orders/{id}"


def test_the_captures_clicks_count_under_their_issues_elements():
    """The SDK writes a ``ui.click`` for each click: each issue's element is found among them."""
    total: Counter = Counter()
    keys = {}
    pages = {}
    for segment, detection in fixture_detections():
        assert detection.exposure == segment_exposure(segment.replay_event, segment.events)
        total.update(detection.exposure.clicks)
        pages.update(detection.exposure.pages)
        for occurrence in detection.occurrences:
            keys[(occurrence.type_slug, occurrence.evidence_data["selector"])] = (
                element_key_of_fingerprint(occurrence.fingerprint)
            )
    assert sorted(pages.values()) == ["/cart", "/index.html"]
    assert sum(total.values()) == 9  # the capture's nine ui.click breadcrumbs
    clicks = {name: total[(key, CAPTURE_DAY)] for name, key in keys.items()}
    assert clicks == {
        ("replay_dead_click", "body > button#buy.btn.primary"): 2,
        ("replay_rage_click", "body > button#buy.btn.primary"): 2,
        ("replay_slow_click", "body > button#slowok.btn"): 1,
        ("replay_dead_click", "body > nav > a#cart"): 1,
        ("replay_dead_click", 'body > input#submit[type="submit"]'): 1,
    }


def test_a_segment_without_a_click_is_not_parsed():
    assert count_clicks(b"not json at all", None) == Counter()
    assert count_clicks(b'[{"type": 2, "data": {}}]', None) == Counter()


def test_clicks_are_bounded_per_segment_and_a_weak_element_is_counted_per_page():
    many = [ui_click("body > button.btn", {"class": "btn"})] * (MAX_COUNTED_CLICKS + 50)
    meta = {"type": 4, "timestamp": 0, "data": {"href": "https://shop.example/cart"}}
    counted = count_clicks(orjson.dumps([meta, *many]), "https://shop.example/")
    assert sum(counted.values()) == MAX_COUNTED_CLICKS
    ((key, day),) = counted
    identity = element_identity(Node(1, "button", "", {"class": "btn"}), "body > button.btn")
    assert key == key_hash(element_description(identity, "/cart"))
    assert day == CAPTURE_DAY


def test_no_page_counts_without_a_usable_day():
    exposure = segment_exposure(ReplayEvent(timestamp=None, urls=("https://a/x",)), b"[]")
    assert exposure.pages == {}


def test_clicks_read_in_place_are_the_clicks_of_a_whole_parse():
    """The SDK's compact JSON is read click by click; another writer's spacing is parsed whole:
    both count the same."""
    from replays.detection.exposure import _count_parsing_all

    for segment, _ in fixture_detections():
        url = segment.replay_event.request_url
        assert count_clicks(segment.events, url) == _count_parsing_all(segment.events, url)
    navigation = {
        "type": 5,
        "timestamp": 0,
        "data": {
            "tag": "breadcrumb",
            "payload": {"category": "navigation", "data": {"to": "/b/7"}},
        },
    }
    meta = {"type": 4, "data": {"href": "https://shop.example/a"}, "timestamp": 0}
    weak = ui_click("body > button.go", {"class": "go"})
    events = [meta, weak, {"type": 3, "data": {"text": '"ui.click"'}}, navigation, weak]
    compact = orjson.dumps(events)
    spaced = orjson.dumps(events, option=orjson.OPT_INDENT_2)
    counted = count_clicks(compact, None)
    assert counted == count_clicks(spaced, None) == _count_parsing_all(compact, None)
    assert sorted(counted.values()) == [1, 1]  # one on /a, one on /b/{id}: a weak element
