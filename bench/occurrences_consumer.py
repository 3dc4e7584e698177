"""Part e: the issues consumer, occurrences per second into the database.

The occurrences are what the replays consumer publishes: generated segments, each with a few
dead, rage and slow clicks on a shop's elements, go through the detection core, and each
occurrence is published as ``replays.occurrences.OccurrencePublisher`` does (JSON, keyed by the
fingerprint's MD5). Many clicks share an element, so most occurrences join an existing issue, as
in production. Then ``manage.py consume_occurrences`` starts as its own process and the rate is
read from the ``Occurrence`` rows it commits, from the first row to the last. It runs so with the
aggregates that the pages read (issue 23) and without them (``bench.without_aggregates``),
alternately on an emptied database, each group of its own reading the same topic: the ratio is
what keeping the aggregates at write time costs.
"""

import os
import random
import statistics
from pathlib import Path

import orjson
from django.conf import settings

from bench import corpus, rrweb, stack
from issues.models import (
    ElementCount,
    ElementDayCount,
    ElementWeekCount,
    Issue,
    Occurrence,
    ProjectFilterValue,
    ProjectStatusCount,
)
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.detection.fingerprint import fingerprint_hash

OCCURRENCES = int(os.environ.get("BENCH_OCCURRENCES", "20000"))
CLICKS_PER_SEGMENT = 5
ELEMENTS = 25
PAGES = 4
TIMEOUT_S = 120.0


def occurrence_messages(count: int) -> list[tuple[bytes, bytes]]:
    """(key, value) of ``count`` occurrences, by the detection core from generated segments."""
    rng = random.Random(corpus.SEED + 2)
    words = rrweb.Words(rng)
    page = rrweb.Page(rng, words, corpus.ORIGIN, corpus.SESSION_START_MS)
    rrweb.full_snapshot(page, 100_000)
    # A site's broken elements are few: most clicks land on an issue that already exists.
    targets = rng.sample(page.clickables, ELEMENTS)
    paths = [page.new_path() for _ in range(PAGES)]
    kinds = [kind for kind in corpus.CLICK_KINDS if kind != "multi"]
    weights = [corpus.CLICK_KINDS[kind] for kind in kinds]
    messages: list[tuple[bytes, bytes]] = []
    while len(messages) < count:
        events = rrweb.incremental_segment(page, 1_000)
        page.path = rng.choice(paths)
        for kind in rng.choices(kinds, weights=weights, k=CLICKS_PER_SEGMENT):
            events.append(rrweb.click_breadcrumb(page, kind, rng.choice(targets)))
        segment = corpus.recorded(1, events, page)
        user = rng.randint(1, 2000)
        session = corpus.Session(
            (segment,),
            {"id": f"u-{user}", "email": f"user{user}@example.com"},
            rng.choice(corpus.USER_AGENTS),
            "shop@1.4.2",
            "production",
        )
        raw = corpus.recording_message(session, segment, corpus.replay_id_for(rng))
        detection = detect_clicks(
            decode_segment(raw, settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES),
            DetectionSettings(),
            float(corpus.RECEIVED),
        )
        for occurrence in detection.occurrences:
            key = fingerprint_hash(occurrence.fingerprint).encode()
            messages.append((key, orjson.dumps(occurrence.to_dict())))
    return messages[:count]


WITHOUT_AGGREGATES = ("-m", "bench.without_aggregates")
# Runs of each kind, alternated (without, with, without, with, ...): the figure of each kind is its
# median, so a neighbour's burst of CPU on this shared machine weighs on both alike.
RUNS = int(os.environ.get("BENCH_OCCURRENCES_RUNS", "2"))


def measure(work_dir: Path) -> dict[str, float]:
    """The consumer's rate into an empty issues database, with its aggregates as deployed and
    without them (``bench.without_aggregates``), ``RUNS`` times each, alternated."""
    messages = occurrence_messages(OCCURRENCES)
    runs: dict[str, list[dict[str, float]]] = {"with": [], "without": []}
    with stack.embedded_broker(work_dir, "occurrences") as broker:
        stack.publish(settings.TOPIC_OCCURRENCES, messages)
        for _ in range(RUNS):
            for kind, program in (("without", WITHOUT_AGGREGATES), ("with", ("manage.py",))):
                _empty_issues()
                with stack.Processes(work_dir) as processes:
                    runs[kind].append(_run(processes, broker, messages, program))
    results = {key: statistics.median(run[key] for run in runs["with"]) for key in runs["with"][0]}
    results["occurrences_without_aggregates_per_s"] = statistics.median(
        run["occurrences_per_s"] for run in runs["without"]
    )
    results["occurrences_aggregates_share"] = (
        results["occurrences_per_s"] / results["occurrences_without_aggregates_per_s"]
    )
    results["occurrences_runs"] = RUNS
    return results


def _empty_issues() -> None:
    """No issue, occurrence or aggregate left: the per-issue rows go with their issues, the
    per-project ones (filter values, status counts, elements) are deleted too, so each run writes
    them anew as the first did."""
    Issue.objects.all().delete()
    for model in (
        ProjectFilterValue,
        ProjectStatusCount,
        ElementCount,
        ElementDayCount,
        ElementWeekCount,
    ):
        model.objects.all().delete()


def _run(
    processes: stack.Processes,
    broker: stack.EmbeddedBroker,
    messages: list[tuple[bytes, bytes]],
    program: tuple[str, ...],
) -> dict[str, float]:
    consumed = stack.run_consumer(
        processes,
        broker,
        "consume_occurrences",
        Occurrence.objects.count,
        len(messages),
        TIMEOUT_S,
        program,
    )
    result = consumed.result
    if consumed.failures or result.done < len(messages):
        print(
            f"  e: {result.done} of {len(messages)} occurrences stored ({' '.join(program)}); "
            + " ".join(consumed.failures)
        )
    consumer_cpu, broker_cpu = consumed.cpu_shares
    return {
        "occurrences_per_s": result.per_s,
        "occurrences": len(messages),
        "occurrences_stored": result.done,
        "occurrences_issues": Issue.objects.count(),
        "occurrences_seconds": result.seconds,
        "occurrences_cpu_share": consumer_cpu,
        "occurrences_broker_cpu_share": broker_cpu,
        "occurrences_machine_busy": result.machine_busy,
        "occurrences_first_row_after_s": consumed.first_row_s,
    }
