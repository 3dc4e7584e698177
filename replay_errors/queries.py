"""Reads of the replay-errors stage, for the API and the web UI."""

import uuid

from django.db.models import QuerySet

from replay_errors.models import ReplayErrorEvent


def replay_error_events(project_id: int, replay_id: uuid.UUID | str) -> QuerySet[ReplayErrorEvent]:
    """The replay's error events, oldest first (the index on project, replay_id, timestamp).

    The caller checks that the user may see the project: this only selects."""
    return ReplayErrorEvent.objects.filter(project_id=project_id, replay_id=replay_id).order_by(
        "timestamp", "event_id"
    )
