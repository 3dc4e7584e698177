"""The delivery worker's loop: claim due deliveries, send them in a bounded thread pool, record
each outcome as it comes.

The database is touched only by the loop's thread (claims, outcomes); the pool's threads only send
(``alerts.sending``). The pool is kept full: a slot freed by one answer takes the next due delivery
at once, so a receiver that hangs holds one slot for its timeout, not the others' turns. The lease
of a claim (``ALERTS_CLAIM_LEASE_S``) outlasts a send by a wide margin; a worker that dies leaves
its claims to run out, and they are sent again, with the same delivery id.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections
from django.utils import timezone

from alerts.models import AlertDelivery
from alerts.retry import Outcome, next_step
from alerts.sending import Job, Sender, send
from alerts.services import (
    Attempt,
    deliveries_claim,
    deliveries_record,
    page_occurrences_prune,
)

logger = logging.getLogger(__name__)

PRUNE_EVERY_S = 600.0


class DeliveryWorker:
    def __init__(
        self,
        concurrency: int | None = None,
        timeout_s: float | None = None,
        sender: Sender = send,
        clock: Callable[[], datetime] = timezone.now,
    ) -> None:
        self.concurrency = concurrency or settings.ALERTS_DELIVERY_CONCURRENCY
        self.timeout_s = timeout_s or settings.ALERTS_DELIVERY_TIMEOUT_S
        # A claim outlives any one send: the timeout bounds a webhook's whole attempt.
        self.lease_s = settings.ALERTS_CLAIM_LEASE_S
        if self.lease_s < 3 * self.timeout_s:
            raise ImproperlyConfigured(
                f"ALERTS_CLAIM_LEASE_S ({self.lease_s:g}) must be at least three times "
                f"ALERTS_DELIVERY_TIMEOUT_S ({self.timeout_s:g}): a claim must outlive a send"
            )
        self.sender = sender
        self.clock = clock
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="deliver-alert")
        self.in_flight: dict[Future[Outcome], tuple[AlertDelivery, str]] = {}
        self.sent = 0
        self._last_prune = 0.0

    def job(self, delivery: AlertDelivery) -> Job:
        return Job(
            delivery_id=delivery.delivery_id,
            action=dict(delivery.rule.action),
            payload=delivery.payload,
            timeout_s=self.timeout_s,
            allow_private=settings.ALERTS_ALLOW_PRIVATE_ADDRESSES,
            from_email=settings.DEFAULT_FROM_EMAIL,
        )

    def fill(self) -> int:
        """Claim due deliveries for the free slots and start sending them; how many."""
        # Up to twice the pool's threads are handed to it (the rest wait in its queue for the next
        # free thread), and a claim is made once at least half of that is free: a claim is a
        # transaction, taken for many deliveries at once rather than one per answer.
        free = 2 * self.concurrency - len(self.in_flight)
        if free <= 0 or (self.in_flight and free < self.concurrency):
            return 0
        token, deliveries = deliveries_claim(free, self.lease_s, self.clock())
        for delivery in deliveries:
            future = self.pool.submit(self.sender, self.job(delivery))
            self.in_flight[future] = (delivery, token)
        return len(deliveries)

    def collect(self, timeout_s: float) -> int:
        """Record the outcomes of the sends that end within ``timeout_s``; how many."""
        if not self.in_flight:
            return 0
        done, _ = wait(list(self.in_flight), timeout=timeout_s, return_when=FIRST_COMPLETED)
        now = self.clock()
        attempts = []
        for future in done:
            delivery, token = self.in_flight.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # a bug in a sender: the delivery is retried, not lost
                logger.exception("sending delivery %s failed", delivery.delivery_id)
                outcome = Outcome(False, True, None, f"internal error: {exc}")
            step = next_step(
                outcome,
                delivery.attempts + 1,
                delivery.created_at,
                now,
                settings.ALERTS_DELIVERY_DEADLINE_S,
                settings.ALERTS_RETRY_BASE_S,
                settings.ALERTS_RETRY_MAX_S,
            )
            attempts.append(Attempt(delivery, token, outcome, step))
        # The outcomes that came together, in one statement and one commit.
        written = deliveries_record(attempts, now)
        if written < len(attempts):
            logger.warning("%d claim(s) ran out before their outcome", len(attempts) - written)
        for attempt in attempts:
            self.log(attempt)
        self.sent += sum(attempt.step.status == "sent" for attempt in attempts)
        return len(done)

    def log(self, attempt: Attempt) -> None:
        status, delivery, error = attempt.step.status, attempt.delivery, attempt.outcome.error
        (logger.info if status == "sent" else logger.warning)(
            "alert %s %s (%s, attempt %d)%s",
            delivery.delivery_id,
            status,
            delivery.trigger,
            delivery.attempts + 1,
            f": {error}" if error else "",
        )

    def run_once(self) -> int:
        """Send every delivery due now (and those that come due while others are sent), then
        return how many were sent: for tests and cron-like use."""
        sent_before = self.sent
        while True:
            claimed = self.fill()
            if not claimed and not self.in_flight:
                return self.sent - sent_before
            self.collect(timeout_s=self.timeout_s * 2)

    def run(
        self,
        stop: threading.Event,
        poll_s: float | None = None,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        """Until ``stop`` is set: keep the pool full, look again every ``poll_s`` when idle;
        ``heartbeat`` is called on every round (the container's healthcheck file)."""
        poll_s = settings.ALERTS_POLL_INTERVAL_S if poll_s is None else poll_s
        while not stop.is_set():
            if heartbeat is not None:
                heartbeat()
            close_old_connections()
            claimed = self.fill()
            if self.in_flight:
                self.collect(timeout_s=poll_s)
            elif not claimed:
                stop.wait(poll_s)
            if time.monotonic() - self._last_prune > PRUNE_EVERY_S:
                page_occurrences_prune(self.clock())
                self._last_prune = time.monotonic()
        while self.in_flight:  # what is being sent is recorded before the worker exits
            self.collect(timeout_s=self.timeout_s * 2)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
