"""Rate limits per project key: a fixed window of ``rate_limit_window_s`` seconds in which the key
may send ``rate_limit_count`` envelopes (both set on the key in the admin).

The count lives in the database (one row per key and window, one atomic upsert per envelope), so
every web process and every web server shares it. Only keys with a limit pay for it. A process
that has seen a key go over its limit refuses the key's next envelopes of that window without a
query. When counting fails (the database is down), the envelope is let through: the limit
protects the pipeline, and losing a segment the SDK sent would be worse than one window's excess.

Over the limit, the answer is Relay's: 429 with ``Retry-After`` and ``X-Sentry-Rate-Limits``
(``<seconds>:replay:key``), which the SDK parses to hold back its replay envelopes, and only
those, until the window ends.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

from django.db import DatabaseError, connection

from ingest.errors import RateLimited
from ingest.models import KeyRateWindow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    window_s: int


def window_of(now: float, window_s: int) -> int:
    """The number of the fixed window that ``now`` (seconds since the epoch) falls in."""
    return int(now // window_s)


def retry_after(now: float, window: int, window_s: int) -> int:
    """Whole seconds until ``window`` ends, at least 1 (the SDK reads an integer)."""
    return max(1, math.ceil((window + 1) * window_s - now))


# key id -> the window this process saw it go over in.
_over: dict[int, int] = {}
_over_lock = threading.Lock()


def forget_exceeded(*args, **kwargs) -> None:
    """Forget which keys this process saw over their limit (a limit changed in the admin)."""
    with _over_lock:
        _over.clear()


def enforce(key_id: int, limit: RateLimit | None, now: float | None = None) -> None:
    """Count one envelope of ``key_id``; raise ``RateLimited`` when it is over ``limit``."""
    if limit is None:
        return
    now = time.time() if now is None else now
    window = window_of(now, limit.window_s)
    if _over.get(key_id) == window:
        raise RateLimited(retry_after(now, window, limit.window_s))
    try:
        count = count_envelope(key_id, window)
    except DatabaseError:
        logger.warning("rate limit of key %s not counted: database error", key_id, exc_info=True)
        return
    if count > limit.count:
        with _over_lock:
            _over[key_id] = window
        raise RateLimited(retry_after(now, window, limit.window_s))


def _upsert_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(KeyRateWindow._meta.db_table)
    key, window, count = (quote(c) for c in ("key_id", "window", "count"))
    return (
        f"INSERT INTO {table} ({key}, {window}, {count}) VALUES (%s, %s, 1) "
        f"ON CONFLICT ({key}, {window}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {count}"
    )


def count_envelope(key_id: int, window: int) -> int:
    """Add one to the key's count in ``window`` and return the new count (one atomic statement;
    PostgreSQL and SQLite both upsert with RETURNING). The first envelope of a window deletes the
    key's older windows, so the table holds about one row per limited key."""
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(), [key_id, window])
        (count,) = cursor.fetchone()
    if count == 1:
        KeyRateWindow.objects.filter(key_id=key_id, window__lt=window).delete()
    return count
