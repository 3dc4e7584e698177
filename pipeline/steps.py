"""What both consumers' strategy steps share: dead-lettering a message, and backing off before a
retry when the database or the broker is unavailable."""

import logging
import time

from arroyo.dlq import InvalidMessage
from arroyo.types import BrokerValue, Message

logger = logging.getLogger(__name__)


class Backoff:
    """Waits between retries of one message: 0.1 s, doubling up to ``max_s``; reset on success."""

    def __init__(self, first_s: float = 0.1, max_s: float = 2.0) -> None:
        self.first_s, self.max_s = first_s, max_s
        self.next_s = first_s

    def wait(self) -> None:
        time.sleep(self.next_s)
        self.next_s = min(self.next_s * 2, self.max_s)

    def reset(self) -> None:
        self.next_s = self.first_s


def invalid_message(message: Message, reason: str) -> InvalidMessage:
    """The exception that sends ``message`` to the dead-letter topic with ``reason``."""
    value = message.value
    assert isinstance(value, BrokerValue)
    logger.warning(
        "to the dead-letter topic: %s[%d] offset %d: %s",
        value.partition.topic.name,
        value.partition.index,
        value.offset,
        reason,
    )
    return InvalidMessage(value.partition, value.offset, reason=reason, log_exception=False)
