"""Writes of the alerts app: the decisions (the outbox), the worker's claims and outcomes, rules.

``alerts_decide`` runs inside the issues stage's transaction (``issue_record_occurrences``), after
the batch's counts are written and before they commit: the deliveries it inserts commit or roll
back with those counts. An occurrence recorded before gives no result, hence no decision; a
decision made again (the same rule, trigger, subject and cause) has the same delivery id and
inserts nothing.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from alerts.models import (
    AlertDelivery,
    AlertFiring,
    AlertRule,
    DeliveryStatus,
    PageOccurrence,
    Trigger,
)
from alerts.payload import issue_body, webhook_body
from alerts.retry import NextStep, Outcome
from alerts.triggers import (
    delivery_id,
    filters_match,
    interval_elapsed,
    issue_subject,
    page_key,
    page_subject,
    threshold_reached,
    window_start,
)
from issues.models import Issue, Occurrence
from issues.occurrence_message import OccurrenceRecord

Recorded = tuple[OccurrenceRecord, Any]  # (record, issues.services.RecordedOccurrence)

# What windows and intervals are measured on when the issues stage decides (tests set their own).
decision_clock = timezone.now


@dataclass(frozen=True, slots=True)
class Decision:
    rule: AlertRule
    subject: str
    cause: str
    issue: Issue | None
    record: OccurrenceRecord
    page: dict[str, Any] | None = None


def alerts_decide(
    records: Sequence[OccurrenceRecord], results: Sequence[Any], now: datetime | None = None
) -> int:
    """Decide the alerts of a recorded batch (``results`` as ``issue_record_occurrences``
    returns them, one per record) and insert their deliveries; how many were new. ``now`` is
    the clock the windows and intervals are measured on (tests pass their own)."""
    recorded: list[Recorded] = [
        (record, result) for record, result in zip(records, results, strict=True) if result
    ]
    if not recorded:
        return 0
    project_ids = {record.occurrence.project_id for record, _ in recorded}
    rules = list(AlertRule.objects.filter(project_id__in=project_ids, enabled=True))
    if not rules:
        return 0
    now = now or decision_clock()
    issues = Issue.objects.select_related("project").in_bulk(
        {result.issue_id for _, result in recorded}
    )
    page_projects = {rule.project_id for rule in rules if rule.trigger == Trigger.PAGE_FREQUENCY}
    if page_projects:
        _store_page_occurrences(
            [pair for pair in recorded if pair[0].occurrence.project_id in page_projects], issues
        )
    decisions: list[Decision] = []
    for rule in rules:
        in_rule = [
            (record, result)
            for record, result in recorded
            if record.occurrence.project_id == rule.project_id
            and filters_match(
                rule.issue_types,
                rule.environment,
                issues[result.issue_id].type,
                record.environment,
            )
        ]
        if in_rule:
            decisions.extend(_decide(rule, in_rule, issues, now))
    return _write(_within_intervals(decisions, now), now)


def _decide(
    rule: AlertRule, recorded: list[Recorded], issues: dict[int, Issue], now: datetime
) -> Iterable[Decision]:
    if rule.trigger == Trigger.NEW_ISSUE:
        for record, result in recorded:
            if getattr(result, "became_visible", False):
                issue = issues[result.issue_id]
                yield Decision(rule, issue_subject(issue.pk), "", issue, record)
    elif rule.trigger == Trigger.REGRESSION:
        for record, result in recorded:
            issue = issues[result.issue_id]
            if result.regressed and _shown(issue, now):
                yield Decision(rule, issue_subject(issue.pk), record.occurrence.id, issue, record)
    elif rule.trigger == Trigger.FREQUENCY:
        latest = {result.issue_id: record for record, result in recorded}
        for issue_id, record in latest.items():
            issue = issues[issue_id]
            if _shown(issue, now) and _issue_frequent(rule, issue_id, now):
                yield Decision(rule, issue_subject(issue_id), record.occurrence.id, issue, record)
    elif rule.trigger == Trigger.PAGE_FREQUENCY:
        latest = {page_key(issues[result.issue_id].metadata): record for record, result in recorded}
        for page, record in latest.items():
            count = _page_count(rule, page, now)
            if threshold_reached(rule.count, None, count):
                summary = {"page": page, "count": count, "window_s": rule.window_s}
                yield Decision(
                    rule, page_subject(page), record.occurrence.id, None, record, summary
                )


def _shown(issue: Issue, now: datetime) -> bool:
    """Whether the UI and the API show ``issue`` at ``now``: past its noise threshold, and not
    held back by the project's creation quota (``shown_at`` still to come)."""
    return issue.is_visible and (issue.shown_at is None or issue.shown_at <= now)


def _due(decision: Decision, now: datetime) -> datetime:
    """When a decision's delivery is due: now, or for the ``new_issue`` of an issue that the
    creation quota holds back, the moment the quota shows it (decided with the counts that made
    it pass the noise threshold, as any decision; sent when engineers can see the issue)."""
    issue = decision.issue
    if decision.rule.trigger == Trigger.NEW_ISSUE and issue is not None and issue.shown_at:
        return max(now, issue.shown_at)
    return now


def _issue_frequent(rule: AlertRule, issue_id: int, now: datetime) -> bool:
    """The issue's occurrences (and distinct users) within the window, read from the
    (issue, timestamp) index; each count only when the rule sets its threshold."""
    in_window = Occurrence.objects.filter(
        issue_id=issue_id, timestamp__gte=window_start(now, rule.window_s), timestamp__lte=now
    )
    if rule.environment:
        in_window = in_window.filter(environment=rule.environment)
    seen = in_window.count() if rule.count is not None else 0
    users_seen = None
    if rule.users is not None:
        users_seen = in_window.exclude(user_key="").values("user_key").distinct().count()
    return threshold_reached(rule.count, rule.users, seen, users_seen)


def _page_count(rule: AlertRule, page: str, now: datetime) -> int:
    occurrences = PageOccurrence.objects.filter(
        project_id=rule.project_id,
        page=page,
        timestamp__gte=window_start(now, rule.window_s),
        timestamp__lte=now,
    )
    if rule.issue_types:
        occurrences = occurrences.filter(issue_type__in=rule.issue_types)
    if rule.environment:
        occurrences = occurrences.filter(environment=rule.environment)
    return occurrences.count()


def _store_page_occurrences(recorded: list[Recorded], issues: dict[int, Issue]) -> None:
    PageOccurrence.objects.bulk_create(
        [
            PageOccurrence(
                project_id=record.occurrence.project_id,
                page=page_key(issues[result.issue_id].metadata),
                timestamp=record.timestamp,
                issue_type=issues[result.issue_id].type,
                environment=record.environment[:200],
            )
            for record, result in recorded
        ]
    )


def _within_intervals(decisions: list[Decision], now: datetime) -> list[Decision]:
    """The decisions whose rule has not fired for their subject within its interval."""
    if not decisions:
        return []
    # Two IN lists (a few more rows than wanted, at most) rather than an OR per decision.
    firings = AlertFiring.objects.filter(
        rule_id__in={decision.rule.pk for decision in decisions},
        subject__in={decision.subject for decision in decisions},
    ).values_list("rule_id", "subject", "last_fired_at")
    last_fired = {(rule_id, subject): fired for rule_id, subject, fired in firings}
    kept, seen = [], set()
    for decision in decisions:
        key = (decision.rule.pk, decision.subject)
        if key in seen:
            continue
        if interval_elapsed(last_fired.get(key), now, decision.rule.action_interval_s):
            seen.add(key)
            kept.append(decision)
    return kept


def _write(decisions: list[Decision], now: datetime) -> int:
    if not decisions:
        return 0
    deliveries = [_delivery(decision, now) for decision in decisions]
    ids = [delivery.delivery_id for delivery in deliveries]
    known = set(
        AlertDelivery.objects.filter(delivery_id__in=ids).values_list("delivery_id", flat=True)
    )
    AlertDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    AlertFiring.objects.bulk_create(
        [
            AlertFiring(rule=decision.rule, subject=decision.subject, last_fired_at=now)
            for decision in decisions
        ],
        update_conflicts=True,
        unique_fields=["rule", "subject"],
        update_fields=["last_fired_at"],
    )
    return len(set(ids) - known)


def public_url(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path


def replay_url(record: OccurrenceRecord) -> str | None:
    if record.replay_id is None:
        return None
    path = reverse("issues:replay", args=[record.occurrence.project_id, record.replay_id])
    return public_url(f"{path}?{urlencode({'occurrence': record.occurrence.id})}")


def _delivery(decision: Decision, now: datetime) -> AlertDelivery:
    now = _due(decision, now)  # triggered, due and timestamped when the issue is shown
    rule, issue = decision.rule, decision.issue
    trigger = rule.trigger
    identifier = delivery_id(rule.pk, trigger, decision.subject, decision.cause)
    issue_json = None
    if issue is not None:
        web_url = public_url(reverse("issues:issue-detail", args=[issue.pk]))
        issue_json = issue_body(issue, issue.short_id, web_url, replay_url(decision.record))
    project = rule.project if issue is None else issue.project
    body = webhook_body(
        delivery_id=identifier,
        trigger=trigger,
        rule=(rule.pk, rule.name),
        project=(project.pk, project.name),
        issue=issue_json,
        page=decision.page,
        triggered_at=now,
    )
    return AlertDelivery(
        delivery_id=identifier,
        rule=rule,
        project_id=rule.project_id,
        issue=issue,
        page=(decision.page or {}).get("page", ""),
        trigger=trigger,
        next_attempt_at=now,
        payload=body,
        created_at=now,
    )


# --- Rules (the API, the UI) ---------------------------------------------------------------------


def alert_rule_save(rule: AlertRule, fields: dict[str, Any]) -> AlertRule:
    """Create or change a rule from validated fields (the action whole, its secret included)."""
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.save()
    return rule


def alert_rule_delete(rule: AlertRule) -> None:
    """Delete a rule with its deliveries and firings (cascaded): pending alerts are not sent."""
    rule.delete()


# --- The delivery worker's writes -----------------------------------------------------------------


def deliveries_claim(limit: int, lease_s: float, now: datetime | None = None) -> tuple[str, list]:
    """Claim up to ``limit`` due deliveries for ``lease_s`` seconds: (the claim's token, the
    deliveries with their rules). PostgreSQL skips rows another worker holds (``SKIP LOCKED``);
    on SQLite the transaction holds the database's write lock. In both, the UPDATE takes only
    rows whose lease has run out, so no two workers hold one delivery."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    due = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
    with transaction.atomic():
        candidates = AlertDelivery.objects.filter(due).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        AlertDelivery.objects.filter(due, pk__in=ids).update(
            lease_until=now + timedelta(seconds=lease_s), claim_token=token
        )
    claimed = AlertDelivery.objects.filter(claim_token=token).select_related("rule")
    return token, list(claimed.order_by("next_attempt_at", "pk"))


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt's result, for ``deliveries_record``."""

    delivery: AlertDelivery
    token: str
    outcome: Outcome
    step: NextStep


def deliveries_record(attempts: Sequence[Attempt], now: datetime) -> int:
    """Write the outcomes of attempts, each only if its worker still holds the delivery: one
    UPDATE statement run with each attempt's values (``executemany``); how many were written."""
    if not attempts:
        return 0
    quote = connection.ops.quote_name
    table = quote(AlertDelivery._meta.db_table)
    column = {
        field.name: quote(field.column)
        for field in AlertDelivery._meta.concrete_fields
        if field.name != "rule"
    }
    statement = (
        f"UPDATE {table} SET {column['attempts']} = {column['attempts']} + 1, "
        f"{column['status']} = %s, {column['lease_until']} = NULL, {column['claim_token']} = '', "
        f"{column['response_status']} = %s, "
        f"{column['last_error']} = COALESCE(NULLIF(%s, ''), {column['last_error']}), "
        f"{column['sent_at']} = COALESCE(%s, {column['sent_at']}), "
        f"{column['next_attempt_at']} = COALESCE(%s, {column['next_attempt_at']}) "
        f"WHERE {column['id']} = %s AND {column['claim_token']} = %s"
    )
    adapt = connection.ops.adapt_datetimefield_value
    rows = [
        (
            attempt.step.status,
            attempt.outcome.status,
            attempt.outcome.error[:2000],
            adapt(now) if attempt.step.status == DeliveryStatus.SENT else None,
            adapt(attempt.step.next_attempt_at),
            attempt.delivery.pk,
            attempt.token,
        )
        for attempt in attempts
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(statement, rows)
        return cursor.rowcount


def page_occurrences_prune(now: datetime | None = None) -> int:
    """Forget page occurrences older than the longest page_frequency window in use."""
    now = now or timezone.now()
    longest = max(
        AlertRule.objects.filter(trigger=Trigger.PAGE_FREQUENCY).values_list("window_s", flat=True),
        default=0,
    )
    deleted, _ = PageOccurrence.objects.filter(
        timestamp__lt=now - timedelta(seconds=longest + 3600)
    ).delete()
    return deleted
