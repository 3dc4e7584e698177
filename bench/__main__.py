"""``python -m bench [a b c d e]``: run the parts (all by default) in one run, print one table and
write ``bench/results.json``. Figures are printed, never asserted: a missed target is a finding.

Environment: ``BENCH_PROFILE=<dir>`` runs every Python child under py-spy (see ``bench.stack``);
``BENCH_KEEP=1`` keeps the run's temporary directory (logs, database); ``BENCH_SEGMENTS``,
``BENCH_OCCURRENCES``, ``BENCH_WORKERS`` and ``BENCH_INGEST_SECONDS`` change the sizes.
"""

import argparse
import io
import json
import logging
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bench import stack

T = TypeVar("T")

RESULTS_PATH = Path(__file__).with_name("results.json")
SESSIONS = 20  # generated sessions of 20 segments: 400 distinct segments, 20 snapshots
PARTS = {
    "a": "replays core per segment, one core, vs zlib / zlib+orjson",
    "b": "replays consumer end to end (broker + database), then reprocess_replays over what it "
    "stored, on Tansu and on Apache Kafka",
    "c": "ingest endpoint under wrk (gunicorn, broker), vs no-op view, on Tansu and Apache Kafka",
    "d": "POST to issue visible in the API, and to its webhook received (devstack)",
    "e": "occurrences consumer into the database",
    "f": "pages and API lists at 100k and 1M occurrences (PostgreSQL; issue 23)",
    "g": "alert delivery worker to a local webhook receiver",
}


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the parts' with-blocks, which stop their children


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(PARTS)}")
    parts = parser.parse_args(argv).parts or list(PARTS)
    unknown = [part for part in parts if part not in PARTS]
    if unknown:
        parser.error(f"unknown parts {unknown}: choose from {', '.join(PARTS)}")

    work_dir = Path(tempfile.mkdtemp(prefix="replay-issues-bench-"))
    stack.configure_environment(work_dir)
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    results: dict[str, float] = {}
    try:
        import django

        django.setup()
        logging.getLogger("pipeline.topics").setLevel(logging.WARNING)
        from django.core.management import call_command

        from bench import corpus

        call_command("migrate", interactive=False, verbosity=0)
        call_command(
            "createproject",
            id=corpus.PROJECT_ID,
            name="shop",
            public_key=corpus.PUBLIC_KEY,
            stdout=io.StringIO(),
        )
        sessions: list[corpus.Session] = []
        if {"a", "b"} & set(parts):
            sessions = timed("generate sessions", lambda: corpus.make_sessions(SESSIONS))
            print(f"  {corpus.describe_mix(sessions)}", file=sys.stderr, flush=True)
        runners = _runners(work_dir, sessions)
        for part in parts:
            try:
                results.update(timed(f"{part}: {PARTS[part]}", runners[part]))
            except Exception:  # one part's failure must not cost the others' figures
                print(f"part {part} failed:", file=sys.stderr)
                traceback.print_exc()
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {work_dir}", file=sys.stderr)
        else:
            stack.remove_tree(work_dir)
    results["bench_seconds"] = time.monotonic() - started
    print_table(results)
    RESULTS_PATH.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {RESULTS_PATH.relative_to(stack.BASE_DIR)} ({results['bench_seconds']:.0f} s)")
    return 0


def _runners(work_dir: Path, sessions: list) -> dict[str, Callable[[], dict[str, float]]]:
    from bench import (
        alert_delivery,
        core,
        e2e_latency,
        ingest_load,
        occurrences_consumer,
        recordings_consumer,
        scale,
    )

    return {
        "a": lambda: core.measure(sessions),
        "b": lambda: on_each_broker(
            "b", lambda engine: recordings_consumer.measure(work_dir, sessions, engine)
        ),
        "c": lambda: on_each_broker("c", lambda engine: ingest_load.measure(work_dir, engine)),
        "d": lambda: e2e_latency.measure(work_dir),
        "e": lambda: occurrences_consumer.measure(work_dir),
        "f": scale.measure,
        "g": alert_delivery.measure,
    }


# Said under the table: why Apache Kafka's column is empty, when it is.
NOTES: list[str] = []


def on_each_broker(part: str, measure: Callable[[str], dict[str, float]]) -> dict[str, float]:
    """``measure(engine)`` on Tansu, then on Apache Kafka (its figures prefixed ``kafka_``). A
    machine without Java or Maven gets Tansu's figures and a note; Kafka's failure costs only its
    own column."""
    results = measure("tansu")
    reason = stack.kafka_unavailable()
    if reason is not None:
        NOTES.append(f"{part}: Apache Kafka not run: {reason}")
        return results
    print(f"  {part} on Apache Kafka ...", file=sys.stderr, flush=True)
    try:
        kafka = measure("kafka")
    except Exception:
        NOTES.append(f"{part}: Apache Kafka failed (the traceback is above)")
        traceback.print_exc()
        return results
    results.update({f"kafka_{key}": value for key, value in kafka.items()})
    return results


def timed(what: str, function: Callable[[], T]) -> T:
    print(f"{what} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    value = function()
    print(f"  done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return value


# --- the table ----------------------------------------------------------------------------------
def _verdict(value: float, target: float, at_most: bool) -> str:
    return "met" if (value <= target if at_most else value >= target) else "MISSED"


def table_rows(r: dict[str, float]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    if "core_ratio_no_clicks" in r:
        rows += [
            (
                "a",
                f"core, all {r['core_segments']:.0f} segments",
                f"{r['core_segments_per_s']:,.0f} seg/s  {r['core_mb_per_s']:,.0f} MB/s",
                "",
                "",
            ),
            (
                "a",
                "no clicks: core | zlib | zlib+orjson",
                f"{r['core_no_clicks_mb_per_s']:,.0f} | {r['zlib_no_clicks_mb_per_s']:,.0f} | "
                f"{r['zlib_orjson_no_clicks_mb_per_s']:,.0f} MB/s",
                "",
                "",
            ),
            (
                "a",
                "  core / zlib alone",
                f"{r['core_ratio_no_clicks']:.2f}x",
                "<= 1.30x",
                _verdict(r["core_ratio_no_clicks"], 1.3, at_most=True),
            ),
            (
                "a",
                "  of which decode alone / zlib alone",
                f"{r['decode_ratio_no_clicks']:.2f}x",
                "",
                "",
            ),
            (
                "a",
                f"{r['core_click_segments']:.0f} with clicks/hydration: core | zlib | zlib+orjson",
                f"{r['core_clicks_mb_per_s']:,.0f} | {r['zlib_clicks_mb_per_s']:,.0f} | "
                f"{r['zlib_orjson_clicks_mb_per_s']:,.0f} MB/s",
                "",
                "",
            ),
            (
                "a",
                "  core / zlib+orjson",
                f"{r['core_ratio_clicks']:.2f}x",
                "<= 1.50x",
                _verdict(r["core_ratio_clicks"], 1.5, at_most=True),
            ),
        ]
    if "consumer_segments_per_s" in r:
        rows.append(
            on_brokers(
                r,
                "b",
                "consume_recordings, segments stored",
                lambda k: (
                    f"{k['consumer_segments_per_s']:,.0f} seg/s  "
                    f"{k['consumer_inflated_mb_per_s']:,.0f} MB/s  "
                    f"{k['consumer_segments_stored']:.0f}/{k['consumer_segments']:.0f}"
                ),
                ">= 1,000 seg/s",
                lambda k: _verdict(k["consumer_segments_per_s"], 1000, at_most=False),
            )
        )
    if "reprocess_segments_per_s" in r:
        rows.append(
            on_brokers(
                r,
                "b",
                "reprocess_replays over them, published",
                lambda k: (
                    f"{k['reprocess_segments_per_s']:,.0f} seg/s  "
                    f"{k['reprocess_segments']:.0f} segments"
                    if "reprocess_segments_per_s" in k
                    else "not run"
                ),
                ">= consume_recordings",
                lambda k: (
                    _verdict(
                        k["reprocess_segments_per_s"], k["consumer_segments_per_s"], at_most=False
                    )
                    if "reprocess_segments_per_s" in k
                    else ""
                ),
            )
        )
    if "ingest_envelopes_per_s" in r:
        rows += [
            on_brokers(
                r,
                "c",
                f"ingest, {r['ingest_workers']:.0f} workers, 16 conns",
                lambda k: f"{k['ingest_envelopes_per_s']:,.0f} env/s",
                ">= 1,500 env/s",
                lambda k: _verdict(k["ingest_envelopes_per_s"], 1500, at_most=False),
            ),
            on_brokers(
                r,
                "c",
                "  p50 | p99 latency, errors",
                lambda k: (
                    f"{k['ingest_p50_ms']:.1f} | {k['ingest_p99_ms']:.1f} ms, "
                    f"{k['ingest_errors']:.0f}"
                ),
                "p99 < 50 ms",
                lambda k: _verdict(k["ingest_p99_ms"], 50, at_most=True),
            ),
            on_brokers(
                r,
                "c",
                "no-op view, p50 | p99, errors",
                lambda k: (
                    f"{k['noop_per_s']:,.0f} req/s  {k['noop_p50_ms']:.1f} | "
                    f"{k['noop_p99_ms']:.1f} ms, {k['noop_errors']:.0f}"
                ),
                "",
                lambda k: "",
            ),
            on_brokers(
                r,
                "c",
                "  ingest / no-op",
                lambda k: f"{k['ingest_vs_noop']:.2f}",
                ">= 0.70",
                lambda k: _verdict(k["ingest_vs_noop"], 0.7, at_most=False),
            ),
        ]
    if "e2e_p95_ms" in r:
        rows.append(
            (
                "d",
                f"POST to issue in API, {r['e2e_clicks']:.0f} clicks, p50 | p95",
                f"{r['e2e_p50_ms']:.0f} | {r['e2e_p95_ms']:.0f} ms",
                "p95 < 1,000 ms",
                _verdict(r["e2e_p95_ms"], 1000, at_most=True),
            )
        )
    if "webhook_p95_ms" in r:
        rows.append(
            (
                "d",
                f"POST to new_issue webhook received, {r['webhook_issues']:.0f} issues, p50 | p95",
                f"{r['webhook_p50_ms']:.0f} | {r['webhook_p95_ms']:.0f} ms",
                "p95 < 2,000 ms",
                _verdict(r["webhook_p95_ms"], 2000, at_most=True),
            )
        )
    if "occurrences_per_s" in r:
        rows.append(
            (
                "e",
                f"consume_occurrences, {r['occurrences_stored']:.0f}/{r['occurrences']:.0f} "
                f"into {r['occurrences_issues']:.0f} issues",
                f"{r['occurrences_per_s']:,.0f} occ/s",
                ">= 2,000 occ/s",
                _verdict(r["occurrences_per_s"], 2000, at_most=False),
            )
        )
    if "occurrences_aggregates_share" in r:
        rows.append(
            (
                "e",
                "  with aggregates vs without (median of "
                f"{r['occurrences_runs']:.0f} runs each, alternated)",
                f"{r['occurrences_without_aggregates_per_s']:,.0f} occ/s without: "
                f"{r['occurrences_aggregates_share']:.0%}",
                ">= 80%",
                _verdict(r["occurrences_aggregates_share"], 0.8, at_most=False),
            )
        )
    if "alerts_per_s" in r:
        rows.append(
            (
                "g",
                f"deliver_alerts, {r['alerts_sent']:.0f}/{r['alerts_deliveries']:.0f} webhooks, "
                f"concurrency {r['alerts_concurrency']:.0f}",
                f"{r['alerts_per_s']:,.0f} deliveries/s",
                ">= 200/s",
                _verdict(r["alerts_per_s"], 200, at_most=False),
            )
        )
    rows += scale_rows(r)
    return rows


def scale_rows(r: dict[str, float]) -> list[tuple[str, ...]]:
    """Part f: each page's p50 | p95 at each size, the worst p95 and its growth."""
    if "scale_page_p95_ms" not in r:
        return []
    sizes = sorted(
        {
            int(key.split("_")[1])
            for key in r
            if key.startswith("scale_") and key.split("_")[1].isdigit()
        }
    )
    names = sorted(
        {
            key.removeprefix(f"scale_{sizes[-1]}_").removesuffix("_p95_ms")
            for key in r
            if key.startswith(f"scale_{sizes[-1]}_") and key.endswith("_p95_ms")
        }
    )
    rows: list[tuple[str, ...]] = []
    for name in names:
        figures = "  ".join(
            f"{size // 1000:,}k: {r[f'scale_{size}_{name}_p50_ms']:.0f} | "
            f"{r[f'scale_{size}_{name}_p95_ms']:.0f}"
            for size in sizes
        )
        rows.append(("f", f"{name}, p50 | p95 ms", figures, "", ""))
    rows += [
        (
            "f",
            f"worst p95 at {sizes[-1]:,} occurrences",
            f"{r['scale_page_p95_ms']:.0f} ms",
            "< 500 ms",
            _verdict(r["scale_page_p95_ms"], 500, at_most=True),
        ),
        (
            "f",
            "  its growth from the smaller size",
            f"{r['scale_growth_ratio']:.2f}x",
            "<= 1.50x",
            _verdict(r["scale_growth_ratio"], 1.5, at_most=True),
        ),
    ]
    return rows


def on_brokers(
    r: dict[str, float],
    part: str,
    measure: str,
    figure: Callable[[dict[str, float]], str],
    target: str,
    verdict: Callable[[dict[str, float]], str],
) -> tuple[str, ...]:
    """A row of a part run on both brokers: Tansu's figure, Apache Kafka's (its results are
    ``r``'s ``kafka_`` keys; none when it did not run), each one's verdict."""
    kafka = {key.removeprefix("kafka_"): v for key, v in r.items() if key.startswith("kafka_")}
    kafka_figure = figure(kafka) if kafka else "not run"
    verdicts = [verdict(r), verdict(kafka) if kafka else ""]
    return (part, measure, figure(r), kafka_figure, target, " | ".join(filter(None, verdicts)))


def print_table(results: dict[str, float]) -> None:
    """One table: a figure column per broker (parts b and c run on both; the others on none or
    on Tansu, in the first)."""
    header = ("part", "measure", "Tansu", "Apache Kafka", "target", "")
    rows = [header]
    for row in table_rows(results):
        rows.append(row if len(row) == len(header) else (*row[:3], "", *row[3:]))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    print()
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))
    for note in NOTES:
        print(note)


if __name__ == "__main__":
    sys.exit(main())
