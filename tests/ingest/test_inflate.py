"""Content-Encoding decoding with limits: gzip, deflate, br, zstd, and bombs."""

import contextlib
import gzip
import zlib

import brotli
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import MalformedEnvelope, PayloadTooLarge
from ingest.inflate import decode_content, zlib_inflated_size
from tests.ingest.builders import ENCODERS
from tests.sdk_fixtures import sdk_requests

MiB = 1024 * 1024


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_round_trip_of_every_encoding(encoding):
    body = sdk_requests()[1].body
    assert decode_content(ENCODERS[encoding](body), encoding, 20 * MiB) == body


def test_raw_deflate_multi_member_gzip_and_stacked_encodings():
    body = b"envelope bytes " * 100
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = raw_deflate.compress(body) + raw_deflate.flush()
    assert decode_content(raw, "deflate", MiB) == body
    assert decode_content(gzip.compress(body) + gzip.compress(body), "gzip", MiB) == body * 2
    two_frames = ENCODERS["zstd"](body) + ENCODERS["zstd"](body)
    assert decode_content(two_frames, "zstd", MiB) == body * 2
    stacked = brotli.compress(gzip.compress(body))
    assert decode_content(stacked, "gzip, br", MiB) == body
    assert decode_content(body, "identity", MiB) == body


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_bombs_are_refused_without_inflating_them(encoding):
    bomb = ENCODERS[encoding](b"\0" * (64 * MiB))
    assert len(bomb) < MiB
    with pytest.raises(PayloadTooLarge, match="inflates past the limit"):
        decode_content(bomb, encoding, 20 * MiB)


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_truncated_and_garbage_bodies_are_malformed(encoding):
    compressed = ENCODERS[encoding](b"some envelope" * 50)
    with pytest.raises(MalformedEnvelope, match=r"truncated|not valid"):
        decode_content(compressed[: len(compressed) // 2], encoding, MiB)
    with pytest.raises(MalformedEnvelope, match="not valid"):
        decode_content(b"this is not compressed at all", encoding, MiB)


def test_unsupported_encoding_names_the_supported_ones():
    with pytest.raises(MalformedEnvelope, match=r"unsupported Content-Encoding 'lzma'.*gzip"):
        decode_content(b"x", "lzma", MiB)


def test_zlib_inflated_size_counts_without_keeping_output():
    assert zlib_inflated_size(zlib.compress(b"a" * 5000), MiB, "r") == 5000
    with pytest.raises(PayloadTooLarge):
        zlib_inflated_size(zlib.compress(b"\0" * (8 * MiB)), MiB, "r")


@given(st.sampled_from(sorted(ENCODERS)), st.binary(max_size=500))
def test_random_bodies_decode_or_raise_a_rejection(encoding, body):
    with contextlib.suppress(MalformedEnvelope, PayloadTooLarge):
        decode_content(body, encoding, MiB)
