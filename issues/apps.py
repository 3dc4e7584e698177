from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_delete


class IssuesConfig(AppConfig):
    """Stage 3: grouping occurrences into issues, the web UI and the API."""

    name = "issues"
    verbose_name = "Issues"

    def ready(self) -> None:
        from ingest.models import Project
        from issues.models import Issue
        from issues.queries import forget_cached_noise_thresholds
        from issues.services import issue_deleted, issue_deleting
        from replays.models import DetectionSettings

        # An admin's change in this process applies at once; other processes wait for the TTL.
        for model in (Project, DetectionSettings):
            post_save.connect(
                forget_cached_noise_thresholds, sender=model, dispatch_uid=f"noise-{model}-save"
            )
            post_delete.connect(
                forget_cached_noise_thresholds, sender=model, dispatch_uid=f"noise-{model}-del"
            )

        # A deleted issue leaves its project's status counts (issues.aggregates).
        post_delete.connect(
            lambda instance, **_kwargs: issue_deleted(instance),
            sender=Issue,
            dispatch_uid="issue-status-counts-del",
            weak=False,
        )
        # A deleted issue's clicks leave its element's rows (read before its daily rows go).
        pre_delete.connect(
            lambda instance, **_kwargs: issue_deleting(instance),
            sender=Issue,
            dispatch_uid="issue-element-counts-del",
            weak=False,
        )
