from django.core.management.base import BaseCommand

from pipeline.topics import ensure_topics, pipeline_topics


class Command(BaseCommand):
    help = "Create the pipeline's Kafka topics with sentry-kafka-schemas' configs (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        created = set(ensure_topics())
        for topic in pipeline_topics():
            state = "created" if topic.name in created else "exists"
            self.stdout.write(f"{topic.name}: {state}")
