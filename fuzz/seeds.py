"""Seed inputs for the fuzz harnesses: the real SDK's captured envelopes and their recordings.

``SDK_FIXTURES_DIR`` points at the captures (as for the tests); by default ../shared/fixtures/sdk
beside the checkout. Pure: no Django.
"""

import os
import zlib
from pathlib import Path

from ingest.envelope import parse_envelope

REPOSITORY = Path(__file__).resolve().parent.parent


def sdk_envelopes() -> list[Path]:
    default = REPOSITORY.parent / "shared" / "fixtures" / "sdk"
    return sorted(Path(os.environ.get("SDK_FIXTURES_DIR", default)).glob("*/*.envelope"))


def recording_events() -> list[bytes]:
    """The inflated rrweb events of each captured replay segment."""
    events = []
    for path in sdk_envelopes():
        for item in parse_envelope(path.read_bytes()).items:
            if item.type == "replay_recording":
                events.append(zlib.decompress(item.payload.partition(b"\n")[2]))
    return events


def seed_argument(seeds: list[bytes] | list[Path], name: str) -> str:
    """libFuzzer's ``-seed_inputs=`` for ``seeds``: files, or bytes written to
    ``var/fuzz/<name>-seeds/`` (git-ignored, rewritten each run). Seeds are read, never written
    to, unlike a corpus folder."""
    paths = [seed for seed in seeds if isinstance(seed, Path)]
    folder = REPOSITORY / "var" / "fuzz" / f"{name}-seeds"
    folder.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(seed for seed in seeds if isinstance(seed, bytes)):
        path = folder / f"{number:03d}"
        path.write_bytes(seed)
        paths.append(path)
    return "-seed_inputs=" + ",".join(str(path) for path in paths)
