"""What ``/readyz`` checks: can this process reach its database and its broker?

Each check returns ``None`` when the dependency answers, else why not, in words an operator can
act on. They never raise: a probe must answer quickly whatever is down.
"""

import os
import threading

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from django.conf import settings
from django.db import DatabaseError, connections

from pipeline.kafka import client_config

_lock = threading.Lock()
_admin: tuple[int, str, AdminClient] | None = None


def database_problem(alias: str = "default") -> str | None:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # A failed check must not leave a broken connection for this thread's next request.
        connections[alias].close()
        return f"database unreachable: {exc}".strip()
    return None


def _admin_client() -> AdminClient:
    """One admin client per process and broker address (it keeps its connection open)."""
    global _admin
    servers = settings.KAFKA_BOOTSTRAP_SERVERS
    with _lock:
        if _admin is None or _admin[:2] != (os.getpid(), servers):
            _admin = (os.getpid(), servers, AdminClient(client_config()))
        return _admin[2]


def broker_problem(timeout_s: float, topic: str | None = None) -> str | None:
    """The broker answers a metadata request, and ``topic`` (if given) exists on it.

    It asks for every topic's metadata: asking for one topic by name makes a broker that
    auto-creates topics (Tansu, Kafka's default) create it, and the check would always pass."""
    try:
        metadata = _admin_client().list_topics(timeout=timeout_s)
    except KafkaException as exc:
        return f"broker unreachable at {settings.KAFKA_BOOTSTRAP_SERVERS}: {exc.args[0].str()}"
    if topic is not None:
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            return f"topic {topic} missing on the broker (run manage.py createtopics)"
    return None
