"""Projects and the public keys (DSNs) that SDKs send their envelopes with."""

import secrets

from django.conf import settings
from django.db import models


def new_public_key() -> str:
    return secrets.token_hex(16)


class Project(models.Model):
    """A project of an organization: what the SDK's DSN points at, and what issues belong to."""

    id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    org_id = models.PositiveIntegerField(default=1, help_text="The organization that owns it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class ProjectKey(models.Model):
    """A public key (the user part of the DSN); a disabled key is refused with 403."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="keys")
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key)
    label = models.CharField(max_length=200, blank=True, default="Default")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.public_key} ({self.project_id})"

    def dsn(self, base_url: str | None = None) -> str:
        """The DSN to paste into ``Sentry.init``: ``http://<key>@<host>/<project id>``."""
        scheme, _, host = (base_url or settings.PUBLIC_BASE_URL).rstrip("/").partition("://")
        return f"{scheme}://{self.public_key}@{host}/{self.project_id}"
