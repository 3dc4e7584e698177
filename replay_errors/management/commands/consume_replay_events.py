from arroyo.backends.kafka import KafkaPayload, KafkaProducer
from arroyo.processing.strategies.abstract import ProcessingStrategyFactory
from django.conf import settings

from pipeline.consumer_command import ConsumerCommand
from replay_errors.consumer import ErrorEventsStrategyFactory
from replays.occurrences import OccurrencePublisher


class Command(ConsumerCommand):
    help = (
        "Consume ingest-events: keep the SDK's error events that belong to a replay, one compact "
        "row each, and publish the click occurrences whose window they change. Run several in "
        "one group to scale out; SIGINT/SIGTERM stop after the work in "
        "hand."
    )
    default_topic = settings.TOPIC_EVENTS
    default_group = settings.REPLAY_ERRORS_CONSUMER_GROUP
    dlq_topic = settings.TOPIC_EVENTS_DLQ

    def build_factory(self, producer: KafkaProducer) -> ProcessingStrategyFactory[KafkaPayload]:
        publisher = OccurrencePublisher(
            producer, settings.TOPIC_OCCURRENCES, settings.REPLAYS_PRODUCE_TIMEOUT_S
        )
        return ErrorEventsStrategyFactory(publisher)
