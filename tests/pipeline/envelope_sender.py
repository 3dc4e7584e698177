"""Envelopes posted to the live server through the real endpoint, one after another, with each
answer and when its request started: what the broker-fault tests compare the stored rows with."""

import threading
import time
import uuid

import orjson
import requests

from tests.ingest.builders import build_envelope, replay_parts
from tests.sdk_fixtures import replay_requests


def envelope_of_a_new_replay() -> tuple[str, bytes]:
    """A captured SDK envelope (a segment with clicks), as segment 0 of a replay of its own."""
    headers, event, recording = replay_parts(replay_requests()[3])
    replay_id = uuid.uuid4().hex
    event = {**event, "replay_id": replay_id, "event_id": replay_id, "segment_id": 0}
    recording = b'{"segment_id":0}' + recording[recording.index(b"\n") :]
    return replay_id, build_envelope(
        {**headers, "event_id": replay_id},
        [
            ({"type": "replay_event"}, orjson.dumps(event)),
            ({"type": "replay_recording"}, recording),
        ],
    )


def envelope_url(live_server_url: str) -> str:
    return live_server_url + replay_requests()[3].path


class Sender(threading.Thread):
    """Posts envelopes of new replays to the live server, one after another, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(name="sender", daemon=True)
        self.url = url
        self.answers: list[tuple[str, int]] = []
        # When each request of ``answers`` started (time.monotonic()), in the same order.
        self.started_at: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stopping.is_set():
                replay_id, body = envelope_of_a_new_replay()
                started = time.monotonic()
                response = session.post(
                    self.url, data=body, headers={"Content-Type": "text/plain"}, timeout=30
                )
                self.answers.append((replay_id, response.status_code))
                self.started_at.append(started)

    def stop(self) -> None:
        self.stopping.set()
        self.join(60)

    def count(self, status: int) -> int:
        return sum(1 for _, code in list(self.answers) if code == status)

    def accepted(self) -> set[str]:
        """The replay ids of the envelopes answered 200."""
        return {replay_id for replay_id, status in list(self.answers) if status == 200}

    def statuses_between(self, start: float, end: float) -> list[int]:
        """The answers to the requests that started in [start, end)."""
        answers, times = list(self.answers), list(self.started_at)
        return [
            status
            for (_, status), at in zip(answers, times[: len(answers)], strict=False)
            if start <= at < end
        ]
