"""What the parts run on: the run's own database and directory, embedded brokers, and child
processes that are always stopped, whatever happens to the part.

The run works in a temporary directory: a SQLite database migrated once, the recordings, one log
file per child. With ``BENCH_PROFILE=<dir>`` every Python child runs under ``py-spy record``
(collapsed stacks in ``<dir>/<name>.txt``; ``python -m bench.hotspots <file>`` sums them up).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from confluent_kafka import Producer

from pipeline.broker import EmbeddedBroker, free_port
from pipeline.children import spawn

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 20.0


def configure_environment(work_dir: Path) -> None:
    """Point Django, and every child started later, at the run's own files."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"sqlite:///{work_dir / 'bench.sqlite3'}",
        RECORDINGS_ROOT=str(work_dir / "recordings"),
        BENCH_VAR_DIR=str(work_dir),
        PYTHONUNBUFFERED="1",
    )


def profile_dir() -> Path | None:
    value = os.environ.get("BENCH_PROFILE")
    if not value:
        return None
    directory = Path(value).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class Processes:
    """Children of one part, each in a session of its own and tied to our life (PDEATHSIG);
    leaving the ``with`` block stops them all, last started first."""

    def __init__(self, work_dir: Path, env: dict[str, str] | None = None) -> None:
        self.work_dir = work_dir
        self.env = {**os.environ, **(env or {})}
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.profiles = profile_dir()

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *exc_info: object) -> None:
        for _name, process in reversed(self.children):
            self.stop(process)

    def log_path(self, name: str) -> Path:
        return self.work_dir / f"{name}.log"

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, profile: bool = True
    ) -> subprocess.Popen[bytes]:
        with open(self.log_path(name), "ab") as log:
            process = spawn(
                self._wrapped(name, argv, profile),
                cwd=BASE_DIR,
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.children.append((name, process))
        return process

    def _wrapped(self, name: str, argv: list[str], profile: bool) -> list[str]:
        if self.profiles is None or not profile:
            return argv
        py_spy = str(Path(sys.executable).with_name("py-spy"))
        output = self.profiles / f"{name}.txt"
        return [
            py_spy,
            "record",
            "--subprocesses",
            "--nonblocking",
            "--format",
            "raw",
            "-o",
            str(output),
            "--",
            *argv,
        ]

    def manage(
        self, name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A long-running management command (a consumer, devstack)."""
        return self.start(name, [sys.executable, "manage.py", *args], env=env)

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGINT to the child's group (consumers finish the message in hand, gunicorn quits,
        py-spy writes its profile), then SIGKILL if it is still there."""
        if process.poll() is None:
            _signal_group(process, signal.SIGINT)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT_S)
        _signal_group(process, signal.SIGKILL)
        process.wait()

    def exited(self) -> list[str]:
        """The children that died on their own, with the end of their logs."""
        return [
            f"{name} exited with {process.returncode}: {tail(self.log_path(name))}"
            for name, process in self.children
            if process.poll() is not None
        ]


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def manage_output(*args: str, env: dict[str, str] | None = None) -> str:
    """Run a short management command to its end; its output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@contextmanager
def embedded_broker(work_dir: Path, name: str) -> Iterator[str]:
    """A Tansu broker of the part's own, with the pipeline's topics; its bootstrap servers.

    This process's Django settings point at it meanwhile, so ``ensure_topics`` and the clients
    made from ``pipeline.kafka`` reach it.
    """
    from django.conf import settings

    from pipeline.topics import ensure_topics

    broker = EmbeddedBroker(free_port(), log_path=work_dir / f"broker-{name}.log")
    broker.start()
    previous = settings.KAFKA_BOOTSTRAP_SERVERS
    settings.KAFKA_BOOTSTRAP_SERVERS = broker.bootstrap_servers
    try:
        ensure_topics()
        yield broker.bootstrap_servers
    finally:
        settings.KAFKA_BOOTSTRAP_SERVERS = previous
        broker.stop()


def publish(topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    """Publish (key, value) pairs and wait until the broker has every one."""
    from pipeline.kafka import producer_config

    producer = Producer(producer_config(**{"linger.ms": 20}))
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(60)
    if left:
        raise RuntimeError(f"{left} messages were not acknowledged by the broker")


def watch_count(
    count: Callable[[], int],
    target: int,
    timeout_s: float,
    processes: Processes,
    interval_s: float = 0.02,
) -> list[tuple[float, int]]:
    """Samples (monotonic time, count) until ``count()`` reaches ``target``, a child dies, or
    ``timeout_s`` passes."""
    samples: list[tuple[float, int]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        samples.append((time.monotonic(), count()))
        if samples[-1][1] >= target or processes.exited():
            break
        time.sleep(interval_s)
    return samples


def throughput(samples: list[tuple[float, int]], baseline: int = 0) -> tuple[float, int, float]:
    """(per second, done, seconds) from the first sample that saw progress to the last: the
    time before the first message (start-up, the group join) is left out."""
    moved = [(at, done - baseline) for at, done in samples if done > baseline]
    if len(moved) < 2:
        return 0.0, moved[-1][1] if moved else 0, 0.0
    (first_at, first_done), (last_at, last_done) = moved[0], moved[-1]
    seconds = last_at - first_at
    return ((last_done - first_done) / seconds if seconds > 0 else 0.0), last_done, seconds


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
