from django.apps import AppConfig


class IngestConfig(AppConfig):
    """Stage 1: the SDK's envelope endpoint, projects and their keys."""

    name = "ingest"
    verbose_name = "Ingest"
