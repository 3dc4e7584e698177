"""Kafka client configuration shared by the producers, consumers and admin client."""

import logging
from typing import Any

from django.conf import settings

# librdkafka prints to stderr unless it is given a logger; route it through logging instead.
librdkafka_logger = logging.getLogger("librdkafka")


# The topics allow 15 MB messages (sentry-kafka-schemas); librdkafka's default is 1 MB.
MAX_MESSAGE_BYTES = 15_000_000


def client_config(**overrides: Any) -> dict[str, Any]:
    """The librdkafka settings every client of ours starts from."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        "logger": librdkafka_logger,
        "log_level": 3,
        # Send each request at once: with Nagle's algorithm a small produce or fetch can wait for
        # the peer's delayed ACK (tens of ms), which showed as p99 latency under load.
        "socket.nagle.disable": True,
    }
    config.update(overrides)
    return config


def producer_config(**overrides: Any) -> dict[str, Any]:
    """What every producer of ours starts from: acknowledged by all replicas, lz4, big messages."""
    return client_config(
        **{
            "acks": "all",
            "compression.type": "lz4",
            "message.max.bytes": MAX_MESSAGE_BYTES,
            **overrides,
        }
    )
