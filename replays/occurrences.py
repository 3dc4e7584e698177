"""The Kafka edge of replays: publish occurrences on ``ingest-occurrences``, wait for acks."""

from collections.abc import Sequence

import orjson
from arroyo.backends.abstract import Producer
from arroyo.backends.kafka import KafkaPayload
from arroyo.types import Topic

from issues.fingerprints import occurrence_hashes
from pipeline.metrics import OCCURRENCE_REVISIONS, OCCURRENCES
from replays.click_windows import click_windows_mark_published
from replays.detection.occurrence import Occurrence
from replays.models import ReplayClickWindow


class OccurrencesNotPublished(Exception):
    """The broker did not take a batch's occurrences in time: the batch is tried again."""


class OccurrencePublisher:
    def __init__(self, producer: Producer[KafkaPayload], topic: str, timeout_s: float) -> None:
        self.producer = producer
        self.topic = Topic(topic)
        self.timeout_s = timeout_s

    def publish(self, occurrences: list[Occurrence]) -> None:
        """Send them all, keyed by their primary hash (what a new issue is made under: one
        issue's occurrences stay in order on one partition, on every page of a strongly
        identified element); return once the broker has every one, else raise what went wrong."""
        futures = [
            self.producer.produce(
                self.topic,
                KafkaPayload(
                    occurrence_hashes(occurrence.type, occurrence.fingerprint)[0].encode(),
                    orjson.dumps(occurrence.to_dict()),
                    [],
                ),
            )
            for occurrence in occurrences
        ]
        for future in futures:
            future.result(timeout=self.timeout_s)


def publish_click_windows(
    publisher: OccurrencePublisher,
    windows: Sequence[ReplayClickWindow],
    others: Sequence[Occurrence] = (),
) -> None:
    """Publish the occurrences of click windows built and not yet published (and ``others``,
    which have no window), then mark the windows published and count them: a window published
    before (version > 1) counts as a revision. The replays consumer and the replay-errors
    consumer, which both build windows, publish them so. ``OccurrencesNotPublished`` when the
    broker does not take them (the caller tries again: the windows are still unpublished)."""
    occurrences = [Occurrence.from_dict(window.occurrence) for window in windows]
    occurrences += others
    if not occurrences:
        return
    try:
        publisher.publish(occurrences)
    except Exception as exc:
        raise OccurrencesNotPublished(f"occurrences not published: {exc}") from exc
    click_windows_mark_published(windows)
    revised = {window.occurrence_id for window in windows if window.version > 1}
    for occurrence in occurrences:
        counter = OCCURRENCE_REVISIONS if occurrence.id in revised else OCCURRENCES
        counter.labels(occurrence.type_slug).inc()
