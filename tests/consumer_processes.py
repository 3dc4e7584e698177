"""Consumers as real processes (``manage.py consume_recordings``) on the test's broker and
database, each with its own log, metrics port and healthcheck file."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from pipeline.broker import free_port
from pipeline.children import spawn

ASSIGNED = re.compile(r"New partitions assigned: (\{.*\})")
# Lines that say nothing about a failure: reconnect attempts to a stopped broker, arroyo's routine.
NOISE = re.compile(
    r"Connect to .* failed|brokers are down|Connection refused|Paused partitions after|Member id:"
)


def last_traceback(lines: list[str]) -> str:
    """The last Python traceback among ``lines`` with the error line that ends it, or ''."""
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if not starts:
        return ""
    block = [lines[starts[-1]]]
    for line in lines[starts[-1] + 1 :]:
        block.append(line)
        if not line.startswith((" ", "\t")) and len(block) > 1:
            break
    return "\n".join(block)


def database_url() -> str:
    """The test database, for processes of their own."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class ConsumerProcess:
    def __init__(self, name: str, group: str, directory: Path, **extra_env: str) -> None:
        self.name = name
        self.log = directory / f"{name}.log"
        self.health = directory / f"{name}.health"
        self.metrics_port = free_port()
        env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        env.update(
            DJANGO_SETTINGS_MODULE="settings.base",
            DATABASE_URL=database_url(),
            KAFKA_BOOTSTRAP_SERVERS=settings.KAFKA_BOOTSTRAP_SERVERS,
            KAFKA_OFFSET_GAP_WAIT_S=str(settings.KAFKA_OFFSET_GAP_WAIT_S),
            KAFKA_PRODUCER_IDEMPOTENCE=str(settings.KAFKA_PRODUCER_IDEMPOTENCE).lower(),
            TOPIC_REPLAY_RECORDINGS=settings.TOPIC_REPLAY_RECORDINGS,
            TOPIC_REPLAY_RECORDINGS_DLQ=settings.TOPIC_REPLAY_RECORDINGS_DLQ,
            TOPIC_OCCURRENCES=settings.TOPIC_OCCURRENCES,
            RECORDINGS_ROOT=str(directory / "recordings"),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env)
        with self.log.open("wb") as log:
            self.process = spawn(
                [
                    *(sys.executable, str(settings.BASE_DIR / "manage.py"), "consume_recordings"),
                    *("--group", group, "--metrics-port", str(self.metrics_port)),
                    *("--healthcheck-file", str(self.health)),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def diagnosis(self, lines: int = 30) -> str:
        """What to read when a test of this process fails: whether it runs or its exit code, its
        last error with its traceback, and its last lines; librdkafka's connection attempts
        (refused while a broker is down) and arroyo's routine are left out."""
        code = self.process.poll()
        state = "still running" if code is None else f"exited with code {code}"
        relevant = [line for line in self.output().splitlines() if not NOISE.search(line)]
        error = last_traceback(relevant)
        parts = [f"{self.name}: {state}"]
        if error:
            parts.append(f"its last error:\n{error}")
        parts.append(f"its last {lines} relevant lines of {self.log}:")
        parts.extend(relevant[-lines:])
        return "\n".join(parts)

    def assigned(self) -> bool:
        """Its latest assignment holds partitions."""
        return self.partitions_held() > 0

    def partitions_held(self) -> int:
        """How many partitions its latest assignment holds."""
        assignments = ASSIGNED.findall(self.output())
        return assignments[-1].count("Partition(") if assignments else 0

    def assignments(self) -> int:
        """How many assignments it has had."""
        return len(ASSIGNED.findall(self.output()))

    def pause(self) -> None:
        """SIGSTOP: the process and its Kafka client's threads freeze (a stalled host, a long GC
        pause, a VM migration); heartbeats stop."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def segments_processed(self) -> float:
        text = requests.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            if family.name == "replay_issues_segments_processed":
                return sum(s.value for s in family.samples if s.name.endswith("_total"))
        return 0.0

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last commit, as when the host dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()
