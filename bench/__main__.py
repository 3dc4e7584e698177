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
    "b": "replays consumer end to end (broker + database)",
    "c": "ingest endpoint under wrk (gunicorn, embedded broker), vs no-op view",
    "d": "POST to issue visible in the API (devstack)",
    "e": "occurrences consumer into the database",
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
    from bench import core, e2e_latency, ingest_load, occurrences_consumer, recordings_consumer

    return {
        "a": lambda: core.measure(sessions),
        "b": lambda: recordings_consumer.measure(work_dir, sessions),
        "c": lambda: ingest_load.measure(work_dir),
        "d": lambda: e2e_latency.measure(work_dir),
        "e": lambda: occurrences_consumer.measure(work_dir),
    }


def timed(what: str, function: Callable[[], T]) -> T:
    print(f"{what} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    value = function()
    print(f"  done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return value


# --- the table ----------------------------------------------------------------------------------
def _verdict(value: float, target: float, at_most: bool) -> str:
    return "met" if (value <= target if at_most else value >= target) else "MISSED"


def table_rows(r: dict[str, float]) -> list[tuple[str, str, str, str, str]]:
    rows: list[tuple[str, str, str, str, str]] = []
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
            (
                "b",
                f"consume_recordings, {r['consumer_segments_stored']:.0f}/"
                f"{r['consumer_segments']:.0f} segments",
                f"{r['consumer_segments_per_s']:,.0f} seg/s  "
                f"{r['consumer_inflated_mb_per_s']:,.0f} MB/s",
                ">= 1,000 seg/s",
                _verdict(r["consumer_segments_per_s"], 1000, at_most=False),
            )
        )
    if "ingest_envelopes_per_s" in r:
        rows += [
            (
                "c",
                f"ingest, {r['ingest_workers']:.0f} workers, 16 conns",
                f"{r['ingest_envelopes_per_s']:,.0f} env/s",
                ">= 1,500 env/s",
                _verdict(r["ingest_envelopes_per_s"], 1500, at_most=False),
            ),
            (
                "c",
                f"  p50 | p99 latency, errors {r['ingest_errors']:.0f}",
                f"{r['ingest_p50_ms']:.1f} | {r['ingest_p99_ms']:.1f} ms",
                "p99 < 50 ms",
                _verdict(r["ingest_p99_ms"], 50, at_most=True),
            ),
            (
                "c",
                f"no-op view, p50 | p99, errors {r['noop_errors']:.0f}",
                f"{r['noop_per_s']:,.0f} req/s  {r['noop_p50_ms']:.1f} | {r['noop_p99_ms']:.1f} ms",
                "",
                "",
            ),
            (
                "c",
                "  ingest / no-op",
                f"{r['ingest_vs_noop']:.2f}",
                ">= 0.70",
                _verdict(r["ingest_vs_noop"], 0.7, at_most=False),
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
    return rows


def print_table(results: dict[str, float]) -> None:
    header = ("part", "measure", "figure", "target", "")
    rows = [header, *table_rows(results)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    print()
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


if __name__ == "__main__":
    sys.exit(main())
