"""``python -m bench.soak [--envelopes N]``: a soak of the whole embedded stack.

``manage.py devstack`` (Tansu, gunicorn, both consumers, SQLite, or the database DATABASE_URL
names) runs in a temporary directory, configured as deployed (DEBUG off, JSON logs, multi-process
metrics). Loader threads post N envelopes over loopback keep-alive connections: the SDK's captured
segments 0-6, each time as a replay of its own, so every envelope is a new segment with the
captures' dead, rage and slow clicks. The loop is bounded and stops by itself. Then:

- the count check: every envelope answered 200 is a stored segment, the consumers' metrics count
  each once, every occurrence they published is in the issues database, and nothing went to a
  dead-letter topic;
- memory: the resident set of each process once warm (after a tenth of the envelopes, once the
  consumers have processed them: the loaders wait meanwhile), halfway,
  and at the end, once the consumers have caught up.

Prints a table and exits 1 when a check fails. ``make soak`` runs 100,000 envelopes; the test suite
(tests/e2e/test_soak.py) runs a small count through the same function.
"""

import argparse
import http.client
import itertools
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.stack import Processes, descendants, manage_output, remove_tree, tail
from ingest.envelope import parse_envelope
from pipeline.broker import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
FIXTURES = BASE_DIR.parent / "shared" / "fixtures" / "sdk"
LOADERS = 8
WARM_SHARE = 0.1
# The consumers must catch up within this long after the last envelope once they stop progressing.
STALL_TIMEOUT_S = 60.0
# A Python process whose resident set grows more than this between warm and the end is flagged.
GROWTH_LIMIT_MB = 64.0


# --- The envelopes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    path: str
    headers: dict
    replay_event: dict
    recording: bytes


def replay_templates() -> list[Template]:
    """The captured replay envelopes (segments 0-6 of one replay), split into their parts."""
    templates = []
    for body_file in sorted(FIXTURES.glob("*/*.envelope")):
        request = orjson.loads(body_file.with_suffix(".request.json").read_bytes())
        parsed = parse_envelope(body_file.read_bytes())
        items = {item.type: item.payload for item in parsed.items}
        if "replay_event" in items and "replay_recording" in items:
            templates.append(
                Template(
                    path=request["path"],
                    headers=parsed.headers,
                    replay_event=orjson.loads(items["replay_event"]),
                    recording=items["replay_recording"],
                )
            )
    if not templates:
        raise SystemExit(f"no captured replay envelopes under {FIXTURES}")
    return sorted(templates, key=lambda t: t.replay_event["segment_id"])


def envelope(template: Template, replay_id: str) -> bytes:
    """``template`` as a segment of replay ``replay_id``."""
    event = {**template.replay_event, "replay_id": replay_id, "event_id": replay_id}
    event_bytes = orjson.dumps(event)
    return b"\n".join(
        [
            orjson.dumps({**template.headers, "event_id": replay_id}),
            orjson.dumps({"type": "replay_event", "length": len(event_bytes)}),
            event_bytes,
            orjson.dumps({"type": "replay_recording", "length": len(template.recording)}),
            template.recording,
            b"",
        ]
    )


# --- The stack ------------------------------------------------------------------------------------


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]
    log: Path

    def roles(self) -> dict[str, list[int]]:
        """Each process of the stack by what it is (gunicorn's workers together)."""
        roles: dict[str, list[int]] = {}
        for pid in descendants(self.process.pid):
            roles.setdefault(role_of(pid), []).append(pid)
        return roles


def role_of(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    text = " ".join(part.decode(errors="replace") for part in argv)
    for needle, role in (
        ("tansu", "broker (Tansu)"),
        ("consume_recordings", "consume_recordings"),
        ("consume_occurrences", "consume_occurrences"),
        ("devstack", "devstack"),
    ):
        if needle in text:
            return role
    if "gunicorn" in text:
        return "gunicorn"
    return text[:40]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory(stack: Stack) -> dict[str, list[float]]:
    """Each role's processes' resident sets (MB), in pid order."""
    return {role: [rss_mb(pid) for pid in sorted(pids)] for role, pids in stack.roles().items()}


def stack_env(work_dir: Path, database_url: str | None) -> dict[str, str]:
    """The stack's configuration: as deployed, on the run's own database and files."""
    return {
        "DJANGO_SETTINGS_MODULE": "settings.base",
        "DATABASE_URL": database_url or f"sqlite:///{work_dir / 'soak.sqlite3'}",
        "RECORDINGS_ROOT": str(work_dir / "recordings"),
        "PYTHONUNBUFFERED": "1",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HTTPS_ONLY": "false",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
    }


def start_stack(processes: Processes, env: dict[str, str]) -> Stack:
    """``devstack`` as one of ``processes``, once its web server answers ``/readyz``."""
    port = free_port()
    process = processes.manage(
        "devstack", *("devstack", "--port", str(port), "--broker-port", str(free_port()))
    )
    stack = Stack(process, port, env, processes.log_path("devstack"))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if processes.exited():
            raise RuntimeError(" ".join(processes.exited()))
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return stack
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"devstack was not ready in 90 s: {tail(stack.log)}")


# --- The load ------------------------------------------------------------------------------------


@dataclass
class Load:
    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seconds: float = 0.0


def send_all(
    port: int, count: int, templates: list[Template], checkpoints: dict[int, Callable[[], None]]
) -> Load:
    """Post ``count`` envelopes from ``LOADERS`` threads. Once ``n`` are answered, the loaders
    send nothing more until ``checkpoints[n]()`` returns (it may wait for the stack to settle)."""
    load = Load()
    numbers = itertools.count()
    replay_ids: dict[int, str] = {}
    per_replay = len(templates)
    sending = threading.Event()
    sending.set()
    held = [0]  # how many checkpoints held the loaders so far

    def loader() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        seen_held = 0
        while sending.wait() and (number := next(numbers)) < count:
            replay = number // per_replay
            with load.lock:  # held by a checkpoint meanwhile, perhaps
                replay_id = replay_ids.setdefault(replay, uuid.uuid4().hex)
                if seen_held != held[0]:
                    # gunicorn closes a keep-alive connection idle for 2 s: a new one after a hold
                    connection.close()
                    seen_held = held[0]
            template = templates[number % per_replay]
            body = envelope(template, replay_id)
            try:
                connection.request(
                    "POST", template.path, body=body, headers={"Content-Type": "text/plain"}
                )
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                with load.lock:
                    load.errors[type(exc).__name__] += 1
                continue
            with load.lock:
                load.statuses[status] += 1
                load.sent += 1
                if (checkpoint := checkpoints.get(load.sent)) is not None:
                    sending.clear()
                    try:
                        checkpoint()
                    finally:
                        held[0] += 1
                        sending.set()
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=loader, name=f"loader-{n}") for n in range(LOADERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - started
    return load


# --- Counting what the stack did -----------------------------------------------------------------


def metric_totals(port: int) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_total"):
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def database_counts(env: dict[str, str]) -> dict[str, int]:
    """Rows in the stack's database, read by a ``manage.py shell`` of the stack's settings."""
    script = (
        "import json\n"
        "from replays.models import ReplaySegment, Replay\n"
        "from issues.models import Occurrence, Issue\n"
        "print(json.dumps({'segments': ReplaySegment.objects.count(),"
        " 'replays': Replay.objects.count(),"
        " 'published': ReplaySegment.objects.filter(occurrences_published=True).count(),"
        " 'occurrences': Occurrence.objects.count(), 'issues': Issue.objects.count()}))"
    )
    return orjson.loads(manage_output("shell", "-c", script, env=env).strip().splitlines()[-1])


def wait_for_published(env: dict[str, str], segments: int) -> None:
    """Until ``segments`` segments are stored with their occurrences published (at most
    ``STALL_TIMEOUT_S``)."""
    deadline = time.monotonic() + STALL_TIMEOUT_S
    while database_counts(env)["published"] < segments and time.monotonic() < deadline:
        time.sleep(0.5)


@dataclass
class Result:
    envelopes: int
    load: Load
    drain_s: float
    counts: dict[str, int]
    metrics: dict[str, float]
    warm: dict[str, list[float]]
    middle: dict[str, list[float]]
    end: dict[str, list[float]]
    failures: list[str]

    def table(self) -> str:
        accepted = self.load.statuses.get(200, 0)
        rate = self.load.sent / self.load.seconds if self.load.seconds else 0.0
        lines = [
            f"soak: {self.envelopes:,} envelopes in {self.load.seconds:.1f} s ({rate:,.0f}/s), "
            f"caught up {self.drain_s:.1f} s after the last",
            f"  answers: {dict(self.load.statuses)}"
            + (f", connection errors: {dict(self.load.errors)}" if self.load.errors else ""),
            f"  accepted {accepted:,}; stored segments {self.counts['segments']:,} "
            f"({self.counts['replays']:,} replays); occurrences "
            f"{self.counts['occurrences']:,} in {self.counts['issues']:,} issues",
            "  offset gaps the consumers fetched again: "
            f"{self.metrics.get('replay_issues_offset_gaps_total', 0):.0f}",
            "  resident set (MB), warm -> halfway -> end:",
        ]
        for role in sorted(self.end):
            samples = itertools.zip_longest(
                self.warm.get(role, []), self.middle.get(role, []), self.end[role], fillvalue=0.0
            )
            pairs = ", ".join(f"{w:.0f} -> {m:.0f} -> {e:.0f}" for w, m, e in samples)
            lines.append(f"    {role:<22} {pairs}")
        lines += [f"  FAILED: {failure}" for failure in self.failures] or ["  all checks passed"]
        return "\n".join(lines)


def check(result: Result) -> list[str]:
    failures = []
    accepted = result.load.statuses.get(200, 0)
    if accepted != result.envelopes or result.load.errors:
        failures.append(
            f"{result.envelopes - accepted} envelopes not accepted: "
            f"{dict(result.load.statuses)} {dict(result.load.errors)}"
        )
    counts, metrics = result.counts, result.metrics
    if counts["segments"] != accepted:
        failures.append(f"{accepted} accepted but {counts['segments']} segments stored")
    if counts["published"] != counts["segments"]:
        failures.append(f"{counts['segments'] - counts['published']} segments not published")
    processed = metrics.get("replay_issues_segments_processed_total", 0)
    if processed != accepted:
        failures.append(f"the consumers' metrics count {processed:.0f} segments, not {accepted}")
    produced = metrics.get("replay_issues_occurrences_produced_total", 0)
    if produced != counts["occurrences"]:
        failures.append(f"{produced:.0f} occurrences produced, {counts['occurrences']} grouped")
    dead = metrics.get("replay_issues_dlq_messages_total", 0)
    if dead:
        failures.append(f"{dead:.0f} messages went to a dead-letter topic")
    for role, end in result.end.items():
        if role.startswith("broker"):
            continue  # Tansu's memory storage holds every message: it grows by design
        for warm_mb, end_mb in zip(result.warm.get(role, []), end, strict=False):
            if end_mb - warm_mb > GROWTH_LIMIT_MB:
                failures.append(f"{role} grew from {warm_mb:.0f} to {end_mb:.0f} MB")
    return failures


def soak(envelopes: int, work_dir: Path, database_url: str | None = None) -> Result:
    """Run the soak in ``work_dir`` on an empty database (``database_url``; by default a new
    SQLite file there)."""
    templates = replay_templates()
    env = stack_env(work_dir, database_url)
    with Processes(work_dir, env) as processes:
        stack = start_stack(processes, env)
        warm: dict[str, list[float]] = {}
        middle: dict[str, list[float]] = {}
        warm_at, middle_at = max(1, int(envelopes * WARM_SHARE)), max(1, envelopes // 2)

        def at_warm() -> None:
            # Warm: the consumers have processed what was sent so far (a consumer that has not
            # yet seen a segment has not yet loaded what detection needs).
            wait_for_published(stack.env, warm_at)
            warm.update(memory(stack))

        def at_middle() -> None:
            if warm_at == middle_at:
                at_warm()
            middle.update(memory(stack))

        load = send_all(stack.port, envelopes, templates, {warm_at: at_warm, middle_at: at_middle})
        finished = time.monotonic()
        accepted = load.statuses.get(200, 0)
        progress, last_progress = None, time.monotonic()
        while True:
            counts = database_counts(stack.env)
            metrics = metric_totals(stack.port)
            caught_up = (
                counts["published"] >= accepted
                and metrics.get("replay_issues_occurrences_produced_total", 0)
                <= counts["occurrences"]
            )
            if caught_up:
                break
            if (counts["published"], counts["occurrences"]) != progress:
                progress, last_progress = (
                    (counts["published"], counts["occurrences"]),
                    time.monotonic(),
                )
            elif time.monotonic() - last_progress > STALL_TIMEOUT_S:
                break
            time.sleep(1.0)
        drain_s = time.monotonic() - finished
        time.sleep(1.0)  # a last look: nothing more arrives after catching up
        counts = database_counts(stack.env)
        metrics = metric_totals(stack.port)
        end = memory(stack)
    # Leaving the block stopped devstack: SIGINT, then SIGKILL if it did not stop in time.
    result = Result(envelopes, load, drain_s, counts, metrics, warm, middle, end, [])
    result.failures = check(result)
    code = stack.process.returncode
    if code != 0:
        result.failures.append(f"devstack exited with {code}: {tail(stack.log, 20)}")
    return result


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds soak()'s with-block, which stops the stack


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envelopes", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    options = parser.parse_args()
    work_dir = Path(tempfile.mkdtemp(prefix="replay-issues-soak-"))
    try:
        result = soak(options.envelopes, work_dir)
        print(result.table())
    finally:
        if options.keep:
            print(f"kept {work_dir}")
        else:
            remove_tree(work_dir)
    sys.exit(1 if result.failures else 0)


if __name__ == "__main__":
    main()
