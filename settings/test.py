"""Settings for the test suite: the defaults, with test-sized waits.

``DATABASE_URL`` still picks the engine, so CI runs the suite once on SQLite and once on PostgreSQL;
the session fixture that starts the broker sets ``KAFKA_BOOTSTRAP_SERVERS``.
"""

from settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
KAFKA_PRODUCE_TIMEOUT_S = 3.0
