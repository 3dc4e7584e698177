"""The Kafka edge of ingest: publish a message and wait for the broker's acknowledgement.

One librdkafka producer per process (created on first use, so each gunicorn worker gets its own
after the fork) and one thread that serves its delivery callbacks. A request waits for its own
message's acknowledgement only, so concurrent requests share batches.
"""

import logging
import os
import threading

from confluent_kafka import KafkaError, KafkaException, Producer
from django.conf import settings

from ingest.errors import BrokerUnavailable
from pipeline.kafka import producer_config

logger = logging.getLogger(__name__)


class AcknowledgedProducer:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._producer = self._new_producer()
        self._replacing = threading.Lock()
        self._closed = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-delivery", daemon=True)
        self._poller.start()

    def _new_producer(self) -> Producer:
        return Producer(
            producer_config(
                **{
                    "linger.ms": settings.KAFKA_PRODUCER_LINGER_MS,
                    # Give up on a message when its request gives up on it, so an answer of 503
                    # is rarely followed by a late delivery (the consumer is idempotent anyway).
                    "message.timeout.ms": max(1, int(self.timeout_s * 1000)),
                }
            )
        )

    def _poll(self) -> None:
        """Serve delivery callbacks until closed. librdkafka raises a fatal error (say, a broker
        that forgot our idempotent producer's id) from ``poll``: the producer is replaced and
        the thread goes on, or every later request would wait for an acknowledgement in vain."""
        while not self._closed.is_set():
            producer = self._producer
            try:
                producer.poll(0.05)
            except KafkaException as exc:
                error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
                if error is not None and error.fatal():
                    self._recover(error, producer)
                else:
                    logger.warning("the Kafka producer's poll failed: %s", exc)
                    self._closed.wait(0.05)

    def publish(self, topic: str, key: bytes, value: bytes) -> None:
        """Publish one message; return once the broker has it, else raise ``BrokerUnavailable``."""
        acknowledged = threading.Event()
        outcome: list[KafkaError | None] = []

        def on_delivery(error: KafkaError | None, _message: object) -> None:
            outcome.append(error)
            acknowledged.set()

        producer = self._producer
        try:
            producer.produce(topic, value=value, key=key, on_delivery=on_delivery)
        except BufferError:
            raise BrokerUnavailable("the broker is not keeping up; retry later") from None
        except KafkaException as exc:
            self._recover(exc.args[0], producer)
            raise BrokerUnavailable(
                f"the broker refused the message: {exc.args[0].str()}"
            ) from None
        if not acknowledged.wait(self.timeout_s + 1):
            raise BrokerUnavailable(
                f"the broker did not acknowledge within {self.timeout_s:g}s; retry later"
            )
        error = outcome[0]
        if error is not None:
            self._recover(error, producer)
            raise BrokerUnavailable(f"the broker did not take the message: {error.str()}")

    def _recover(self, error: KafkaError, failed: Producer | None = None) -> None:
        """A fatal producer error (a broker that forgot our producer id) needs a new producer;
        replaced once, whichever of the request and the delivery thread sees the error first.
        The messages the failed producer held get no acknowledgement: their requests answer
        503 when they time out."""
        if not error.fatal():
            return
        with self._replacing:
            if failed is not None and failed is not self._producer:
                return  # already replaced
            logger.warning("replacing the Kafka producer after a fatal error: %s", error.str())
            self._producer = self._new_producer()

    def close(self) -> None:
        self._closed.set()
        self._poller.join()
        self._producer.flush(self.timeout_s)


_lock = threading.Lock()
_instance: tuple[int, AcknowledgedProducer] | None = None


def get_producer() -> AcknowledgedProducer:
    """This process's producer; a forked child makes its own."""
    global _instance
    with _lock:
        if _instance is None or _instance[0] != os.getpid():
            _instance = (os.getpid(), AcknowledgedProducer(settings.KAFKA_PRODUCE_TIMEOUT_S))
        return _instance[1]


def reset_producer() -> None:
    """Forget this process's producer (tests that change the broker address call this)."""
    global _instance
    with _lock:
        if _instance is not None and _instance[0] == os.getpid():
            _instance[1].close()
        _instance = None
