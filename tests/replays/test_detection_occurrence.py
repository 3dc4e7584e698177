"""The issue occurrence of a click, the replay_event it merges and the User-Agent it reads."""

import orjson
import pytest
from sentry_kafka_schemas import get_codec

from replays.detection.breadcrumbs import find_click_breadcrumbs
from replays.detection.classify import ClickType
from replays.detection.element_identity import element_identity
from replays.detection.errors import InvalidSegment
from replays.detection.fingerprint import fingerprint, legacy_parts
from replays.detection.occurrence import (
    TYPE_IDS,
    TYPES_BY_ID,
    ClickContext,
    Occurrence,
    build_occurrence,
    occurrence_id,
)
from replays.detection.replay_event import ReplayEvent, User, parse_replay_event
from replays.detection.user_agent import Client, parse_user_agent
from tests.replays.messages import REPLAY_ID, click_event, fixture_replay_event

occurrence_codec = get_codec("ingest-occurrences")

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.6478.126 Safari/537.36"
)
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/156.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


def breadcrumb(**fields):
    [found] = find_click_breadcrumbs(orjson.dumps([click_event(**fields)]))
    return found


def occurrence(click_type=ClickType.DEAD, replay_event=None, segment_id=3, **fields) -> Occurrence:
    click = breadcrumb(**fields)
    event = (
        replay_event
        if replay_event is not None
        else parse_replay_event(orjson.dumps(fixture_replay_event(segment_id)))
    )
    url = click.url or event.request_url
    identifier = occurrence_id(REPLAY_ID, segment_id, click.timestamp, click.selector)
    return build_occurrence(
        click_type,
        click,
        ClickContext(42, REPLAY_ID, segment_id, event),
        occurrence_id=identifier,
        fingerprint=fingerprint(
            click_type,
            element_identity(click.node, click.selector),
            click.selector,
            click.route,
            url,
        ),
        url=url,
        detection_time=1_800_000_000.5,
    )


def validated(value: Occurrence) -> dict:
    return occurrence_codec.decode(orjson.dumps(value.to_dict()), validate=True)


def test_occurrence_ids_are_deterministic_and_unique_per_click():
    base = occurrence_id(REPLAY_ID, 3, 1_700_000_000.25, "button#pay")
    assert base == occurrence_id(REPLAY_ID, 3, 1_700_000_000.25, "button#pay")
    assert len(base) == 32
    assert int(base, 16) >= 0
    others = {
        occurrence_id(REPLAY_ID, 4, 1_700_000_000.25, "button#pay"),
        occurrence_id(REPLAY_ID, 3, 1_700_000_000.26, "button#pay"),
        occurrence_id(REPLAY_ID, 3, 1_700_000_000.25, "button#buy"),
        occurrence_id("1" * 32, 3, 1_700_000_000.25, "button#pay"),
    }
    assert base not in others
    assert len(others) == 4


@pytest.mark.parametrize("click_type", list(ClickType))
def test_every_type_builds_a_valid_occurrence(click_type):
    built = occurrence(click_type, time_after_click_ms=7000, click_count=6)
    decoded = validated(built)
    assert decoded["id"] == built.id
    assert decoded["type"] == TYPE_IDS[click_type]
    assert TYPES_BY_ID[decoded["type"]] is click_type
    assert built.click_type is click_type
    assert decoded["payload_type"] == "occurrence"
    assert legacy_parts(decoded["fingerprint"][1]) == [
        click_type.value,
        "body > main > button#pay.btn",
        "/checkout",
    ]
    assert decoded["resource_id"] == REPLAY_ID
    assert decoded["subtitle"] == "body > main > button#pay.btn"
    assert Occurrence.from_dict(decoded) == built
    assert decoded["event"]["event_id"] != built.id
    assert len(decoded["event"]["event_id"]) == 32


def test_the_occurrence_carries_the_click_and_the_replays_metadata():
    built = occurrence(
        ClickType.RAGE,
        click_count=9,
        route="/checkout/:step",
        timestamp=1_700_000_010.5,
        node={
            "id": 12,
            "tagName": "button",
            "textContent": "Pay",
            "attributes": {"id": "pay", "data-sentry-component": "PayButton"},
        },
    )
    evidence = built.evidence_data
    assert evidence["component_name"] == "PayButton"
    assert evidence["node"] == {
        "id": 12,
        "tagName": "button",
        "textContent": "Pay",
        "attributes": {"id": "pay", "data-sentry-component": "PayButton"},
    }
    assert evidence["clickCount"] == 9
    assert evidence["replay_id"] == REPLAY_ID
    assert evidence["segment_id"] == 3
    assert evidence["timestamp"] == 1_700_000_010.5
    assert evidence["route"] == "/checkout/:step"
    display = {row["name"]: row["value"] for row in built.evidence_display}
    assert display["Component"] == "PayButton"
    assert display["Clicked Element"] == "body > main > button#pay.btn"
    assert display["Page"] == "/checkout/:step"
    assert display["Clicks"] == "9"
    assert display["Time to answer"] == "no answer within 7000 ms"
    assert legacy_parts(built.fingerprint[1])[2] == "/checkout/:step"
    assert built.culprit == "/checkout/:step"
    assert built.issue_title == "Rage Click"
    assert built.level == "error"
    event = built.event
    assert event["tags"]["component"] == "PayButton"
    assert event["timestamp"] == 1_700_000_010.5
    fixture = fixture_replay_event(3)
    assert event["release"] == event["tags"]["release"] == fixture["release"]
    assert event["environment"] == event["tags"]["environment"] == fixture["environment"]
    assert event["user"] == fixture["user"]
    assert event["sdk"] == {"name": fixture["sdk"]["name"], "version": fixture["sdk"]["version"]}
    assert event["received"] == fixture["timestamp"]
    assert event["contexts"]["replay"] == {"replay_id": REPLAY_ID}
    validated(built)


def test_without_a_component_there_is_no_component_row():
    built = occurrence(ClickType.SLOW, time_after_click_ms=4500.4, end_reason="mutation")
    assert built.evidence_data["component_name"] is None
    assert "component" not in built.event["tags"]
    names = [row["name"] for row in built.evidence_display]
    assert names == ["Clicked Element", "Page", "Time to answer", "Clicks"]
    assert built.evidence_display[2]["value"] == "4500 ms"
    assert built.evidence_display[0]["important"] is True


def test_the_url_falls_back_to_the_replay_events_and_the_culprit_to_the_selector():
    built = occurrence(url=None)
    fixture_url = fixture_replay_event(3)["request"]["url"]
    assert built.evidence_data["url"] == fixture_url
    assert built.event["request"] == {"url": fixture_url}
    bare = occurrence(url=None, replay_event=ReplayEvent())
    assert bare.evidence_data["url"] is None
    assert legacy_parts(bare.fingerprint[1])[2] == "/"
    assert bare.culprit == "body > main > button#pay.btn"
    assert bare.event["platform"] == "javascript"
    assert bare.event["user"] == {}
    assert set(bare.event["tags"]) == {"replayId"}
    validated(bare)


def test_a_long_culprit_is_bounded():
    built = occurrence(url="https://x.example/" + "a" * 5000)
    assert len(built.culprit) == 200


def test_client_contexts_come_from_the_user_agent():
    raw = fixture_replay_event(2)
    raw["request"]["headers"] = {"user-agent": IPHONE}
    raw["trace_ids"] = ["a" * 32, "b" * 32]
    event = occurrence(replay_event=parse_replay_event(orjson.dumps(raw))).event
    assert event["contexts"]["browser"]["name"] == "Mobile Safari"
    assert event["contexts"]["os"] == {"name": "iOS", "version": "17.4"}
    assert event["contexts"]["device"]["family"] == "iPhone"
    assert event["contexts"]["device"]["brand"] == "Apple"
    assert event["contexts"]["trace"] == {"trace_id": "a" * 32}
    assert event["trace_ids"] == ["a" * 32, "b" * 32]
    assert event["tags"]["os.name"] == "iOS"


@pytest.mark.parametrize(
    ("user_agent", "browser", "os"),
    [
        (CHROME_LINUX, "Chrome", "Linux"),
        (HEADLESS, "Chrome", "Linux"),
        (FIREFOX, "Firefox", "Windows"),
        (IPHONE, "Mobile Safari", "iOS"),
    ],
)
def test_parse_user_agent(user_agent, browser, os):
    client = parse_user_agent(user_agent)
    assert client.browser == browser
    assert client.os == os
    assert client.browser_version
    assert parse_user_agent(user_agent) is client  # cached


def test_versions_and_devices():
    assert parse_user_agent(CHROME_LINUX).browser_version == "126.0.6478"
    assert parse_user_agent(HEADLESS).browser_version == "156.0.0"
    assert parse_user_agent(FIREFOX).browser_version == "128.0"
    assert parse_user_agent(CHROME_LINUX).device is None
    iphone = parse_user_agent(IPHONE)
    assert "Safari" in iphone.browser
    assert (iphone.device, iphone.device_brand, iphone.device_model) == (
        "iPhone",
        "Apple",
        "iPhone",
    )
    assert iphone.os_version == "17.4"


@pytest.mark.parametrize("user_agent", [None, "", "not a browser at all", "x" * 10_000, "\x00\xff"])
def test_unknown_user_agents_give_no_client(user_agent):
    client = parse_user_agent(user_agent)
    assert client.browser is None
    assert client.os is None
    assert client.device is None
    assert parse_user_agent(None) == Client()


def test_parse_replay_event_reads_the_sdks_fields():
    raw = fixture_replay_event(5)
    event = parse_replay_event(orjson.dumps(raw))
    assert event.replay_start_timestamp == raw["replay_start_timestamp"]
    assert event.timestamp == raw["timestamp"]
    assert event.release == raw["release"]
    assert event.environment == raw["environment"]
    assert event.platform == raw["platform"]
    assert event.sdk_name == raw["sdk"]["name"]
    assert event.request_url == raw["request"]["url"]
    assert event.user_agent == raw["request"]["headers"]["User-Agent"]
    assert event.user.id == raw["user"]["id"]
    assert event.user.key == raw["user"]["id"]
    assert event.client == parse_user_agent(event.user_agent)


def test_parse_replay_event_with_missing_and_mistyped_fields():
    assert parse_replay_event(None) == ReplayEvent()
    assert parse_replay_event(b"") == ReplayEvent()
    assert parse_replay_event(b"{}") == ReplayEvent()
    event = parse_replay_event(
        orjson.dumps(
            {
                "timestamp": "yesterday",
                "replay_start_timestamp": 1e12,
                "urls": ["/a", 3, "", None, "/b"],
                "trace_ids": "abc",
                "release": 142,
                "environment": True,
                "request": {"url": ["x"], "headers": [["USER-AGENT", FIREFOX], ["x"]]},
                "sdk": "javascript",
                "user": {"id": 77, "email": ["a"], "ip_address": "127.0.0.1"},
            }
        )
    )
    assert event.timestamp is None
    assert event.replay_start_timestamp is None
    assert event.urls == ("/a", "/b")
    assert event.trace_ids == ()
    assert event.release == "142"
    assert event.environment is None
    assert event.request_url is None
    assert event.user_agent == FIREFOX
    assert event.client.browser == "Firefox"
    assert event.sdk_name is None
    assert event.user == User(id="77", ip_address="127.0.0.1")
    assert event.user.to_dict() == {"id": "77", "ip_address": "127.0.0.1"}
    assert User(email="a@example.com", ip_address="10.0.0.1").key == "a@example.com"
    assert User().key is None


@pytest.mark.parametrize("raw", [b"{", b"[]", b'"event"', b"null", b"\xff"])
def test_a_replay_event_that_is_not_a_json_object_is_invalid(raw):
    with pytest.raises(InvalidSegment, match="replay_event"):
        parse_replay_event(raw)
