"""``manage.py run_previews``: the worker that carries out settings previews and apply runs."""

import signal
import threading
from pathlib import Path

from arroyo.backends.kafka import KafkaProducer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from pipeline.consumers import consumer_producer_config
from replays.occurrences import OccurrencePublisher
from replays.previews import preview_claim_next, preview_execute

# How long the worker sleeps when no run is queued.
IDLE_S = 1.0


class Command(BaseCommand):
    help = (
        "Carry out the detection settings previews (publish nothing) and apply runs (publish as "
        "reprocess_replays) that the admin queues, one at a time; run several to work side by side."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Carry out what is queued now, then exit."
        )
        parser.add_argument(
            "--healthcheck-file",
            type=Path,
            default=None,
            help=(
                "Touched on every round of the loop and with a run's progress (a container "
                "healthcheck reads its age)."
            ),
        )

    def handle(self, *args: object, **options: object) -> None:
        stop = threading.Event()
        if not options["once"]:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda _signum, _frame: stop.set())
            self.stdout.write("running previews")
            self.stdout.flush()
        producer: KafkaProducer | None = None

        def publish(occurrences: list) -> None:
            nonlocal producer
            if producer is None:
                producer = KafkaProducer(consumer_producer_config())
            OccurrencePublisher(
                producer, settings.TOPIC_OCCURRENCES, settings.REPLAYS_PRODUCE_TIMEOUT_S
            ).publish(occurrences)

        health = options["healthcheck_file"]
        try:
            while not stop.is_set():
                if health:
                    health.touch()
                run = preview_claim_next()
                if run is not None:
                    preview_execute(run, publish, alive=health.touch if health else None)
                    continue
                if options["once"]:
                    break
                connection.close_if_unusable_or_obsolete()
                stop.wait(IDLE_S)
        finally:
            if producer is not None:
                producer.close().result(timeout=settings.REPLAYS_PRODUCE_TIMEOUT_S)
