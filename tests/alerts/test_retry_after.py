"""A receiver's Retry-After (on 429 and 503) sets when a delivery is tried again, within the
delivery's deadline: the pure rule, and what a real local receiver's header makes of it."""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.retry import Outcome, next_step, outcome_of_status, retry_after_s
from alerts.sending import post
from tests.alerts.receivers import Receiver, receiving

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Wed, 02 Dec 2026 01:02:00 GMT", 120.0),
        ("Wed, 02 Dec 2026 00:59:00 GMT", 0.0),  # already past: no wait
        ("", None),
        (None, None),
        ("soon", None),
        ("-5", None),
        ("١٢", None),  # Arabic-Indic digits are not delay-seconds
    ],
)
def test_retry_after_values(value, seconds):
    assert retry_after_s(value, NOW) == seconds


def test_only_429_and_503_keep_a_retry_after():
    assert outcome_of_status(429, "", 30.0).retry_after_s == 30.0
    assert outcome_of_status(503, "", 30.0).retry_after_s == 30.0
    assert outcome_of_status(500, "", 30.0).retry_after_s is None
    assert outcome_of_status(200, "", 30.0).retry_after_s is None


def test_the_next_attempt_waits_as_asked_within_the_deadline():
    asked = Outcome(False, True, 429, "HTTP 429", retry_after_s=300.0)
    step = next_step(asked, 1, NOW, NOW, 3600, 5, 600)
    assert step.status == "pending"
    assert step.next_attempt_at == NOW + timedelta(seconds=300)
    # Longer than the back-off's cap too: the receiver said so.
    later = Outcome(False, True, 503, "HTTP 503", retry_after_s=1200.0)
    assert next_step(later, 1, NOW, NOW, 3600, 5, 600).next_attempt_at == NOW + timedelta(
        seconds=1200
    )
    # Past the deadline: failed now rather than waiting in vain.
    assert next_step(asked, 1, NOW, NOW, 200, 5, 600).status == "failed"


def test_a_receivers_retry_after_header_reaches_the_outcome():
    with receiving(Receiver(answers=[429], answer_headers={"Retry-After": "90"})) as receiver:
        outcome = post(receiver.url, b"{}", {"Content-Type": "application/json"}, 5.0, True)
    assert (outcome.status, outcome.retryable, outcome.retry_after_s) == (429, True, 90.0)
    assert outcome.body == "ok"
