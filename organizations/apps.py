from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    """Who may see what: organizations own projects, and their members see those projects."""

    name = "organizations"
    verbose_name = "Organizations"
