"""What the parts run on: the run's own database and directory, embedded brokers, and child
processes that are always stopped, whatever happens to the part.

The run works in a temporary directory: a SQLite database migrated once, the recordings, one log
file per child. With ``BENCH_PROFILE=<dir>`` every Python child runs under ``py-spy record``
(collapsed stacks in ``<dir>/<name>.txt``; ``python -m bench.hotspots <file>`` sums them up).
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Producer

from pipeline.apache_kafka import KafkaNode, ensure_libs, java_binary
from pipeline.broker import EmbeddedBroker, free_port
from pipeline.children import spawn

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 20.0


def configure_environment(work_dir: Path) -> None:
    """Point Django, and every child started later, at the run's own files, configured as the
    image deploys the service (Dockerfile: ``DEBUG=false``, JSON logs, multi-process metrics)."""
    metrics_dir = work_dir / "prometheus"
    metrics_dir.mkdir()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"sqlite:///{work_dir / 'bench.sqlite3'}",
        RECORDINGS_ROOT=str(work_dir / "recordings"),
        BENCH_VAR_DIR=str(work_dir),
        PYTHONUNBUFFERED="1",
        DEBUG="false",
        # DEBUG off wants a secret key of the environment's (settings/base.py); the run's own.
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        # The parts speak plain http to 127.0.0.1: no redirect to https, no secure-only cookies.
        HTTPS_ONLY="false",
        LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
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
        self, name: str, argv: list[str], env: dict[str, str] | None = None, gil: bool = False
    ) -> subprocess.Popen[bytes]:
        """Start ``argv``; when profiling, under py-spy. ``gil``: sample only the thread holding
        the GIL, for a server whose many threads would otherwise show as waiting for their turn
        (it hides the time spent in C with the GIL released: SQLite, zlib, file writes)."""
        if self.profiles is not None:
            record = ["record", "--subprocesses", "--nonblocking", "--format", "raw"]
            record += ["--gil"] if gil else []
            output = str(self.profiles / f"{name}.txt")
            py_spy = str(Path(sys.executable).with_name("py-spy"))
            argv = [py_spy, *record, "-o", output, "--", *argv]
        with open(self.log_path(name), "ab") as log:
            process = spawn(
                argv,
                cwd=BASE_DIR,
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.children.append((name, process))
        return process

    def manage(
        self,
        name: str,
        *args: str,
        env: dict[str, str] | None = None,
        program: tuple[str, ...] = ("manage.py",),
    ) -> subprocess.Popen[bytes]:
        """A long-running management command (a consumer, devstack); ``program`` is what runs
        it (``manage.py``, or a module that runs it changed: ``("-m", "bench.…")``)."""
        return self.start(name, [sys.executable, *program, *args], env=env)

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


# The brokers parts b and c run on, each in a column of the table: the embedded Tansu, and Apache
# Kafka (a single node from deploy/kafka/pom.xml's jars, as `make kafka-up` and the tests start it).
ENGINES = ("tansu", "kafka")
ENGINE_NAMES = {"tansu": "Tansu", "kafka": "Apache Kafka"}
# A bench node's JVM: more heap than a test's, it takes thousands of messages a second.
KAFKA_HEAP_OPTS = "-Xmx512m -Xms512m"


def kafka_unavailable() -> str | None:
    """Why Apache Kafka cannot run on this machine (no Java, or no jars and no Maven to fetch
    them), or None; the bench then says so in its column instead of failing."""
    try:
        java_binary()
        ensure_libs()
    except RuntimeError as error:
        return str(error)
    return None


def client_settings(broker: EmbeddedBroker | KafkaNode) -> dict[str, str]:
    """The environment of ``broker``'s clients: its address and its engine's ``client_env``."""
    return {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers, **broker.client_env}


def _as_setting(current: object, value: str) -> object:
    if isinstance(current, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return type(current)(value) if isinstance(current, int | float) else value


@contextmanager
def embedded_broker(
    work_dir: Path, name: str, engine: str = "tansu"
) -> Iterator[EmbeddedBroker | KafkaNode]:
    """A broker of the part's own, Tansu or an Apache Kafka node (``engine``), with the
    pipeline's topics.

    This process's Django settings point at it meanwhile (with its engine's client settings), so
    ``ensure_topics`` and the clients made from ``pipeline.kafka`` reach it; children get the same
    from ``client_settings``.
    """
    from django.conf import settings

    from pipeline.topics import ensure_topics

    if engine == "kafka":
        broker: EmbeddedBroker | KafkaNode = KafkaNode(
            free_port(), free_port(), work_dir / f"kafka-{name}", heap_opts=KAFKA_HEAP_OPTS
        )
        broker.start(timeout_s=180)
    else:
        broker = EmbeddedBroker(free_port(), log_path=work_dir / f"broker-{name}.log")
        broker.start()
    values = client_settings(broker)
    previous = {key: getattr(settings, key) for key in values}
    for key, value in values.items():
        setattr(settings, key, _as_setting(previous[key], value))
    try:
        ensure_topics()
        yield broker
    finally:
        for key, value in previous.items():
            setattr(settings, key, value)
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


class CpuClock:
    """CPU seconds (user + system) used so far by a process and its descendants (as they were at
    the first reading: gunicorn's workers, or a consumer under py-spy), read from /proc."""

    def __init__(self, pid: int) -> None:
        self.root = pid
        self.pids: list[int] | None = None

    def __call__(self) -> float:
        if self.pids is None:
            self.pids = descendants(self.root)
        return sum(_cpu_ticks(pid) for pid in self.pids) / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int | str) -> list[str]:
    """/proc/<pid>/stat from its third field on (the command name may hold spaces)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []


def _cpu_ticks(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[11]) + int(fields[12]) if fields else 0  # utime, stime


def descendants(root: int) -> list[int]:
    """``root`` and every process under it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(entry.name)):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue += children.get(pid, [])
    return found


def machine_busy() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # monotonic seconds
    done: int
    cpu_s: tuple[float, ...]  # of each watched process
    machine: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Throughput:
    per_s: float
    done: int
    seconds: float
    cpu_shares: tuple[float, ...]  # of each watched process: 1.0 is one core busy all along
    machine_busy: float  # of the whole machine: 1.0 is every core busy


def watch_count(
    count: Callable[[], int],
    target: int,
    timeout_s: float,
    processes: Processes,
    clocks: tuple[CpuClock, ...] = (),
    interval_s: float = 0.02,
) -> list[Sample]:
    """Samples until ``count()`` reaches ``target``, a child dies, or ``timeout_s`` passes."""
    samples: list[Sample] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done = count()
        samples.append(
            Sample(time.monotonic(), done, tuple(clock() for clock in clocks), machine_busy())
        )
        if done >= target or processes.exited():
            break
        time.sleep(interval_s)
    return samples


def throughput(samples: list[Sample], baseline: int = 0) -> Throughput:
    """From the first sample that saw progress to the last: the time before the first message
    (start-up, the group join) is left out."""
    moved = [sample for sample in samples if sample.done > baseline]
    if len(moved) < 2 or moved[-1].at <= moved[0].at:
        return Throughput(0.0, moved[-1].done - baseline if moved else 0, 0.0, (), 0.0)
    first, last = moved[0], moved[-1]
    seconds = last.at - first.at
    return Throughput(
        per_s=(last.done - first.done) / seconds,
        done=last.done - baseline,
        seconds=seconds,
        cpu_shares=tuple(
            (end - start) / seconds for start, end in zip(first.cpu_s, last.cpu_s, strict=True)
        ),
        machine_busy=busy_share(first.machine, last.machine),
    )


@dataclass(frozen=True, slots=True)
class Consumed:
    """A consumer run over what was published: its throughput, when its first row came (from
    its start), and the children that died."""

    result: Throughput
    first_row_s: float
    failures: list[str]

    @property
    def cpu_shares(self) -> tuple[float, float]:
        """The consumer's and the broker's, each 1.0 for one core busy all along."""
        consumer, broker = self.result.cpu_shares or (0.0, 0.0)
        return consumer, broker


def run_consumer(
    processes: Processes,
    broker: EmbeddedBroker | KafkaNode,
    command: str,
    count: Callable[[], int],
    target: int,
    timeout_s: float,
    program: tuple[str, ...] = ("manage.py",),
) -> Consumed:
    """Start ``manage.py <command>`` (or ``program``'s) in a group of its own on what the topic
    holds, and count its rows (``count``) until ``target`` more are there."""
    baseline = count()
    started = time.monotonic()
    group = f"bench-{command}-{uuid.uuid4().hex[:8]}"
    name = command if program == ("manage.py",) else f"{command}-{program[-1]}"
    consumer = processes.manage(
        name, command, "--group", group, env=client_settings(broker), program=program
    )
    clocks = (CpuClock(consumer.pid), CpuClock(broker.process.pid))
    samples = watch_count(count, baseline + target, timeout_s, processes, clocks)
    first_row = next((s.at for s in samples if s.done > baseline), samples[-1].at) - started
    return Consumed(throughput(samples, baseline), first_row, processes.exited())


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
