"""A three-broker Apache Kafka cluster (KRaft, on loopback) under ingest and real consumer
processes: topics replicated three times, ``min.insync.replicas=2``, producers with ``acks=all``.

One broker SIGKILLed and restarted: ingest and the consumers carry on, every envelope that got a
200 is processed once, the broker catches up and is in sync again. Two brokers down: no write
can be acknowledged by two, so ingest answers 503, never 200, until one comes back.

Apache Kafka only (TEST_KAFKA=apache, CI's second pass): Tansu has no replication.
"""

import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import AdminClient
from django.conf import settings

from ingest.producer import reset_producer
from pipeline.apache_kafka import KafkaCluster, cluster_nodes
from pipeline.broker import free_port
from pipeline.kafka import producer_config
from pipeline.topics import ensure_topics, pipeline_topics
from replays.models import Replay, ReplaySegment
from tests.brokers import on_apache_kafka, use_broker
from tests.consumer_processes import ConsumerProcess
from tests.consumers import wait_until
from tests.pipeline.envelope_sender import Sender, envelope_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not on_apache_kafka(), reason="a Kafka cluster: TEST_KAFKA=apache only"),
    pytest.mark.timeout(600),
]

# Three JVMs beside the consumers and the live server on a small machine: small heaps, and only
# the quick JIT compiler (a broker that runs for a minute never repays the optimizing one's CPU).
JVM = "-Xmx256m -Xms128m -XX:TieredStopAtLevel=1"


@pytest.fixture
def cluster(settings, tmp_path) -> Iterator[KafkaCluster]:
    nodes = cluster_nodes(
        [(free_port(), free_port()) for _ in range(3)], tmp_path / "kafka", heap_opts=JVM
    )
    cluster = KafkaCluster(nodes)
    cluster.start()
    try:
        use_broker(settings, cluster)
        settings.KAFKA_PRODUCE_TIMEOUT_S = 1.5
        reset_producer()
        ensure_topics()
        yield cluster
    finally:
        reset_producer()
        cluster.stop()


def leader_of_first_recordings_partition(cluster: KafkaCluster) -> int:
    metadata = AdminClient({"bootstrap.servers": cluster.bootstrap_servers}).list_topics(timeout=10)
    return metadata.topics[settings.TOPIC_REPLAY_RECORDINGS].partitions[0].leader


def stored_segments(replay_ids: set[str]) -> int:
    return ReplaySegment.objects.filter(replay__replay_id__in=replay_ids).count()


def test_a_three_broker_cluster_loses_nothing_acknowledged_and_refuses_what_it_cannot_replicate(
    tmp_path, live_server, cluster, sdk_project, topic_reader
):
    assert producer_config()["acks"] == "all"
    assert settings.KAFKA_TOPIC_REPLICATION_FACTOR == 3
    topics = [topic.name for topic in pipeline_topics()]
    group = f"test-cluster-{uuid.uuid4().hex[:8]}"
    consumers = [ConsumerProcess(name, group, tmp_path) for name in ("first", "second")]
    diagnosis = lambda: "\n".join(c.diagnosis() for c in consumers)  # noqa: E731
    sender = Sender(envelope_url(live_server.url))
    figures: dict[str, float] = {}
    try:
        wait_until(
            lambda: all(c.assigned() for c in consumers),
            timeout_s=90,
            what="both consumers' partitions",
            diagnosis=diagnosis,
        )
        sender.start()
        wait_until(lambda: sender.count(200) >= 10, timeout_s=60, what="envelopes accepted")

        # One broker killed: the leader of a recordings partition.
        victim = cluster.node(leader_of_first_recordings_partition(cluster))
        victim.kill()
        accepted = sender.count(200)
        wait_until(
            lambda: sender.count(200) >= accepted + 10,
            timeout_s=60,
            what="200s with one broker of three down",
        )
        restarted_at = time.monotonic()
        cluster.restart(victim)
        wait_until(
            lambda: cluster.in_sync(victim.node_id, topics),
            timeout_s=120,
            what="the restarted broker back in sync",
        )
        figures["rejoined_s"] = time.monotonic() - restarted_at

        # Two brokers down: nothing can be written to two replicas.
        down = [node for node in cluster.nodes if node is not victim][:2]
        for node in down:
            node.kill()
        both_down_at = time.monotonic()
        wait_until(
            lambda: len(sender.statuses_between(both_down_at, time.monotonic())) >= 5,
            timeout_s=60,
            what="answers with two brokers down",
        )
        back_at = time.monotonic()
        refused = sender.statuses_between(both_down_at, back_at)
        cluster.restart(down[0])
        ready_at = time.monotonic()
        figures["second_started_s"] = ready_at - back_at
        wait_until(
            lambda: 200 in sender.statuses_between(ready_at, time.monotonic()),
            timeout_s=90,
            what="a 200 once a second broker is back",
        )
        figures["recovered_s"] = time.monotonic() - ready_at
        accepted = sender.count(200)
        wait_until(
            lambda: sender.count(200) >= accepted + 10, timeout_s=60, what="200s after recovery"
        )
        sender.stop()

        accepted_ids = sender.accepted()
        wait_until(
            lambda: stored_segments(accepted_ids) == len(accepted_ids),
            timeout_s=90,
            what="every accepted envelope processed",
            diagnosis=diagnosis,
        )
        alive = [c.process.poll() is None for c in consumers]
    finally:
        sender.stopping.set()
        codes = [c.stop() for c in consumers]
    print(
        f"\nthree-broker cluster: {len(sender.answers)} envelopes posted, "
        f"{sender.count(200)} answered 200, {sender.count(503)} answered 503, "
        f"{len(accepted_ids)} of the 200s processed; the killed broker in sync "
        f"{figures['rejoined_s']:.1f} s after its restart; with two down "
        f"{len(refused)} answers, all 503; a second broker restarted in "
        f"{figures['second_started_s']:.1f} s, the first 200 {figures['recovered_s']:.1f} s after"
    )
    assert alive == [True, True], diagnosis()
    assert codes == [0, 0], diagnosis()
    # Never a 200 for an envelope posted while two brokers of three were down.
    assert refused
    assert set(refused) == {503}, refused
    assert {status for _, status in sender.answers} <= {200, 503}
    # Every 200 processed exactly once in effect: one replay of one segment each.
    assert stored_segments(accepted_ids) == len(accepted_ids)
    assert set(
        Replay.objects.filter(replay_id__in=accepted_ids).values_list("segment_count", flat=True)
    ) == {1}
    assert not ReplaySegment.objects.filter(occurrences_published=False).exists()
    assert not topic_reader(settings.TOPIC_REPLAY_RECORDINGS_DLQ, 1, timeout_s=2)
