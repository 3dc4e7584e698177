"""The pure figures of causes: an occurrence's cause, which version of it wins, an issue's likely
cause and its words."""

import pytest

from issues.causes import (
    cause_of,
    describe_likely_cause,
    evidence_version,
    likely_cause,
    share,
)


def test_a_cause_is_read_from_the_evidence_and_an_unknown_kind_is_none():
    failed = {"cause": {"kind": "request_failed", "detail": "POST /api/checkout\nanswered 500"}}
    assert cause_of(failed) == ("request_failed", "POST /api/checkout answered 500")
    assert cause_of({"cause": {"kind": None, "detail": ""}}) is None
    assert cause_of({"cause": {"kind": "gremlins"}}) is None
    assert cause_of({}) is None
    assert cause_of({"cause": {"kind": "element_disabled"}}) == ("element_disabled", "")


def test_a_higher_revision_wins_and_two_versions_never_tie():
    first = {"revision": 1, "cause": {"kind": "request_pending", "detail": "GET /api/quote"}}
    later = {"revision": 2, "cause": {"kind": "request_failed", "detail": "GET /api/quote 500"}}
    assert evidence_version(later, []) > evidence_version(first, [])
    assert evidence_version(first, []) > evidence_version({"cause": None}, [])  # none: 0
    same = evidence_version({"a": 1, "b": 2}, [])
    assert same == evidence_version({"b": 2, "a": 1}, [])  # key order is no difference
    other = evidence_version({"a": 2, "b": 2}, [])
    assert same != other
    assert (same < other) != (other < same)
    assert evidence_version({"revision": True}, [])[0] == 0


def test_the_likely_cause_is_the_most_common_kind_with_its_exact_share():
    counts = [
        ("request_failed", "POST /api/checkout answered 500", 7),
        ("request_failed", "POST /api/checkout answered 502", 2),
        ("error", "TypeError: x is null", 1),
    ]
    assert likely_cause(counts, 12) == {
        "kind": "request_failed",
        "detail": "POST /api/checkout answered 500",
        "share": 0.75,
        "count": 9,
        "of": 12,
    }
    assert likely_cause([], 3) is None
    assert likely_cause([("error", "x", 0)], 3) is None


def test_ties_go_to_the_first_kind_and_the_first_detail():
    tied = [
        ("error", "b", 1),
        ("request_failed", "z", 1),
        ("request_failed", "a", 1),
        ("error", "a", 1),
    ]
    assert likely_cause(tied, 4)["kind"] == "request_failed"
    assert likely_cause(tied, 4)["detail"] == "a"


def test_the_likely_cause_in_plain_words():
    cause = likely_cause([("request_failed", "POST /api/checkout answered 500", 9)], 10)
    assert describe_likely_cause(cause) == "POST /api/checkout answered 500 in 9 of 10 clicks"
    assert describe_likely_cause(None) == ""
    disabled = likely_cause([("element_disabled", "", 2)], 2)
    assert describe_likely_cause(disabled) == "The element was disabled in 2 of 2 clicks"


@pytest.mark.parametrize(
    ("part", "whole", "expected"), [(1, 8, 0.125), (3, 2, 1.0), (1, None, None), (0, 0, None)]
)
def test_shares_are_bounded(part, whole, expected):
    assert share(part, whole) == expected
