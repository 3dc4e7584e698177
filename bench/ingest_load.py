"""Part c: the envelope endpoint served as deployed, under load from another process.

gunicorn runs as devstack starts it (``pipeline/management/commands/devstack.py``, with the
image's ``settings/gunicorn.py``) on the embedded broker; ``wrk`` (Debian's package) posts
the SDK's captured replay envelopes, each under many replay ids, from 16 keep-alive connections.
The same server then answers ``/bench/noop/`` (``bench/urls.py``: reads the body, answers ``{}``,
through the same middleware) under the same load: the ceiling of the stack without ingest's work.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson

from bench import corpus, stack
from pipeline.broker import free_port

WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))  # devstack's default
CONNECTIONS = 16
WRK_THREADS = 2
DURATION_S = int(os.environ.get("BENCH_INGEST_SECONDS", "10"))
WARMUP_S = 2
COPIES = 32  # each captured envelope goes out under this many replay ids
SCRIPT = Path(__file__).with_name("post_bodies.lua")
ENVELOPE_PATH = (
    f"/api/{corpus.PROJECT_ID}/envelope/?sentry_version=7&sentry_key={corpus.PUBLIC_KEY}"
)
NOOP_PATH = "/bench/noop/"


def fixtures_dir() -> Path:
    default = stack.BASE_DIR.parent / "shared" / "fixtures" / "sdk"
    return Path(os.environ.get("SDK_FIXTURES_DIR", default))


def replay_envelopes() -> list[bytes]:
    """The captured envelopes that carry a replay segment (002 to 008 of 11.12.0)."""
    bodies = [path.read_bytes() for path in sorted(fixtures_dir().glob("*/*.envelope"))]
    found = [body for body in bodies if b'"type":"replay_recording"' in body]
    if not found:
        raise RuntimeError(f"no replay envelopes under {fixtures_dir()} (set SDK_FIXTURES_DIR)")
    return found


def varied_bodies(copies: int = COPIES) -> list[bytes]:
    """Each capture under ``copies`` replay ids, so the messages spread over the partitions."""
    rng = random.Random(corpus.SEED)
    bodies = []
    for _ in range(copies):
        for body in replay_envelopes():
            replay_id = orjson.loads(body.partition(b"\n")[0])["event_id"].encode()
            bodies.append(body.replace(replay_id, corpus.replay_id_for(rng).encode()))
    return bodies


def ensure_wrk() -> str | None:
    """wrk's path; Debian's package is installed when it is missing and we are root (as .ci/run
    installs chromium). None when it cannot be had."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("  c: installing Debian's wrk", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"],
    ):
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False, timeout=300)
    return shutil.which("wrk")


def gunicorn_argv(port: int) -> list[str]:
    """The web server as ``manage.py devstack`` starts it (its configuration is the image's,
    ``settings/gunicorn.py``: gthread workers, 8 threads, keep-alive, the access log)."""
    return [
        *(sys.executable, "-m", "gunicorn", "settings.wsgi:application"),
        *("--config", "python:settings.gunicorn", "--graceful-timeout", "5"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)),
    ]


def wait_until_serving(base_url: str, processes: stack.Processes, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if processes.exited():
            raise RuntimeError(" ".join(processes.exited()))
        try:
            with urllib.request.urlopen(base_url + NOOP_PATH, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {base_url} within {timeout_s}s")


def run_wrk(
    wrk: str,
    base_url: str,
    path: str,
    bodies: Path,
    seconds: int,
    clocks: dict[str, stack.CpuClock],
) -> dict[str, float]:
    """One wrk run; with the CPU that the server and the broker spent per request, and how busy
    the whole machine was (wrk included)."""
    argv = [wrk, "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s"]
    argv += ["--timeout", "10s", "-s", str(SCRIPT), base_url + path, "--", str(bodies), path]
    cpu_before = {name: clock() for name, clock in clocks.items()}
    machine_before = stack.machine_busy()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True)
    machine = stack.busy_share(machine_before, stack.machine_busy())
    cpu = {name: clock() - cpu_before[name] for name, clock in clocks.items()}
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result = json.loads(line.removeprefix("BENCH_RESULT "))
            seconds_run = result["duration_us"] / 1e6
            ok = result["requests"] - result["status_errors"]
            per_request = {
                f"{name}_cpu_ms_per_request": seconds_used * 1000 / max(1, result["requests"])
                for name, seconds_used in cpu.items()
            }
            return {
                **per_request,
                "machine_busy": machine,
                "per_s": ok / seconds_run,
                "requests": result["requests"],
                "errors": result["status_errors"] + result["socket_errors"] + result["timeouts"],
                "p50_ms": result["p50_us"] / 1000,
                "p90_ms": result["p90_us"] / 1000,
                "p99_ms": result["p99_us"] / 1000,
                "max_ms": result["max_us"] / 1000,
            }
    raise RuntimeError(f"wrk printed no result: {done.stdout[-500:]} {done.stderr[-500:]}")


def measure(work_dir: Path, engine: str = "tansu") -> dict[str, float]:
    """Part c on ``engine``'s broker (``stack.ENGINES``)."""
    wrk = ensure_wrk()
    if wrk is None:
        print("  c: skipped: wrk is missing (apt-get install wrk)", file=sys.stderr)
        return {}
    bodies_file = work_dir / "envelopes.bodies"
    with open(bodies_file, "wb") as out:
        for body in varied_bodies():
            out.write(b"%d\n" % len(body) + body)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with (
        stack.embedded_broker(work_dir, f"ingest-{engine}", engine) as broker,
        stack.Processes(work_dir, stack.client_settings(broker)) as processes,
    ):
        server = processes.start(f"gunicorn-{engine}", gunicorn_argv(port), gil=True)
        wait_until_serving(base_url, processes)
        clocks = {
            "server": stack.CpuClock(server.pid),
            "broker": stack.CpuClock(broker.process.pid),
        }
        for path in (ENVELOPE_PATH, NOOP_PATH):  # every worker's producer, caches and imports
            run_wrk(wrk, base_url, path, bodies_file, WARMUP_S, clocks)
        ingest = run_wrk(wrk, base_url, ENVELOPE_PATH, bodies_file, DURATION_S, clocks)
        noop = run_wrk(wrk, base_url, NOOP_PATH, bodies_file, DURATION_S, clocks)
    results = {f"ingest_{key}": value for key, value in ingest.items()}
    results.update({f"noop_{key}": value for key, value in noop.items()})
    results["ingest_envelopes_per_s"] = results.pop("ingest_per_s")
    results["ingest_vs_noop"] = ingest["per_s"] / noop["per_s"] if noop["per_s"] else 0.0
    results["ingest_workers"] = WORKERS
    return results
