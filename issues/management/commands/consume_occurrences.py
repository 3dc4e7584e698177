from arroyo.backends.kafka import KafkaProducer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from issues.consumer import OccurrencesStrategyFactory
from pipeline.consumers import build_processor, consumer_producer_config, run_until_signalled


class Command(BaseCommand):
    help = (
        "Consume ingest-occurrences: group occurrences into issues. Run several in one group to "
        "scale out; SIGINT/SIGTERM stop after the work in hand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", default=settings.ISSUES_CONSUMER_GROUP)
        parser.add_argument("--topic", default=settings.TOPIC_OCCURRENCES)

    def handle(self, *args: object, **options: object) -> None:
        dlq_producer = KafkaProducer(consumer_producer_config())
        processor = build_processor(
            topic=str(options["topic"]),
            group_id=str(options["group"]),
            factory=OccurrencesStrategyFactory(),
            dlq_topic=settings.TOPIC_OCCURRENCES_DLQ,
            dlq_producer=dlq_producer,
        )
        self.stdout.write(f"consuming {options['topic']} in group {options['group']}")

        def close() -> None:
            dlq_producer.close().result(timeout=10)
            connections.close_all()

        run_until_signalled(processor, close)
