"""What the ``consume_*`` management commands share: options, wiring, observability, shutdown.

A stage's command names its topic, group and dead-letter topic and builds its strategy factory;
this base does the rest, the same way for every consumer.
"""

from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path

from arroyo.backends.kafka import KafkaPayload, KafkaProducer
from arroyo.processing.strategies.abstract import ProcessingStrategyFactory
from arroyo.types import Partition
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from pipeline import metrics
from pipeline.consumers import (
    AnnouncedFactory,
    build_processor,
    consumer_producer_config,
    run_until_signalled,
)

# The start of the line a consumer prints when it gets an assignment.
PARTITIONS_HELD = "partitions held:"


class ConsumerCommand(BaseCommand):
    default_topic: str
    default_group: str
    dlq_topic: str

    @abstractmethod
    def build_factory(self, producer: KafkaProducer) -> ProcessingStrategyFactory[KafkaPayload]:
        """The stage's strategy factory; ``producer`` is the one its output may be sent with."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", default=self.default_group)
        parser.add_argument("--topic", default=self.default_topic)
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=None,
            help="Serve Prometheus metrics on this port (for a consumer on a host of its own).",
        )
        parser.add_argument(
            "--healthcheck-file",
            type=Path,
            default=None,
            help="Touch this file at least once a second while the consumer loop runs "
            "(a container's liveness check reads its age).",
        )

    def announce_partitions(self, partitions: Mapping[Partition, int]) -> None:
        """One line on stdout per assignment (``devstack`` waits for the first with partitions)."""
        names = ", ".join(f"{p.topic.name}[{p.index}]" for p in sorted(partitions, key=str))
        self.stdout.write(f"{PARTITIONS_HELD} {len(partitions)}: {names}")
        self.stdout.flush()

    def handle(self, *args: object, **options: object) -> None:
        if options["metrics_port"] is not None:
            metrics.serve(int(options["metrics_port"]))
        producer = KafkaProducer(consumer_producer_config())
        processor = build_processor(
            topic=str(options["topic"]),
            group_id=str(options["group"]),
            factory=AnnouncedFactory(self.build_factory(producer), self.announce_partitions),
            dlq_topic=self.dlq_topic,
            dlq_producer=producer,
            healthcheck_file=options["healthcheck_file"],
        )
        self.stdout.write(f"consuming {options['topic']} in group {options['group']}")

        def close() -> None:
            producer.close().result(timeout=10)
            connections.close_all()

        run_until_signalled(processor, close)
