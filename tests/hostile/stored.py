"""A replay whose every rendered string is hostile markup, stored as the two consumers store it.

The clicks, the replay_event (release, environment, user, URLs) and the recorded DOM carry the
payloads of ``tests.hostile.inputs.XSS_PAYLOADS``; one click's URL is a ``javascript:`` URL and
one's a URL that ``urlsplit`` cannot read. ``store_hostile_replay`` runs the message through the
real detection core, stores the replay and groups the occurrences, without a broker.
"""

from typing import Any

from issues.models import Issue
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.services import replay_mark_published, replay_record_segment
from tests.hostile.inputs import XSS_PAYLOADS, XSS_URL
from tests.issues.builders import record
from tests.replays.messages import (
    BASE_SECONDS,
    MAX_INFLATED_BYTES,
    RECEIVED,
    click_event,
    fixture_replay_event,
    recording_message,
)

HOSTILE_REPLAY_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
UNREADABLE_URL = "http://[::1/x<b>"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def _element(node_id: int, tag: str, attributes: dict[str, str], children: list) -> dict:
    return {
        "type": 2,
        "tagName": tag,
        "attributes": attributes,
        "childNodes": children,
        "id": node_id,
    }


def hostile_recording_events() -> list[dict[str, Any]]:
    """A meta event and a full snapshot whose DOM holds a script and inline handlers: the player
    must rebuild it without running them (they would set the page's ``__xss``)."""
    start_ms = int(BASE_SECONDS * 1000) - 5000
    script = _element(6, "script", {}, [{"type": 3, "textContent": "parent.__xss=1", "id": 7}])
    # A broken image that needs no network (the SDK records absolute URLs; a relative one
    # would be asked of this server).
    broken = "data:image/png;base64,AAAA"
    image = _element(5, "img", {"src": broken, "onerror": "parent.__xss=1"}, [])
    button = _element(
        8,
        "button",
        {"onclick": "parent.__xss=1", "autofocus": "", "onfocus": "parent.__xss=1"},
        [{"type": 3, "textContent": XSS_PAYLOADS[1], "id": 9}],
    )
    link = _element(10, "a", {"href": XSS_URL}, [{"type": 3, "textContent": "go", "id": 11}])
    body = _element(4, "body", {"onload": "parent.__xss=1"}, [image, script, button, link])
    html = _element(3, "html", {}, [_element(12, "head", {}, []), body])
    return [
        {
            "type": 4,
            "timestamp": start_ms,
            "data": {"href": "https://shop.example.com/", "width": 800, "height": 600},
        },
        {
            "type": 2,
            "timestamp": start_ms + 1,
            "data": {
                "node": {"type": 0, "childNodes": [html], "id": 1},
                "initialOffset": {"left": 0, "top": 0},
            },
        },
    ]


def hostile_clicks() -> list[dict[str, Any]]:
    """One dead click per payload, the payload in its selector, text, id, class and component."""
    clicks = []
    for number, payload in enumerate(XSS_PAYLOADS):
        node = {
            "id": 100 + number,
            "tagName": "button",
            "textContent": f"Pay {payload}",
            "attributes": {
                "id": payload,
                "class": f"btn {payload}",
                "data-sentry-component": f"Pay{payload}",
                "title": payload,
            },
        }
        url = [XSS_URL, UNREADABLE_URL][number % 2]
        clicks.append(
            click_event(
                f"body > button#{number}{payload}",
                node=node,
                url=url,
                route=f"/r/{payload}" if number == 2 else None,
                timestamp=BASE_SECONDS + number,
            )
        )
    return clicks


def hostile_replay_event() -> dict[str, Any]:
    return {
        **fixture_replay_event(replay_id=HOSTILE_REPLAY_ID),
        "release": XSS_PAYLOADS[0],
        "environment": XSS_PAYLOADS[2],
        "dist": XSS_PAYLOADS[1],
        "urls": [XSS_URL, UNREADABLE_URL, f"https://shop.example.com/{XSS_PAYLOADS[1]}"],
        "user": {
            "id": XSS_PAYLOADS[1],
            "email": XSS_PAYLOADS[0],
            "username": XSS_PAYLOADS[3],
            "ip_address": "127.0.0.1",
        },
        "request": {"url": XSS_URL, "headers": {"User-Agent": CHROME}},
        "sdk": {"name": XSS_PAYLOADS[4], "version": XSS_PAYLOADS[2]},
    }


def store_hostile_replay(project_id: int) -> list[Issue]:
    """Store the hostile replay and group its clicks; returns its issues."""
    raw = recording_message(
        [*hostile_recording_events(), *hostile_clicks()],
        replay_event=hostile_replay_event(),
        replay_id=HOSTILE_REPLAY_ID,
        project_id=project_id,
    )
    segment = decode_segment(raw, MAX_INFLATED_BYTES)
    detection = detect_clicks(segment, DetectionSettings(), float(RECEIVED))
    assert len(detection.occurrences) == len(XSS_PAYLOADS)
    replay_mark_published(replay_record_segment(segment, detection))
    for occurrence in detection.occurrences:
        record(occurrence.to_dict())
    return list(Issue.objects.filter(project_id=project_id).order_by("pk"))
