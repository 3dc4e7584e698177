"""Part b: the replays consumer end to end, on a real broker, database writes included.

A few thousand generated segments (whole sessions: a snapshot, then incremental segments) are
published to ``ingest-replay-recordings`` first; then ``manage.py consume_recordings`` starts as
its own process and the rate is read from the ``ReplaySegment`` rows it commits, from the first
row to the last (the consumer group's join, which Tansu delays by half the session timeout, is
not the consumer's speed). Tansu's lag figures are wrong (ARCHITECTURE.md), so rows are counted.
"""

import os
import time
from pathlib import Path

from django.conf import settings

from bench import corpus, stack
from replays.models import ReplaySegment

SEGMENTS = int(os.environ.get("BENCH_SEGMENTS", "3000"))
TIMEOUT_S = 120.0


def measure(
    work_dir: Path, sessions: list[corpus.Session], engine: str = "tansu"
) -> dict[str, float]:
    """Part b on ``engine``'s broker (``stack.ENGINES``)."""
    # Replays of their own on each broker: the same ids again would be stored already (the
    # consumer's writes are idempotent) and add no row to count.
    messages = corpus.stamp(sessions, SEGMENTS, seed=corpus.SEED + stack.ENGINES.index(engine))
    inflated = sum(len(message.segment.events) for message in messages)
    with (
        stack.embedded_broker(work_dir, f"recordings-{engine}", engine) as broker,
        stack.Processes(work_dir) as processes,
    ):
        published_at = time.monotonic()
        stack.publish(
            settings.TOPIC_REPLAY_RECORDINGS,
            [(message.replay_id.encode(), message.value) for message in messages],
        )
        publish_s = time.monotonic() - published_at
        consumed = stack.run_consumer(
            processes,
            broker,
            "consume_recordings",
            ReplaySegment.objects.count,
            len(messages),
            TIMEOUT_S,
        )
        reprocessed = _reprocess(len(messages)) if consumed.result.done == len(messages) else {}
    result = consumed.result
    if consumed.failures or result.done < len(messages):
        print(
            f"  b ({engine}): {result.done} of {len(messages)} segments stored; "
            + " ".join(consumed.failures)
        )
    consumer_cpu, broker_cpu = consumed.cpu_shares
    return {
        "consumer_segments_per_s": result.per_s,
        "consumer_segments": len(messages),
        "consumer_segments_stored": result.done,
        "consumer_seconds": result.seconds,
        "consumer_inflated_mb_per_s": inflated / len(messages) * result.per_s / 1e6,
        "consumer_cpu_share": consumer_cpu,
        "consumer_broker_cpu_share": broker_cpu,
        "consumer_machine_busy": result.machine_busy,
        "consumer_first_row_after_s": consumed.first_row_s,
        "consumer_publish_s": publish_s,
        **reprocessed,
    }


def _reprocess(segments: int) -> dict[str, float]:
    """``reprocess_replays`` over what the consumer stored, publishing on the same broker: its
    loop in this process (the command's, without Django's start-up), recordings read back from
    the same storage."""
    from arroyo.backends.kafka import KafkaProducer

    from pipeline.consumers import consumer_producer_config
    from replays.occurrences import OccurrencePublisher
    from replays.queries import load_detection_settings
    from replays.reprocessing import reprocess

    producer = KafkaProducer(consumer_producer_config())
    publisher = OccurrencePublisher(
        producer, settings.TOPIC_OCCURRENCES, settings.REPLAYS_PRODUCE_TIMEOUT_S
    )
    try:
        started = time.monotonic()
        summary = reprocess(
            corpus.PROJECT_ID,
            load_detection_settings(corpus.PROJECT_ID),
            publish=publisher.publish,
            max_inflated_bytes=settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES,
        )
        seconds = time.monotonic() - started
    finally:
        producer.close().result(timeout=10)
    return {
        "reprocess_segments_per_s": summary.segments / seconds,
        "reprocess_segments": summary.segments,
        "reprocess_occurrences": sum(summary.occurrences.values()),
    }
