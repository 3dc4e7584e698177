"""Why an issue's clicks failed and how much the issue matters, as figures (pure).

Each click occurrence's ``evidence_data.cause`` (the replays consumer's reading of the click's
window: ``{"kind": ..., "detail": "<one line>"}``) is counted per issue, kind and detail; the
issue's ``likely_cause`` is the most common kind, the most common detail of that kind, and the
share of the issue's occurrences that had it. A producer may publish an occurrence again with the
SAME id when a later segment changes its window: ``evidence_version`` orders two versions so that
any arrival order keeps the same one (a higher ``evidence_data.revision`` wins, then the larger
canonical JSON, so two different versions never tie).
"""

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

CAUSE_KINDS = ("request_failed", "request_pending", "error", "element_disabled")
MAX_DETAIL_CHARS = 200

Cause = tuple[str, str]  # (kind, detail)


def cause_of(evidence: Mapping[str, Any]) -> Cause | None:
    """The occurrence's cause, or None when it has none (or one this version does not know)."""
    cause = evidence.get("cause")
    if not isinstance(cause, dict) or cause.get("kind") not in CAUSE_KINDS:
        return None
    detail = cause.get("detail")
    detail = " ".join(detail.split())[:MAX_DETAIL_CHARS] if isinstance(detail, str) else ""
    return cause["kind"], detail


def evidence_version(evidence: Mapping[str, Any], display: Any) -> tuple[int, bytes]:
    """What decides between two versions of one occurrence: the higher wins."""
    revision = evidence.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool):
        revision = 0
    canonical = orjson.dumps([evidence, display], option=orjson.OPT_SORT_KEYS)
    return revision, canonical


def likely_cause(counts: Iterable[tuple[str, str, int]], occurrences: int) -> dict | None:
    """The issue's likely cause from its (kind, detail, count) rows and its occurrences: the kind
    of most occurrences (ties: the first in ``CAUSE_KINDS``), its most common detail (ties: the
    first in text order), and the share of all occurrences that kind has; None without one."""
    per_kind: dict[str, int] = {}
    details: dict[str, list[tuple[int, str]]] = {}
    for kind, detail, count in counts:
        if count <= 0 or kind not in CAUSE_KINDS:
            continue
        per_kind[kind] = per_kind.get(kind, 0) + count
        details.setdefault(kind, []).append((count, detail))
    if not per_kind or occurrences <= 0:
        return None
    kind = min(per_kind, key=lambda each: (-per_kind[each], CAUSE_KINDS.index(each)))
    detail = min(details[kind], key=lambda each: (-each[0], each[1]))[1]
    count = min(per_kind[kind], occurrences)
    return {
        "kind": kind,
        "detail": detail,
        "share": round(count / occurrences, 4),
        "count": count,
        "of": occurrences,
    }


_KIND_WORDS = {
    "request_failed": "A request failed",
    "request_pending": "A request had not answered",
    "error": "An error was thrown",
    "element_disabled": "The element was disabled",
}


def describe_likely_cause(cause: Mapping[str, Any] | None) -> str:
    """The likely cause in plain words: "POST /api/checkout answered 500 in 9 of 10 clicks"."""
    if not cause:
        return ""
    what = cause.get("detail") or _KIND_WORDS.get(cause.get("kind"), "")
    of = cause.get("of") or 0
    if of:
        return f"{what} in {cause.get('count', 0)} of {of} clicks"
    return f"{what} ({round(100 * cause.get('share', 0))}% of clicks)"


def share(part: int, whole: int | None) -> float | None:
    """``part`` of ``whole`` as 0..1 (at most 1: a sampled or late count may overtake its
    exposure), None when nothing was counted."""
    if not whole:
        return None
    return round(min(1.0, part / whole), 4)
