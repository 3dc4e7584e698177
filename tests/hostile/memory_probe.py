"""Run one parse step over one input file in a process of its own and print the memory it cost.

``python -m tests.hostile.memory_probe <step> <file> [<content-encoding>]`` prints one JSON line:
the outcome (``ok`` or the refusal's class) and the peak resident memory above what the process
held once the input was read, in bytes. A fresh process measures what C libraries allocate too
(zlib, brotli and zstd windows, orjson), which ``tracemalloc`` would not see.
Pure modules only: no Django, no broker.
"""

import json
import sys
from pathlib import Path

from ingest.envelope import parse_envelope
from ingest.errors import EnvelopeRejected
from ingest.inflate import decode_content
from ingest.replay_segment import RecordingLimits, extract_replay_segment
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.detection.errors import InvalidSegment

MiB = 1024 * 1024
# The defaults of settings/base.py.
BODY_LIMIT = 20 * MiB
INGEST_LIMITS = RecordingLimits(max_bytes=10 * MiB, max_inflated_bytes=100 * MiB)
CONSUMER_INFLATED_LIMIT = 32 * MiB


def ingest(body: bytes, encoding: str) -> None:
    """What the endpoint does with a body after reading it."""
    if encoding:
        body = decode_content(body, encoding, BODY_LIMIT)
    extract_replay_segment(parse_envelope(body), INGEST_LIMITS)


def consume(message: bytes, _: str) -> None:
    """What the replays consumer computes for a message."""
    segment = decode_segment(message, CONSUMER_INFLATED_LIMIT)
    detect_clicks(segment, DetectionSettings(), 0.0)


STEPS = {"ingest": ingest, "consume": consume}


def resident_bytes(field: str = "VmRSS") -> int:
    """This process's resident memory now (``VmRSS``) or at its peak (``VmHWM``). Not
    ``ru_maxrss``: that one keeps the peak of the process that forked this one before exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    step, path = sys.argv[1], sys.argv[2]
    encoding = sys.argv[3] if len(sys.argv) > 3 else ""
    data = Path(path).read_bytes()
    # Forget the peak of reading the input: VmHWM starts again from what is resident now.
    Path("/proc/self/clear_refs").write_text("5")
    before = resident_bytes()
    try:
        STEPS[step](data, encoding)
        outcome = "ok"
    except (EnvelopeRejected, InvalidSegment) as exc:
        outcome = type(exc).__name__
    peak = resident_bytes("VmHWM")
    print(json.dumps({"outcome": outcome, "peak_above_input": peak - before}))


if __name__ == "__main__":
    main()
