"""Alert rules per project and the outbox of what they decided.

An ``AlertDelivery`` row is written by the issues stage in the same transaction as the counts that
triggered it (``alerts.services.alerts_decide``), so a decision is never lost nor doubled: its
``delivery_id`` is derived from the decision itself, and a second insert of the same one does
nothing. The delivery worker (``manage.py deliver_alerts``) sends the pending rows.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ingest.models import Project
from issues.models import Issue


class Trigger(models.TextChoices):
    NEW_ISSUE = "new_issue", "An issue becomes visible"
    REGRESSION = "regression", "A resolved issue reopens"
    FREQUENCY = "frequency", "An issue is seen often within a window"
    PAGE_FREQUENCY = "page_frequency", "A page's frustration clicks reach a count within a window"


class ActionType(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (JSON, signed)"
    SLACK = "slack", "Slack incoming webhook"
    EMAIL = "email", "E-mail"


# Bounds of a rule's numbers: windows and intervals of up to 30 days, counts of up to a billion.
MAX_WINDOW_S = 30 * 24 * 3600
MAX_COUNT = 10**9
COUNT_BOUNDS = [MinValueValidator(1), MaxValueValidator(MAX_COUNT)]


class AlertRule(models.Model):
    """One rule of a project: when to alert (``trigger`` and its filters) and how (``action``).

    ``action`` is ``{"type": "webhook" | "slack" | "email", "url", "secret", "recipients"}``
    (ARCHITECTURE.md, "Alerts"); its secret signs webhook bodies and is never shown in full."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_rules")
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    issue_types = models.JSONField(
        default=list, blank=True, help_text="Issue type slugs this rule is for; empty: all."
    )
    environment = models.CharField(
        max_length=200, blank=True, help_text="Only occurrences of this environment; blank: all."
    )
    count = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=COUNT_BOUNDS,
        help_text="frequency / page_frequency: occurrences in the window.",
    )
    users = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=COUNT_BOUNDS,
        help_text="frequency: distinct users in the window.",
    )
    window_s = models.PositiveIntegerField(
        default=3600, validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_S)]
    )
    action_interval_s = models.PositiveIntegerField(
        default=3600,
        validators=[MaxValueValidator(MAX_WINDOW_S)],
        help_text="No second alert of this rule for the same issue (or page) within this time.",
    )
    action = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "name", "id"]
        indexes = [models.Index(fields=["project", "enabled"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.trigger})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class AlertDelivery(models.Model):
    """One decided alert: pending until the worker sends it, then sent or failed.

    A worker claims a row by setting ``lease_until`` and its ``claim_token`` (with ``SKIP LOCKED``
    on PostgreSQL, by a conditional UPDATE on SQLite); a worker that dies leaves the lease to run
    out, and the next one sends the row again with the same ``delivery_id``."""

    delivery_id = models.CharField(max_length=64, unique=True)
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="deliveries")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="alert_deliveries")
    issue = models.ForeignKey(
        Issue, on_delete=models.SET_NULL, null=True, blank=True, related_name="alert_deliveries"
    )
    page = models.CharField(max_length=512, blank=True)
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    payload = models.JSONField(help_text="The webhook body as decided; Slack and e-mail render it.")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["rule", "-created_at"]),
            models.Index(fields=["issue", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.trigger} {self.delivery_id}"


class AlertFiring(models.Model):
    """When a rule last fired for one subject (``issue:<id>`` or ``page:<page>``): what
    ``action_interval_s`` is measured from."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="firings")
    subject = models.CharField(max_length=600)
    last_fired_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "subject"], name="unique_alert_firing")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.last_fired_at:%Y-%m-%d %H:%M:%S}"


class PageOccurrence(models.Model):
    """One frustration occurrence on a page (route, or path with ids folded), kept only for
    projects with a ``page_frequency`` rule: a page's count in a window is one index range."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    page = models.CharField(max_length=512)
    timestamp = models.DateTimeField()
    issue_type = models.CharField(max_length=32)
    environment = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["project", "page", "timestamp"])]

    def __str__(self) -> str:
        return f"{self.page} at {self.timestamp:%Y-%m-%d %H:%M:%S}"
