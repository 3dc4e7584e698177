"""Kafka client configuration shared by the producers, consumers and admin client."""

import logging
from typing import Any

from django.conf import settings

from pipeline.log_throttle import RepeatThrottle

# librdkafka prints to stderr unless it is given a logger; route it through logging instead, with
# its reconnect attempts during an outage (a line every few ms) cut to one line per 30 s.
librdkafka_logger = logging.getLogger("librdkafka")
librdkafka_logger.addFilter(RepeatThrottle(interval_s=30.0))


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
        # Try a broker that went away again at least once a second (librdkafka backs off up to
        # 10 s): after a broker restart, ingest answers 200 again within a second of its return
        # instead of 503 for up to ten more.
        "reconnect.backoff.max.ms": 1000,
    }
    config.update(overrides)
    return config


def producer_config(**overrides: Any) -> dict[str, Any]:
    """What every producer of ours starts from: acknowledged by all replicas, idempotent (a send
    that librdkafka retries after a lost acknowledgement is not written twice, nor out of order),
    lz4, big messages."""
    return client_config(
        **{
            "acks": "all",
            "enable.idempotence": settings.KAFKA_PRODUCER_IDEMPOTENCE,
            "compression.type": "lz4",
            "message.max.bytes": MAX_MESSAGE_BYTES,
            **overrides,
        }
    )
