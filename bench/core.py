"""Part a: the replays consumer's pure core per segment, on one core, against its floor.

The core is what ``RecordingsStrategyFactory.compute`` computes: ``decode_segment``
(msgpack and schema, split, inflate) then ``detect_clicks`` (find, classify, fingerprint, build
the occurrence). The floor is measured on the same bodies in the same process: zlib decompression
alone (all a segment without clicks needs), and decompression plus ``orjson.loads`` (what a
segment with clicks or hydration errors needs at least). Segments are grouped by what detection
finds in them: nothing ("no clicks"), or clicks or hydration errors (both need the events parsed;
"with clicks" in the table). Each figure is the best of several rounds, so a neighbour's
burst of CPU on this shared machine costs a round, not the figure.
"""

import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import orjson
from django.conf import settings

from bench import corpus
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks

ROUNDS = 7
# The segments with clicks or hydration errors are few (one in 15); each round runs them this often,
# to time them well.
CLICK_REPEATS = 10


@dataclass(frozen=True, slots=True)
class Sample:
    segment: corpus.RecordedSegment
    message: bytes


def samples_of(sessions: list[corpus.Session]) -> list[Sample]:
    samples = []
    for replay_id, session in zip(
        (f"{index:032x}" for index in range(1, len(sessions) + 1)), sessions, strict=True
    ):
        for segment in session.segments:
            samples.append(Sample(segment, corpus.recording_message(session, segment, replay_id)))
    return samples


def _has_findings(segment: corpus.RecordedSegment) -> bool:
    return bool(segment.clicks or segment.hydration_errors)


def best_times(works: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Each work's best round. The works take turns within each round, so a neighbour's load that
    comes and goes over seconds weighs on the core and its floor alike: timed one after the other,
    the same code's ratio ranged 0.5x-2.6x on a loaded machine."""
    best = dict.fromkeys(works, float("inf"))
    for _ in range(rounds):
        for name, work in works.items():
            started = time.perf_counter()
            work()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def measure(sessions: list[corpus.Session]) -> dict[str, float]:
    samples = samples_of(sessions)
    groups = {
        "no_clicks": [sample for sample in samples if not _has_findings(sample.segment)],
        "clicks": [sample for sample in samples if _has_findings(sample.segment)] * CLICK_REPEATS,
    }
    max_inflated = settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES
    detection_settings = DetectionSettings()
    now = float(corpus.RECEIVED)

    def core(group: list[Sample]) -> None:
        for sample in group:
            detect_clicks(decode_segment(sample.message, max_inflated), detection_settings, now)

    def decode(group: list[Sample]) -> None:
        for sample in group:
            decode_segment(sample.message, max_inflated)

    def zlib_alone(group: list[Sample]) -> None:
        for sample in group:
            zlib.decompress(sample.segment.body)

    def zlib_orjson(group: list[Sample]) -> None:
        for sample in group:
            orjson.loads(zlib.decompress(sample.segment.body))

    detections = [
        detect_clicks(decode_segment(s.message, max_inflated), detection_settings, now)
        for s in groups["clicks"][: len(groups["clicks"]) // CLICK_REPEATS]
    ]
    methods = {"core": core, "zlib": zlib_alone, "zlib_orjson": zlib_orjson}
    # The decode step alone (msgpack and schema, replay_event, split, inflate) on the segments
    # without findings: how much of the core's budget over zlib it takes before any detection.
    decode_only = {"decode_no_clicks": partial(decode, groups["no_clicks"])}
    times: dict[str, float] = {}
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(affinity)})  # one core, as one consumer process uses
    try:
        for name, group in groups.items():
            works = {f"{method}_{name}": partial(f, group) for method, f in methods.items()}
            if name == "no_clicks":
                works.update(decode_only)
            times.update(best_times(works, ROUNDS))
    finally:
        os.sched_setaffinity(0, affinity)

    def rate(name: str, method: str) -> tuple[float, float]:
        group = groups[name]
        seconds = times[f"{method}_{name}"]
        return len(group) / seconds, sum(len(s.segment.events) for s in group) / seconds / 1e6

    results: dict[str, float] = {
        "core_segments": len(samples),
        "core_click_segments": len(groups["clicks"]) // CLICK_REPEATS,
        "core_clicks_found": sum(len(detection.clicks) for detection in detections),
        "core_hydration_errors_found": sum(len(d.hydration_errors) for d in detections),
        "core_inflated_mb": sum(len(s.segment.events) for s in samples) / 1e6,
        "core_compression_ratio": sum(len(s.segment.events) for s in samples)
        / sum(len(s.segment.body) for s in samples),
    }
    for name in groups:
        for method in methods:
            per_s, mb_per_s = rate(name, method)
            results[f"{method}_{name}_segments_per_s"] = per_s
            results[f"{method}_{name}_mb_per_s"] = mb_per_s
    one_pass = times["core_no_clicks"] + times["core_clicks"] / CLICK_REPEATS
    results["core_segments_per_s"] = len(samples) / one_pass
    results["core_mb_per_s"] = results["core_inflated_mb"] / one_pass
    results["core_ratio_no_clicks"] = times["core_no_clicks"] / times["zlib_no_clicks"]
    results["decode_ratio_no_clicks"] = times["decode_no_clicks"] / times["zlib_no_clicks"]
    results["core_ratio_clicks"] = times["core_clicks"] / times["zlib_orjson_clicks"]
    return results
