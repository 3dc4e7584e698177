"""``manage.py reprocess_replays`` (or the memory probe) as a process of its own, on the test's
database, broker and recordings storage."""

import os
import sys

from django.conf import settings
from django.core.files.storage import storages

from tests.consumer_processes import database_url


def process_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        DJANGO_SETTINGS_MODULE="settings.base",
        DATABASE_URL=database_url(),
        KAFKA_BOOTSTRAP_SERVERS=settings.KAFKA_BOOTSTRAP_SERVERS,
        KAFKA_PRODUCER_IDEMPOTENCE=str(settings.KAFKA_PRODUCER_IDEMPOTENCE).lower(),
        TOPIC_OCCURRENCES=settings.TOPIC_OCCURRENCES,
        RECORDINGS_ROOT=str(storages["recordings"].location),
        PYTHONUNBUFFERED="1",
    )
    return env


def reprocess_argv(project_id: int, *args: str) -> list[str]:
    manage = str(settings.BASE_DIR / "manage.py")
    return [sys.executable, manage, "reprocess_replays", "--project", str(project_id), *args]
