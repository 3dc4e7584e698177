"""Cursors of the issue list (issue 23): a page found from the position of the issue before it,
as Sentry's API pages its issue stream, so the 1,000th page costs what the first costs (an
OFFSET reads and drops every issue before the page).

A cursor names the list's sort, a direction (the issues after the position: the next page; or
before it: the previous page) and the position: the values of the sort's columns for one issue,
``times_seen.n.12.1764547200000000.4711``. Clients treat it as opaque; it is one of the forms of
``CURSOR_PATTERN`` exactly, so the API's schema can say which strings are cursors, and every
string of that form is a position (one that matches no issue is an empty page). A cursor of
another sort is not one of this list's: the caller refuses it.

Every column the list sorts by is NOT NULL (``Issue``: ``impact`` defaults to 0.0; a time
range's count is a Coalesce), all descending, and the last is the id: so "after" is one strict
row comparison, the same on PostgreSQL and SQLite (a nullable column would need NULLs placed
explicitly, as the two order them at opposite ends). ``KINDS`` is checked against the model by
a test. Pure: no database, no request.
"""

import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import F, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

# What each sort's columns hold, in cursor order: "t" a time (microseconds since the epoch, at
# most 17 digits: before the year 5138), "i" a whole number (at most 18 digits: within a 64-bit
# column), "f" a float (its 64 bits in 16 hex digits: exact, whatever its value).
KINDS = {
    "last_seen": "ti",
    "times_seen": "iti",
    "users": "iti",
    "first_seen": "ti",
    "impact": "fti",
}
_VALUE = {"t": "[0-9]{1,17}", "i": "[0-9]{1,18}", "f": "[0-9a-f]{16}"}
# Every cursor, as a regex that Python and the JSON Schema pattern of the API (ECMA) read alike.
CURSOR_PATTERN = (
    "^(?:"
    + "|".join(
        re.escape(sort) + r"\.[np]" + "".join(r"\." + _VALUE[kind] for kind in kinds)
        for sort, kinds in KINDS.items()
    )
    + ")$"
)
_CURSOR = re.compile(CURSOR_PATTERN, re.ASCII)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Value = int | float | datetime


@dataclass(frozen=True, slots=True)
class IssueCursor:
    """A position in the list sorted by ``sort``: ``values`` of its columns (``SORTS[sort]``,
    or a time range's count in place of the first), and whether the page is of the issues
    ``before`` it (a previous page) rather than after it."""

    sort: str
    values: tuple[Value, ...]
    before: bool = False


def encode(cursor: IssueCursor) -> str:
    parts = [cursor.sort, "p" if cursor.before else "n"]
    parts += [
        _encode_value(kind, value)
        for kind, value in zip(KINDS[cursor.sort], cursor.values, strict=True)
    ]
    return ".".join(parts)


def decode(text: str) -> IssueCursor | None:
    """The cursor ``text`` spells, or None when it is not one (of any sort)."""
    if not _CURSOR.fullmatch(text):
        return None
    sort, direction, *values = text.split(".")
    return IssueCursor(
        sort,
        tuple(_decode_value(kind, value) for kind, value in zip(KINDS[sort], values, strict=True)),
        before=direction == "p",
    )


def _encode_value(kind: str, value: Value) -> str:
    if kind == "t":
        return str((value - _EPOCH) // timedelta(microseconds=1))
    if kind == "f":
        return struct.pack(">d", value).hex()
    return str(value)


def _decode_value(kind: str, text: str) -> Value:
    if kind == "t":
        return _EPOCH + timedelta(microseconds=int(text))
    if kind == "f":
        return struct.unpack(">d", bytes.fromhex(text))[0]
    return int(text)


def cursor_of(row: object, sort: str, ordering: tuple[str, ...], before: bool = False) -> str:
    """The cursor of ``row``'s position in the list sorted by ``sort`` (its query ordered by
    ``ordering``, whose columns ``row`` holds as attributes)."""
    values = tuple(getattr(row, column.removeprefix("-")) for column in ordering)
    return encode(IssueCursor(sort, values, before))


def keyset(ordering: tuple[str, ...], cursor: IssueCursor) -> Q:
    """The issues after (or ``before``) the cursor's position in ``ordering``, every column
    descending: one row comparison, ``(c1, c2, c3) < (v1, v2, v3)``, which PostgreSQL reads as
    a range of the sort's index (its columns in that order: ``Issue.Meta.indexes``) whatever
    the ties; where the database has no row comparison (SQLite, in Django) Django spells it
    ``c1 < v1 OR (c1 = v1 AND ...)``, and ``c1 <= v1`` beside it starts the index there."""
    if len(ordering) != len(cursor.values) or not all(c.startswith("-") for c in ordering):
        raise ValueError(f"a keyset is over descending columns, one per value: {ordering}")
    columns = [column.removeprefix("-") for column in ordering]
    row = Tuple(*(F(column) for column in columns))
    beyond = TupleGreaterThan if cursor.before else TupleLessThan
    start = "gte" if cursor.before else "lte"
    return Q(beyond(row, cursor.values)) & Q(**{f"{columns[0]}__{start}": cursor.values[0]})


def reverse_ordering(ordering: tuple[str, ...]) -> tuple[str, ...]:
    """``ordering`` upside down: the issues before a position, nearest first."""
    return tuple(c.removeprefix("-") if c.startswith("-") else f"-{c}" for c in ordering)
