"""The broker the suite runs on: the embedded Tansu by default, Apache Kafka with
``TEST_KAFKA=apache`` (the PostgreSQL pass of ``.ci/run``). Tests that start brokers of their own
(to stop and restart them) get the same engine from ``new_broker``."""

import os
from pathlib import Path

import pytest

from pipeline.apache_kafka import KafkaCluster, KafkaNode
from pipeline.broker import EmbeddedBroker, free_port

ENGINES = ("tansu", "apache")


def engine() -> str:
    """``tansu`` or ``apache``, from ``TEST_KAFKA``."""
    value = os.environ.get("TEST_KAFKA", "tansu").strip().lower() or "tansu"
    if value not in ENGINES:
        raise pytest.UsageError(f"TEST_KAFKA must be one of {', '.join(ENGINES)}, not {value!r}")
    return value


def on_apache_kafka() -> bool:
    return engine() == "apache"


class ApacheKafkaBroker:
    """A single Apache Kafka node (``pipeline.apache_kafka``) with ``EmbeddedBroker``'s interface:
    ``stop`` kills it (SIGKILL, as ``EmbeddedBroker.stop`` does Tansu) and ``start`` starts it
    again on the same ports and log directory, so it keeps everything it acknowledged."""

    durable = True

    def __init__(self, data_dir: Path) -> None:
        self.node = KafkaNode(free_port(), free_port(), data_dir)

    @property
    def bootstrap_servers(self) -> str:
        return self.node.bootstrap_servers

    @property
    def process(self):
        return self.node.process

    def start(self, timeout_s: float = 90.0) -> None:
        self.node.start(timeout_s=timeout_s)

    def stop(self) -> None:
        self.node.kill()


Broker = EmbeddedBroker | ApacheKafkaBroker | KafkaCluster


def client_settings(broker: Broker) -> dict[str, object]:
    """The settings of ``broker``'s clients, as deployed on its engine: Apache Kafka without the
    offset-gap guard (it is for Tansu's late records), Tansu without idempotent producers
    (``EmbeddedBroker.client_env``); a cluster's topics replicated on three brokers.
    ``tests/consumer_processes.py`` passes them on."""
    values: dict[str, object] = {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers}
    if isinstance(broker, ApacheKafkaBroker | KafkaCluster):
        values.update(KAFKA_OFFSET_GAP_WAIT_S=0.0, KAFKA_PRODUCER_IDEMPOTENCE=True)
    if isinstance(broker, KafkaCluster):
        values.update(KAFKA_TOPIC_REPLICATION_FACTOR=len(broker.nodes))
    else:
        values.update(KAFKA_PRODUCER_IDEMPOTENCE=False)
    return values


def use_broker(settings: object, broker: Broker) -> None:
    """Point ``settings`` (pytest-django's fixture, or Django's own) at ``broker``."""
    for name, value in client_settings(broker).items():
        setattr(settings, name, value)


def new_broker(data_dir: Path) -> EmbeddedBroker | ApacheKafkaBroker:
    """A broker of the suite's engine, not started: Tansu with memory storage (it starts empty
    again after a restart), or Apache Kafka with its data in ``data_dir`` (it keeps it)."""
    if on_apache_kafka():
        return ApacheKafkaBroker(data_dir)
    return EmbeddedBroker(free_port())
