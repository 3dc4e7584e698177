"""The web UI's pages (issues.views)."""

import uuid

from django.urls import path, register_converter

from issues.views import elements, issues, replays


class ReplayIdConverter:
    """A replay id as the SDK writes it (32 hex digits) or as a UUID with dashes."""

    regex = "[0-9a-fA-F]{32}|[0-9a-fA-F-]{36}"

    def to_python(self, value: str) -> uuid.UUID:
        # A ValueError (dashes in the wrong places) makes the path not match: a 404.
        return uuid.UUID(value)

    def to_url(self, value: uuid.UUID | str) -> str:
        return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(value).hex


register_converter(ReplayIdConverter, "replay_id")

app_name = "issues"
urlpatterns = [
    path("", issues.home, name="home"),
    path("projects/<int:project_id>/issues/", issues.issue_list, name="issue-list"),
    path(
        "projects/<int:project_id>/issues/bulk/",
        issues.issue_bulk_status,
        name="issue-bulk-status",
    ),
    path("issues/<int:issue_id>/", issues.issue_detail, name="issue-detail"),
    path("issues/<int:issue_id>/status/", issues.issue_status, name="issue-status"),
    path("projects/<int:project_id>/selectors/", elements.selectors, name="selectors"),
    path("projects/<int:project_id>/replays/<replay_id:replay_id>/", replays.replay, name="replay"),
    path(
        "projects/<int:project_id>/replays/<replay_id:replay_id>/recording.json",
        replays.replay_recording_json,
        name="replay-recording",
    ),
]
