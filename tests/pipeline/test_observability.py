"""The service's own errors and logs: sentry-sdk reports a consumer that dies and a request that
fails (to a Sentry-compatible collector over real HTTP), and LOG_FORMAT=json writes one JSON
object per line, from Django's loggers and gunicorn's alike."""

import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import pytest
import sentry_sdk
from django.conf import settings
from django.http import HttpRequest
from django.urls import path

from pipeline.broker import free_port
from pipeline.consumers import run_until_signalled
from settings.sentry import configure_sentry


class Collector(BaseHTTPRequestHandler):
    """Takes what sentry-sdk sends: envelopes, maybe gzip- or brotli-compressed."""

    received: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sentry_collector() -> Iterator[list[bytes]]:
    received: list[bytes] = []
    handler = type("Handler", (Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    configure_sentry(
        f"http://{'a' * 32}@127.0.0.1:{server.server_port}/1",
        environment="test",
        release="replay-issues@test",
        traces_sample_rate=0.0,
    )
    yield received
    sentry_sdk.init()  # no DSN: reporting off again for the rest of the session
    server.shutdown()


def exception_values(received: list[bytes]) -> list[dict]:
    values = []
    for envelope in received:
        for line in envelope.split(b"\n"):
            if line.startswith(b"{") and b'"exception"' in line:
                values += json.loads(line)["exception"]["values"]
    return values


class CrashingProcessor:
    def run(self) -> None:
        raise RuntimeError("the consumer loop broke")


def test_a_consumer_that_dies_is_reported_and_flushed_before_it_exits(sentry_collector):
    stopped = []
    with pytest.raises(RuntimeError):
        run_until_signalled(CrashingProcessor(), lambda: stopped.append(True))
    assert stopped == [True]
    values = exception_values(sentry_collector)
    assert [(v["type"], v["value"]) for v in values] == [
        ("RuntimeError", "the consumer loop broke")
    ]


def failing_view(request: HttpRequest) -> None:
    raise ValueError("a request failed")


urlpatterns = [path("fail/", failing_view)]


@pytest.mark.urls(__name__)
def test_a_failing_request_is_reported_by_the_django_integration(client, sentry_collector):
    client.raise_request_exception = False
    assert client.get("/fail/").status_code == 500
    sentry_sdk.flush(timeout=5)
    values = exception_values(sentry_collector)
    assert ("ValueError", "a request failed") in [(v["type"], v["value"]) for v in values]


def test_json_logs_are_one_object_per_line(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_FORMAT": "json",
    }
    done = subprocess.run(
        [
            *(sys.executable, str(settings.BASE_DIR / "manage.py"), "shell", "-c"),
            "import logging; logging.getLogger('replays.consumer').warning('stored %d', 3)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    record = json.loads(done.stderr.strip().splitlines()[-1])
    assert record["message"] == "stored 3"
    assert record["level"] == "WARNING"
    assert record["logger"] == "replays.consumer"
    assert {"time", "process"} <= set(record)


def test_gunicorn_uses_the_same_log_format(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_FORMAT": "json",
    }
    done = subprocess.run(
        [
            *(sys.executable, "-m", "gunicorn", "--config", "python:settings.gunicorn"),
            *("--check-config", "--print-config", "settings.wsgi:application"),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "pythonjsonlogger.json.JsonFormatter" in done.stdout
    printed = dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in done.stdout.splitlines())
    )
    assert printed["worker_class"] == "gthread"
    assert printed["child_exit"] == "<child_exit()>"
