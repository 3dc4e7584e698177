"""atheris (libFuzzer) harness of the replays detection core and the issues stage's decoding.

Run from the repository's root: ``python fuzz/recording_fuzz.py -max_total_time=60``. Each input
is used as a segment's rrweb events (plain JSON, as the SDK sends them with compression off) and
as its replay_event; the segment goes through ``decode_segment`` and ``detect_clicks`` with an
ignore rule, and each occurrence through the issues stage's ``decode_occurrence``. It starts from
the real SDK's recordings. Anything but ``InvalidSegment`` (and ``InvalidOccurrence`` for a click
time outside the years the issues stage takes) is a crash.
"""

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports(include=["replays.detection", "issues.occurrence_message"]):
    import msgpack
    import orjson

    from issues.occurrence_message import InvalidOccurrence, decode_occurrence
    from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
    from replays.detection.errors import InvalidSegment
    from replays.detection.ignore import parse_ignore_selectors

from fuzz.seeds import recording_events, seed_argument

SETTINGS = DetectionSettings(ignore=parse_ignore_selectors("nav > a.skip, #pay, [data-x='1']"))
MESSAGE = {
    "type": "replay_recording_not_chunked",
    "replay_id": "0f3c9a1e2b7d4c5e8a6b9d0e1f2a3b4c",
    "key_id": 1,
    "org_id": 1,
    "project_id": 42,
    "received": 1_795_537_800,
    "retention_days": 90,
    "version": 1,
}
REPLAY_EVENT = orjson.dumps({"replay_id": MESSAGE["replay_id"], "segment_id": 0})


def message(events: bytes, replay_event: bytes) -> bytes:
    payload = b'{"segment_id":0}\n' + events
    return msgpack.packb(
        {**MESSAGE, "payload": payload, "replay_event": replay_event}, use_bin_type=True
    )


def detect(raw: bytes) -> None:
    try:
        detection = detect_clicks(decode_segment(raw, 32 * 1024 * 1024), SETTINGS, 0.0)
    except InvalidSegment:
        return
    for occurrence in detection.occurrences:
        try:
            decode_occurrence(orjson.dumps(occurrence.to_dict()))
        except InvalidOccurrence as exc:
            if "timestamp" not in str(exc):
                raise


def test_one_input(data: bytes) -> None:
    detect(message(data, REPLAY_EVENT))
    detect(message(b"[]", data))


def main() -> None:
    atheris.Setup([*sys.argv, seed_argument(recording_events(), "recording")], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
