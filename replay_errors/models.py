"""The SDK's error events that belong to a replay, one compact row each."""

from django.db import models

from ingest.models import Project
from replay_errors.event_message import (
    MAX_CULPRIT,
    MAX_NAME,
    MAX_TYPE,
    MAX_URL,
    MAX_VALUE,
)


class ReplayErrorEvent(models.Model):
    """One error event of a replay: what its page and a click's cause show, and the event JSON
    up to a cap (REPLAY_ERROR_EVENT_MAX_JSON_BYTES).

    No foreign key to the replay: the SDK sends an error before the segment that lists it, so the
    row often exists before its replay does; it is found by (project, replay_id)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="error_events")
    replay_id = models.UUIDField()
    event_id = models.UUIDField()
    timestamp = models.DateTimeField(help_text="When the error happened (the event's timestamp).")
    received_at = models.DateTimeField(help_text="When ingest accepted it.")
    retention_days = models.PositiveIntegerField(default=90)
    level = models.CharField(max_length=16, default="error")
    type = models.CharField(max_length=MAX_TYPE, blank=True, help_text="The exception's type.")
    value = models.CharField(max_length=MAX_VALUE, blank=True, help_text="Its message.")
    culprit = models.CharField(max_length=MAX_CULPRIT, blank=True)
    url = models.CharField(max_length=MAX_URL, blank=True)
    release = models.CharField(max_length=MAX_NAME, blank=True)
    environment = models.CharField(max_length=MAX_NAME, blank=True)
    event = models.JSONField(default=dict, help_text="The event JSON, trimmed to the cap.")

    class Meta:
        ordering = ["timestamp"]
        constraints = [
            models.UniqueConstraint(fields=["project", "event_id"], name="unique_error_event")
        ]
        indexes = [
            models.Index(fields=["project", "replay_id", "timestamp"], name="error_event_replay"),
            models.Index(fields=["received_at"], name="error_event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.type or self.level}: {self.value[:60]}"
