"""A web request's database statement is stopped past WEB_STATEMENT_TIMEOUT_MS, on SQLite (the
middleware's progress handler) and on PostgreSQL (statement_timeout on the web processes'
connections only), a request's statements together past WEB_REQUEST_TIMEOUT_S, and the request
answers 503 with the reason instead of a 500."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import OperationalError, connection, connections
from django.http import HttpResponse
from django.test import RequestFactory

from pipeline.statement_timeout import (
    StatementTimeoutMiddleware,
    bound_web_connections,
    is_statement_timeout,
)

pytestmark = pytest.mark.django_db

# A statement that never ends by itself.
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def endless_view(request) -> HttpResponse:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What the web processes' connection option sets (checked below), for this
            # transaction only: the test's connection was opened without it.
            cursor.execute("SET LOCAL statement_timeout = %s", [settings.WEB_STATEMENT_TIMEOUT_MS])
        cursor.execute(ENDLESS)
    return HttpResponse("finished")


# More short statements than any request runs: the request's deadline must stop it long before.
MANY = 10_000_000


def many_statements_view(request) -> HttpResponse:
    with connection.cursor() as cursor:
        for _ in range(MANY):
            cursor.execute("SELECT 1")
    return HttpResponse(f"finished all {MANY} statements")


def run_through_the_middleware(path: str, view=endless_view) -> tuple[HttpResponse, float]:
    middleware = StatementTimeoutMiddleware(view)
    request = RequestFactory().get(path)
    started = time.monotonic()
    try:
        response = middleware(request)
    except OperationalError as error:
        response = middleware.process_exception(request, error)
    return response, time.monotonic() - started


@pytest.mark.parametrize("path", ["/projects/1/issues/", "/api/0/projects/1/issues/"])
def test_a_statement_past_the_limit_is_stopped_and_answered_503(settings, path):
    settings.WEB_STATEMENT_TIMEOUT_MS = 300

    response, elapsed = run_through_the_middleware(path)

    assert response.status_code == 503
    assert b"WEB_STATEMENT_TIMEOUT_MS" in response.content
    assert elapsed < 3, elapsed
    print(f"{connection.vendor}: an endless statement stopped after {elapsed * 1000:.0f} ms")


def test_a_request_of_short_statements_is_stopped_at_its_deadline(settings):
    """gunicorn's gthread workers never stop a request (their timeout is a heartbeat): the
    request's deadline does, though each of its statements is short."""
    settings.WEB_STATEMENT_TIMEOUT_MS = 5000
    settings.WEB_REQUEST_TIMEOUT_S = 0.3

    response, elapsed = run_through_the_middleware(
        "/api/0/projects/1/issues/", many_statements_view
    )

    assert response.status_code == 503, response.content
    assert b"WEB_REQUEST_TIMEOUT_S" in response.content
    print(
        f"{connection.vendor}: a request of short statements stopped after {elapsed * 1000:.0f} ms"
    )


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="on PostgreSQL the statement timeout stops a statement"
)
def test_on_sqlite_a_statement_never_runs_past_the_requests_deadline(settings):
    settings.WEB_STATEMENT_TIMEOUT_MS = 0
    settings.WEB_REQUEST_TIMEOUT_S = 0.3

    response, elapsed = run_through_the_middleware("/projects/1/issues/")

    assert response.status_code == 503
    assert b"WEB_REQUEST_TIMEOUT_S" in response.content
    print(f"an endless statement stopped by the request's deadline after {elapsed * 1000:.0f} ms")


def test_the_connection_serves_the_next_request_without_a_handler_left(settings):
    settings.WEB_STATEMENT_TIMEOUT_MS = 300
    run_through_the_middleware("/")
    if connection.vendor == "postgresql":
        # The failed statement aborted the test's transaction; roll back to its start.
        connection.needs_rollback = False
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")
        return
    started = time.monotonic()
    with connection.cursor() as cursor:
        # 2M rows: longer than 300 ms would allow, outside a request: not interrupted.
        cursor.execute(ENDLESS.replace("FROM c)", "FROM c WHERE x < 2000000)"))
        assert cursor.fetchone() == (2000000,)
    print(f"the same count outside a request: {(time.monotonic() - started) * 1000:.0f} ms")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's statement_timeout, on PostgreSQL"
)
def test_web_connections_on_postgresql_stop_a_statement_past_the_limit():
    params = {**connection.settings_dict, "OPTIONS": dict(connection.settings_dict["OPTIONS"])}
    bound_web_connections({"default": params}, 300)
    # A second connection to the same database, opened as the web processes open theirs.
    bounded = connections["default"].__class__(params)
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError) as raised, bounded.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")
    finally:
        bounded.close()
    assert is_statement_timeout(raised.value)
    assert time.monotonic() - started < 3


def options_in(module: str) -> str:
    """The default database's OPTIONS once ``module`` is imported in a process of its own."""
    code = (
        f"import {module}\n"
        "import django; from django.conf import settings; django.setup()\n"
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options', ''))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.base",
        "DATABASE_URL": "postgres://web@127.0.0.1:1/replay",
        "WEB_STATEMENT_TIMEOUT_MS": "1234",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().strip()


def test_only_the_web_processes_get_the_postgresql_option():
    assert options_in("settings.wsgi") == "-c statement_timeout=1234"
    # What the consumers, migrate and every other command load: no limit.
    assert options_in("os") == ""
