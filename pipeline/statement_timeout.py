"""Bounds on the database work of a web request, so that no read a user can ask for holds a web
thread (and its share of the database) for long. gunicorn cannot stop a request: with gthread
workers its ``timeout`` is a heartbeat of the worker's main loop, which goes on while a thread is
busy, and a Python thread cannot be killed. What holds a thread is the database, so it is bounded
here: each statement by ``WEB_STATEMENT_TIMEOUT_MS``, and the request by ``WEB_REQUEST_TIMEOUT_S``
(no statement starts past it, and on SQLite none runs past it), so a request of many statements
ends too: within ``WEB_REQUEST_TIMEOUT_S`` + one statement's timeout.

- PostgreSQL: the web processes' connections are opened with ``-c statement_timeout=<ms>``
  (``bound_web_connections``, called by ``settings/wsgi.py``, which only the web server loads;
  the consumers, ``migrate`` and the other commands keep no limit).
- SQLite has no such setting: ``StatementTimeoutMiddleware`` gives each statement of a request a
  deadline, and a progress handler on the connection interrupts the statement past it.

- The request: an execute wrapper on every connection refuses a statement once the request's
  deadline has passed (``RequestTimedOut``), and SQLite's per-statement deadline is never later
  than the request's.

Either way the statement fails with a database error that the middleware answers with 503 and a
reason (JSON under /api/), instead of a 500.
"""

import contextlib
import math
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
    "This request's database work ran past its limit (WEB_STATEMENT_TIMEOUT_MS for one statement, "
    "WEB_REQUEST_TIMEOUT_S for the request) and was stopped: narrow the filters or the search."
)


class RequestTimedOut(OperationalError):
    """A statement asked for after the request's deadline (``WEB_REQUEST_TIMEOUT_S``): not run."""


def bound_web_connections(databases: dict[str, dict[str, Any]], timeout_ms: int) -> None:
    """Open PostgreSQL connections with ``statement_timeout``; for the web processes only."""
    if timeout_ms <= 0:
        return
    for database in databases.values():
        if database["ENGINE"] == "django.db.backends.postgresql":
            options = database.setdefault("OPTIONS", {})
            bound = f"-c statement_timeout={int(timeout_ms)}"
            options["options"] = f"{options.get('options', '')} {bound}".strip()


class _RequestDeadline:
    """An execute wrapper: no statement starts after ``deadline`` (``time.monotonic()``)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict):
        if time.monotonic() > self.deadline:
            raise RequestTimedOut("the request ran past WEB_REQUEST_TIMEOUT_S")
        return execute(sql, params, many, context)


class _SqliteDeadline:
    """An execute wrapper: each statement gets ``timeout_s`` from its start, and never past the
    request's deadline; the connection's progress handler interrupts it (and the fetching of its
    rows) past that."""

    def __init__(self, timeout_s: float, request_deadline: float = float("inf")) -> None:
        self.timeout_s = timeout_s
        self.request_deadline = request_deadline
        self.deadline = float("inf")
        self.raw_connections: list[Any] = []

    def past_deadline(self) -> int:
        return 1 if time.monotonic() > self.deadline else 0

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict):
        raw = context["connection"].connection
        if raw not in self.raw_connections:
            raw.set_progress_handler(self.past_deadline, PROGRESS_STEPS)
            self.raw_connections.append(raw)
        self.deadline = min(time.monotonic() + self.timeout_s, self.request_deadline)
        return execute(sql, params, many, context)

    def release(self) -> None:
        for raw in self.raw_connections:
            # A connection closed meanwhile has no handler left to remove.
            with contextlib.suppress(sqlite3.Error):
                raw.set_progress_handler(None, PROGRESS_STEPS)


def is_statement_timeout(error: BaseException) -> bool:
    """Whether ``error`` is one of these bounds stopping the request's database work."""
    if not isinstance(error, OperationalError):
        return False
    if isinstance(error, RequestTimedOut):
        return True
    cause = error.__cause__
    if getattr(cause, "sqlstate", None) == POSTGRES_QUERY_CANCELED:
        return True
    return "interrupted" in str(error)


class StatementTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        statement_s = _seconds_or_inf(settings.WEB_STATEMENT_TIMEOUT_MS / 1000)
        request_s = _seconds_or_inf(settings.WEB_REQUEST_TIMEOUT_S)
        if statement_s == request_s == math.inf:
            return self.get_response(request)
        request_deadline = time.monotonic() + request_s
        with ExitStack() as stack:
            for connection in connections.all(initialized_only=False):
                if request_s != math.inf:
                    wrapper = _RequestDeadline(request_deadline)
                    stack.enter_context(connection.execute_wrapper(wrapper))
                if connection.vendor == "sqlite":
                    deadline = _SqliteDeadline(statement_s, request_deadline)
                    stack.enter_context(connection.execute_wrapper(deadline))
                    stack.callback(deadline.release)
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_statement_timeout(exception):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": TOO_LONG}, status=503)
        return HttpResponse(TOO_LONG, status=503, content_type="text/plain; charset=utf-8")


def _seconds_or_inf(seconds: float) -> float:
    """A limit in seconds; 0 or less is none."""
    return seconds if seconds > 0 else math.inf
