"""``manage.py reprocess_replays``: detection again, with the current settings, over stored
recordings; the occurrences published as the consumer publishes them."""

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from arroyo.backends.kafka import KafkaProducer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ingest.models import Project
from pipeline.consumers import consumer_producer_config
from replays.occurrences import OccurrencePublisher
from replays.queries import load_detection_settings
from replays.reprocessing import Progress, parse_instant, reprocess


class Command(BaseCommand):
    help = (
        "Run detection with the project's current settings over its stored recordings (received "
        "in [--since, --until)) and publish the occurrences. Occurrence ids are deterministic: "
        "run it again, or after a crash, and nothing is counted twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True)
        parser.add_argument("--since", type=parse_instant, help="ISO 8601; without a zone, UTC.")
        parser.add_argument("--until", type=parse_instant, help="ISO 8601; without a zone, UTC.")
        parser.add_argument("--dry-run", action="store_true", help="Publish nothing.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object at the end.")

    def handle(self, *args: object, **options: object) -> None:
        project_id = options["project"]
        if not Project.objects.filter(id=project_id).exists():
            raise CommandError(f"project {project_id} does not exist")
        detection_settings = load_detection_settings(project_id)
        with self._publisher(options["dry_run"]) as publish:
            summary = reprocess(
                project_id,
                detection_settings,
                since=options["since"],
                until=options["until"],
                publish=publish,
                on_progress=self._progress_printer(),
                max_inflated_bytes=settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES,
            )
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_json(project_id)))
        else:
            occurrences = ", ".join(
                f"{slug} {n}" for slug, n in sorted(summary.occurrences.items())
            )
            self.stdout.write(
                f"{summary.segments} segment(s) of {summary.replays} replay(s); occurrences: "
                f"{occurrences or 'none'}; {summary.new_issues(project_id)} new issue(s)"
                + (" (dry run: nothing published)" if options["dry_run"] else "")
                + (f"; {summary.skipped} segment(s) skipped" if summary.skipped else "")
            )

    @contextmanager
    def _publisher(self, dry_run: bool) -> Iterator[OccurrencePublisher | None]:
        if dry_run:
            yield None
            return
        producer = KafkaProducer(consumer_producer_config())
        try:
            yield OccurrencePublisher(
                producer, settings.TOPIC_OCCURRENCES, settings.REPLAYS_PRODUCE_TIMEOUT_S
            ).publish
        finally:
            producer.close().result(timeout=settings.REPLAYS_PRODUCE_TIMEOUT_S)

    def _progress_printer(self) -> Callable[[Progress], None] | None:
        """Done / total, rate and time left on a terminal, at most a few times a second; nothing
        when the output is not a terminal (a log, a pipe)."""
        if not sys.stderr.isatty():
            return None
        shown = {"at": 0.0}

        def show(progress: Progress) -> None:
            now = time.monotonic()
            if now - shown["at"] < 0.25 and progress.done != progress.total:
                return
            shown["at"] = now
            eta = progress.eta_s
            left = f"{int(eta // 60)}m{int(eta % 60):02d}s left" if eta is not None else ""
            sys.stderr.write(
                f"\r{progress.done}/{progress.total} segments  {progress.rate:,.0f}/s  {left}   "
            )
            if progress.done == progress.total:
                sys.stderr.write("\n")
            sys.stderr.flush()

        return show
