from django.apps import AppConfig


class IssuesConfig(AppConfig):
    """Stage 3: grouping occurrences into issues, the web UI and the API."""

    name = "issues"
