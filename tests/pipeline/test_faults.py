"""Faults under real consumer processes (``manage.py consume_recordings``) on the real broker and
the test database (SQLite, or PostgreSQL in CI's second pass): a consumer killed with work it has
not committed, and a database that becomes unavailable under a consumer. Nothing is lost, nothing
is counted twice, nothing is committed that was not stored."""

import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator

import boto3
import orjson
import pytest
from django.conf import settings
from django.db import connection
from moto.server import ThreadedMotoServer

from ingest.producer import reset_producer
from issues.models import Issue, Occurrence
from pipeline.broker import EmbeddedBroker, free_port
from pipeline.topics import ensure_topics
from replays.models import Replay, ReplaySegment
from tests.brokers import ApacheKafkaBroker, on_apache_kafka, use_broker
from tests.consumer_processes import ConsumerProcess, database_url
from tests.consumers import (
    committed_offsets,
    produce,
    start_occurrences_consumer,
    start_recordings_consumer,
    wait_until,
)
from tests.pipeline.envelope_sender import Sender, envelope_url
from tests.replays.messages import click_event, recording_message, snapshot_events

pytestmark = pytest.mark.django_db(transaction=True)

SELECTOR = "body > main > button#pay.btn"


def committed(group: str, topic: str | None = None) -> int:
    return committed_offsets(group, topic or settings.TOPIC_REPLAY_RECORDINGS)


def publish_clicks(project_id: int, count: int) -> list[str]:
    """``count`` replays of one segment each, each with the same slow click on the same button
    (one issue), keyed by replay id as ingest keys them; returns the replay ids."""
    replay_ids = [uuid.uuid4().hex for _ in range(count)]
    messages = [
        recording_message(
            [*snapshot_events(), click_event(SELECTOR)], replay_id=replay_id, project_id=project_id
        )
        for replay_id in replay_ids
    ]
    keys = iter(replay_id.encode() for replay_id in replay_ids)
    produce(settings.TOPIC_REPLAY_RECORDINGS, messages, key=lambda: next(keys))
    return replay_ids


def published_segments() -> int:
    return ReplaySegment.objects.filter(occurrences_published=True).count()


def test_a_consumer_killed_with_uncommitted_work_loses_nothing_and_counts_nothing_twice(
    tmp_path,
    sdk_project,
    recordings_topic,
    recordings_dlq_topic,
    occurrences_topic,
    occurrences_dlq_topic,
    topic_reader,
):
    segments = 150
    group = f"test-sigkill-{uuid.uuid4().hex[:8]}"
    # The first consumer commits at most once an hour, so everything it does is uncommitted
    # (with the default of once a second, the last second's work is).
    first = ConsumerProcess("first", group, tmp_path, KAFKA_COMMIT_INTERVAL_S="3600")
    try:
        wait_until(first.assigned, timeout_s=60, what="the first consumer's partitions")
        replay_ids = publish_clicks(sdk_project.project_id, segments)
        wait_until(
            lambda: published_segments() >= segments // 3,
            timeout_s=60,
            what="the first consumer to store and publish some segments",
        )
        first.kill()
    finally:
        first.stop()
    stored_before_kill = ReplaySegment.objects.count()
    assert committed(group) == 0, "the killed consumer should not have committed anything"

    second = ConsumerProcess("second", group, tmp_path)
    try:
        wait_until(
            lambda: published_segments() == segments,
            timeout_s=90,
            what="the second consumer to process every segment",
            diagnosis=second.diagnosis,
        )
        wait_until(lambda: committed(group) == segments, what="the second consumer's commit")
        redone = second.segments_processed()
    finally:
        code = second.stop()
    assert code == 0, second.diagnosis()
    # The second consumer went through every message again: the ones the first had stored changed
    # nothing (one replay, one segment each).
    assert redone == segments
    assert 0 < stored_before_kill <= segments
    assert Replay.objects.count() == segments
    assert set(Replay.objects.values_list("segment_count", flat=True)) == {1}
    assert not topic_reader(recordings_dlq_topic, 1, timeout_s=1)

    # An occurrence whose publication the kill cut short may be on the topic twice (same id);
    # every click is there at least once.
    occurrences = [orjson.loads(m.value()) for m in topic_reader(occurrences_topic, 2 * segments)]
    ids = {occurrence["id"] for occurrence in occurrences}
    assert len(ids) == segments
    assert {occurrence["resource_id"] for occurrence in occurrences} == set(replay_ids)

    # The issues stage counts each click once: one issue seen `segments` times.
    issues_consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() >= segments, what="every occurrence grouped")
        wait_until(
            lambda: (
                committed(issues_consumer.group_id, settings.TOPIC_OCCURRENCES) == len(occurrences)
            ),
            what="the issues consumer's commit",
        )
    finally:
        issues_consumer.stop()
    assert Occurrence.objects.count() == segments
    issue = Issue.objects.get()
    assert issue.times_seen == segments
    assert issue.occurrences.values("replay_id").distinct().count() == segments


@contextlib.contextmanager
def database_unavailable() -> Iterator[None]:
    """Make the test database unavailable to every connection but this process's own.

    PostgreSQL: new connections are refused and the open ones are terminated, as when the server
    restarts or the network drops. SQLite: another connection holds the write lock, so every
    write fails with "database is locked" once the busy timeout passes.
    """
    name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        import psycopg

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (own_pid,) = cursor.fetchone()
        params = connection.get_connection_params()
        params["dbname"] = "postgres"  # a database cannot refuse connections to itself
        admin = psycopg.connect(**params, autocommit=True)
        try:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> %s",
                [name, own_pid],
            )
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            admin.close()
    else:
        holder = sqlite3.connect(name, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()


def test_a_database_that_goes_away_under_a_consumer_is_retried_and_nothing_is_committed(
    tmp_path, sdk_project, recordings_topic, recordings_dlq_topic, occurrences_topic, topic_reader
):
    segments = 5
    group = f"test-db-down-{uuid.uuid4().hex[:8]}"
    url = database_url()
    if connection.vendor == "sqlite":
        url += "?timeout=1"  # the busy timeout: how long a write waits for the lock
    consumer = ConsumerProcess("consumer", group, tmp_path, DATABASE_URL=url)
    try:
        wait_until(consumer.assigned, timeout_s=60, what="the consumer's partitions")
        # It works before the outage.
        publish_clicks(sdk_project.project_id, 1)
        wait_until(lambda: published_segments() == 1, what="the first segment")
        wait_until(lambda: committed(group) == 1, what="the first commit")

        with database_unavailable():
            publish_clicks(sdk_project.project_id, segments)
            wait_until(
                lambda: consumer.output().count("will retry") >= 3,
                timeout_s=60,
                what="retries during the outage",
                diagnosis=consumer.diagnosis,
            )
            time.sleep(1)
            assert committed(group) == 1, "nothing may be committed while the database is down"
            assert consumer.process.poll() is None, "the consumer should wait, not exit"

        wait_until(
            lambda: published_segments() == 1 + segments,
            timeout_s=60,
            what="every segment once the database is back",
            diagnosis=consumer.diagnosis,
        )
        wait_until(lambda: committed(group) == 1 + segments, what="the commit after the outage")
    finally:
        code = consumer.stop()
    assert code == 0, consumer.diagnosis()
    assert Replay.objects.count() == 1 + segments
    assert len(topic_reader(occurrences_topic, 2 + segments, timeout_s=3)) == 1 + segments
    assert not topic_reader(recordings_dlq_topic, 1, timeout_s=1)


# --- The broker stopped during ingest ------------------------------------------------------------


@contextlib.contextmanager
def tansu_on_object_storage(tmp_path) -> Iterator[EmbeddedBroker]:
    """Tansu keeping its topics in object storage (moto's S3 server), so that it can be killed
    and started again without losing what it acknowledged, as Kafka does."""
    # moto's server logs every request through werkzeug: thousands of lines of Tansu's writes.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    s3.start()
    host, port = s3.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket="tansu")
    env = {
        **os.environ,
        **credentials,
        "AWS_ENDPOINT": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }
    try:
        yield EmbeddedBroker(
            free_port(), log_path=tmp_path / "broker.log", storage_engine="s3://tansu/", env=env
        )
    finally:
        s3.stop()


@pytest.fixture
def durable_broker(settings, tmp_path) -> Iterator[EmbeddedBroker | ApacheKafkaBroker]:
    """A broker of this test's own that keeps what it acknowledged when it is killed and started
    again: Apache Kafka (its log directory) in the suite's Kafka pass, else Tansu on S3."""
    with contextlib.ExitStack() as stack:
        if on_apache_kafka():
            broker = ApacheKafkaBroker(tmp_path / "kafka")
        else:
            broker = stack.enter_context(tansu_on_object_storage(tmp_path))
        broker.start()
        stack.callback(broker.stop)
        use_broker(settings, broker)
        settings.KAFKA_PRODUCE_TIMEOUT_S = 1.5
        reset_producer()
        stack.callback(reset_producer)
        ensure_topics()
        yield broker


def test_the_broker_killed_during_ingest_gives_503s_then_200s_and_every_200_is_processed(
    tmp_path, live_server, durable_broker, sdk_project
):
    sender = Sender(envelope_url(live_server.url))
    consumer = ConsumerProcess("consumer", f"test-broker-{uuid.uuid4().hex[:8]}", tmp_path)
    try:
        wait_until(consumer.assigned, timeout_s=60, what="the consumer's partitions")
        sender.start()
        wait_until(lambda: sender.count(200) >= 20, timeout_s=60, what="envelopes accepted")

        durable_broker.stop()
        wait_until(
            lambda: sender.count(503) >= 3, timeout_s=60, what="503s while the broker is down"
        )
        durable_broker.start()
        accepted_before = sender.count(200)
        wait_until(
            lambda: sender.count(200) >= accepted_before + 20,
            timeout_s=60,
            what="200s once it is back",
        )
        sender.stopping.set()
        sender.join(30)

        accepted = {replay_id for replay_id, status in sender.answers if status == 200}
        wait_until(
            lambda: (
                set(
                    Replay.objects.filter(replay_id__in=accepted).values_list(
                        "replay_id", flat=True
                    )
                )
                >= {uuid.UUID(r) for r in accepted}
            ),
            timeout_s=60,
            what="every accepted segment processed",
            diagnosis=consumer.diagnosis,
        )
    finally:
        sender.stopping.set()
        code = consumer.stop()
    assert code == 0, consumer.diagnosis()
    statuses = {status for _, status in sender.answers}
    print(f"broker outage: {sender.count(200)} accepted, {sender.count(503)} answered 503")
    assert statuses == {200, 503}, statuses
    # A 503 means "maybe not": the broker may still have taken a message whose answer timed out.
    # Nothing that got a 200 is missing, and nothing is stored twice.
    assert ReplaySegment.objects.filter(replay__replay_id__in=accepted).count() == len(accepted)


# --- A consumer that stalls past its session -----------------------------------------------------


def test_a_consumer_stalled_past_its_session_rejoins_and_the_group_carries_on(
    tmp_path,
    sdk_project,
    recordings_topic,
    recordings_dlq_topic,
    occurrences_topic,
    topic_reader,
):
    """The stalled consumer's heartbeats stop; the broker drops it from the group and hands its
    partitions to the other, which redoes its uncommitted work. When it wakes, its commit is
    refused (its membership is gone): it must rejoin and take its share again, not exit."""
    group = f"test-stall-{uuid.uuid4().hex[:8]}"
    # The stalled consumer commits at most once an hour (and when its partitions are revoked):
    # what it does between two rebalances is uncommitted.
    stalled = ConsumerProcess("stalled", group, tmp_path, KAFKA_COMMIT_INTERVAL_S="3600")
    other = ConsumerProcess("other", group, tmp_path)
    both = lambda: f"{stalled.diagnosis()}\n{other.diagnosis()}"  # noqa: E731
    try:
        wait_until(
            lambda: (
                stalled.assigned()
                and other.assigned()
                and stalled.partitions_held() + other.partitions_held()
                == settings.KAFKA_TOPIC_PARTITIONS
            ),
            timeout_s=60,
            what="the two consumers to share the partitions",
            diagnosis=both,
        )
        first_ids = publish_clicks(sdk_project.project_id, 40)
        wait_until(
            lambda: published_segments() == 40,
            timeout_s=60,
            what="the two consumers to store every segment",
            diagnosis=both,
        )
        rebalances_before = stalled.assignments()

        stalled.pause()
        wait_until(
            lambda: other.partitions_held() == settings.KAFKA_TOPIC_PARTITIONS,
            timeout_s=60,
            what="the other consumer to take every partition from the stalled one",
            diagnosis=other.diagnosis,
        )
        stalled.resume()
        wait_until(
            lambda: stalled.assignments() > rebalances_before and stalled.assigned(),
            timeout_s=60,
            what="the stalled consumer to rejoin and hold partitions again",
            diagnosis=stalled.diagnosis,
        )
        processed_before = stalled.segments_processed()
        second_ids = publish_clicks(sdk_project.project_id, 40)
        wait_until(
            lambda: published_segments() == 80,
            timeout_s=60,
            what="every segment published after the rejoin",
            diagnosis=both,
        )
        stalled_carried_on = stalled.segments_processed() > processed_before
        alive = [stalled.process.poll() is None, other.process.poll() is None]
    finally:
        stalled.resume()
        codes = [stalled.stop(), other.stop()]
    assert alive == [True, True], both()
    assert codes == [0, 0], both()
    assert "no longer in the group" in stalled.output(), "its commit was not refused:\n" + both()
    assert stalled_carried_on, "the rejoined consumer processed none of the new segments"
    assert committed(group) == 80
    assert Replay.objects.count() == 80
    assert ReplaySegment.objects.count() == 80
    assert not topic_reader(recordings_dlq_topic, 1, timeout_s=1)
    occurrences = [orjson.loads(m.value()) for m in topic_reader(occurrences_topic, 81)]
    assert len({occurrence["id"] for occurrence in occurrences}) == 80
    assert {o["resource_id"] for o in occurrences} == set(first_ids) | set(second_ids)


# --- A consumer loop that does not poll in time --------------------------------------------------


def test_a_consumer_loop_stalled_past_max_poll_interval_rejoins_and_loses_nothing(
    settings,
    sdk_project,
    recordings_topic,
    recordings_dlq_topic,
    occurrences_topic,
    topic_reader,
    caplog,
):
    """Detection runs on the consumer's loop: one segment that takes longer than
    ``max.poll.interval.ms`` (a pathological recording, a stalled disk) makes librdkafka leave the
    group, and the next poll says so. The consumer must rejoin and finish every segment."""
    settings.KAFKA_MAX_POLL_INTERVAL_MS = settings.KAFKA_SESSION_TIMEOUT_MS
    stall_s = settings.KAFKA_MAX_POLL_INTERVAL_MS / 1000 + 3
    stalled_once = threading.Event()

    def one_slow_segment(factory):
        process_segment = factory.compute

        def slow_once(message):
            if not stalled_once.is_set():
                stalled_once.set()
                time.sleep(stall_s)
            return process_segment(message)

        factory.compute = slow_once
        return factory

    replay_ids = publish_clicks(sdk_project.project_id, 20)
    consumer = start_recordings_consumer(factory_wrapper=one_slow_segment)
    try:
        wait_until(
            lambda: published_segments() == 20 and committed(consumer.group_id) == 20,
            timeout_s=90,
            what="every segment stored and committed after the stall",
        )
    finally:
        consumer.stop()  # raises if the consumer crashed
    assert stalled_once.is_set()
    assert "maximum poll interval" in caplog.text
    assert "rejoining" in caplog.text
    assert set(Replay.objects.values_list("replay_id", flat=True)) == {
        uuid.UUID(r) for r in replay_ids
    }
    assert ReplaySegment.objects.count() == 20
    assert not topic_reader(recordings_dlq_topic, 1, timeout_s=1)
    occurrences = [orjson.loads(m.value()) for m in topic_reader(occurrences_topic, 21)]
    assert len({occurrence["id"] for occurrence in occurrences}) == 20
