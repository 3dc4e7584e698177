"""Finding and reading the SDK's click breadcrumbs in a segment's rrweb events."""

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replays.detection import breadcrumbs as breadcrumbs_module
from replays.detection.breadcrumbs import (
    CLICK_CATEGORIES,
    MAX_SELECTOR_CHARS,
    MULTI_CLICK,
    SLOW_CLICK,
    Breadcrumbs,
    find_breadcrumbs,
    find_click_breadcrumbs,
    fold_element_names,
    may_have_breadcrumbs,
    normalize_selector,
    parse_node,
    selector_from_node,
)
from replays.detection.detect import decode_segment
from replays.detection.errors import InvalidSegment
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    captured_click,
    click_event,
    fixture_messages,
    scenario_messages,
    snapshot_events,
)


def find(*events) -> list:
    return find_click_breadcrumbs(orjson.dumps(list(events)))


def raw_click(payload: dict, **event) -> dict:
    """A click breadcrumb event whose payload is exactly ``payload``."""
    return {
        "type": 5,
        "timestamp": 1_700_000_000_000,
        **event,
        "data": {"tag": "breadcrumb", "payload": payload},
    }


def test_the_captures_click_breadcrumbs_are_found_in_recording_order():
    found = []
    for raw in fixture_messages():
        events = decode_segment(raw, MAX_INFLATED_BYTES).events
        parsed = orjson.loads(events)
        expected = [
            e["data"]["payload"]
            for e in parsed
            if e.get("type") == 5
            and e["data"].get("tag") == "breadcrumb"
            and e["data"]["payload"].get("category") in CLICK_CATEGORIES
        ]
        breadcrumbs = find_click_breadcrumbs(events)
        assert [b.category for b in breadcrumbs] == [p["category"] for p in expected]
        for breadcrumb, payload in zip(breadcrumbs, expected, strict=True):
            assert breadcrumb.selector == normalize_selector(payload["message"])
            assert breadcrumb.timestamp == payload["timestamp"]
            assert breadcrumb.url == payload["data"]["url"]
            assert breadcrumb.click_count == payload["data"]["clickCount"]
            assert breadcrumb.time_after_click_ms == payload["data"].get("timeAfterClickMs", 0)
            assert breadcrumb.node.id == payload["data"]["node"]["id"]
            assert breadcrumb.node.tag_name == payload["data"]["node"]["tagName"]
            assert breadcrumb.node.attributes == payload["data"]["node"]["attributes"]
        found += breadcrumbs
    assert {b.category for b in found} == {SLOW_CLICK, MULTI_CLICK}


def test_a_full_breadcrumb_is_read_field_by_field():
    event = click_event(
        "body > main > button#pay.btn",
        time_after_click_ms=7123.5,
        click_count=6,
        url="https://shop.example.com/checkout",
        route="/checkout",
        timestamp=1_700_000_123.25,
        node={
            "id": 7,
            "tagName": "BUTTON",
            "textContent": "Pay",
            "attributes": {"id": "pay", "class": "btn", "data-sentry-component": "PayButton"},
        },
    )
    [breadcrumb] = find(event)
    assert breadcrumb.category == SLOW_CLICK
    assert breadcrumb.selector == "body > main > button#pay.btn"
    assert breadcrumb.timestamp == 1_700_000_123.25
    assert breadcrumb.url == "https://shop.example.com/checkout"
    assert breadcrumb.route == "/checkout"
    assert breadcrumb.time_after_click_ms == 7123.5
    assert breadcrumb.end_reason == "timeout"
    assert breadcrumb.click_count == 6
    assert breadcrumb.node.id == 7
    assert breadcrumb.node.tag_name == "button"
    assert breadcrumb.node.text == "Pay"
    assert breadcrumb.node.component_name == "PayButton"


def test_other_events_and_breadcrumbs_are_skipped():
    events = [
        *snapshot_events(),
        {"type": 5, "data": {"tag": "performanceSpan", "payload": {"category": SLOW_CLICK}}},
        {"type": 3, "data": {"tag": "breadcrumb", "payload": {"category": SLOW_CLICK}}},
        {"type": 5, "data": {"tag": "breadcrumb", "payload": [SLOW_CLICK]}},
        {"type": 5, "data": "breadcrumb"},
        "ui.slowClickDetected",
        None,
        7,
        click_event("a#one"),
        click_event("a#two", category=MULTI_CLICK),
    ]
    assert [b.selector for b in find(*events)] == ["a#one", "a#two"]


def test_missing_fields_read_as_absent():
    [breadcrumb] = find(raw_click({"category": SLOW_CLICK}))
    assert breadcrumb.selector == "unknown"
    assert breadcrumb.timestamp == 1_700_000_000.0  # the rrweb event's, in ms
    assert breadcrumb.url is None
    assert breadcrumb.route is None
    assert breadcrumb.time_after_click_ms == 0
    assert breadcrumb.end_reason is None
    assert breadcrumb.click_count == 1
    assert breadcrumb.node.id is None
    assert breadcrumb.node.tag_name == ""
    assert breadcrumb.node.text == ""
    assert breadcrumb.node.attributes == {}
    assert breadcrumb.node.component_name is None


@pytest.mark.parametrize(
    "wrong",
    [None, True, False, 0, -3, 1.5, float("inf"), "", [], [1], {}],
)
def test_mistyped_fields_read_as_absent(wrong):
    payload = {
        "category": SLOW_CLICK,
        "message": wrong,
        "timestamp": wrong,
        "data": {
            "node": {"id": wrong, "tagName": wrong, "textContent": wrong, "attributes": wrong},
            "url": wrong,
            "route": wrong,
            "timeAfterClickMs": wrong if not isinstance(wrong, int | float) else "x",
            "endReason": wrong,
            "clickCount": wrong if not isinstance(wrong, int | float) else None,
        },
    }
    [breadcrumb] = find(raw_click(payload, timestamp=wrong))
    assert breadcrumb.selector == "unknown"
    assert isinstance(breadcrumb.timestamp, float)
    assert breadcrumb.url is None
    assert breadcrumb.route is None
    assert breadcrumb.time_after_click_ms == 0
    assert breadcrumb.end_reason is None
    assert breadcrumb.click_count == 1
    assert breadcrumb.node.tag_name == ""
    assert breadcrumb.node.attributes == {}


def test_numbers_sent_as_text_and_text_sent_as_objects_read_as_absent():
    payload = {
        "category": SLOW_CLICK,
        "message": "a#x",
        "timestamp": "1700000000",
        "data": {
            "node": {"tagName": {"x": 1}, "textContent": ["Pay"], "attributes": ["id", "x"]},
            "url": {"href": "https://shop.example.com/"},
            "route": ["/checkout"],
            "timeAfterClickMs": "7000",
            "endReason": {"reason": "timeout"},
            "clickCount": "5",
        },
    }
    [breadcrumb] = find(raw_click(payload))
    assert breadcrumb.selector == "a#x"
    assert breadcrumb.timestamp == 1_700_000_000.0  # the rrweb event's
    assert (breadcrumb.url, breadcrumb.route, breadcrumb.end_reason) == (None, None, None)
    assert breadcrumb.time_after_click_ms == 0
    assert breadcrumb.click_count == 1
    assert (breadcrumb.node.tag_name, breadcrumb.node.text) == ("", "")
    assert breadcrumb.node.attributes == {}


@pytest.mark.parametrize("index", [0, 1, 2])  # the dead, the rage and the slow click
def test_lower_case_keys_are_read_when_the_camel_case_ones_are_missing(index):
    event = captured_click(index)
    [expected] = find(event)
    data = event["data"]["payload"]["data"]
    data["timeafterclickms"] = data.pop("timeAfterClickMs")
    data["clickcount"] = data.pop("clickCount")
    assert find(event) == [expected]
    assert expected.time_after_click_ms >= 3000


@pytest.mark.parametrize("junk", [None, "7000", True, [7000], {"ms": 7000}])
def test_a_camel_case_key_wins_unless_it_holds_no_number(junk):
    event = captured_click(1)  # the rage click: 7000 ms, 5 clicks
    data = event["data"]["payload"]["data"]
    data.update(timeafterclickms=3500, clickcount=2)
    [breadcrumb] = find(event)
    assert (breadcrumb.time_after_click_ms, breadcrumb.click_count) == (7000, 5)
    data.update(timeAfterClickMs=junk, clickCount=junk)
    [breadcrumb] = find(event)
    assert (breadcrumb.time_after_click_ms, breadcrumb.click_count) == (3500, 2)
    data.update(timeafterclickms=junk, clickcount=junk)
    [breadcrumb] = find(event)
    assert (breadcrumb.time_after_click_ms, breadcrumb.click_count) == (0, 1)


@pytest.mark.parametrize("data", [None, "data", 3, [1, 2]])
def test_a_mistyped_data_object_reads_as_empty(data):
    [breadcrumb] = find(raw_click({"category": MULTI_CLICK, "message": "a#x", "data": data}))
    assert breadcrumb.selector == "a#x"
    assert breadcrumb.click_count == 1
    assert breadcrumb.node == parse_node(None)


def test_numbers_are_bounded_and_click_count_is_at_least_one():
    [breadcrumb] = find(
        click_event(time_after_click_ms=1e300, click_count=-5),
    )
    assert breadcrumb.time_after_click_ms == 1e15
    assert breadcrumb.click_count == 1
    [breadcrumb] = find(click_event(click_count=2**62))
    assert breadcrumb.click_count == 10**15


def test_attributes_of_scalar_types_are_kept_as_text_and_others_dropped():
    node = parse_node(
        {
            "tagName": "input",
            "attributes": {
                "id": "q",
                "tabindex": 3,
                "disabled": True,
                "x": None,
                "y": [1],
                "z": {},
            },
        }
    )
    assert node.attributes == {"id": "q", "tabindex": "3", "disabled": "True"}
    many = parse_node({"attributes": {f"a{i}": "v" * 1000 for i in range(100)}})
    assert len(many.attributes) == 32
    assert all(len(value) == 256 for value in many.attributes.values())


def test_a_node_id_that_is_not_an_integer_is_none():
    assert parse_node({"id": True}).id is None
    assert parse_node({"id": "19"}).id is None
    assert parse_node({"id": 19}).id == 19


def test_upper_case_tag_names_are_lower_cased_but_ids_classes_and_values_keep_case():
    event = click_event(
        'BODY > DIV.Cart-Panel > BUTTON#Buy.BTN[Data-Test="Buy Now"]',
        node={"tagName": "BUTTON", "attributes": {"id": "Buy", "class": "BTN"}},
    )
    [breadcrumb] = find(event)
    assert breadcrumb.selector == 'body > div.Cart-Panel > button#Buy.BTN[Data-Test="Buy Now"]'
    assert breadcrumb.node.tag_name == "button"
    assert breadcrumb.node.attributes == {"id": "Buy", "class": "BTN"}


@pytest.mark.parametrize(
    ("selector", "normalized", "folded"),
    [
        ("  BODY>MAIN  A#X  ", "body>main  a#X", "body>main  a#X"),
        ("DIV + SPAN ~ P", "div + span ~ p", "div + span ~ p"),
        ("#ID.CLASS", "#ID.CLASS", "#ID.CLASS"),
        (".A > .B", ".A > .B", ".A > .B"),
        ("A:HOVER", "a:HOVER", "a:HOVER"),
        ("INPUT[TYPE='SUBMIT'] > B", "input[TYPE='SUBMIT'] > b", "input[TYPE='SUBMIT'] > b"),
        ('A[TITLE="X > Y"] SPAN', 'a[TITLE="X > Y"] span', 'a[TITLE="X > Y"] span'),
        ("*", "*", "*"),
        ("", "", ""),
        # React components, as the SDK writes them in place of their element: verbatim.
        ("div.xyz > SmartSearchBar", "div.xyz > SmartSearchBar", "div.xyz > smartsearchbar"),
        (
            "BODY > DIV.Panel > Button#Go",
            "body > div.Panel > Button#Go",
            "body > div.Panel > button#Go",
        ),
        ("Modal Form > Input.x", "Modal Form > Input.x", "modal form > input.x"),
        ("FAQ > H2", "FAQ > h2", "faq > h2"),  # all capitals, but no HTML element
        ("MY-WIDGET > SPAN", "my-widget > span", "my-widget > span"),  # a custom element
        ("Nav[Data-A='B > C'] A", "Nav[Data-A='B > C'] a", "nav[Data-A='B > C'] a"),
    ],
)
def test_normalize_selector(selector, normalized, folded):
    assert normalize_selector(selector) == normalized
    assert normalize_selector(normalized) == normalized
    # ``folded`` is what normalize_selector wrote before components kept their case: what
    # fingerprints and occurrence ids are made of, so that no existing issue splits.
    assert fold_element_names(normalized) == folded
    assert fold_element_names(folded) == folded


selector_text = st.text(
    st.sampled_from(list("aAbBpPdDiIvVnN-_#.[]='\" >+~*:1 ")) | st.characters(), max_size=40
) | st.lists(
    st.sampled_from(["BODY", "DIV", "div", "SmartSearchBar", "Button", "A", "X-Y", "FAQ"])
    | st.sampled_from([" > ", " ", "+", ".Cls", "#Id", "[Data-X='A > B']", "["]),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(selector_text)
def test_normalizing_changes_only_the_case_of_element_names_and_folds_as_before(selector):
    normalized = normalize_selector(selector)
    assert normalized.lower() == selector.strip().lower()
    assert normalize_selector(normalized) == normalized
    # Fingerprints and occurrence ids: the same as when every element name was lowered.
    assert fold_element_names(normalized) == fold_element_names(selector.strip())
    if selector.lower() == selector:
        assert normalized == selector.strip()  # SDK output (lower-case tags): byte for byte


def test_a_captured_breadcrumb_naming_a_component_keeps_its_case():
    event = captured_click()
    payload = event["data"]["payload"]
    payload["message"] = "body > div.xyz > SmartSearchBar"
    payload["data"]["node"]["attributes"]["data-sentry-component"] = "SmartSearchBar"
    [breadcrumb] = find(event)
    assert breadcrumb.selector == "body > div.xyz > SmartSearchBar"
    assert breadcrumb.node.component_name == "SmartSearchBar"
    assert breadcrumb.node.tag_name == "button"
    payload["message"] = "BODY > DIV.xyz > SmartSearchBar"  # a producer that sends tagName
    assert find(event)[0].selector == "body > div.xyz > SmartSearchBar"


def test_a_long_selector_is_truncated():
    [breadcrumb] = find(click_event("body > " + "div > " * 1666 + "button#x"))
    assert len("body > " + "div > " * 1666 + "button#x") > 10_000
    assert 0 < len(breadcrumb.selector) <= MAX_SELECTOR_CHARS
    assert breadcrumb.selector.startswith("body > div > div")
    [breadcrumb] = find(click_event("DIV > " * 2000))
    assert breadcrumb.selector == ("div > " * 2000)[:MAX_SELECTOR_CHARS].strip()
    [breadcrumb] = find(click_event("A" * 10_000))
    assert breadcrumb.selector == "A" * MAX_SELECTOR_CHARS  # no HTML element is named so
    assert fold_element_names(breadcrumb.selector) == "a" * MAX_SELECTOR_CHARS


def test_a_breadcrumb_without_a_selector_is_named_after_its_node():
    node = {"tagName": "A", "attributes": {"id": "Cart", "class": "nav  Link"}}
    for message in (None, "", "   \n"):
        payload = {"category": SLOW_CLICK, "data": {"node": node}}
        if message is not None:
            payload["message"] = message
        [breadcrumb] = find(raw_click(payload))
        assert breadcrumb.selector == "a#Cart.nav.Link"
    assert selector_from_node(parse_node({})) == "unknown"


def test_the_timestamp_falls_back_from_the_payload_to_the_event():
    [breadcrumb] = find(raw_click({"category": SLOW_CLICK, "timestamp": 0}, timestamp=1_500))
    assert breadcrumb.timestamp == 1.5
    [breadcrumb] = find(raw_click({"category": SLOW_CLICK, "timestamp": 2.5}, timestamp=1_500))
    assert breadcrumb.timestamp == 2.5


@pytest.mark.parametrize(
    "payload_timestamp",
    [
        1_795_537_770_184,  # milliseconds, as the rrweb event's
        1_795_537_770_184_000,  # microseconds
        1e300,
        946_684_799.0,  # a second before 2000
        7_258_118_400.0,  # 2200
        -1_795_537_770.184,
        0.001,
    ],
)
def test_a_breadcrumb_time_that_is_no_click_time_falls_back_to_the_events(payload_timestamp):
    event = captured_click()
    seconds = event["data"]["payload"]["timestamp"]
    assert event["timestamp"] == 1_795_537_770_184
    assert find(event)[0].timestamp == seconds == 1_795_537_770.184
    event["data"]["payload"]["timestamp"] = payload_timestamp
    assert find(event)[0].timestamp == event["timestamp"] / 1000 == seconds


def test_a_breadcrumb_time_is_kept_when_the_events_is_no_click_time_either():
    """Then the issues stage refuses it (the dead-letter topic), as before."""
    event = captured_click()
    event["data"]["payload"]["timestamp"] = 1_795_537_770_184
    for event_timestamp in (0, -5, 1e300, 1_795_537_770.184, "1795537770184", None):
        event["timestamp"] = event_timestamp
        assert find(event)[0].timestamp == 1_795_537_770_184
    event["data"]["payload"]["timestamp"] = None
    event["timestamp"] = 1_000
    assert find(event)[0].timestamp == 1.0


def test_events_without_click_categories_or_timeline_entries_are_never_parsed(monkeypatch):
    """A request, a console error, a navigation or a plain click is a timeline entry (a click's
    window needs it): only segments with none of them and no click skip the parse."""
    segments = [
        decode_segment(raw, MAX_INFLATED_BYTES).events
        for raw in [*fixture_messages(), *scenario_messages("disabled")]
    ]
    without = [events for events in segments if find_breadcrumbs(events) == Breadcrumbs()]
    assert without  # the disabled capture's segment 2 has none (a web vital, memory)
    with_clicks = orjson.dumps([*snapshot_events(plain_click=False), click_event()])

    def refuse(*_args, **_kwargs):
        raise AssertionError("orjson.loads called")

    monkeypatch.setattr(breadcrumbs_module.orjson, "loads", refuse)
    for events in [
        *without,
        orjson.dumps(snapshot_events(500, plain_click=False)),
        b"not json at all",
        b"",
    ]:
        assert find_click_breadcrumbs(events) == []
    with pytest.raises(AssertionError, match=r"orjson\.loads called"):
        find_click_breadcrumbs(with_clicks)


@pytest.mark.parametrize(
    "events",
    [
        b'[{"category":"ui.multiClick"',
        b'{"category":"ui.slowClickDetected"}',
        b'"ui.slowClickDetected"',
        b"\xff ui.multiClick",
        b"[" * 2000 + b'"ui.multiClick"' + b"]" * 2000,
    ],
)
def test_events_with_a_category_that_are_not_a_json_array_are_invalid(events):
    with pytest.raises(InvalidSegment):
        find_click_breadcrumbs(events)


DATA_KEYS = ["node", "url", "route", "clickCount", "timeAfterClickMs", "endReason"]
EVENT_KEYS = [
    *["type", "data", "tag", "payload", "category", "message", "timestamp", "textContent"],
    *["tagName", "attributes", "id", "class", *DATA_KEYS],
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from([SLOW_CLICK, MULTI_CLICK, "breadcrumb", "timeout", 5]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(EVENT_KEYS) | st.text(max_size=5),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)
click_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from([5, 5, 5, "5", None]),
        "timestamp": json_values,
        "data": st.fixed_dictionaries(
            {
                "tag": st.sampled_from(["breadcrumb", "breadcrumb", "options"]),
                "payload": st.fixed_dictionaries(
                    {"category": st.sampled_from([SLOW_CLICK, MULTI_CLICK, "ui.click"])},
                    optional={
                        "message": json_values,
                        "timestamp": json_values,
                        "data": json_values
                        | st.dictionaries(
                            st.sampled_from(DATA_KEYS),
                            json_values,
                        ),
                    },
                ),
            }
        ),
    }
)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(click_like | json_values, max_size=8))
def test_arbitrary_json_events_only_ever_raise_invalid_segment(events):
    raw = orjson.dumps(events)
    try:
        found = find_click_breadcrumbs(raw)
    except InvalidSegment:
        return
    for breadcrumb in found:
        assert breadcrumb.category in CLICK_CATEGORIES
        assert breadcrumb.click_count >= 1
        assert len(breadcrumb.selector) <= MAX_SELECTOR_CHARS
        assert breadcrumb.selector == breadcrumb.selector.strip()
        assert breadcrumb.selector


@FUZZ
@given(json_values)
def test_arbitrary_json_documents_only_ever_raise_invalid_segment(value):
    raw = orjson.dumps(value) + (b" " + SLOW_CLICK.encode() if isinstance(value, list) else b"")
    try:
        find_click_breadcrumbs(orjson.dumps(value))
        find_click_breadcrumbs(raw)
    except InvalidSegment:
        pass


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        (b'[{"data":{"payload":{"category":"ui.slowClickDetected"}}}]', True),
        (b'[{"data":{"payload":{"category":"ui.multiClick"}}}]', True),
        (b'[{"type":2,"data":{"node":{"text":"x"}}},' + b" " * 100_000 + b'"ui.multiClick"]', True),
        # A plain click is a timeline entry (a click's window reads its node's disabled state).
        (b'[{"data":{"payload":{"category":"ui.click"}}}]', True),
        (b'[{"data":{"payload":{"category":"ui.input"}}}]', False),
        (b'[{"data":{"payload":{"category":"ui.slowClick"}}}]', False),
        (b"[]", False),
    ],
)
def test_the_byte_search_finds_either_click_category_or_a_timeline_marker_anywhere(
    events, expected
):
    assert may_have_breadcrumbs(events) is expected
