"""Part g: the alert delivery worker's throughput to a local webhook receiver.

``DELIVERIES`` pending webhook deliveries are written as the issues consumer writes them (one
rule, a stored body each), then one ``DeliveryWorker`` with the default concurrency sends them all
to a receiver in another process (``bench.alert_receiver``); the figure is deliveries sent per
second, from the first claim to the last outcome recorded.
"""

import logging
import os
import subprocess
import sys
import time
import uuid

from django.test import override_settings
from django.utils import timezone

from alerts.models import AlertDelivery, AlertRule, DeliveryStatus
from alerts.payload import webhook_body
from alerts.worker import DeliveryWorker
from bench import corpus
from ingest.models import Project

DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "2000"))


def pending_deliveries(rule: AlertRule, count: int) -> None:
    now = timezone.now()
    rows = []
    for _ in range(count):
        delivery_id = uuid.uuid4().hex
        body = webhook_body(
            delivery_id=delivery_id,
            trigger="new_issue",
            rule=(rule.pk, rule.name),
            project=(rule.project_id, rule.project.name),
            issue=None,
            page={"page": "/cart", "count": 1, "window_s": 60},
            triggered_at=now,
        )
        rows.append(
            AlertDelivery(
                delivery_id=delivery_id,
                rule=rule,
                project_id=rule.project_id,
                trigger="new_issue",
                payload=body,
                next_attempt_at=now,
                created_at=now,
            )
        )
    AlertDelivery.objects.bulk_create(rows, batch_size=500)


def measure() -> dict[str, float]:
    logging.getLogger("alerts.worker").setLevel(logging.WARNING)  # a line per delivery otherwise
    receiver = subprocess.Popen(
        [sys.executable, "-m", "bench.alert_receiver"], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(receiver.stdout.readline())
        project = Project.objects.get(pk=corpus.PROJECT_ID)
        rule = AlertRule.objects.create(
            project=project,
            name="bench",
            trigger="new_issue",
            action={
                "type": "webhook",
                "url": f"http://127.0.0.1:{port}/hook",
                "secret": "a-bench-secret-of-16+",
            },
        )
        pending_deliveries(rule, DELIVERIES)
        with override_settings(ALERTS_ALLOW_PRIVATE_ADDRESSES=True):
            worker = DeliveryWorker()
            started = time.monotonic()
            sent = worker.run_once()
            elapsed = time.monotonic() - started
            worker.close()
        failed = AlertDelivery.objects.exclude(status=DeliveryStatus.SENT).count()
        return {
            "alerts_deliveries": float(DELIVERIES),
            "alerts_sent": float(sent),
            "alerts_not_sent": float(failed),
            "alerts_concurrency": float(worker.concurrency),
            "alerts_per_s": sent / elapsed if elapsed else 0.0,
        }
    finally:
        receiver.terminate()
        receiver.wait(10)
