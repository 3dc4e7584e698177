"""What happens after an attempt (pure): sent, tried again later, or failed for good.

Timeouts, connection errors, 429 and 5xx are passing troubles: tried again with an exponential
back-off and jitter (so receivers that come back are not hit by every worker at once) until the
delivery's deadline. Any other answer is the receiver's final word: a 2xx is sent, other 4xx
(and 3xx: redirects are not followed) fail at once, as would a refused destination. A 429 or 503
that says when to come back (``Retry-After``: seconds or an HTTP date) is tried again then, not
sooner, unless that is past the deadline (then it fails now rather than wait in vain).
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: ``status`` is the HTTP status (None when no answer came), ``body``
    the first bytes of the receiver's answer (what "send a test alert" shows)."""

    delivered: bool
    retryable: bool
    status: int | None = None
    error: str = ""
    body: str = ""
    retry_after_s: float | None = None


# Statuses whose Retry-After says when the receiver will take the request (RFC 9110, 10.2.3).
RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header's wait in seconds from ``now`` (delay-seconds or an HTTP date;
    a date in the past is no wait), or None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def outcome_of_status(
    status: int, body_excerpt: str = "", retry_after: float | None = None
) -> Outcome:
    """``retry_after``: the answer's Retry-After in seconds, kept for a 429 or 503 only."""
    if 200 <= status < 300:
        return Outcome(True, False, status, body=body_excerpt)
    error = f"HTTP {status}" + (f": {body_excerpt}" if body_excerpt else "")
    wait = retry_after if status in RETRY_AFTER_STATUSES else None
    return Outcome(False, status == 429 or status >= 500, status, error, body_excerpt, wait)


def backoff_s(
    attempt: int, base_s: float, cap_s: float, rand: random.Random | None = None
) -> float:
    """The wait after failed attempt ``attempt`` (1, 2, ...): ``base_s`` doubled each time up to
    ``cap_s``, of which a random half ("equal jitter": never close to no wait at all)."""
    delay = min(cap_s, base_s * 2 ** max(attempt - 1, 0))
    return delay / 2 + (rand or random).uniform(0, delay / 2)


@dataclass(frozen=True, slots=True)
class NextStep:
    status: str  # "sent" | "pending" | "failed"
    next_attempt_at: datetime | None = None


def next_step(
    outcome: Outcome,
    attempts: int,
    created_at: datetime,
    now: datetime,
    deadline_s: float,
    base_s: float,
    cap_s: float,
    rand: random.Random | None = None,
) -> NextStep:
    """After ``attempts`` attempts (this one included) that ended in ``outcome``."""
    if outcome.delivered:
        return NextStep("sent")
    if not outcome.retryable:
        return NextStep("failed")
    if outcome.retry_after_s is not None:
        next_at = now + timedelta(seconds=outcome.retry_after_s)
    else:
        next_at = now + timedelta(seconds=backoff_s(attempts, base_s, cap_s, rand))
    if next_at > created_at + timedelta(seconds=deadline_s):
        return NextStep("failed")
    return NextStep("pending", next_at)
