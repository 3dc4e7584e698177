"""Settings read from the environment (12-factor), with defaults that run on one machine.

Every default is the embedded one: a SQLite file under ``var/`` and the embedded Tansu broker on
127.0.0.1:9092 that ``manage.py devstack`` starts. Production sets the variables instead.
"""

from pathlib import Path

import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from settings.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
# Secrets come only from the environment. The development key below is used only with DEBUG on:
# with DEBUG off, a missing key (or that one) stops the process instead of signing sessions and
# tokens with a key that is in the source.
DEVELOPMENT_SECRET_KEY = "django-insecure-replay-issues-development-only"
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and SECRET_KEY in ("", DEVELOPMENT_SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set in the environment when DEBUG is false: 50 or more random "
        "characters, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
# Earlier keys, still accepted for sessions and signatures while a new SECRET_KEY rolls out.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
# Origins allowed to POST forms (login, issue actions) when served behind a proxy or on a domain.
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SENTRY_DSN = env.str("SENTRY_DSN", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pipeline",
    "organizations",
    "ingest",
    "replays",
    "issues",
    "alerts",
    "replay_errors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pipeline.statement_timeout.StatementTimeoutMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pipeline.private_cache.PrivateCacheMiddleware",
    # The UI's own 404 page with DEBUG on too (Django's technical one lists the URL patterns).
    "issues.middleware.NotFoundPageMiddleware",
]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if "DATABASE_URL" not in env:
    VAR_DIR.mkdir(exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the consumers read while one of them writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The replay player (npm's rrweb-player, installed by `make setup`) as /static/rrweb-player/: its
# browser bundle (umd/, first: dist/ has an ES module of the same name) and its style sheet (dist/).
# Left out while node_modules is missing, so Django still starts before the npm step ran.
RRWEB_PLAYER_DIR = BASE_DIR / "node_modules" / "rrweb-player"
STATICFILES_DIRS = [
    ("rrweb-player", RRWEB_PLAYER_DIR / folder)
    for folder in ("umd", "dist")
    if (RRWEB_PLAYER_DIR / folder).is_dir()
]

# Recordings are files, not rows: Django's storage API keeps them on disk here (the embedded
# default) or in S3-compatible object storage in production, without a change to the code.
RECORDINGS_ROOT = env.path("RECORDINGS_ROOT", default=VAR_DIR / "recordings")
# "filesystem" (the embedded default) or "s3": any S3-compatible object storage (AWS S3, MinIO)
# through django-storages. Credentials come from boto3's usual sources: AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY in the environment, or the instance's role.
RECORDINGS_STORAGE = env.str("RECORDINGS_STORAGE", default="filesystem")
if RECORDINGS_STORAGE == "s3":
    RECORDINGS_STORAGE_ALIAS = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("RECORDINGS_S3_BUCKET"),
            "endpoint_url": env.str("RECORDINGS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("RECORDINGS_S3_REGION", default="") or None,
            "location": env.str("RECORDINGS_S3_PREFIX", default=""),
            # MinIO and most S3-compatible servers want path-style addressing.
            "addressing_style": env.str("RECORDINGS_S3_ADDRESSING_STYLE", default="path"),
            # A segment processed again overwrites its own object instead of adding a copy.
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": False,
        },
    }
elif RECORDINGS_STORAGE == "filesystem":
    RECORDINGS_STORAGE_ALIAS = {
        # FileSystemStorage with a leaner write (replays/storage.py).
        "BACKEND": "replays.storage.RecordingFileStorage",
        # A segment processed again overwrites its own file instead of adding a copy.
        "OPTIONS": {"location": str(RECORDINGS_ROOT), "allow_overwrite": True},
    }
else:
    raise ImproperlyConfigured(
        f"RECORDINGS_STORAGE must be 'filesystem' or 's3', not {RECORDINGS_STORAGE!r}"
    )
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "recordings": RECORDINGS_STORAGE_ALIAS,
}

# --- Kafka -----------------------------------------------------------------------------------
KAFKA_BOOTSTRAP_SERVERS = env.str("KAFKA_BOOTSTRAP_SERVERS", default="127.0.0.1:9092")
# Partitions of the topics that start-up creates; replays are spread over them by replay id.
KAFKA_TOPIC_PARTITIONS = env.int("KAFKA_TOPIC_PARTITIONS", default=4)
# 1 on a single broker; 3 on a production cluster, so a broker can fail without losing data.
KAFKA_TOPIC_REPLICATION_FACTOR = env.int("KAFKA_TOPIC_REPLICATION_FACTOR", default=1)
# How long the envelope endpoint waits for the broker's acknowledgement before it answers 503.
KAFKA_PRODUCE_TIMEOUT_S = env.float("KAFKA_PRODUCE_TIMEOUT_S", default=5.0)
# Each request waits for its own message: lingering to fill batches would add to every answer's
# latency, while concurrent requests still share batches when the broker is busy.
KAFKA_PRODUCER_LINGER_MS = env.float("KAFKA_PRODUCER_LINGER_MS", default=0)
TOPIC_REPLAY_RECORDINGS = env.str("TOPIC_REPLAY_RECORDINGS", default="ingest-replay-recordings")
TOPIC_REPLAY_RECORDINGS_DLQ = env.str(
    "TOPIC_REPLAY_RECORDINGS_DLQ", default="ingest-replay-recordings-dlq"
)
TOPIC_OCCURRENCES = env.str("TOPIC_OCCURRENCES", default="ingest-occurrences")
TOPIC_OCCURRENCES_DLQ = env.str("TOPIC_OCCURRENCES_DLQ", default="ingest-occurrences-dlq")
# The SDK's error events that carry a replay id (Relay's topic for error events, in its shape).
TOPIC_EVENTS = env.str("TOPIC_EVENTS", default="ingest-events")
TOPIC_EVENTS_DLQ = env.str("TOPIC_EVENTS_DLQ", default="ingest-events-dlq")
# Consumer groups wait for members this long; Tansu assigns after half of it (see ARCHITECTURE.md).
KAFKA_SESSION_TIMEOUT_MS = env.int("KAFKA_SESSION_TIMEOUT_MS", default=6000)
# A consumer whose loop does not poll for this long leaves its group (librdkafka's default); it
# rejoins at its next poll (pipeline/group_membership.py). At least the session timeout.
KAFKA_MAX_POLL_INTERVAL_MS = env.int("KAFKA_MAX_POLL_INTERVAL_MS", default=300_000)
# How long the broker may hold a consumer's fetch when there is nothing new. Tansu answers only
# when this runs out, even if messages arrive meanwhile, so librdkafka's 500 ms default would add
# up to half a second per stage; an idle consumer's fetches every 50 ms cost the broker little.
KAFKA_FETCH_WAIT_MAX_MS = env.int("KAFKA_FETCH_WAIT_MAX_MS", default=50)
# A consumer commits its offsets at most this often (arroyo's commit policy). What a consumer that
# dies did after its last commit is done again by the next one (idempotently); a longer interval
# means fewer commits and more work done again.
KAFKA_COMMIT_INTERVAL_S = env.float("KAFKA_COMMIT_INTERVAL_S", default=1.0)
# How long a consumer fetches again when a partition's offsets skip, before going on without
# the missing ones (pipeline/offset_gaps.py: the embedded broker can show a record late).
# 0 turns the guard off: Apache Kafka shows no such gaps (docker-compose.yml and the test suite's
# Kafka pass set 0 there).
KAFKA_OFFSET_GAP_WAIT_S = env.float("KAFKA_OFFSET_GAP_WAIT_S", default=1.0)
# Producers are idempotent (enable.idempotence): a retried send is written once, in order, which
# Apache Kafka enforces. Off on the embedded broker (devstack sets it for its children): Tansu
# accepts it but forgets the producer ids when it restarts, and the producer then fails.
KAFKA_PRODUCER_IDEMPOTENCE = env.bool("KAFKA_PRODUCER_IDEMPOTENCE", default=True)
REPLAYS_CONSUMER_GROUP = env.str("REPLAYS_CONSUMER_GROUP", default="replays-recordings")
ISSUES_CONSUMER_GROUP = env.str("ISSUES_CONSUMER_GROUP", default="issues-occurrences")
REPLAY_ERRORS_CONSUMER_GROUP = env.str("REPLAY_ERRORS_CONSUMER_GROUP", default="replay-errors")

# --- Ingest limits (Relay's, see ARCHITECTURE.md "Limits and answers at the edge") ------------
MiB = 1024 * 1024
INGEST_MAX_BODY_BYTES = env.int("INGEST_MAX_BODY_BYTES", default=20 * MiB)
INGEST_MAX_RECORDING_BYTES = env.int("INGEST_MAX_RECORDING_BYTES", default=10 * MiB)
INGEST_MAX_RECORDING_INFLATED_BYTES = env.int(
    "INGEST_MAX_RECORDING_INFLATED_BYTES", default=100 * MiB
)
# One occurrence posted to /api/<project_id>/occurrences/, as sent and once inflated (Relay's
# limit for one event).
INGEST_MAX_OCCURRENCE_BYTES = env.int("INGEST_MAX_OCCURRENCE_BYTES", default=1 * MiB)
# How long a process trusts what it read of a project key (admin changes made elsewhere).
INGEST_KEY_CACHE_TTL_S = env.float("INGEST_KEY_CACHE_TTL_S", default=10.0)
REPLAY_RETENTION_DAYS = env.int("REPLAY_RETENTION_DAYS", default=90)
# One error event (an ``event`` item), as sent: Relay's limit for one event.
INGEST_MAX_EVENT_BYTES = env.int("INGEST_MAX_EVENT_BYTES", default=1 * MiB)
# The event JSON kept with each error event of a replay: a replay page and a cause need its
# exception, request and tags, not kilobytes of breadcrumbs; bigger events are trimmed to this.
REPLAY_ERROR_EVENT_MAX_JSON_BYTES = env.int("REPLAY_ERROR_EVENT_MAX_JSON_BYTES", default=64 * 1024)

# --- Replays consumer ---------------------------------------------------------------------------
# The SDK never sends a segment over 20 MB inflated (its event buffer's limit); a message that
# inflates past this cap is a bomb or a bug and goes to the dead-letter topic. It also bounds the
# consumer's memory: a parsed recording takes several times its JSON size.
REPLAYS_MAX_RECORDING_INFLATED_BYTES = env.int(
    "REPLAYS_MAX_RECORDING_INFLATED_BYTES", default=32 * MiB
)
# How long a consumer trusts what it read of a project's detection settings (admin changes).
REPLAYS_SETTINGS_CACHE_TTL_S = env.float("REPLAYS_SETTINGS_CACHE_TTL_S", default=1.0)
# How long the consumer waits for the broker to take an occurrence before it retries the segment.
REPLAYS_PRODUCE_TIMEOUT_S = env.float("REPLAYS_PRODUCE_TIMEOUT_S", default=10.0)
# A settings preview ("Preview on the last N days") covers at most this many stored segments, the
# most recent; the page says which range it covered.
REPLAYS_PREVIEW_MAX_SEGMENTS = env.int("REPLAYS_PREVIEW_MAX_SEGMENTS", default=20_000)

# --- Issues consumer ----------------------------------------------------------------------------
# How long a consumer trusts what it read of a project's noise threshold (admin changes).
ISSUES_SETTINGS_CACHE_TTL_S = env.float("ISSUES_SETTINGS_CACHE_TTL_S", default=1.0)

# --- Web UI and REST API ------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
ISSUES_PAGE_SIZE = env.int("ISSUES_PAGE_SIZE", default=25)
# The issue list counts the issues a filter matches up to this many, then says "1,000+" (and the
# API X-Max-Hits), as Sentry's issue stream does; the web UI pages by number within it (40 pages
# of 25), by cursor past it. Without a filter but the status, the counts are exact.
ISSUES_COUNT_BOUND = env.int("ISSUES_COUNT_BOUND", default=1000)
# The issue page's occurrences per page (older ones by cursor).
ISSUE_OCCURRENCES_PAGE_SIZE = env.int("ISSUE_OCCURRENCES_PAGE_SIZE", default=20)
# The issue search (UI and API) takes at most this many words and characters; beyond, 400. Each
# word is a scan of the project's issues, so this bounds the work one request can ask for.
ISSUES_SEARCH_MAX_TERMS = env.int("ISSUES_SEARCH_MAX_TERMS", default=8)
ISSUES_SEARCH_MAX_CHARS = env.int("ISSUES_SEARCH_MAX_CHARS", default=200)
# Searches running at once per web process (issues/search_slots.py); the others wait up to
# ISSUES_SEARCH_WAIT_S for their turn, then answer 503.
ISSUES_SEARCH_CONCURRENCY = env.int("ISSUES_SEARCH_CONCURRENCY", default=2)
ISSUES_SEARCH_WAIT_S = env.float("ISSUES_SEARCH_WAIT_S", default=20.0)
# Each database statement of a web request is stopped past this (503 with the reason): PostgreSQL's
# statement_timeout on the web processes' connections (settings/wsgi.py), a progress handler on
# SQLite (pipeline/statement_timeout.py). The consumers and migrations have no such limit. 0: off.
WEB_STATEMENT_TIMEOUT_MS = env.int("WEB_STATEMENT_TIMEOUT_MS", default=5000)
# A web request's database work, all statements together: none starts past this, and on SQLite none
# runs past it (503 with the reason). gunicorn cannot stop a request of its gthread workers (its
# timeout is a worker heartbeat); this and the statement timeout are what end one. Above
# ISSUES_SEARCH_WAIT_S, so a search that waited its turn still runs. 0: off.
WEB_REQUEST_TIMEOUT_S = env.float("WEB_REQUEST_TIMEOUT_S", default=25.0)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": ISSUES_PAGE_SIZE,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "replay-issues API",
    "DESCRIPTION": "Dead, rage and slow clicks from Session Replay, grouped into issues.",
    "VERSION": "0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # PATCH takes the same body as the serializer says (status is required), not a partial one.
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "issues.api.schema.document_errors",
        "alerts.api.schema.rule_request_bodies",
    ],
    # Choices named "type" and "status" in two apps each: each enum keeps a name of its own (the
    # issues' keep the names they had before alerts came).
    "ENUM_NAME_OVERRIDES": {
        "TypeEnum": "issues.models.IssueType",
        "StatusEnum": "issues.models.IssueStatus",
        "ActionTypeEnum": "alerts.models.ActionType",
        "DeliveryStatusEnum": "alerts.models.DeliveryStatus",
    },
}

# --- HTTPS and browser security headers (what `manage.py check --deploy` asks for) -------------
# HTTPS_ONLY: the service is reached over HTTPS (its own, or a TLS-terminating proxy's). On by
# default when DEBUG is off; it sets the defaults of the settings below, each of which can still be
# set on its own. docker-compose.yml turns it off to serve plain http on localhost.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS_ONLY)
# Never redirected to https: the probes and the scrape come from inside the network over plain
# http, and a redirected POST loses its body (SDKs do not follow it), so the envelope and occurrence
# endpoints answer on whatever scheme the DSN says.
SECURE_REDIRECT_EXEMPT = [
    r"^healthz$",
    r"^readyz$",
    r"^metrics$",
    r"^api/\d+/(?:envelope|occurrences)/?$",
]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS_ONLY)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS_ONLY)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# Behind a proxy that terminates TLS, Django sees plain http; TRUST_X_FORWARDED_PROTO=true makes it
# believe the proxy's X-Forwarded-Proto. Only safe when the proxy sets that header on every request
# (overwriting what the client sent): anyone could claim https otherwise.
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every answer: scripts only from this origin's files (no
# inline script but Swagger UI's set-up, which carries the request's nonce; no eval), nothing
# loaded from other origins but images, no plugins, no framing.
# Inline styles are allowed: the replay player rebuilds the recorded page's <style> elements in
# its iframe, and Redoc and Swagger UI style themselves that way. Images may come from anywhere a
# recorded page had them (the replay shows the customer's site as it was) or be data:/blob: URLs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:", "http:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True

# --- CORS: only the envelope and occurrence endpoints are open to other origins ---------------
CORS_URLS_REGEX = r"^/api/\d+/(?:envelope|occurrences)/?$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["POST", "OPTIONS"]
CORS_ALLOW_HEADERS = ["x-sentry-auth", "authorization", "content-type", "content-encoding"]
CORS_EXPOSE_HEADERS = ["x-sentry-error", "x-sentry-rate-limits", "retry-after"]
CORS_PREFLIGHT_MAX_AGE = 3600

# --- Observability ------------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line (settings/logging.py), for a log pipeline.
LOGGING = logging_config(
    level=env.str("LOG_LEVEL", default="INFO"), log_format=env.str("LOG_FORMAT", default="plain")
)
# /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>" when this is set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# How long /readyz waits for the broker's metadata before it calls the broker unreachable.
READYZ_BROKER_TIMEOUT_S = env.float("READYZ_BROKER_TIMEOUT_S", default=2.0)

if SENTRY_DSN:
    from settings.sentry import configure_sentry

    configure_sentry(
        SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# Where SDKs reach this service; used to show each project key's DSN.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# --- Alerts ---------------------------------------------------------------------------------------
# Absolute links in alerts (the issue, the replay at the click) start with this: where people reach
# the web UI. Defaults to PUBLIC_BASE_URL.
PUBLIC_URL = env.str("PUBLIC_URL", default=PUBLIC_BASE_URL)
# The delivery worker (manage.py deliver_alerts): requests at once per worker, each attempt's
# timeout (a webhook's whole request after the name lookup: connect, TLS, send, status, headers and
# the body's excerpt; an e-mail's each exchange with the SMTP server), and how long a delivery is
# tried again (timeouts, connection errors, 429, 5xx) before it is marked failed; the back-off
# doubles from ALERTS_RETRY_BASE_S up to ALERTS_RETRY_MAX_S, with jitter.
ALERTS_DELIVERY_CONCURRENCY = env.int("ALERTS_DELIVERY_CONCURRENCY", default=16)
ALERTS_DELIVERY_TIMEOUT_S = env.float("ALERTS_DELIVERY_TIMEOUT_S", default=10.0)
ALERTS_DELIVERY_DEADLINE_S = env.float("ALERTS_DELIVERY_DEADLINE_S", default=24 * 3600.0)
ALERTS_RETRY_BASE_S = env.float("ALERTS_RETRY_BASE_S", default=5.0)
ALERTS_RETRY_MAX_S = env.float("ALERTS_RETRY_MAX_S", default=600.0)
# How long a worker's claim on a delivery lasts: a worker that dies mid-send leaves its claims to
# run out, then another sends them again (same delivery id). An attempt must end well within it,
# or a second worker sends the delivery while the first is still at it: deliver_alerts refuses to
# start unless it is at least 3 x ALERTS_DELIVERY_TIMEOUT_S (room for the name lookup, which the
# system resolver bounds, and for the claim's queueing in the worker).
ALERTS_CLAIM_LEASE_S = env.float("ALERTS_CLAIM_LEASE_S", default=90.0)
# How often an idle worker looks for due deliveries.
ALERTS_POLL_INTERVAL_S = env.float("ALERTS_POLL_INTERVAL_S", default=0.2)
# Webhooks to private and loopback addresses (checked at send time, on the resolved address):
# off by default; devstack (make run) turns it on for local receivers. Link-local and cloud
# metadata addresses are always refused.
ALERTS_ALLOW_PRIVATE_ADDRESSES = env.bool("ALERTS_ALLOW_PRIVATE_ADDRESSES", default=False)

# --- E-mail (alert e-mails) -----------------------------------------------------------------------
# EMAIL_URL configures SMTP in one variable (smtp+tls://user:password@host:587); without it, mail
# is printed to the console (make run, devstack).
if "EMAIL_URL" in env:
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="replay-issues@localhost")
