"""Sessions of generated recordings, and the messages and envelopes that carry them.

A session is one replay's segments as the SDK sends them: segment 0 a full DOM snapshot of
200 KB to 2 MB of JSON, then incremental segments of 5 to 100 KB, about one in 20 carrying a click
breadcrumb; bodies zlib-compressed at level 6, as the SDK's deflate does (``x\\x9c``). A session is
a template: ``stamp`` gives its segments a replay id of their own, so a few generated sessions make
thousands of distinct messages without generating thousands of DOMs.
"""

import math
import random
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from bench import rrweb
from ingest.recording_message import encode_recording_message
from ingest.replay_segment import ReplaySegment

SEED = 6
PROJECT_ID = 42
ORG_ID = 1
KEY_ID = 1
PUBLIC_KEY = "0123456789abcdef0123456789abcdef"  # the demo project's, as devstack creates it
ORIGIN = "https://shop.example.com"
RECEIVED = 1_795_537_800
SESSION_START_MS = 1_795_537_769_000
SEGMENT_SPACING_MS = 5_000
SNAPSHOT_BYTES = (200_000, 2_000_000)
INCREMENTAL_BYTES = (5_000, 100_000)
CLICK_SEGMENT_SHARE = 1 / 20
# dead and rage share ui.slowClickDetected with "timeout"; slow answered late; multi answered.
CLICK_KINDS = {"dead": 50, "rage": 15, "slow": 20, "multi": 15}
SDK = {"name": "sentry.javascript.browser", "version": "11.12.0"}
USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/156.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
)


@dataclass(frozen=True, slots=True)
class RecordedSegment:
    segment_id: int
    events: bytes  # the rrweb events, JSON
    body: bytes  # as the SDK sends them: zlib
    clicks: int  # ui.slowClickDetected and ui.multiClick breadcrumbs
    snapshot: bool
    urls: tuple[str, ...]
    start_s: float
    end_s: float

    @property
    def payload(self) -> bytes:
        """The ``replay_recording`` item: the segment header line, then the body."""
        return orjson.dumps({"segment_id": self.segment_id}) + b"\n" + self.body


@dataclass(frozen=True, slots=True)
class Session:
    segments: tuple[RecordedSegment, ...]
    user: dict[str, str]
    user_agent: str
    release: str
    environment: str


def log_uniform(rng: random.Random, low: int, high: int) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def recorded(segment_id: int, events: list[rrweb.Event], page: rrweb.Page) -> RecordedSegment:
    inflated = orjson.dumps(events)
    return RecordedSegment(
        segment_id=segment_id,
        events=inflated,
        body=zlib.compress(inflated, 6),
        clicks=inflated.count(rrweb.SLOW_CLICK.encode())
        + inflated.count(rrweb.MULTI_CLICK.encode()),
        snapshot=any(event["type"] == 2 for event in events),
        urls=(page.url,),
        start_s=events[0]["timestamp"] / 1000,
        end_s=page.now_ms / 1000,
    )


def make_session(rng: random.Random, words: rrweb.Words, segment_count: int, index: int) -> Session:
    start_ms = SESSION_START_MS + index * 3_600_000
    page = rrweb.Page(rng, words, ORIGIN, start_ms)
    segments = [recorded(0, rrweb.full_snapshot(page, log_uniform(rng, *SNAPSHOT_BYTES)), page)]
    for segment_id in range(1, segment_count):
        page.now_ms = max(page.now_ms, start_ms + segment_id * SEGMENT_SPACING_MS)
        clicks: tuple[str, ...] = ()
        if rng.random() < CLICK_SEGMENT_SHARE:
            clicks = tuple(rng.choices(list(CLICK_KINDS), weights=list(CLICK_KINDS.values())))
        events = rrweb.incremental_segment(page, log_uniform(rng, *INCREMENTAL_BYTES), clicks)
        segments.append(recorded(segment_id, events, page))
    user_number = rng.randint(1, 5000)
    return Session(
        segments=tuple(segments),
        user={"id": f"u-{user_number}", "email": f"user{user_number}@example.com"},
        user_agent=rng.choice(USER_AGENTS),
        release=rng.choice(("shop@1.4.2", "shop@1.4.3", "shop@1.5.0")),
        environment=rng.choice(("production", "production", "staging")),
    )


def make_sessions(count: int, segments_per_session: int = 20, seed: int = SEED) -> list[Session]:
    """``count`` sessions, the same for the same arguments on every run."""
    rng = random.Random(seed)
    words = rrweb.Words(rng)
    return [make_session(rng, words, segments_per_session, index) for index in range(count)]


def replay_id_for(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def replay_event(session: Session, segment: RecordedSegment, replay_id: str) -> dict[str, Any]:
    """The segment's ``replay_event`` item, as the SDK writes it (see the captures)."""
    first = session.segments[0]
    return {
        "type": "replay_event",
        "replay_start_timestamp": first.start_s,
        "timestamp": segment.end_s,
        "error_ids": [],
        "trace_ids": [],
        "segment_names": [],
        "urls": list(segment.urls),
        "replay_id": replay_id,
        "segment_id": segment.segment_id,
        "replay_type": "session",
        "request": {"url": segment.urls[-1], "headers": {"User-Agent": session.user_agent}},
        "contexts": {"culture": {"locale": "en-US", "timezone": "UTC", "calendar": "gregory"}},
        "event_id": replay_id,
        "environment": session.environment,
        "release": session.release,
        "sdk": {**SDK, "integrations": ["Breadcrumbs", "BrowserSession", "Replay"]},
        "user": session.user,
        "platform": "javascript",
    }


def recording_message(
    session: Session, segment: RecordedSegment, replay_id: str, received: int = RECEIVED
) -> bytes:
    """The message ingest publishes for this segment on ``ingest-replay-recordings``."""
    replay_segment = ReplaySegment(
        replay_id=replay_id,
        segment_id=segment.segment_id,
        replay_event=orjson.dumps(replay_event(session, segment, replay_id)),
        recording=segment.payload,
    )
    return encode_recording_message(
        replay_segment,
        project_id=PROJECT_ID,
        org_id=ORG_ID,
        key_id=KEY_ID,
        received=received,
        retention_days=90,
    )


@dataclass(frozen=True, slots=True)
class Message:
    replay_id: str
    segment: RecordedSegment
    value: bytes


def stamp(sessions: list[Session], segment_count: int, seed: int = SEED) -> list[Message]:
    """``segment_count`` messages: the sessions again and again, each time as another replay, in
    the order the SDK sends them."""
    rng = random.Random(seed + 1)
    messages: list[Message] = []
    while len(messages) < segment_count:
        for session in sessions:
            replay_id = replay_id_for(rng)
            for segment in session.segments:
                messages.append(
                    Message(replay_id, segment, recording_message(session, segment, replay_id))
                )
                if len(messages) == segment_count:
                    return messages
    return messages


def envelope(replay_id: str, replay_event_json: bytes, recording: bytes) -> bytes:
    """A replay envelope as the SDK posts it: header line, replay_event, replay_recording."""
    header = {"event_id": replay_id, "sent_at": "2026-11-24T16:29:34.540Z", "sdk": SDK}
    return (
        b"\n".join(
            [
                orjson.dumps(header),
                orjson.dumps({"type": "replay_event"}),
                replay_event_json,
                orjson.dumps({"type": "replay_recording", "length": len(recording)}),
                recording,
            ]
        )
        + b"\n"
    )


def dead_click_envelope(
    rng: random.Random, words: rrweb.Words, element_id: str
) -> tuple[str, bytes]:
    """An envelope whose one segment carries one dead click on ``button#<element_id>``."""
    page = rrweb.Page(rng, words, ORIGIN, SESSION_START_MS)
    rrweb.full_snapshot(page, 5_000)  # gives the page its elements; not sent
    target = rrweb.Clickable(
        node_id=rng.choice(page.element_ids),
        tag_name="button",
        text="Pay",
        attributes={"id": element_id, "class": "btn primary"},
        selector=f"body > main > button#{element_id}.btn.primary",
    )
    events = rrweb.incremental_segment(page, 3_000)
    events.insert(0, rrweb.click_breadcrumb(page, "dead", target))
    segment = recorded(1, events, page)
    session = Session((segment,), {"id": "u-1"}, USER_AGENTS[0], "shop@1.4.2", "production")
    replay_id = replay_id_for(rng)
    event = orjson.dumps(replay_event(session, segment, replay_id))
    return replay_id, envelope(replay_id, event, segment.payload)
