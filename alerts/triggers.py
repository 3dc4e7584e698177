"""When a rule fires (pure): its filters, its thresholds, its interval, and the id of a decision.

No Django, no clock: ``alerts.services.alerts_decide`` reads the counts and the time and asks
these functions, so the rules' logic is tested without a database.
"""

import hashlib
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from replays.detection.fingerprint import page_of


def filters_match(
    issue_types: Collection[str], environment: str, issue_type: str, occurrence_environment: str
) -> bool:
    """The rule is for this type (empty: every type) and this environment (blank: every one)."""
    if issue_types and issue_type not in issue_types:
        return False
    return not environment or environment == occurrence_environment


def threshold_reached(
    count: int | None, users: int | None, seen: int, users_seen: int | None = None
) -> bool:
    """``count`` occurrences or ``users`` distinct users (whichever the rule sets) were reached."""
    if count is not None and seen >= count:
        return True
    return users is not None and users_seen is not None and users_seen >= users


def interval_elapsed(last_fired_at: datetime | None, now: datetime, interval_s: int) -> bool:
    """No alert of the rule for this subject within ``interval_s`` before ``now``."""
    return last_fired_at is None or now - last_fired_at >= timedelta(seconds=interval_s)


def window_start(now: datetime, window_s: int) -> datetime:
    return now - timedelta(seconds=window_s)


def page_key(metadata: Mapping[str, Any]) -> str:
    """An issue's page, folded as detection folds it: the route if the SDK sent one, else the
    URL's path with ids replaced (``/orders/{id}``)."""
    return page_of(metadata.get("route") or None, metadata.get("url") or None)[:512]


def issue_subject(issue_id: int) -> str:
    return f"issue:{issue_id}"


def page_subject(page: str) -> str:
    return f"page:{page}"


def delivery_id(rule_id: int, trigger: str, subject: str, cause: str = "") -> str:
    """The id of one decision: the same rule, trigger, subject and cause (the occurrence that
    crossed the line; none for ``new_issue``, which fires once per issue) give the same id, so
    deciding again inserts nothing and a receiver can drop a repeated delivery."""
    key = f"{rule_id}\x00{trigger}\x00{subject}\x00{cause}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]
