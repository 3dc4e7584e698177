from confluent_kafka.admin import AdminClient, ConfigResource
from django.core.management import call_command

from pipeline.kafka import client_config
from pipeline.topics import ensure_topics, pipeline_topics


def test_topics_take_the_configs_of_sentry_kafka_schemas(settings):
    topics = {t.name: t.config for t in pipeline_topics()}
    recordings = topics[settings.TOPIC_REPLAY_RECORDINGS]
    assert recordings["compression.type"] == "lz4"
    assert int(recordings["max.message.bytes"]) >= 10 * 1024 * 1024
    assert topics[settings.TOPIC_REPLAY_RECORDINGS_DLQ] == recordings
    assert topics[settings.TOPIC_OCCURRENCES]["retention.ms"] == "86400000"
    assert set(topics) == {
        "ingest-replay-recordings",
        "ingest-replay-recordings-dlq",
        "ingest-occurrences",
        "ingest-occurrences-dlq",
        "ingest-events",
        "ingest-events-dlq",
    }
    assert topics[settings.TOPIC_EVENTS_DLQ] == topics[settings.TOPIC_EVENTS]


def test_createtopics_is_idempotent(kafka_broker, capsys, settings):
    call_command("createtopics")
    call_command("createtopics")
    assert ensure_topics() == []
    out = capsys.readouterr().out
    assert "ingest-replay-recordings: exists" in out

    admin = AdminClient(client_config())
    metadata = admin.list_topics(timeout=10)
    for topic in pipeline_topics():
        assert len(metadata.topics[topic.name].partitions) == settings.KAFKA_TOPIC_PARTITIONS
        resource = ConfigResource("topic", topic.name)
        configs = admin.describe_configs([resource])[resource].result(timeout=10)
        for name, value in topic.config.items():
            assert configs[name].value == value, (topic.name, name)
