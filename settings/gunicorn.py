"""gunicorn's configuration for ``devstack`` and the container (``-c python:settings.gunicorn``).

Read from the environment like the Django settings; command-line flags still win (devstack binds
to loopback with its own port and worker count).
"""

import os

from pipeline.metrics import process_exited
from settings.logging import logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads: a request spends most of its time waiting for the broker's acknowledgement.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# SDKs and load balancers keep connections open between envelopes.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE_S", "5"))
# A worker whose main loop is silent this long is restarted. With gthread workers that is all it
# does: the main loop goes on while a thread serves a request, so no slow request is stopped by it
# (gunicorn's description of ``timeout``). What ends a web request is the database's bounds
# (pipeline/statement_timeout.py: WEB_STATEMENT_TIMEOUT_MS, WEB_REQUEST_TIMEOUT_S) and, for
# ingest, the broker's (KAFKA_PRODUCE_TIMEOUT_S); see the README's Deploy section.
timeout = int(os.environ.get("GUNICORN_TIMEOUT_S", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT_S", "10"))
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") == "1" else None
# gunicorn's control socket (for gunicornc, gunicorn 25.1+) would be created in
# $XDG_RUNTIME_DIR or ~/.gunicorn/, outside the checkout: off unless GUNICORN_CONTROL_SOCKET names
# where to put it.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None
logconfig_dict = logging_config(
    level=os.environ.get("LOG_LEVEL", "INFO"), log_format=os.environ.get("LOG_FORMAT", "plain")
)


def child_exit(_server: object, worker: object) -> None:
    """A worker that exited leaves its metric files; mark them dead for the multi-process scrape."""
    process_exited(worker.pid)
