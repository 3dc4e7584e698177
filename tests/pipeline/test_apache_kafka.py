"""The Apache Kafka node's files (pipeline/apache_kafka.py, deploy/kafka/): the version tested is
the one deployed, and the broker takes what ingest sends. Starting one is the suite's Kafka pass
(TEST_KAFKA=apache); these need no Java."""

import base64
import re
from pathlib import Path

from django.conf import settings

from pipeline.apache_kafka import (
    KafkaCluster,
    KafkaNode,
    cluster_nodes,
    kafka_version,
    new_cluster_id,
)
from pipeline.kafka import MAX_MESSAGE_BYTES


def properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key.strip(): value.strip() for key, value in pairs}


def test_the_kafka_tested_is_the_kafka_deployed():
    compose = (Path(settings.BASE_DIR) / "docker-compose.yml").read_text()
    (image,) = re.findall(r"image: apache/kafka:(\S+)", compose)
    assert image == kafka_version() == "4.1.0"


def test_a_node_takes_ingests_messages_and_never_makes_a_topic_by_itself(tmp_path):
    node = KafkaNode(19093, 19094, tmp_path / "kafka", node_id=3)
    config = properties(node.properties())
    assert int(config["message.max.bytes"]) >= MAX_MESSAGE_BYTES
    assert int(config["replica.fetch.max.bytes"]) >= MAX_MESSAGE_BYTES
    assert config["auto.create.topics.enable"] == "false"
    assert config["group.initial.rebalance.delay.ms"] == "0"
    assert config["process.roles"] == "broker,controller"
    assert config["node.id"] == "3"
    assert config["controller.quorum.voters"] == "3@127.0.0.1:19094"
    assert config["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19093"
    assert config["log.dirs"] == str((tmp_path / "kafka" / "logs").resolve())


def test_cluster_ids_are_kafkas_16_byte_base64url_uuids():
    cluster_id = new_cluster_id()
    assert len(cluster_id) == 22
    assert "=" not in cluster_id
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert new_cluster_id() != cluster_id


def test_a_cluster_id_never_starts_with_a_dash():
    """``kafka-storage format -t -…`` read one in 64 of them as an option (CI, 2026-12-02)."""
    ids = [new_cluster_id() for _ in range(5000)]
    assert not [each for each in ids if each.startswith("-")]
    assert any("-" in each for each in ids)  # a dash elsewhere is base64url's own


def test_a_clusters_nodes_share_one_quorum_and_write_every_record_to_two_brokers(tmp_path):
    nodes = cluster_nodes([(9101, 9201), (9102, 9202), (9103, 9203)], tmp_path, heap_opts="-Xmx1m")
    configs = [properties(node.properties()) for node in nodes]
    voters = "1@127.0.0.1:9201,2@127.0.0.1:9202,3@127.0.0.1:9203"
    assert [config["node.id"] for config in configs] == ["1", "2", "3"]
    assert {config["controller.quorum.voters"] for config in configs} == {voters}
    assert len({config["log.dirs"] for config in configs}) == 3
    for config in configs:
        assert config["default.replication.factor"] == "3"
        assert config["min.insync.replicas"] == "2"
        assert config["offsets.topic.replication.factor"] == "3"
        assert config["transaction.state.log.min.isr"] == "2"
    assert {node.heap_opts for node in nodes} == {"-Xmx1m"}
    assert KafkaCluster(nodes).bootstrap_servers == ("127.0.0.1:9101,127.0.0.1:9102,127.0.0.1:9103")
