"""Sessions of generated recordings, and the messages and envelopes that carry them.

A session is one replay's segments as the SDK sends them: segment 0 a full DOM snapshot of
200 KB to 2 MB of JSON, then incremental segments of 5 to 100 KB, about one in 20 carrying a click
breadcrumb. As in real sessions, most segments also carry network spans and console breadcrumbs,
and a few a hydration error (built from the SDK's captures, see ``bench.captures``). Bodies are
zlib-compressed at level 6, as the SDK's deflate does (``x\\x9c``). A session is
a template: ``stamp`` gives its segments a replay id of their own, so a few generated sessions make
thousands of distinct messages without generating thousands of DOMs.
"""

import math
import random
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from bench import captures, rrweb
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
# What else a segment carries, each drawn on its own: (share of segments, most per segment).
NETWORK_SPANS = (0.8, 6)  # resource.fetch / resource.xhr
CONSOLE_BREADCRUMBS = (0.6, 4)
HYDRATION_ERRORS = (0.03, 2)  # React reports one or two per page load
_API_PATHS = ("/api/cart", "/api/products/{n}", "/api/search?q={n}", "/api/orders/{n}", "/api/me")
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
    hydration_errors: int
    network_spans: int
    console_breadcrumbs: int
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
        hydration_errors=inflated.count(b'"category":"replay.hydrate-error"'),
        network_spans=inflated.count(b'"op":"resource.fetch"')
        + inflated.count(b'"op":"resource.xhr"'),
        console_breadcrumbs=inflated.count(b'"category":"console"'),
        snapshot=any(event["type"] == 2 for event in events),
        urls=(page.url,),
        start_s=events[0]["timestamp"] / 1000,
        end_s=page.now_ms / 1000,
    )


def with_extras(
    rng: random.Random, page: rrweb.Page, events: list[rrweb.Event]
) -> list[rrweb.Event]:
    """``events`` with network spans, console breadcrumbs and hydration errors at random places
    after the first event (a snapshot's meta event stays first), in the shares set above."""
    extras: list[rrweb.Event] = []
    start_ms, end_ms = int(events[0]["timestamp"]), page.now_ms
    for share, most, build in (
        (NETWORK_SPANS[0], NETWORK_SPANS[1], lambda at: _network_span(rng, page, at)),
        (CONSOLE_BREADCRUMBS[0], CONSOLE_BREADCRUMBS[1], lambda at: _console(rng, page, at)),
        (
            HYDRATION_ERRORS[0],
            HYDRATION_ERRORS[1],
            lambda at: captures.hydration_error(page.url, at),
        ),
    ):
        if rng.random() < share:
            extras += [build(rng.randint(start_ms, end_ms)) for _ in range(rng.randint(1, most))]
    merged = list(events)
    for extra in extras:
        merged.insert(rng.randint(1, len(merged)), extra)
    return merged


def _network_span(rng: random.Random, page: rrweb.Page, at_ms: int) -> rrweb.Event:
    path = rng.choice(_API_PATHS).format(n=rng.randint(1, 99_999))
    return captures.network_span(rng, page.origin, path, at_ms)


def _console(rng: random.Random, page: rrweb.Page, at_ms: int) -> rrweb.Event:
    return captures.console_breadcrumb(rng, page.words.sentence(2, 12), at_ms)


def describe_mix(sessions: list[Session]) -> str:
    """What the corpus holds, in one line: how many segments carry each kind of event."""
    segments = [segment for session in sessions for segment in session.segments]

    def share(predicate: Any) -> str:
        count = sum(1 for segment in segments if predicate(segment))
        return f"{count} ({count / len(segments):.0%})"

    return (
        f"{len(segments)} segments: {share(lambda s: s.snapshot)} snapshots, "
        f"network spans in {share(lambda s: s.network_spans)}, "
        f"console breadcrumbs in {share(lambda s: s.console_breadcrumbs)}, "
        f"clicks in {share(lambda s: s.clicks)}, "
        f"hydration errors in {share(lambda s: s.hydration_errors)}"
    )


def make_session(rng: random.Random, words: rrweb.Words, segment_count: int, index: int) -> Session:
    start_ms = SESSION_START_MS + index * 3_600_000
    page = rrweb.Page(rng, words, ORIGIN, start_ms)
    snapshot = rrweb.full_snapshot(page, log_uniform(rng, *SNAPSHOT_BYTES))
    segments = [recorded(0, with_extras(rng, page, snapshot), page)]
    for segment_id in range(1, segment_count):
        page.now_ms = max(page.now_ms, start_ms + segment_id * SEGMENT_SPACING_MS)
        clicks: tuple[str, ...] = ()
        if rng.random() < CLICK_SEGMENT_SHARE:
            clicks = tuple(rng.choices(list(CLICK_KINDS), weights=list(CLICK_KINDS.values())))
        events = rrweb.incremental_segment(page, log_uniform(rng, *INCREMENTAL_BYTES), clicks)
        segments.append(recorded(segment_id, with_extras(rng, page, events), page))
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
        # A test id makes each button an element of its own: grouping drops ids that look
        # generated, as ``bench-<run>-<n>`` does, and every one of these is "Pay".
        attributes={"id": element_id, "class": "btn primary", "data-testid": element_id},
        selector=f"body > main > button#{element_id}.btn.primary",
    )
    events = rrweb.incremental_segment(page, 3_000)
    events.insert(0, rrweb.click_breadcrumb(page, "dead", target))
    segment = recorded(1, events, page)
    session = Session((segment,), {"id": "u-1"}, USER_AGENTS[0], "shop@1.4.2", "production")
    replay_id = replay_id_for(rng)
    event = orjson.dumps(replay_event(session, segment, replay_id))
    return replay_id, envelope(replay_id, event, segment.payload)
