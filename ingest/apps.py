from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class IngestConfig(AppConfig):
    """Stage 1: the SDK's envelope endpoint, projects and their keys."""

    name = "ingest"
    verbose_name = "Ingest"

    def ready(self) -> None:
        from ingest.models import Project, ProjectKey
        from ingest.queries import forget_cached_keys
        from ingest.rate_limits import forget_exceeded

        for model in (Project, ProjectKey):
            post_save.connect(forget_cached_keys, sender=model, dispatch_uid=f"keys-{model}-save")
            post_delete.connect(forget_cached_keys, sender=model, dispatch_uid=f"keys-{model}-del")
        # A limit changed here applies at once in this process (others: within the key cache's TTL).
        post_save.connect(forget_exceeded, sender=ProjectKey, dispatch_uid="rate-limits-save")
