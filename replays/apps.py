from django.apps import AppConfig


class ReplaysConfig(AppConfig):
    """Stage 2: detection of frustration clicks in recording segments."""

    name = "replays"
