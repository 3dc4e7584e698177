"""Hostile inputs of the tests in tests/hostile/: what a stranger holding a project's public DSN
(or anyone who can reach the endpoint) may send, as bytes and as hypothesis strategies of JSON
with a wrong type in any field. None needs Django or a broker.
"""

from typing import Any

import orjson
from hypothesis import strategies as st

from replays.detection.breadcrumbs import MULTI_CLICK, SLOW_CLICK

MiB = 1024 * 1024

# Markup that runs script if a page ever renders it as HTML (or as a link's href). Each sets
# window.__xss, so a browser test can tell whether any of them ran.
XSS_PAYLOADS = (
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    '"><svg onload=window.__xss=1>',
    '\'><iframe srcdoc="<script>parent.__xss=1</script>">',
    "</textarea></code><script>window.__xss=1</script>",
)
XSS_URL = "javascript:window.__xss=1//https://shop.example.com/"


def deep_json(depth: int) -> bytes:
    """JSON nested ``depth`` deep: ``[[[...]]]`` (orjson refuses past 1024 levels)."""
    return b"[" * depth + b"]" * depth


def deep_object(depth: int) -> bytes:
    """``{"a":{"a":...}}`` nested ``depth`` deep."""
    return b'{"a":' * depth + b"{}" + b"}" * depth


NON_UTF8 = (b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80", b"\xf8\x88\x80\x80\x80")


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, -1, 2**31, 2**53 + 1, 1e308, -1e308, 5e-324])
    | st.text(max_size=20)
    | st.sampled_from(["", "\x00", "NaN", "timeout", "ui.slowClickDetected", *XSS_PAYLOADS])
)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value orjson can write: wrong types for every field of a hostile document."""
    return st.recursive(
        SCALARS,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=max_leaves,
    )


WRONG = json_values(6)


def maybe(sensible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's sensible value most of the time, else any JSON value (a wrong type)."""
    return st.one_of(sensible, sensible, sensible, sensible, WRONG)


_NODE = maybe(
    st.fixed_dictionaries(
        {
            "id": maybe(st.integers(0, 10_000)),
            "tagName": maybe(st.sampled_from(["button", "A", "INPUT", ""])),
            "textContent": maybe(st.text(max_size=300)),
            "attributes": maybe(
                st.dictionaries(
                    st.sampled_from(["id", "class", "data-sentry-component", "href"])
                    | st.text(max_size=300),
                    maybe(st.text(max_size=300)),
                    max_size=40,
                )
            ),
        }
    )
)
_CLICK_DATA = maybe(
    st.fixed_dictionaries(
        {
            "node": _NODE,
            "url": maybe(
                st.sampled_from(["https://shop.example.com/cart/12", XSS_URL, "http://[::1/x"])
            ),
            "route": maybe(st.sampled_from(["/cart/:id", "", None])),
            "timeAfterClickMs": maybe(st.sampled_from([7000, 3500.5, 0, -1, 1e300])),
            "endReason": maybe(st.sampled_from(["timeout", "mutation", ""])),
            "clickCount": maybe(st.integers(-5, 2**40)),
        },
        # Lower-case keys, which some producers write (read when the camel-case ones are not).
        optional={
            "timeafterclickms": maybe(st.sampled_from([7000, 3500.5, 0, -1, 1e300])),
            "clickcount": maybe(st.integers(-5, 2**40)),
        },
    )
)
_CLICK_PAYLOAD = st.fixed_dictionaries(
    {
        "category": maybe(st.sampled_from([SLOW_CLICK, MULTI_CLICK])),
        "message": maybe(st.text(max_size=50) | st.sampled_from(XSS_PAYLOADS)),
        # Seconds as the SDK writes them, or milliseconds (the rrweb event's time is taken).
        "timestamp": maybe(st.floats(1.7e9, 1.9e9) | st.floats(1.7e12, 1.9e12)),
        "data": _CLICK_DATA,
    }
)
# An rrweb custom event shaped like the SDK's click breadcrumb, any field of it wrong.
HOSTILE_CLICK_EVENTS = st.fixed_dictionaries(
    {
        "type": maybe(st.just(5)),
        "timestamp": maybe(st.integers(1_700_000_000_000, 1_900_000_000_000)),
        "data": maybe(
            st.fixed_dictionaries({"tag": st.just("breadcrumb"), "payload": _CLICK_PAYLOAD})
        ),
    }
)
_TEXT = maybe(st.text(max_size=300) | st.sampled_from(XSS_PAYLOADS))
# A replay_event whose every field may be of a wrong type.
HOSTILE_REPLAY_EVENTS = st.fixed_dictionaries(
    {},
    optional={
        "replay_id": WRONG,
        "timestamp": maybe(st.floats(0, 2e9)),
        "replay_start_timestamp": maybe(st.floats(0, 2e9)),
        "urls": maybe(st.lists(st.text(max_size=50), max_size=5)),
        "error_ids": WRONG,
        "trace_ids": WRONG,
        "environment": _TEXT,
        "release": _TEXT,
        "dist": WRONG,
        "platform": WRONG,
        "sdk": WRONG,
        "request": maybe(st.fixed_dictionaries({"url": WRONG, "headers": WRONG})),
        "user": maybe(
            st.dictionaries(st.sampled_from(["id", "email", "username", "ip_address"]), _TEXT)
        ),
        # The app's tags (an object, or Relay's [key, value] pairs) and its transaction.
        "tags": maybe(
            st.dictionaries(st.text(max_size=40) | st.sampled_from(["url", "replayId"]), WRONG)
            | st.lists(st.tuples(st.text(max_size=40), WRONG), max_size=8)
        ),
        "transaction": _TEXT,
    },
)


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)
