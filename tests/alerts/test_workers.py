"""Delivery workers as real processes (``manage.py deliver_alerts``) on the test's database: two
side by side send every delivery once; one SIGKILLed mid-send leaves its claims to the next, which
sends them again with the same delivery ids. Run on PostgreSQL too (``.ci/with-postgres``), where
claims use SKIP LOCKED."""

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from alerts.models import AlertDelivery, DeliveryStatus
from pipeline.children import spawn
from tests.alerts.builders import webhook_rule
from tests.alerts.receivers import Receiver, receiving
from tests.consumer_processes import database_url
from tests.consumers import wait_until
from tests.issues.builders import fixture_occurrences, record

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerProcess:
    def __init__(self, directory: Path, name: str, *args: str, **extra_env: str) -> None:
        self.log = directory / f"{name}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "settings.base",
            "DATABASE_URL": database_url(),
            "ALERTS_ALLOW_PRIVATE_ADDRESSES": "true",
            "ALERTS_POLL_INTERVAL_S": "0.05",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        with self.log.open("wb") as log:
            self.process = spawn(
                [sys.executable, str(settings.BASE_DIR / "manage.py"), "deliver_alerts", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def decide(project_id: int, url: str, rules: int) -> int:
    """``rules`` new_issue rules to ``url``, and the captured clicks: five deliveries each."""
    for number in range(rules):
        webhook_rule(project_id, url, name=f"rule {number}")
    for occurrence in fixture_occurrences():
        record(occurrence)
    return AlertDelivery.objects.count()


def all_sent() -> bool:
    return not AlertDelivery.objects.exclude(status=DeliveryStatus.SENT).exists()


def test_two_workers_send_every_delivery_once(sdk_project, tmp_path):
    with receiving() as receiver:
        total = decide(sdk_project.project_id, receiver.url, rules=20)
        assert total == 100
        health = [tmp_path / f"w{n}-health" for n in (1, 2)]
        workers = [
            WorkerProcess(
                tmp_path, f"w{n}", "--concurrency", "4", f"--healthcheck-file={health[n - 1]}"
            )
            for n in (1, 2)
        ]
        try:
            wait_until(
                all_sent,
                timeout_s=60,
                what="every delivery sent",
                diagnosis=lambda: "\n".join(w.output()[-2000:] for w in workers),
            )
            # Each touches its healthcheck file on every round, idle or not (docker-compose's
            # healthcheck reads its age).
            wait_until(lambda: all(path.exists() for path in health), what="healthcheck files")
            touched = [path.stat().st_mtime_ns for path in health]
            wait_until(
                lambda: all(
                    path.stat().st_mtime_ns > before
                    for path, before in zip(health, touched, strict=True)
                ),
                what="healthcheck files touched again",
            )
        finally:
            for worker in workers:
                worker.stop()
    received = Counter(receiver.deliveries())
    assert len(received) == total
    assert set(received.values()) == {1}
    assert set(AlertDelivery.objects.values_list("attempts", flat=True)) == {1}
    # Each logs the alerts it sent: together, each once (which of them sent how many depends on
    # which started first).
    assert sum(worker.output().count(" sent (new_issue") for worker in workers) == total


def test_a_worker_killed_mid_send_leaves_its_deliveries_to_the_next(sdk_project, tmp_path):
    lease = {"ALERTS_DELIVERY_TIMEOUT_S": "1", "ALERTS_CLAIM_LEASE_S": "3"}
    with receiving(Receiver(hang=True)) as receiver:
        total = decide(sdk_project.project_id, receiver.url, rules=2)
        first = WorkerProcess(tmp_path, "first", "--concurrency", "2", **lease)
        try:
            wait_until(lambda: len(receiver.received) == 2, what="the first worker's two sends")
        finally:
            first.kill()
        before_kill = set(receiver.deliveries())
        receiver.release.set()
        second = WorkerProcess(tmp_path, "second", "--concurrency", "2", **lease)
        try:
            wait_until(all_sent, timeout_s=60, what="every delivery sent", diagnosis=second.output)
        finally:
            second.stop()

    received = Counter(receiver.deliveries())
    assert len(received) == total == 10
    duplicated = {delivery_id for delivery_id, times in received.items() if times > 1}
    # Sent twice only where the receiver already had it when the worker died; same id both times.
    assert duplicated == before_kill
    assert set(received.values()) <= {1, 2}
