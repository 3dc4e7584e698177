"""Part d: from the POST of an envelope with one dead click to the issue visible in the API.

``manage.py devstack`` runs as a user starts it (embedded broker, gunicorn, both consumers) on
free ports, with a database, recordings and ``var/`` of its own. Each click is on an element of
its own, so each makes a new issue, shown at once (the noise threshold's default is one
occurrence); the API is asked for it by the element's id until it answers with it.
"""

import random
import time
from pathlib import Path

import requests

from bench import corpus, rrweb, stack
from pipeline.broker import free_port

CLICKS = 60
POLL_INTERVAL_S = 0.005
VISIBLE_TIMEOUT_S = 60.0  # the first click also waits for the consumers to join their groups
ENVELOPE_PATH = (
    f"/api/{corpus.PROJECT_ID}/envelope/?sentry_version=7&sentry_key={corpus.PUBLIC_KEY}"
)


def wait_for_banner(processes: stack.Processes, log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if "Press Ctrl-C to stop" in log.read_text(errors="replace"):
            return
        if processes.exited():
            raise RuntimeError(" ".join(processes.exited()))
        time.sleep(0.1)
    raise RuntimeError(f"devstack did not start within {timeout_s}s: {stack.tail(log)}")


class Api:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.poster = requests.Session()

    def post(self, body: bytes) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = self.poster.post(self.base_url + ENVELOPE_PATH, data=body, timeout=10)
                response.raise_for_status()
                return
            except requests.ConnectionError:  # gunicorn starts after the banner
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def visible(self, element_id: str) -> bool:
        response = self.session.get(
            f"{self.base_url}/api/0/projects/{corpus.PROJECT_ID}/issues/",
            params={"query": element_id},
            timeout=10,
        )
        response.raise_for_status()
        return bool(response.json()["results"])

    def click_latency(self, body: bytes, element_id: str, timeout_s: float) -> tuple[float, float]:
        """Seconds until the POST was answered, and until the issue was visible."""
        started = time.perf_counter()
        self.post(body)
        posted = time.perf_counter() - started
        while not self.visible(element_id):
            if time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"the issue of {element_id} did not show within {timeout_s}s")
            time.sleep(POLL_INTERVAL_S)
        return posted, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(work_dir: Path) -> dict[str, float]:
    directory = work_dir / "devstack"
    directory.mkdir()
    env = {
        "DATABASE_URL": f"sqlite:///{directory / 'devstack.sqlite3'}",
        "RECORDINGS_ROOT": str(directory / "recordings"),
        "BENCH_VAR_DIR": str(directory),
    }
    port = free_port()
    rng = random.Random(corpus.SEED + 3)
    words = rrweb.Words(rng)
    run = f"{rng.getrandbits(32):08x}"
    clicks = [
        corpus.dead_click_envelope(rng, words, f"bench-{run}-{index:03d}")
        for index in range(CLICKS + 1)
    ]
    with stack.Processes(directory, env) as processes:
        processes.manage(
            "devstack",
            *("devstack", "--port", str(port), "--broker-port", str(free_port())),
        )
        wait_for_banner(processes, processes.log_path("devstack"))
        token = stack.manage_output("drf_create_token", "admin", env=env).split()[2]
        api = Api(f"http://127.0.0.1:{port}", token)
        api.click_latency(clicks[0][1], f"bench-{run}-000", VISIBLE_TIMEOUT_S)  # warm-up
        measured = [
            api.click_latency(body, f"bench-{run}-{index:03d}", VISIBLE_TIMEOUT_S)
            for index, (_, body) in enumerate(clicks[1:], start=1)
        ]
    posts = [posted for posted, _ in measured]
    latencies = [visible for _, visible in measured]
    return {
        "e2e_clicks": len(latencies),
        "e2e_p50_ms": percentile(latencies, 0.5) * 1000,
        "e2e_p95_ms": percentile(latencies, 0.95) * 1000,
        "e2e_max_ms": max(latencies) * 1000,
        "e2e_post_p50_ms": percentile(posts, 0.5) * 1000,
    }
