"""Projects and the public keys (DSNs) that SDKs send their envelopes with."""

import secrets

from django.conf import settings
from django.db import models

from ingest.slugs import SLUG_MAX_LENGTH, project_slug
from organizations.models import Organization


def new_public_key() -> str:
    return secrets.token_hex(16)


class Project(models.Model):
    """A project of an organization: what the SDK's DSN points at, and what issues belong to."""

    id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=200)
    # Named ``org`` so that its column and attribute are ``org_id``, the name the pipeline's
    # messages use; members of the organization see the project (issues.queries.projects_for).
    org = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="projects",
        verbose_name="organization",
        help_text="The organization that owns it; its members see the project's issues.",
    )
    slug = models.SlugField(
        max_length=SLUG_MAX_LENGTH,
        blank=True,
        help_text="Unique in its organization; its issues' short ids start with it, upper case "
        "(SHOP-12). Left empty, it is made from the name. Changing it changes the short ids "
        "shown, not the issues' links (they are by number).",
    )
    issue_counter = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="The number of the project's latest issue (the 12 of SHOP-12).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["org", "slug"], name="unique_project_slug_in_org")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            taken = set(
                Project.objects.filter(org_id=self.org_id)
                .exclude(pk=self.pk)
                .values_list("slug", flat=True)
            )
            self.slug = project_slug(self.name, taken)
        super().save(*args, **kwargs)


class ProjectKey(models.Model):
    """A public key (the user part of the DSN); a disabled key is refused with 403."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="keys")
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key)
    label = models.CharField(max_length=200, blank=True, default="Default")
    is_active = models.BooleanField(default=True)
    rate_limit_count = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Envelopes this key may send per window; empty for no limit. Over it, the SDK "
        "is answered 429 and waits as long as Retry-After says.",
    )
    rate_limit_window_s = models.PositiveIntegerField(
        default=60, help_text="The window of the rate limit, in seconds."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_limit_window_s__gte=1), name="rate_limit_window_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.public_key} ({self.project_id})"

    def dsn(self, base_url: str | None = None) -> str:
        """The DSN to paste into ``Sentry.init``: ``http://<key>@<host>/<project id>``."""
        scheme, _, host = (base_url or settings.PUBLIC_BASE_URL).rstrip("/").partition("://")
        return f"{scheme}://{self.public_key}@{host}/{self.project_id}"


class KeyRateWindow(models.Model):
    """How many envelopes a rate-limited key sent in one fixed window (shared by all web processes).

    ``window`` is the window's number: seconds since the epoch divided by the key's window length.
    A key's older windows are deleted when it starts a new one.
    """

    key = models.ForeignKey(ProjectKey, on_delete=models.CASCADE, related_name="+")
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="one_count_per_window")
        ]

    def __str__(self) -> str:
        return f"key {self.key_id}, window {self.window}: {self.count}"
