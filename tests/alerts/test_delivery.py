"""The delivery worker against real HTTP receivers (http.server in threads): signed webhooks,
retries of 503 with the same delivery id, a 400 not retried, a hanging receiver that times out
without holding up the others, a receiver that drips its answer cut off at the attempt's timeout,
Slack's Block Kit, e-mail through the locmem backend and to a mail server that never answers, and
destinations refused at send time."""

import hashlib
import hmac
import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from alerts.models import AlertDelivery, DeliveryStatus
from alerts.retry import Outcome
from alerts.sending import Job, send
from alerts.worker import DeliveryWorker
from tests.alerts.builders import SECRET, webhook_rule
from tests.alerts.receivers import Receiver, receiving, silent_smtp_server
from tests.consumers import wait_until
from tests.issues.builders import fixture_occurrences, record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.ALERTS_RETRY_BASE_S = 0.05
    settings.ALERTS_RETRY_MAX_S = 0.2


def decide_fixture_alerts() -> None:
    for occurrence in fixture_occurrences():
        record(occurrence)


def deliver_until(worker: DeliveryWorker, done, what: str) -> None:
    """Run the worker (each pass sends what is due) until ``done()``."""
    wait_until(lambda: worker.run_once() is not None and done(), timeout_s=30, what=what)


def settled() -> bool:
    return not AlertDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()


def test_webhooks_are_signed_and_carry_their_delivery_id(sdk_project):
    with receiving() as receiver:
        webhook_rule(sdk_project.project_id, receiver.url)
        decide_fixture_alerts()
        worker = DeliveryWorker(concurrency=4)
        try:
            assert worker.run_once() == 5
        finally:
            worker.close()

    assert len(receiver.received) == 5
    ids = set(AlertDelivery.objects.values_list("delivery_id", flat=True))
    assert set(receiver.deliveries()) == ids
    for request in receiver.received:
        expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Replay-Issues-Signature"] == f"sha256={expected}"
        assert request.headers["Content-Type"] == "application/json"
        body = request.json
        assert body["id"] == request.headers["X-Replay-Issues-Delivery"]
        assert body["action"] == "new_issue"
        assert set(body) == {"id", "action", "rule", "project", "issue", "page", "triggered_at"}
        assert set(body["issue"]) == {
            *("id", "short_id", "type", "title", "culprit", "status", "times_seen"),
            *("users_seen", "first_seen", "last_seen", "metadata", "web_url", "replay_url"),
        }
    assert set(AlertDelivery.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_503_twice_then_200_is_delivered_once_after_three_attempts(sdk_project):
    with receiving(Receiver(answers=[503, 503, 200])) as receiver:
        webhook_rule(sdk_project.project_id, receiver.url, issue_types=["replay_rage_click"])
        decide_fixture_alerts()
        worker = DeliveryWorker()
        try:
            deliver_until(worker, settled, "the delivery to settle")
        finally:
            worker.close()

    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("sent", 3, 200)
    assert receiver.deliveries() == [delivery.delivery_id] * 3
    assert len({request.body for request in receiver.received}) == 1  # the same bytes each time


def test_a_400_fails_at_once_and_is_not_retried(sdk_project):
    with receiving(Receiver(answers=[400])) as receiver:
        webhook_rule(sdk_project.project_id, receiver.url, issue_types=["replay_rage_click"])
        decide_fixture_alerts()
        worker = DeliveryWorker()
        try:
            worker.run_once()
            time.sleep(0.3)  # past any back-off: nothing is due again
            worker.run_once()
        finally:
            worker.close()

    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, 400)
    assert delivery.last_error.startswith("HTTP 400")
    assert len(receiver.received) == 1


def test_retries_stop_at_the_deadline_with_the_last_error(sdk_project, settings):
    """On the worker's clock, moved 1000 s per pass: tried at +0, +1000, +2000, +3000 (each retry
    due within the hour), and at +4000 the next would be past the deadline: failed."""
    settings.ALERTS_DELIVERY_DEADLINE_S = 3600
    with receiving(Receiver(answers=[503])) as receiver:
        webhook_rule(sdk_project.project_id, receiver.url, issue_types=["replay_rage_click"])
        decide_fixture_alerts()
        created = AlertDelivery.objects.get().created_at
        passes = 0
        worker = DeliveryWorker(clock=lambda: created + timedelta(seconds=1000 * passes))
        try:
            while not settled() and passes < 10:
                worker.run_once()
                passes += 1
        finally:
            worker.close()
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("HTTP 503")
    assert delivery.attempts == len(receiver.received) == passes == 5


def test_a_hanging_receiver_times_out_without_holding_up_the_others(sdk_project):
    with receiving(Receiver(hang=True)) as hanging, receiving() as healthy:
        webhook_rule(sdk_project.project_id, hanging.url, issue_types=["replay_rage_click"])
        webhook_rule(sdk_project.project_id, healthy.url, name="all")
        decide_fixture_alerts()
        worker = DeliveryWorker(concurrency=2, timeout_s=1.0)
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop, 0.05))
        thread.start()
        try:
            # The hanging receiver is not released until the other five have arrived.
            wait_until(lambda: len(healthy.received) == 5, what="the healthy receiver's five")
            stuck = AlertDelivery.objects.get(rule__name__contains="new_issue")
            wait_until(
                lambda: AlertDelivery.objects.filter(pk=stuck.pk, attempts__gte=1).exists(),
                what="the hanging delivery's first attempt to end",
            )
            stuck.refresh_from_db()
            assert stuck.last_error == "timed out after 1 s"
            assert stuck.status == "pending"  # to be tried again
        finally:
            stop.set()
            hanging.release.set()
            thread.join(30)
            worker.close()

    assert AlertDelivery.objects.filter(rule__name="all", status="sent").count() == 5


@pytest.mark.parametrize("drip_body", [False, True], ids=["status-line", "body"])
def test_a_receiver_that_drips_its_answer_is_cut_off_and_the_delivery_sent_once(
    sdk_project, settings, drip_body
):
    """One byte every 0.5 s (the status line, or the body after prompt headers): each read is
    well within the 1 s timeout, so only a bound on the whole attempt ends it, and well before
    the lease runs out, when another worker would claim the delivery and send it again."""
    settings.ALERTS_CLAIM_LEASE_S = 10.0
    attempts: list[tuple[Outcome, float]] = []

    def timed_send(job: Job) -> Outcome:
        started = time.monotonic()
        outcome = send(job)
        attempts.append((outcome, time.monotonic() - started))
        return outcome

    with receiving(Receiver(drip_s=0.5, drip_body=drip_body)) as receiver:
        webhook_rule(sdk_project.project_id, receiver.url, issue_types=["replay_rage_click"])
        decide_fixture_alerts()
        # One thread: the retry is sent only if the dripped attempt let go of it.
        worker = DeliveryWorker(concurrency=1, timeout_s=1.0, sender=timed_send)
        try:
            deliver_until(worker, settled, "the delivery to settle")
        finally:
            worker.close()
        wait_until(lambda: receiver.gave_up == 1, what="the receiver to see the sender leave")

    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("sent", 2, 200)
    assert receiver.deliveries() == [delivery.delivery_id] * 2
    [(first, first_s), (second, _)] = attempts
    assert (first.error, first.retryable) == ("timed out after 1 s", True)
    assert first_s < settings.ALERTS_CLAIM_LEASE_S  # the whole drip would take 25 s or 7 s
    assert second.delivered


def test_a_lease_shorter_than_three_attempts_is_refused(settings):
    settings.ALERTS_CLAIM_LEASE_S = 25.0
    with pytest.raises(ImproperlyConfigured, match="at least three times"):
        DeliveryWorker(timeout_s=10.0)


def test_a_mail_server_that_never_answers_fails_the_attempt_to_be_retried(sdk_project, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    rule = webhook_rule(sdk_project.project_id, "", issue_types=["replay_rage_click"])
    rule.action = {"type": "email", "recipients": ["ops@example.com"]}
    rule.save()
    decide_fixture_alerts()
    with silent_smtp_server() as port:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        worker = DeliveryWorker(concurrency=1, timeout_s=1.0)
        # In a thread of its own, so that a send that never ends fails the test, not hangs it.
        sending = threading.Thread(target=worker.run_once)
        try:
            sending.start()
            sending.join(settings.ALERTS_CLAIM_LEASE_S)
            assert not sending.is_alive(), "the attempt outlived the claim's lease"
        finally:
            worker.close()

    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("pending", 1)  # to be tried again
    assert delivery.last_error.startswith("e-mail not sent: ")
    assert "timed out" in delivery.last_error


def test_slack_gets_a_block_kit_message(sdk_project):
    with receiving() as receiver:
        rule = webhook_rule(sdk_project.project_id, receiver.url, issue_types=["replay_rage_click"])
        rule.action = {"type": "slack", "url": receiver.url}
        rule.save()
        decide_fixture_alerts()
        worker = DeliveryWorker()
        try:
            assert worker.run_once() == 1
        finally:
            worker.close()

    [request] = receiver.received
    assert "X-Replay-Issues-Signature" not in request.headers
    message = request.json
    assert set(message) == {"text", "blocks"}
    assert message["text"].startswith("New issue")
    header, section, actions = message["blocks"]
    assert header["type"] == "header"
    assert header["text"]["type"] == "plain_text"
    assert len(header["text"]["text"]) <= 150
    assert section["type"] == "section"
    assert 1 <= len(section["fields"]) <= 10
    assert all(f["type"] == "mrkdwn" and len(f["text"]) <= 2000 for f in section["fields"])
    fields = "\n".join(field["text"] for field in section["fields"])
    assert "*Element*\nbody > button#buy.btn.primary" in fields
    assert "*Page*" in fields
    assert actions["type"] == "actions"
    buttons = actions["elements"]
    assert [b["type"] for b in buttons] == ["button", "button"]
    assert all(len(b["text"]["text"]) <= 75 and b["url"].startswith("http") for b in buttons)
    assert "/issues/" in buttons[0]["url"]
    assert "?occurrence=" in buttons[1]["url"]


def test_email_goes_through_djangos_backend(sdk_project, mailoutbox):
    rule = webhook_rule(sdk_project.project_id, "", issue_types=["replay_rage_click"])
    rule.action = {"type": "email", "recipients": ["ops@example.com", "dev@example.com"]}
    rule.save()
    decide_fixture_alerts()
    worker = DeliveryWorker()
    try:
        assert worker.run_once() == 1
    finally:
        worker.close()

    [mail] = mailoutbox
    assert mail.to == ["ops@example.com", "dev@example.com"]
    assert mail.subject.startswith("[replay-issues] New issue: Rage Click on body > button#buy")
    assert "Element: body > button#buy.btn.primary" in mail.body
    assert "http://127.0.0.1:8000/issues/" in mail.body


@pytest.mark.parametrize(
    ("url", "allow_private", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", True, "link-local or cloud metadata"),
        ("http://[fe80::1]/hook", True, "link-local"),
        ("ftp://example.com/hook", True, "only http and https"),
        ("http://user:pw@127.0.0.1:9/hook", True, "credentials"),
        ("http://127.0.0.1:9/hook", False, "private or loopback"),
        ("http://10.0.0.1/hook", False, "private or loopback"),
    ],
)
def test_unsafe_destinations_fail_at_send_time(sdk_project, settings, url, allow_private, reason):
    settings.ALERTS_ALLOW_PRIVATE_ADDRESSES = allow_private
    webhook_rule(sdk_project.project_id, url, issue_types=["replay_rage_click"])
    decide_fixture_alerts()
    worker = DeliveryWorker()
    try:
        worker.run_once()
    finally:
        worker.close()
    delivery = AlertDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error.startswith("refused: ")
    assert reason in delivery.last_error
