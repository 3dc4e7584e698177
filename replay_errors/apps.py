from django.apps import AppConfig


class ReplayErrorsConfig(AppConfig):
    """The SDK's error events that belong to a replay, kept compactly for its page and causes."""

    name = "replay_errors"
    verbose_name = "Replay errors"
