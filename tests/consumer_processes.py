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


def database_url() -> str:
    """The test database, for processes of their own."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class ConsumerProcess:
    def __init__(self, name: str, group: str, directory: Path, **extra_env: str) -> None:
        self.log = directory / f"{name}.log"
        self.health = directory / f"{name}.health"
        self.metrics_port = free_port()
        env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        env.update(
            DJANGO_SETTINGS_MODULE="settings.base",
            DATABASE_URL=database_url(),
            KAFKA_BOOTSTRAP_SERVERS=settings.KAFKA_BOOTSTRAP_SERVERS,
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

    def assigned(self) -> bool:
        """Its latest assignment holds partitions."""
        assignments = ASSIGNED.findall(self.output())
        return bool(assignments) and "Partition(" in assignments[-1]

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
