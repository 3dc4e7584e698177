"""Settings for the test suite: the defaults, with test-sized waits.

``DATABASE_URL`` still picks the engine, so CI runs the suite once on SQLite and once on PostgreSQL;
the session fixture that starts the broker sets ``KAFKA_BOOTSTRAP_SERVERS``.
"""

import tempfile
from pathlib import Path

from settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
KAFKA_PRODUCE_TIMEOUT_S = 3.0
REPLAYS_SETTINGS_CACHE_TTL_S = 0.0
ISSUES_SETTINGS_CACHE_TTL_S = 0.0

# Each test run keeps its files in a directory of its own (tests/conftest.py removes it).
TEST_TMP_DIR = Path(tempfile.mkdtemp(prefix="replay-issues-test-"))
RECORDINGS_ROOT = TEST_TMP_DIR / "recordings"
STORAGES["recordings"]["OPTIONS"]["location"] = str(RECORDINGS_ROOT)  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not the shared in-memory database: the consumers under test write from threads of
    # their own, and only a file gives them WAL and the busy timeout, as in production.
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_TMP_DIR / "test.sqlite3")}  # noqa: F405

# The tests' webhook receivers listen on 127.0.0.1.
ALERTS_ALLOW_PRIVATE_ADDRESSES = True
ALERTS_DELIVERY_TIMEOUT_S = 2.0
