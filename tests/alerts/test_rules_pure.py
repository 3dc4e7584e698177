"""The pure parts of alerts: filters, thresholds, intervals, delivery ids, pages, the retry
policy, signatures and address checks. No database, no network."""

import hashlib
import hmac
import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest

from alerts.payload import email_message, signature, slack_message, webhook_headers
from alerts.retry import Outcome, backoff_s, next_step, outcome_of_status
from alerts.sending import UnsafeDestination, address_refusal, check_url, literal_address_refusal
from alerts.triggers import (
    delivery_id,
    filters_match,
    interval_elapsed,
    page_key,
    threshold_reached,
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_filters():
    assert filters_match([], "", "replay_dead_click", "production")
    assert filters_match(["replay_dead_click"], "", "replay_dead_click", "")
    assert not filters_match(["replay_rage_click"], "", "replay_dead_click", "")
    assert filters_match([], "production", "replay_dead_click", "production")
    assert not filters_match([], "production", "replay_dead_click", "staging")


def test_thresholds():
    assert threshold_reached(3, None, 3)
    assert not threshold_reached(3, None, 2)
    assert threshold_reached(None, 2, 0, 2)
    assert not threshold_reached(None, 2, 100, 1)
    assert threshold_reached(10, 2, 1, 2)
    assert not threshold_reached(None, None, 100, 100)


def test_intervals():
    assert interval_elapsed(None, NOW, 3600)
    assert not interval_elapsed(NOW - timedelta(seconds=3599), NOW, 3600)
    assert interval_elapsed(NOW - timedelta(seconds=3600), NOW, 3600)
    assert interval_elapsed(NOW, NOW, 0)


def test_delivery_ids_are_stable_and_distinct():
    one = delivery_id(1, "new_issue", "issue:5")
    assert one == delivery_id(1, "new_issue", "issue:5")
    assert len(one) == 32
    assert (
        len(
            {
                one,
                delivery_id(2, "new_issue", "issue:5"),
                delivery_id(1, "regression", "issue:5"),
                delivery_id(1, "new_issue", "issue:6"),
                delivery_id(1, "new_issue", "issue:5", "occurrence-1"),
            }
        )
        == 5
    )


def test_pages_fold_as_detection_does():
    assert page_key({"route": "/orders/:id", "url": "https://shop/orders/12"}) == "/orders/:id"
    assert page_key({"url": "https://shop.example/orders/1234?x=1#y"}) == "/orders/{id}"
    assert page_key({}) == "/"


def test_slack_and_email_say_the_page_without_its_fragment():
    issue = {
        "title": "Dead Click",
        "culprit": "http://127.0.0.1:18766/cart#cart",
        "times_seen": 1,
        "users_seen": 1,
        "metadata": {"selector": "body > nav > a#cart", "url": "http://127.0.0.1:18766/cart#cart"},
    }
    body = {"id": "d1", "action": "new_issue", "rule": {"name": "All"}, "project": {"name": "shop"}}
    body["issue"] = issue
    fields = [field["text"] for field in slack_message(body)["blocks"][1]["fields"]]
    assert "*Page*\nhttp://127.0.0.1:18766/cart" in fields
    assert "Page: http://127.0.0.1:18766/cart\n" in email_message(body)[1]
    issue["metadata"] = {"selector": "body > nav > a#cart"}  # no url: the culprit, folded too
    assert "Page: http://127.0.0.1:18766/cart\n" in email_message(body)[1]
    assert body["issue"]["culprit"].endswith("#cart")  # the webhook body keeps what was sent


@pytest.mark.parametrize(
    ("status", "delivered", "retryable"),
    [
        (200, True, False),
        (204, True, False),
        (301, False, False),
        (400, False, False),
        (404, False, False),
        (429, False, True),
        (500, False, True),
        (503, False, True),
    ],
)
def test_outcome_of_status(status, delivered, retryable):
    outcome = outcome_of_status(status)
    assert (outcome.delivered, outcome.retryable) == (delivered, retryable)


def test_backoff_doubles_with_jitter_up_to_the_cap():
    rand = random.Random(1)
    for attempt, ceiling in ((1, 5), (2, 10), (3, 20), (10, 600)):
        delay = backoff_s(attempt, 5, 600, rand)
        assert ceiling / 2 <= delay <= ceiling


def test_next_step_until_the_deadline():
    created = NOW
    retry = Outcome(False, True, 503, "HTTP 503")
    step = next_step(retry, 1, created, NOW, 3600, 5, 600, random.Random(0))
    assert step.status == "pending"
    assert NOW + timedelta(seconds=2.5) <= step.next_attempt_at <= NOW + timedelta(seconds=5)
    late = NOW + timedelta(seconds=3599)
    assert next_step(retry, 9, created, late, 3600, 5, 600).status == "failed"
    assert next_step(Outcome(False, False, 400), 1, created, NOW, 3600, 5, 600).status == "failed"
    assert next_step(Outcome(True, False, 200), 3, created, NOW, 3600, 5, 600).status == "sent"


def test_the_signature_is_the_bodys_hmac_sha256():
    body = b'{"id":"x"}'
    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert signature("secret", body) == f"sha256={expected}"
    headers = webhook_headers("abc", "secret", body)
    assert headers["X-Replay-Issues-Delivery"] == "abc"
    assert headers["X-Replay-Issues-Signature"] == f"sha256={expected}"


@pytest.mark.parametrize(
    ("address", "allow_private", "refused"),
    [
        ("169.254.169.254", True, True),
        ("fd00:ec2::254", True, True),
        ("100.100.100.200", True, True),
        ("fe80::1", True, True),
        ("::ffff:169.254.169.254", True, True),
        ("0.0.0.0", True, True),
        ("224.0.0.1", True, True),
        ("127.0.0.1", False, True),
        ("10.1.2.3", False, True),
        ("192.168.1.1", False, True),
        ("::1", False, True),
        ("127.0.0.1", True, False),
        ("10.1.2.3", True, False),
        ("93.184.216.34", False, False),
        ("2606:2800:220:1::", False, False),
    ],
)
def test_address_refusals(address, allow_private, refused):
    reason = address_refusal(ipaddress.ip_address(address), allow_private)
    assert (reason is not None) == refused


@pytest.mark.parametrize(
    ("host", "allow_private", "reason"),
    [
        ("169.254.169.254", True, "link-local or cloud metadata"),
        ("2852039166", True, "169.254.169.254 is a link-local"),  # read as the resolver reads it
        ("0xa9.0xfe.0xa9.0xfe", True, "169.254.169.254 is a link-local"),
        ("[fd00:ec2::254]", True, "cloud metadata"),
        ("10.0.0.1", False, "private or loopback"),
        ("127.0.0.1", False, "private or loopback"),
        ("127.0.0.1", True, None),
        ("93.184.215.14", False, None),
        ("hooks.example.com", False, None),  # a name: checked when sent, on what it resolves to
        ("localhost", False, None),
    ],
)
def test_literal_addresses_are_refused_as_when_sent(host, allow_private, reason):
    refusal = literal_address_refusal(host, allow_private)
    assert refusal == reason if reason is None else reason in refusal


@pytest.mark.parametrize(
    "url", ["ftp://x/", "file:///etc/passwd", "http:///nohost", "https://u:p@x/", "http://x:99999/"]
)
def test_urls_that_are_not_sent_to(url):
    with pytest.raises(UnsafeDestination):
        check_url(url)


def test_a_url_splits_into_what_is_connected_to():
    assert check_url("https://hooks.example.com/a?b=1") == (
        "https",
        "hooks.example.com",
        443,
        "/a?b=1",
    )
    assert check_url("http://127.0.0.1:8080") == ("http", "127.0.0.1", 8080, "/")
