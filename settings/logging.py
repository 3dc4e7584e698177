"""Logging configuration shared by Django (web and consumers) and gunicorn's own loggers.

``LOG_FORMAT=json`` writes one JSON object per line (python-json-logger), for a log pipeline to
index; the default is plain text for a terminal. No Django import: gunicorn's config reads it
before Django is set up.
"""

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"


def logging_config(level: str = "INFO", log_format: str = "plain") -> dict:
    """A ``logging.config.dictConfig`` dict: everything to stderr, in ``log_format``."""
    if log_format not in ("plain", "json"):
        raise ValueError(f"LOG_FORMAT must be 'plain' or 'json', not {log_format!r}")
    formatters = {
        "plain": {"format": PLAIN_FORMAT},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
    }
    handler = {"class": "logging.StreamHandler", "formatter": log_format}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {log_format: formatters[log_format]},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # gunicorn's own loggers propagate to the root handler: one format for everything.
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": level, "handlers": [], "propagate": True},
        },
    }
