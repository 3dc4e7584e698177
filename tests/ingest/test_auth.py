"""Where the public key comes from, and which combinations are refused."""

import pytest

from ingest.auth import dsn_key, parse_sentry_auth, request_key, resolve_key
from ingest.errors import Forbidden, MissingAuth

KEY = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


def test_parse_sentry_auth():
    assert parse_sentry_auth(f"Sentry sentry_key={KEY}, sentry_version=7") == {
        "sentry_key": KEY,
        "sentry_version": "7",
    }
    assert parse_sentry_auth("Bearer abc") == {}


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ({"sentry_key": KEY}, {}),
        ({}, {"X-Sentry-Auth": f"Sentry sentry_key={KEY}, sentry_version=7"}),
        ({}, {"Authorization": f"Sentry sentry_key={KEY}"}),
        (
            {"sentry_version": "7"},
            {"Authorization": "Bearer token", "X-Sentry-Auth": f"Sentry sentry_key={KEY}"},
        ),
    ],
)
def test_each_request_source(query, headers):
    assert request_key(query, headers) == KEY


def test_two_request_sources_are_refused_even_when_equal():
    with pytest.raises(MissingAuth, match="more than one place"):
        request_key({"sentry_key": KEY}, {"X-Sentry-Auth": f"Sentry sentry_key={KEY}"})


def test_no_key_anywhere():
    assert request_key({}, {}) is None
    with pytest.raises(MissingAuth, match="no public key"):
        resolve_key(None, None)


def test_dsn_is_the_fallback_and_must_agree():
    dsn = f"https://{KEY}@o1.ingest.example/42"
    assert dsn_key(dsn, 42) == KEY
    assert resolve_key(None, KEY) == KEY
    assert resolve_key(KEY, KEY) == KEY
    with pytest.raises(MissingAuth, match="different keys"):
        resolve_key(OTHER, KEY)
    with pytest.raises(Forbidden, match="for project '43'"):
        dsn_key(f"https://{KEY}@o1.ingest.example/43", 42)
    assert dsn_key(None, 42) is None
    assert dsn_key(12, 42) is None
