"""``manage.py deliver_alerts``: the alert delivery worker (run as many as needed)."""

import signal
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from alerts.worker import DeliveryWorker


class Command(BaseCommand):
    help = "Send the alerts that rules decided (webhook, Slack, e-mail), with retries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Send what is due now, then exit (tests, cron)."
        )
        parser.add_argument("--concurrency", type=int, default=None)
        parser.add_argument(
            "--healthcheck-file",
            type=Path,
            default=None,
            help="Touched on every round of the loop (a container healthcheck reads its age).",
        )

    def handle(self, *args: object, **options: object) -> None:
        worker = DeliveryWorker(concurrency=options["concurrency"])
        try:
            if options["once"]:
                sent = worker.run_once()
                self.stdout.write(f"{sent} alert(s) sent")
                return
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda _signum, _frame: stop.set())
            self.stdout.write("delivering alerts", ending="\n")
            self.stdout.flush()
            health = options["healthcheck_file"]
            worker.run(stop, heartbeat=health.touch if health else None)
        finally:
            worker.close()
