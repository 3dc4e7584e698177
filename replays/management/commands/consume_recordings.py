from arroyo.backends.kafka import KafkaProducer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from pipeline.consumers import build_processor, consumer_producer_config, run_until_signalled
from replays.consumer import RecordingsStrategyFactory
from replays.occurrences import OccurrencePublisher


class Command(BaseCommand):
    help = (
        "Consume ingest-replay-recordings: store replays and segments, publish occurrences. "
        "Run several in one group to scale out; SIGINT/SIGTERM stop after the work in hand."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group", default=settings.REPLAYS_CONSUMER_GROUP)
        parser.add_argument("--topic", default=settings.TOPIC_REPLAY_RECORDINGS)

    def handle(self, *args: object, **options: object) -> None:
        producer = KafkaProducer(consumer_producer_config())
        publisher = OccurrencePublisher(
            producer, settings.TOPIC_OCCURRENCES, settings.REPLAYS_PRODUCE_TIMEOUT_S
        )
        processor = build_processor(
            topic=str(options["topic"]),
            group_id=str(options["group"]),
            factory=RecordingsStrategyFactory(publisher),
            dlq_topic=settings.TOPIC_REPLAY_RECORDINGS_DLQ,
            dlq_producer=producer,
        )
        self.stdout.write(f"consuming {options['topic']} in group {options['group']}")

        def close() -> None:
            producer.close().result(timeout=10)
            connections.close_all()

        run_until_signalled(processor, close)
