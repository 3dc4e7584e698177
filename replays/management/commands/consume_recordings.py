from arroyo.backends.kafka import KafkaPayload, KafkaProducer
from arroyo.processing.strategies.abstract import ProcessingStrategyFactory
from django.conf import settings

from pipeline.consumer_command import ConsumerCommand
from replays.consumer import RecordingsStrategyFactory
from replays.detection.user_agent import load_parser
from replays.occurrences import OccurrencePublisher


class Command(ConsumerCommand):
    help = (
        "Consume ingest-replay-recordings: store replays and segments, publish occurrences. "
        "Run several in one group to scale out; SIGINT/SIGTERM stop after the work in hand."
    )
    default_topic = settings.TOPIC_REPLAY_RECORDINGS
    default_group = settings.REPLAYS_CONSUMER_GROUP
    dlq_topic = settings.TOPIC_REPLAY_RECORDINGS_DLQ

    def build_factory(self, producer: KafkaProducer) -> ProcessingStrategyFactory[KafkaPayload]:
        load_parser()  # detection's one large structure, loaded before the first segment waits
        publisher = OccurrencePublisher(
            producer, settings.TOPIC_OCCURRENCES, settings.REPLAYS_PRODUCE_TIMEOUT_S
        )
        return RecordingsStrategyFactory(publisher)
