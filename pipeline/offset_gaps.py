"""A Kafka consumer that fetches again when a partition's offsets skip.

On a topic without transactions or compaction, as ours are, offsets have no gaps: the message
after offset N is N+1. The embedded broker (Tansu 0.6, memory storage) breaks that under load:
when two producers (two gunicorn workers) write to one partition at once, a record can become
visible after the record behind it, and a consumer fetching in between skips it for good. The soak
found it (one segment of 100,000 accepted and never processed); a bare confluent-kafka consumer
shows it too (21 records of 48,000 skipped by two producer processes, none by one).

So when a message arrives past the offset arroyo expects next (``tell()``), the consumer seeks
back and fetches again, for up to ``KAFKA_OFFSET_GAP_WAIT_S`` seconds; the late record is normally
there at the next fetch. A gap still there after that (a compacted topic, a transaction marker,
retention that deleted what a slow consumer had not read) is logged and skipped, as any consumer
would. Apache Kafka never shows such gaps here, so the guard costs it one dict copy per message.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any

from arroyo.backends.kafka import KafkaConsumer, KafkaPayload
from arroyo.types import BrokerValue, Partition

from pipeline.metrics import OFFSET_GAPS

logger = logging.getLogger(__name__)


class GapRefetchingConsumer(KafkaConsumer):
    def __init__(self, configuration: Mapping[str, Any], gap_wait_s: float) -> None:
        super().__init__(configuration)
        self.gap_wait_s = gap_wait_s
        # (partition, the offset expected) -> when the gap was first seen
        self._gaps: dict[tuple[Partition, int], float] = {}

    def poll(self, timeout: float | None = None) -> BrokerValue[KafkaPayload] | None:
        expected = dict(self.tell())
        value = super().poll(timeout)
        if value is None:
            return None
        want = expected.get(value.partition)
        if want is None or value.offset <= want or self.gap_wait_s <= 0:
            if self._gaps and self._gaps.pop((value.partition, value.offset), None) is not None:
                OFFSET_GAPS.labels("refetched").inc()  # the late record came
            return value
        key = (value.partition, want)
        now = time.monotonic()
        first_seen = self._gaps.setdefault(key, now)
        if now - first_seen < self.gap_wait_s:
            if first_seen == now:
                logger.info(
                    "offsets skip on %s (%d expected, %d fetched): fetching again",
                    value.partition,
                    want,
                    value.offset,
                )
            self.seek({value.partition: want})
            return None
        del self._gaps[key]
        OFFSET_GAPS.labels("skipped").inc()
        logger.warning(
            "offsets %d-%d of %s are still missing after %gs: going on without them",
            want,
            value.offset - 1,
            value.partition,
            self.gap_wait_s,
        )
        return value
