"""Recordings in S3-compatible object storage (``RECORDINGS_STORAGE=s3``: django-storages' S3
backend), as production keeps them in MinIO: served here by moto's S3 server over real HTTP.

The consumer writes each segment as one object, overwritten in place when it is processed again;
the replay player reads them back in order; a bucket that cannot take a write pauses the consumer,
which then carries on without losing the segment."""

import io
import json
import zlib

import boto3
import orjson
import pytest
from django.core.management import call_command
from moto.server import ThreadedMotoServer

from issues.queries import replay_recording
from pipeline.broker import free_port
from replays.models import Replay, ReplaySegment
from tests.consumers import produce, start_recordings_consumer, wait_until
from tests.replays.messages import fixture_messages
from tests.replays.stored_replays import DEFAULT_OCCURRENCES, store_captures

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "replay-recordings"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_recordings(s3_endpoint, settings, monkeypatch):
    """The recordings alias on S3, as settings/base.py builds it for RECORDINGS_STORAGE=s3."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "replay")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "replay-secret")
    settings.STORAGES = {
        **settings.STORAGES,
        "recordings": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "location": "",
                "addressing_style": "path",
                "file_overwrite": True,
                "default_acl": None,
                "querystring_auth": False,
            },
        },
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="replay",
        aws_secret_access_key="replay-secret",
    )
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for entry in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=entry["Key"])
    client.delete_bucket(Bucket=BUCKET)


def objects(client) -> dict[str, bytes]:
    listing = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        entry["Key"]: client.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read()
        for entry in listing
    }


def test_segments_are_objects_in_the_bucket_and_the_player_reads_them_back(
    s3_recordings, sdk_project, recordings_topic, occurrences_topic, recordings_dlq_topic
):
    s3_recordings.create_bucket(Bucket=BUCKET)
    messages = fixture_messages(project_id=sdk_project.project_id)
    # Every segment twice: the second delivery overwrites the same object.
    produce(recordings_topic, messages + messages)
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: ReplaySegment.objects.count() == len(messages), what="segments")
        wait_until(
            lambda: not ReplaySegment.objects.filter(occurrences_published=False).exists(),
            what="occurrences published",
        )
    finally:
        consumer.stop()

    stored = objects(s3_recordings)
    replay = Replay.objects.get()
    segments = list(replay.segments.order_by("segment_id"))
    assert sorted(stored) == sorted(segment.recording for segment in segments)
    assert all(key.endswith(".rrweb.zlib") for key in stored)
    for segment in segments:
        assert len(zlib.decompress(stored[segment.recording])) == segment.size

    recording = replay_recording(replay)
    assert recording.missing_segments == []
    assert len(recording.events) > len(segments)
    assert all("timestamp" in event for event in recording.events)


def test_a_bucket_that_cannot_take_the_write_pauses_the_consumer_until_it_can(
    s3_recordings, sdk_project, recordings_topic, occurrences_topic, recordings_dlq_topic, caplog
):
    produce(recordings_topic, fixture_messages(project_id=sdk_project.project_id)[:1])
    consumer = start_recordings_consumer()
    try:
        wait_until(lambda: caplog.text.count("storage unavailable") >= 2, what="retries")
        assert "NoSuchBucket" in caplog.text
        assert not ReplaySegment.objects.exists()
        s3_recordings.create_bucket(Bucket=BUCKET)
        wait_until(lambda: ReplaySegment.objects.count() == 1, what="the segment, once writable")
    finally:
        consumer.stop()
    assert len(objects(s3_recordings)) == 1


def test_reprocessing_reads_the_recordings_back_from_the_bucket(
    s3_recordings, client, sdk_project, recordings_topic, occurrences_topic, topic_reader
):
    s3_recordings.create_bucket(Bucket=BUCKET)
    store_captures(client)
    assert len(objects(s3_recordings)) == 7
    published = len(topic_reader(occurrences_topic, 6, timeout_s=3))

    out = io.StringIO()
    call_command(
        "reprocess_replays", "--project", str(sdk_project.project_id), "--json", stdout=out
    )

    assert json.loads(out.getvalue()) == {
        "segments": 7,
        "replays": 1,
        "occurrences": DEFAULT_OCCURRENCES,
        "new_issues": 5,
    }
    # Published again, with the same ids.
    again = topic_reader(occurrences_topic, 2 * published + 1, timeout_s=3)
    assert len(again) == 2 * published
    assert len({orjson.loads(message.value())["id"] for message in again}) == published
