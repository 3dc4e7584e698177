"""Organizations: each owns projects, and its members see those projects' issues and replays.

The rule itself (superusers see every organization, other users their own) is applied in one place,
``issues.queries.projects_for``, which every page of the web UI and every view of the API reads
through.
"""

from django.conf import settings
from django.db import models


class Organization(models.Model):
    """A customer of the service. Its id is the ``org_id`` of the pipeline's Kafka messages, so it
    is chosen (as a project's id is), not generated."""

    id = models.PositiveIntegerField(
        primary_key=True, help_text="The org_id that the pipeline's messages carry."
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="organizations",
        blank=True,
        help_text="Users who see this organization's projects in the web UI and the API. "
        "Superusers see every organization without being members.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"
