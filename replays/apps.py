from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ReplaysConfig(AppConfig):
    """Stage 2: detection of frustration clicks in recording segments."""

    name = "replays"
    verbose_name = "Replays"

    def ready(self) -> None:
        from ingest.models import Project
        from replays.models import DetectionSettings
        from replays.queries import forget_cached_settings
        from replays.services import detection_settings_create_defaults

        post_save.connect(
            detection_settings_create_defaults, sender=Project, dispatch_uid="replays-defaults"
        )
        for model in (Project, DetectionSettings):
            post_save.connect(
                forget_cached_settings, sender=model, dispatch_uid=f"settings-{model}-save"
            )
            post_delete.connect(
                forget_cached_settings, sender=model, dispatch_uid=f"settings-{model}-del"
            )
