"""The elements page's rows, sorted and sliced by the database: only a page of rows reaches Python.

One query groups the project's element rows (``ElementCount`` over all time; over a range of
UTC days, ``ElementWeekCount`` for whole weeks and ``ElementDayCount`` for at most three days
added or taken out), joins the range's clicks to the all-time issue count and last click, takes
out the issues not shown now (their counts: ``times_seen``, or their daily rows over a range),
sorts, counts the rows (a window) and returns one page of them. At a million occurrences (5,000
elements) a range's rows were 5,000 dicts built, joined and sorted in Python, most of the page's
time; and a 30-day range grouped thirty daily rows an element and type where it now groups five
weekly rows an element and at most three days' rows (issue 23, part f).

Plain SQL that PostgreSQL and SQLite read alike (CASE rather than FILTER, boolean columns
compared as such); the ORM cannot join two groupings without computing one for every row of the
other."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from issues.aggregates import ELEMENT_CLICK_COLUMNS, week_of
from issues.models import (
    ElementCount,
    ElementDayCount,
    ElementWeekCount,
    Issue,
    IssueDayCount,
)

CLICK_COLUMNS = ELEMENT_CLICK_COLUMNS
ROW_COLUMNS = ("selector", *CLICK_COLUMNS, "total", "issue_count", "last_seen")


@dataclass(frozen=True)
class RangeRows:
    """Which element rows sum to a range from ``first_day`` to today: the weekly rows from
    ``first_week`` (the last week is the current one: no click is later), and the daily rows of
    ``[days_from, days_to)`` added (``days_sign`` 1) or taken out (-1)."""

    first_week: date
    days_from: date
    days_to: date
    days_sign: int


def range_rows(first_day: date) -> RangeRows:
    """The fewest daily rows (three days at most) to add to whole weeks for a range from
    ``first_day`` (pure): from Monday to Thursday, its week less the days before it; from Friday
    to Sunday, the days to the next Monday and the weeks from there."""
    monday = week_of(first_day)
    if first_day.weekday() <= 3:
        return RangeRows(monday, monday, first_day, -1)
    next_monday = monday + timedelta(days=7)
    return RangeRows(next_monday, first_day, next_monday, 1)


@dataclass(frozen=True)
class ElementQuery:
    """What one elements list shows: a project's elements over all time (``first_day`` None) or
    from ``first_day`` to today, sorted by ``order`` (``ELEMENT_SORTS``' columns, ``-`` for
    descending), the issues not shown at ``now`` taken out (``unshown``: whether the project
    has any, read first from two ranges of indexes; without, the query has nothing to take out).
    """

    project_id: int
    order: Sequence[str]
    first_day: date | None
    now: datetime
    unshown: bool = True

    def sql(self, limit: int | None, offset: int) -> tuple[str, list[Any]]:
        """The query of the rows from ``offset`` (at most ``limit``; all when None), each with
        the number of rows of the whole list (``full_count``)."""
        ops = connection.ops
        table = {
            model: ops.quote_name(model._meta.db_table)
            for model in (ElementCount, ElementDayCount, ElementWeekCount, Issue, IssueDayCount)
        }
        kinds = [str(kind) for kind in CLICK_COLUMNS.values()]
        project, now = self.project_id, ops.adapt_datetimefield_value(self.now)
        first_day = None
        if self.first_day is not None:
            first_day = ops.adapt_datefield_value(self.first_day)
            span = range_rows(self.first_day)
            first_week, days_from, days_to = (
                ops.adapt_datefield_value(day)
                for day in (span.first_week, span.days_from, span.days_to)
            )
            days_times = "times" if span.days_sign > 0 else "-times"

        def clicks(times: str) -> str:
            return ", ".join(
                f"SUM(CASE WHEN type = %s THEN {times} ELSE 0 END) AS {column}"
                for column in CLICK_COLUMNS
            )

        shown = "is_visible AND (shown_at IS NULL OR shown_at <= %s)"
        # Each part of the WITH list: its name, its SQL, its parameters.
        parts: list[tuple[str, str, list[Any]]] = [
            # The issues not shown now: below the noise threshold, held by the creation quota
            # (two ranges of indexes).
            (
                "unshown",
                f"SELECT id, selector, type, times_seen FROM {table[Issue]} "
                "WHERE project_id = %s AND selector <> '' "
                "AND (NOT is_visible OR shown_at > %s)",
                [project, now],
            ),
            # Each element's issues and last click over all time (and its clicks, over all
            # time).
            (
                "overall",
                f"SELECT selector, {clicks('times')}, SUM(times) AS total, "
                "SUM(issues) AS issue_count, MAX(last_seen) AS last_seen "
                f"FROM {table[ElementCount]} WHERE project_id = %s GROUP BY selector",
                [*kinds, project],
            )
            if first_day is None
            else (
                "overall",
                "SELECT selector, SUM(issues) AS issue_count, MAX(last_seen) AS last_seen "
                f"FROM {table[ElementCount]} WHERE project_id = %s GROUP BY selector",
                [project],
            ),
            # Over a range, its clicks are the range's: whole weeks' rows and at most three
            # days' rows added or taken out (``range_rows``). A range ends now: an element
            # clicked in it was last clicked in it.
            (
                "span",
                "SELECT overall.selector, "
                + "".join(f"clicked.{column}, " for column in (*CLICK_COLUMNS, "total"))
                + "overall.issue_count, overall.last_seen FROM overall JOIN ("
                "SELECT selector, "
                + "".join(f"SUM({column}) AS {column}, " for column in CLICK_COLUMNS)
                + "SUM(total) AS total FROM (SELECT selector, "
                + "".join(
                    f"CASE WHEN type = %s THEN {days_times} ELSE 0 END AS {column}, "
                    for column in CLICK_COLUMNS
                )
                + f"{days_times} AS total FROM {table[ElementDayCount]} "
                "WHERE project_id = %s AND day >= %s AND day < %s UNION ALL "
                f"SELECT selector, {', '.join(CLICK_COLUMNS)}, total "
                f"FROM {table[ElementWeekCount]} WHERE project_id = %s AND week >= %s) in_range "
                "GROUP BY selector) clicked ON clicked.selector = overall.selector",
                [*kinds, project, days_from, days_to, project, first_week],
            )
            if first_day is not None
            else ("span", "SELECT * FROM overall", []),
            # What the unshown issues counted, per element: all their clicks, or their daily
            # rows of the range.
            (
                "hidden",
                f"SELECT selector, {clicks('times_seen')}, SUM(times_seen) AS total, "
                "COUNT(*) AS issues FROM unshown GROUP BY selector",
                kinds,
            )
            if first_day is None
            else (
                "hidden",
                f"SELECT unshown.selector, {clicks('COALESCE(in_range.times, 0)')}, "
                "SUM(COALESCE(in_range.times, 0)) AS total, COUNT(*) AS issues FROM unshown "
                "LEFT JOIN (SELECT issue_id, CAST(SUM(times) AS INTEGER) AS times "
                f"FROM {table[IssueDayCount]} WHERE day >= %s "
                "AND issue_id IN (SELECT id FROM unshown) GROUP BY issue_id) in_range "
                "ON in_range.issue_id = unshown.id GROUP BY unshown.selector",
                [*kinds, first_day],
            ),
            # An element with unshown issues was last clicked in its shown issues (an index of
            # the project's issues by selector, for those elements only).
            (
                "shown_last",
                f"SELECT selector, MAX(last_seen) AS last_seen FROM {table[Issue]} "
                f"WHERE project_id = %s AND selector IN (SELECT selector FROM unshown) "
                f"AND {shown} GROUP BY selector",
                [project, now],
            ),
            # The rows less the unshown issues.
            (
                "element_rows",
                "SELECT span.selector, "
                + "".join(
                    f"span.{column} - COALESCE(hidden.{column}, 0) AS {column}, "
                    for column in (*CLICK_COLUMNS, "total")
                )
                + "span.issue_count - COALESCE(hidden.issues, 0) AS issue_count, "
                "COALESCE(shown_last.last_seen, span.last_seen) AS last_seen FROM span "
                "LEFT JOIN hidden ON hidden.selector = span.selector "
                "LEFT JOIN shown_last ON shown_last.selector = span.selector "
                "WHERE span.issue_count > 0",
                [],
            ),
        ]
        if not self.unshown:
            parts = [part for part in parts if part[0] in ("overall", "span")]
            parts.append(("element_rows", "SELECT * FROM span WHERE issue_count > 0", []))
        order = ", ".join(
            f"{column.removeprefix('-')} {'DESC' if column.startswith('-') else 'ASC'}"
            for column in self.order
        )
        sql = (
            "WITH "
            + ", ".join(f"{name} AS ({part})" for name, part, _ in parts)
            + f" SELECT {', '.join(ROW_COLUMNS)}, COUNT(*) OVER () AS full_count "
            f"FROM element_rows WHERE issue_count > 0 AND total > 0 ORDER BY {order}"
        )
        params = [param for _, _, part_params in parts for param in part_params]
        if limit is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [limit, offset]
        return sql, params

    def rows(self, limit: int | None = None, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The rows from ``offset`` (at most ``limit``), and how many the whole list has (0 when
        ``offset`` is past its end: the caller counts then)."""
        sql, params = self.sql(limit, offset)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        rows = [dict(zip(ROW_COLUMNS, row[:-1], strict=True)) for row in fetched]
        for row in rows:
            row["last_seen"] = _aware(row["last_seen"])
        return rows, (fetched[0][-1] if fetched else 0)

    def count(self) -> int:
        """How many rows the whole list has."""
        sql, params = self.sql(None, 0)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", params)
            return cursor.fetchone()[0]


def _aware(value: datetime | str) -> datetime:
    """A last click as the ORM would read it: SQLite answers raw SQL with text (UTC)."""
    moment = parse_datetime(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ElementRows(Sequence):
    """The list of an ``ElementQuery`` for a ``Paginator``: its length and slices are queries
    of a page each. ``expect(offset, limit)`` names the page about to be read, so one query
    answers both the paginator's count and that page (a range's grouping is not run twice)."""

    def __init__(self, query: ElementQuery) -> None:
        self.query = query
        self._count: int | None = None
        self._page: tuple[int, int, list[dict[str, Any]]] | None = None

    def expect(self, offset: int, limit: int) -> None:
        rows, count = self.query.rows(limit, offset)
        self._page = (offset, limit, rows)
        if rows:
            self._count = count

    def count(self) -> int:
        if self._count is None:
            self._count = self.query.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, int):
            rows = self[index : index + 1] if index >= 0 else list(self)[index : index + 1]
            if not rows:
                raise IndexError(index)
            return rows[0]
        start, stop, step = index.indices(self.count())
        if step != 1:
            return list(self)[index]
        if self._page is not None:
            offset, limit, rows = self._page
            # The page named by ``expect``, or the last page: what is left of the list.
            if start == offset and (stop - start <= len(rows) or len(rows) < limit):
                return rows[: stop - start]
        return self.query.rows(max(stop - start, 0), start)[0] if stop > start else []

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rows, count = self.query.rows()
        self._count = count
        return iter(rows)
