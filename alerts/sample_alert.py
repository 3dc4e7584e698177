"""The settings page's "send a test alert": one delivery of a rule's action, sent at once (not
through the outbox) with the same sending code, URL safety rules and timeout as the worker, so
what the page shows is what the worker would get from the receiver. (Named "sample" so that
pytest does not take the module for tests.)"""

import uuid
from datetime import UTC, datetime

from django.conf import settings

from alerts.models import AlertRule
from alerts.payload import webhook_body
from alerts.retry import Outcome
from alerts.sending import Job, send


def sample_job(rule: AlertRule, now: datetime | None = None) -> Job:
    """A delivery of ``rule`` whose body says it is a test (``action: "test"``, no issue, no
    page), under a delivery id of its own: a receiver that deduplicates by id keeps it apart."""
    delivery_id = f"test-{uuid.uuid4().hex}"
    body = webhook_body(
        delivery_id=delivery_id,
        trigger="test",
        rule=(rule.pk, rule.name),
        project=(rule.project_id, rule.project.name),
        issue=None,
        page=None,
        triggered_at=now or datetime.now(UTC),
    )
    return Job(
        delivery_id=delivery_id,
        action=dict(rule.action),
        payload=body,
        timeout_s=settings.ALERTS_DELIVERY_TIMEOUT_S,
        allow_private=settings.ALERTS_ALLOW_PRIVATE_ADDRESSES,
        from_email=settings.DEFAULT_FROM_EMAIL,
    )


def send_sample_alert(rule: AlertRule) -> Outcome:
    """Send one test alert of ``rule`` now and wait for the receiver's answer (bounded by
    ``ALERTS_DELIVERY_TIMEOUT_S``); nothing is stored."""
    return send(sample_job(rule))
