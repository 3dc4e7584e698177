"""The web UI's pages (issues.views)."""

import uuid

from django.urls import path, register_converter
from django.views.generic import RedirectView

from issues.views import alert_rules, elements, issues, project_settings, replays, settings_preview


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
    path("projects/<int:project_id>/elements/", elements.elements, name="elements"),
    # The page's former address: bookmarks and links keep working (query string kept).
    path(
        "projects/<int:project_id>/selectors/",
        RedirectView.as_view(pattern_name="issues:elements", query_string=True),
    ),
    path("projects/<int:project_id>/replays/<replay_id:replay_id>/", replays.replay, name="replay"),
    path(
        "projects/<int:project_id>/replays/<replay_id:replay_id>/recording.json",
        replays.replay_recording_json,
        name="replay-recording",
    ),
    path("projects/<int:project_id>/settings/", project_settings.detection, name="settings"),
    path(
        "projects/<int:project_id>/settings/preview/<int:run_id>/",
        settings_preview.preview,
        name="settings-preview",
    ),
    path(
        "projects/<int:project_id>/settings/preview/<int:run_id>/progress.json",
        settings_preview.preview_progress,
        name="settings-preview-progress",
    ),
    path(
        "projects/<int:project_id>/settings/preview/<int:run_id>/apply/",
        settings_preview.preview_apply,
        name="settings-preview-apply",
    ),
    path("projects/<int:project_id>/settings/keys/", project_settings.keys, name="settings-keys"),
    path(
        "projects/<int:project_id>/settings/token/", project_settings.token, name="settings-token"
    ),
    path(
        "projects/<int:project_id>/settings/token/new/",
        project_settings.token_create,
        name="settings-token-create",
    ),
    path(
        "projects/<int:project_id>/settings/token/revoke/",
        project_settings.token_revoke,
        name="settings-token-revoke",
    ),
    path(
        "projects/<int:project_id>/settings/alerts/", alert_rules.rule_list, name="settings-alerts"
    ),
    path(
        "projects/<int:project_id>/settings/alerts/new/",
        alert_rules.rule_create,
        name="settings-alert-rule-create",
    ),
    path(
        "projects/<int:project_id>/settings/alerts/<int:rule_id>/",
        alert_rules.rule_edit,
        name="settings-alert-rule",
    ),
    path(
        "projects/<int:project_id>/settings/alerts/<int:rule_id>/delete/",
        alert_rules.rule_delete,
        name="settings-alert-rule-delete",
    ),
    path(
        "projects/<int:project_id>/settings/alerts/<int:rule_id>/enable/",
        alert_rules.rule_enable,
        name="settings-alert-rule-enable",
    ),
    path(
        "projects/<int:project_id>/settings/alerts/<int:rule_id>/test/",
        alert_rules.rule_test,
        name="settings-alert-rule-test",
    ),
]
