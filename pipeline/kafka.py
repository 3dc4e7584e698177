"""Kafka client configuration shared by the producers, consumers and admin client."""

import logging
from typing import Any

from django.conf import settings

# librdkafka prints to stderr unless it is given a logger; route it through logging instead.
librdkafka_logger = logging.getLogger("librdkafka")


def client_config(**overrides: Any) -> dict[str, Any]:
    """The librdkafka settings every client of ours starts from."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        "logger": librdkafka_logger,
        "log_level": 3,
    }
    config.update(overrides)
    return config
