"""Scale-out on Apache Kafka: eight partitions, four ``consume_recordings`` processes joining and
leaving one group while the segments they share are being processed (each join and each leave is
a rebalance in the middle of a batch; one of them leaves by SIGKILL, with work it has not
committed). Nothing is lost and nothing is counted twice: the replays, their segment counts, the
occurrences and the issue's count equal what was published.

Apache Kafka only (TEST_KAFKA=apache, CI's second pass): Tansu's group coordinator is not what
production runs, and the suite's other rebalance tests run on it already.
"""

import time
import uuid

import orjson
import pytest
from django.conf import settings

from issues.models import Issue, Occurrence
from pipeline.topics import TopicSpec, ensure_topics, schema_topic_config
from replays.models import Replay, ReplaySegment
from tests.brokers import on_apache_kafka
from tests.consumer_processes import ConsumerProcess
from tests.consumers import committed_offsets, produce, start_occurrences_consumer, wait_until
from tests.replays.messages import BASE_SECONDS, click_event, recording_message, snapshot_events

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not on_apache_kafka(), reason="Kafka's rebalances: TEST_KAFKA=apache only"),
    pytest.mark.timeout(600),
]

PARTITIONS = 8
REPLAYS = 80
SEGMENTS = 4  # per replay: published in four rounds, one segment of every replay each
SELECTOR = "body > main > button#pay.btn"


@pytest.fixture
def eight_partitions(kafka_broker, settings) -> None:
    """The pipeline's topics of this test alone, with eight partitions each."""
    settings.KAFKA_TOPIC_PARTITIONS = PARTITIONS
    for setting, schema_topic in (
        ("TOPIC_REPLAY_RECORDINGS", "ingest-replay-recordings"),
        ("TOPIC_REPLAY_RECORDINGS_DLQ", "ingest-replay-recordings"),
        ("TOPIC_OCCURRENCES", "ingest-occurrences"),
        ("TOPIC_OCCURRENCES_DLQ", "ingest-occurrences"),
    ):
        name = f"scale-{setting.lower()}-{uuid.uuid4().hex[:8]}"
        ensure_topics([TopicSpec(name, schema_topic_config(schema_topic))], partitions=PARTITIONS)
        setattr(settings, setting, name)


def publish_round(project_id: int, replay_ids: list[str], segment_id: int) -> None:
    """Segment ``segment_id`` of every replay, keyed by replay id (as ingest keys them, so each
    replay's segments are on one partition, in order), each with one slow click of its own."""
    messages = [
        recording_message(
            [
                *snapshot_events(),
                click_event(SELECTOR, timestamp=BASE_SECONDS + 10 * segment_id),
            ],
            replay_id=replay_id,
            project_id=project_id,
            segment_id=segment_id,
        )
        for replay_id in replay_ids
    ]
    keys = iter(replay_id.encode() for replay_id in replay_ids)
    produce(settings.TOPIC_REPLAY_RECORDINGS, messages, key=lambda: next(keys))


def stored() -> int:
    return ReplaySegment.objects.filter(occurrences_published=True).count()


def test_consumers_joining_and_leaving_under_load_lose_nothing_and_count_nothing_twice(
    tmp_path, sdk_project, eight_partitions, topic_reader
):
    total = REPLAYS * SEGMENTS
    group = f"test-scale-{uuid.uuid4().hex[:8]}"
    replay_ids = [uuid.uuid4().hex for _ in range(REPLAYS)]
    project_id = sdk_project.project_id
    started = time.monotonic()
    consumers = {name: ConsumerProcess(name, group, tmp_path) for name in ("c1", "c2")}
    diagnosis = lambda: "\n".join(c.diagnosis() for c in consumers.values())  # noqa: E731
    exit_codes: dict[str, int] = {}
    try:
        wait_until(
            lambda: (
                sum(c.partitions_held() for c in consumers.values()) == PARTITIONS
                and all(c.assigned() for c in consumers.values())
            ),
            timeout_s=90,
            what="two consumers sharing the eight partitions",
            diagnosis=diagnosis,
        )
        # Round 0 is being processed by two when two more join.
        publish_round(project_id, replay_ids, 0)
        wait_until(lambda: stored() > 0, timeout_s=60, what="a first segment stored")
        for name in ("c3", "c4"):
            consumers[name] = ConsumerProcess(name, group, tmp_path)
        publish_round(project_id, replay_ids, 1)
        wait_until(
            lambda: (
                all(c.assigned() for c in consumers.values())
                and sum(c.partitions_held() for c in consumers.values()) == PARTITIONS
            ),
            timeout_s=90,
            what="four consumers sharing the eight partitions",
            diagnosis=diagnosis,
        )
        # One leaves cleanly (SIGTERM: it commits what it did and leaves the group), one dies with
        # uncommitted work (SIGKILL: its partitions go to the others after its session timeout).
        publish_round(project_id, replay_ids, 2)
        exit_codes["c2"] = consumers["c2"].stop()
        publish_round(project_id, replay_ids, 3)
        wait_until(
            lambda: consumers["c3"].segments_processed() > 0,
            timeout_s=60,
            what="c3 processing before its kill",
            diagnosis=consumers["c3"].diagnosis,
        )
        consumers["c3"].kill()
        survivors = [consumers["c1"], consumers["c4"]]
        wait_until(
            lambda: (
                stored() == total
                and committed_offsets(group, settings.TOPIC_REPLAY_RECORDINGS) == total
            ),
            timeout_s=120,
            what="every segment stored, published and committed by the survivors",
            diagnosis=diagnosis,
        )
        seconds = time.monotonic() - started
        rebalances = {name: c.assignments() for name, c in consumers.items()}
        alive = [c.process.poll() is None for c in survivors]
    finally:
        for name, consumer in consumers.items():
            exit_codes.setdefault(name, consumer.stop())

    print(
        f"\nscale-out: {total} segments of {REPLAYS} replays on {PARTITIONS} partitions, "
        f"4 consumers joining and leaving, all stored in {seconds:.1f} s; "
        f"assignments per consumer {rebalances}"
    )
    assert alive == [True, True], diagnosis()
    assert exit_codes["c1"] == exit_codes["c2"] == exit_codes["c4"] == 0, diagnosis()
    assert rebalances["c1"] >= 3, rebalances  # its share changed at each join and leave
    assert Replay.objects.count() == REPLAYS
    assert set(Replay.objects.values_list("segment_count", flat=True)) == {SEGMENTS}
    assert ReplaySegment.objects.count() == total
    assert not topic_reader(settings.TOPIC_REPLAY_RECORDINGS_DLQ, 1, timeout_s=1)

    # An occurrence whose publication the kill cut short may be on the topic twice (same id);
    # each click is there at least once, and the issues stage counts it once.
    occurrences = [
        orjson.loads(m.value())
        for m in topic_reader(settings.TOPIC_OCCURRENCES, 2 * total, timeout_s=5)
    ]
    assert len({occurrence["id"] for occurrence in occurrences}) == total
    issues_consumer = start_occurrences_consumer()
    try:
        wait_until(
            lambda: Occurrence.objects.count() >= total, timeout_s=60, what="occurrences grouped"
        )
        wait_until(
            lambda: (
                committed_offsets(issues_consumer.group_id, settings.TOPIC_OCCURRENCES)
                >= len(occurrences)
            ),
            what="the issues consumer's commit",
        )
    finally:
        issues_consumer.stop()
    assert Occurrence.objects.count() == total
    assert Issue.objects.get().times_seen == total
