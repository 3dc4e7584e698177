"""At most ``ISSUES_SEARCH_CONCURRENCY`` searches run at once in a web process; the others wait
their turn (up to ``ISSUES_SEARCH_WAIT_S``, then 503 with a reason).

A search reads every issue of the project, six columns per word: sixteen at once took every
core of the machine, and whatever else ran there (the envelope endpoint, the broker, the
consumers) waited for CPU. A bounded search bounds one request's work; this bounds how many run
side by side, so the rest of the machine keeps its share.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


class SearchesBusy(Exception):
    """Every search slot stayed taken for ISSUES_SEARCH_WAIT_S."""

    message = "Too many searches are running right now: try again in a few seconds."


def _semaphore() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.ISSUES_SEARCH_CONCURRENCY)
        return _slots


@contextmanager
def search_slot(query: str | None) -> Iterator[None]:
    """Hold a slot while a request with a search runs; a request without one runs freely."""
    if not query:
        yield
        return
    slots = _semaphore()
    if not slots.acquire(timeout=settings.ISSUES_SEARCH_WAIT_S):
        raise SearchesBusy(SearchesBusy.message)
    try:
        yield
    finally:
        slots.release()
