"""Part d: from the POST of an envelope with one dead click to the issue visible in the API, and
to the receipt of its ``new_issue`` webhook.

``manage.py devstack`` runs as a user starts it (embedded broker, gunicorn, both consumers) on
free ports, with a database, recordings and ``var/`` of its own. Each click is on an element of
its own, so each makes a new issue, shown at once (the noise threshold's default is one
occurrence); the API is asked for it by the element's id until it answers with it. A webhook
rule (made through the API) points at a receiver in this process, which notes when each issue's
alert arrives (devstack's ``deliver_alerts`` sends it).
"""

import random
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from bench import corpus, rrweb, stack
from pipeline.broker import free_port

CLICKS = 60
POLL_INTERVAL_S = 0.005
VISIBLE_TIMEOUT_S = 60.0  # the first click also waits for the consumers to join their groups
NO_QUOTA = (
    "from replays.models import DetectionSettings; "
    f"DetectionSettings.objects.filter(project_id={corpus.PROJECT_ID}).update(issue_quota=None)"
)
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

    def webhook_rule(self, url: str) -> None:
        response = self.session.post(
            f"{self.base_url}/api/0/projects/{corpus.PROJECT_ID}/alert-rules/",
            json={
                "name": "bench webhook",
                "trigger": "new_issue",
                "action": {"type": "webhook", "url": url, "secret": "a-bench-secret-of-16+"},
            },
            timeout=10,
        )
        response.raise_for_status()

    def click_latency(
        self, body: bytes, element_id: str, timeout_s: float, posted_at: dict[str, float]
    ) -> tuple[float, float]:
        """Seconds until the POST was answered, and until the issue was visible; when the POST
        started goes into ``posted_at``."""
        started = time.perf_counter()
        posted_at[element_id] = started
        self.post(body)
        posted = time.perf_counter() - started
        while not self.visible(element_id):
            if time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"the issue of {element_id} did not show within {timeout_s}s")
            time.sleep(POLL_INTERVAL_S)
        return posted, time.perf_counter() - started


class WebhookReceipts:
    """A webhook receiver that notes (``time.perf_counter``) when the alert of each element id
    matching ``pattern`` first arrives."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern.encode())
        self.arrived: dict[str, float] = {}
        receipts = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.perf_counter()
                found = receipts.pattern.search(body)
                if found:
                    receipts.arrived.setdefault(found.group(0).decode(), now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, ids: list[str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not all(each in self.arrived for each in ids):
            if time.monotonic() > deadline:
                missing = [each for each in ids if each not in self.arrived]
                raise RuntimeError(f"{len(missing)} webhooks did not arrive: {missing[:3]}")
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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
    receipts = WebhookReceipts(rf"bench-{run}-\d{{3}}")
    posted_at: dict[str, float] = {}
    ids = [f"bench-{run}-{index:03d}" for index in range(1, CLICKS + 1)]
    with stack.Processes(directory, env) as processes:
        processes.manage(
            "devstack",
            *("devstack", "--port", str(port), "--broker-port", str(free_port())),
        )
        wait_for_banner(processes, processes.log_path("devstack"))
        token = stack.manage_output("drf_create_token", "admin", env=env).split()[2]
        # Every click is a new issue, and all of them must show: no creation quota (Sentry's
        # five an hour would hold back the sixth).
        stack.manage_output("shell", "-c", NO_QUOTA, env=env)
        api = Api(f"http://127.0.0.1:{port}", token)
        api.webhook_rule(receipts.url)
        api.click_latency(clicks[0][1], f"bench-{run}-000", VISIBLE_TIMEOUT_S, {})  # warm-up
        measured = [
            api.click_latency(body, element_id, VISIBLE_TIMEOUT_S, posted_at)
            for element_id, (_, body) in zip(ids, clicks[1:], strict=True)
        ]
        try:
            receipts.wait_for(ids, VISIBLE_TIMEOUT_S)
        finally:
            receipts.close()
    webhooks = [receipts.arrived[each] - posted_at[each] for each in ids]
    posts = [posted for posted, _ in measured]
    latencies = [visible for _, visible in measured]
    return {
        "e2e_clicks": len(latencies),
        "e2e_p50_ms": percentile(latencies, 0.5) * 1000,
        "e2e_p95_ms": percentile(latencies, 0.95) * 1000,
        "e2e_max_ms": max(latencies) * 1000,
        "e2e_post_p50_ms": percentile(posts, 0.5) * 1000,
        "webhook_issues": len(webhooks),
        "webhook_p50_ms": percentile(webhooks, 0.5) * 1000,
        "webhook_p95_ms": percentile(webhooks, 0.95) * 1000,
    }
