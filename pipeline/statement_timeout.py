"""A bound on each database statement that a web request runs, so that no read a user can ask
for holds a web thread (and its share of the database) for long: ``WEB_STATEMENT_TIMEOUT_MS``.

- PostgreSQL: the web processes' connections are opened with ``-c statement_timeout=<ms>``
  (``bound_web_connections``, called by ``settings/wsgi.py``, which only the web server loads;
  the consumers, ``migrate`` and the other commands keep no limit).
- SQLite has no such setting: ``StatementTimeoutMiddleware`` gives each statement of a request a
  deadline, and a progress handler on the connection interrupts the statement past it.

Either way the statement fails with a database error that the middleware answers with 503 and a
reason (JSON under /api/), instead of a 500.
"""

import contextlib
import sqlite3
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from django.conf import settings
from django.db import OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse

# The progress handler runs every this many SQLite virtual-machine instructions (a few
# milliseconds of work): rare enough to cost nothing, often enough to stop within the bound.
PROGRESS_STEPS = 1_000_000
POSTGRES_QUERY_CANCELED = "57014"
TOO_LONG = (
    "This request's database work ran past the limit for one request "
    "(WEB_STATEMENT_TIMEOUT_MS) and was stopped: narrow the filters or the search."
)


def bound_web_connections(databases: dict[str, dict[str, Any]], timeout_ms: int) -> None:
    """Open PostgreSQL connections with ``statement_timeout``; for the web processes only."""
    if timeout_ms <= 0:
        return
    for database in databases.values():
        if database["ENGINE"] == "django.db.backends.postgresql":
            options = database.setdefault("OPTIONS", {})
            bound = f"-c statement_timeout={int(timeout_ms)}"
            options["options"] = f"{options.get('options', '')} {bound}".strip()


class _SqliteDeadline:
    """An execute wrapper: each statement gets ``timeout_s`` from its start; the connection's
    progress handler interrupts it (and the fetching of its rows) past that."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.deadline = float("inf")
        self.raw_connections: list[Any] = []

    def past_deadline(self) -> int:
        return 1 if time.monotonic() > self.deadline else 0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict):
        raw = context["connection"].connection
        if raw not in self.raw_connections:
            raw.set_progress_handler(self.past_deadline, PROGRESS_STEPS)
            self.raw_connections.append(raw)
        self.deadline = time.monotonic() + self.timeout_s
        return execute(sql, params, many, context)

    def release(self) -> None:
        for raw in self.raw_connections:
            # A connection closed meanwhile has no handler left to remove.
            with contextlib.suppress(sqlite3.Error):
                raw.set_progress_handler(None, PROGRESS_STEPS)


def is_statement_timeout(error: BaseException) -> bool:
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == POSTGRES_QUERY_CANCELED:
        return True
    return "interrupted" in str(error)


class StatementTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timeout_ms = settings.WEB_STATEMENT_TIMEOUT_MS
        if timeout_ms <= 0:
            return self.get_response(request)
        with ExitStack() as stack:
            for connection in connections.all(initialized_only=False):
                if connection.vendor == "sqlite":
                    deadline = _SqliteDeadline(timeout_ms / 1000)
                    stack.enter_context(connection.execute_wrapper(deadline))
                    stack.callback(deadline.release)
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_statement_timeout(exception):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": TOO_LONG}, status=503)
        return HttpResponse(TOO_LONG, status=503, content_type="text/plain; charset=utf-8")
