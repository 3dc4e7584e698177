"""``python -m bench.hotspots <profile.txt> [--top N]``: the functions a py-spy profile spent its
time in, by own time and by time including callees, as shares of the samples.

The profiles are what ``BENCH_PROFILE=<dir> python -m bench b c e`` writes: py-spy's collapsed
stacks (``--format raw``), one line per stack, ``frame;frame;... count``, the first frame naming
the process. Idle stacks are not sampled (py-spy leaves them out unless ``--idle``).
"""

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::\d+)?\)$")
_PREFIXES = ("site-packages/", "lib/python3.11/", "/work/main/")


def short(frame: str) -> str:
    """``function (file)``, the file shortened to its package path, the line left out."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for prefix in _PREFIXES:
        if prefix in path:
            path = path.split(prefix, 1)[1]
            break
    return f"{path}:{match['function']}"


def summarize(path: Path, under: str = "") -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    """Total samples, and samples per function: own, including callees, per process. With
    ``under``, only the stacks through a function whose name ends so (the steady state: a
    consumer's ``StreamProcessor.run``, gunicorn's ``ThreadWorker.handle``)."""
    total = 0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    processes: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        process, frames = frames[0], [short(frame) for frame in frames[1:]]
        if under and not any(frame.endswith(under) for frame in frames):
            continue
        total += count
        processes[process[:120]] += count
        if frames:
            own[frames[-1]] += count
        for function in set(frames):
            inclusive[function] += count
    return total, own, inclusive, processes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots", description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--under", default="", help="only stacks through this function")
    args = parser.parse_args(argv)
    total, own, inclusive, processes = summarize(args.profile, args.under)
    if not total:
        print(f"{args.profile}: no samples", file=sys.stderr)
        return 1
    print(f"{args.profile}: {total} samples")
    for process, count in processes.most_common(6):
        print(f"  {count / total:6.1%}  {process}")
    for title, counter in (("own time", own), ("including callees", inclusive)):
        print(f"\n{title}:")
        for function, count in counter.most_common(args.top):
            print(f"  {count / total:6.1%}  {function}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
