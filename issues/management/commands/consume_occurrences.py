from arroyo.backends.kafka import KafkaPayload, KafkaProducer
from arroyo.processing.strategies.abstract import ProcessingStrategyFactory
from django.conf import settings

from issues.consumer import OccurrencesStrategyFactory
from pipeline.consumer_command import ConsumerCommand


class Command(ConsumerCommand):
    help = (
        "Consume ingest-occurrences: group occurrences into issues. Run several in one group to "
        "scale out; SIGINT/SIGTERM stop after the work in hand."
    )
    default_topic = settings.TOPIC_OCCURRENCES
    default_group = settings.ISSUES_CONSUMER_GROUP
    dlq_topic = settings.TOPIC_OCCURRENCES_DLQ

    def build_factory(self, producer: KafkaProducer) -> ProcessingStrategyFactory[KafkaPayload]:
        return OccurrencesStrategyFactory()
