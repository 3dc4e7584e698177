"""What happens after an attempt (pure): sent, tried again later, or failed for good.

Timeouts, connection errors, 429 and 5xx are passing troubles: tried again with an exponential
back-off and jitter (so receivers that come back are not hit by every worker at once) until the
delivery's deadline. Any other answer is the receiver's final word: a 2xx is sent, other 4xx
(and 3xx: redirects are not followed) fail at once, as would a refused destination.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: ``status`` is the HTTP status (None when no answer came), ``body``
    the first bytes of the receiver's answer (what "send a test alert" shows)."""

    delivered: bool
    retryable: bool
    status: int | None = None
    error: str = ""
    body: str = ""


def outcome_of_status(status: int, body_excerpt: str = "") -> Outcome:
    if 200 <= status < 300:
        return Outcome(True, False, status, body=body_excerpt)
    error = f"HTTP {status}" + (f": {body_excerpt}" if body_excerpt else "")
    return Outcome(False, status == 429 or status >= 500, status, error, body_excerpt)


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
    next_at = now + timedelta(seconds=backoff_s(attempts, base_s, cap_s, rand))
    if next_at > created_at + timedelta(seconds=deadline_s):
        return NextStep("failed")
    return NextStep("pending", next_at)
