from django.apps import AppConfig


class PipelineConfig(AppConfig):
    """Kafka plumbing that every stage shares: client settings, topics, the embedded broker."""

    name = "pipeline"
