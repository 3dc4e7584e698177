"""atheris (libFuzzer) harness of ingest's pure steps: Content-Encoding, envelope, replay segment.

Run from the repository's root: ``python fuzz/envelope_fuzz.py -max_total_time=60`` (any libFuzzer
flag). It starts from the real SDK's envelopes; an input whose first byte is below 5 is a body
compressed with one of the endpoint's Content-Encodings. Anything but our own refusal
(``EnvelopeRejected``) is a crash, which libFuzzer reports with the input that caused it.
"""

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports(include=["ingest"]):
    from ingest.envelope import parse_envelope
    from ingest.errors import EnvelopeRejected
    from ingest.inflate import decode_content
    from ingest.replay_segment import RecordingLimits, extract_replay_segment

from fuzz.seeds import sdk_envelopes, seed_argument

MiB = 1024 * 1024
ENCODINGS = ("gzip", "deflate", "br", "zstd", "gzip, br")
LIMITS = RecordingLimits(max_bytes=10 * MiB, max_inflated_bytes=100 * MiB)


def test_one_input(data: bytes) -> None:
    body, encoding = data, ""
    if data and data[0] < len(ENCODINGS):
        body, encoding = data[1:], ENCODINGS[data[0]]
    try:
        if encoding:
            body = decode_content(body, encoding, 20 * MiB)
        extract_replay_segment(parse_envelope(body), LIMITS)
    except EnvelopeRejected:
        pass


def main() -> None:
    atheris.Setup([*sys.argv, seed_argument(sdk_envelopes(), "envelope")], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
