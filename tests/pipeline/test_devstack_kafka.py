"""``manage.py devstack --kafka HOST:PORT``: the stack on a broker it did not start (the session's:
Apache Kafka in the suite's Kafka pass, as after ``make kafka-up``), with the topics made there."""

import signal
import sqlite3
import time

from confluent_kafka.admin import AdminClient

from pipeline.broker import port_is_free
from tests.devstack import running_devstack
from tests.sdk_fixtures import replay_requests


def stored_segments(stack) -> int:
    try:
        with sqlite3.connect(stack.database) as connection:
            return connection.execute("SELECT count(*) FROM replays_replaysegment").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_devstack_runs_the_pipeline_on_an_external_broker_and_starts_none(tmp_path, kafka_broker):
    bootstrap = kafka_broker.bootstrap_servers
    with running_devstack(tmp_path, "--kafka", bootstrap) as stack:
        assert "replay-issues is running" in stack.banner, stack.output()
        assert f"broker: {bootstrap}" in stack.banner
        # No embedded broker: nothing listens on the port it would have used, no child named so.
        assert port_is_free(stack.broker_port)
        assert "starting broker" not in stack.output()
        topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
        assert {"ingest-replay-recordings", "ingest-occurrences"} <= set(topics)

        for sdk_request in replay_requests():
            response = stack.post(sdk_request.path, sdk_request.body)
            assert response.status_code == 200, response.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and stored_segments(stack) < len(replay_requests()):
            time.sleep(0.2)
        assert stored_segments(stack) == len(replay_requests()), stack.output()

        stack.process.send_signal(signal.SIGINT)
        assert stack.process.wait(timeout=30) == 0, stack.output()
    # The broker it did not start is still there.
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    assert metadata.brokers
