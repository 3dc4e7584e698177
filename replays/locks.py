"""One transaction lock per replay, for the two consumers that write its click windows.

The replays consumer builds a replay's windows from its timeline and its stored error events; the
replay-errors consumer stores an error event and builds again the windows it falls in. On
PostgreSQL (READ COMMITTED) each statement sees what was committed when it started, so without a
common lock both could miss the other: the error consumer reads the windows before the segment's
transaction commits them, while the segment's transaction reads the error events before the
event's commits. Neither the replay's row (the error often arrives before the replay exists) nor
the event rows can be locked by both, so both take a transaction-scoped advisory lock on a hash
of (project, replay id) before any row lock, in the order of the lock keys: whichever commits
second reads, after waiting, what the first committed. A hash collision only makes two replays
wait for each other. SQLite lets one writer at a time, and takes nothing here.
"""

import hashlib
from collections.abc import Iterable

from django.db import connection


def replay_lock_key(project_id: int, replay_id: str) -> int:
    """The advisory lock's key of a replay (``replay_id``: 32 hex digits): a signed 64-bit hash."""
    digest = hashlib.blake2b(f"{project_id}:{replay_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_replays(replays: Iterable[tuple[int, str]]) -> None:
    """Lock the replays (project id, replay id as 32 hex digits) until the transaction ends;
    call inside ``transaction.atomic`` before any row lock."""
    if connection.vendor != "postgresql":
        return
    keys = sorted({replay_lock_key(project_id, replay_id) for project_id, replay_id in replays})
    if not keys:
        return
    # A function scan of ``unnest`` yields the array in its order: the keys are taken sorted,
    # in one round trip (no ORDER BY: it may evaluate the locks before sorting).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key", [keys])
