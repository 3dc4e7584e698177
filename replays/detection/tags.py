"""Tags: an occurrence's key/value strings that issues are filtered by, bounded as Sentry bounds
them. The app's own (``Sentry.setTag``, the page's ``transaction``) come from the replay_event;
ours (``replayId``, ``url``, ``browser.name``, ...) from the click.

Sentry drops what its tag store cannot hold rather than cutting it (a cut value would never equal
the real one in a filter): a key of at most 32 characters of ``[a-zA-Z0-9_.:-]``, a value of at
most 200 characters without a line break. Numbers and booleans are read as text, as Relay does;
other JSON is dropped, NUL characters are removed.
"""

import math
import re
from itertools import islice
from typing import Any

from replays.detection.text import without_nul

MAX_TAGS = 50
MAX_TAG_KEY_CHARS = 32
MAX_TAG_VALUE_CHARS = 200
# How many entries are looked at: a producer's thousands of junk tags cost no more than this.
MAX_TAG_ENTRIES_READ = 1000
_TAG_KEY = re.compile(r"[a-zA-Z0-9_.:-]+")


def bounded_tags(value: Any, limit: int = MAX_TAGS) -> dict[str, str]:
    """The first ``limit`` valid tags of ``value``: an object (the SDK's ``{"key": "value"}``) or a
    list of ``[key, value]`` pairs (Relay's normalized form); anything else holds none."""
    if isinstance(value, dict):
        entries = islice(value.items(), MAX_TAG_ENTRIES_READ)
    elif isinstance(value, list):
        entries = (
            pair
            for pair in islice(value, MAX_TAG_ENTRIES_READ)
            if isinstance(pair, list | tuple) and len(pair) == 2
        )
    else:
        return {}
    tags: dict[str, str] = {}
    for key, raw in entries:
        if len(tags) >= limit:
            break
        name, text = tag_key(key), tag_value(raw)
        if name is not None and text is not None and name not in tags:
            tags[name] = text
    return tags


def tag_key(value: Any) -> str | None:
    """``value`` as a tag's key, or None when Sentry would drop it."""
    if not isinstance(value, str):
        return None
    key = without_nul(value)
    return key if len(key) <= MAX_TAG_KEY_CHARS and _TAG_KEY.fullmatch(key) else None


def tag_value(value: Any) -> str | None:
    """``value`` as a tag's value, or None when Sentry would drop it."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        # More digits than a value holds: not written out (Python refuses past 4,300 digits).
        text = str(value) if value.bit_length() <= 4 * MAX_TAG_VALUE_CHARS else ""
    elif isinstance(value, float) and math.isfinite(value):
        text = repr(value)
    elif isinstance(value, str):
        text = without_nul(value)
    else:
        return None
    if not text or len(text) > MAX_TAG_VALUE_CHARS or "\n" in text:
        return None
    return text


def merged_tags(preferred: dict[str, Any], others: dict[str, str]) -> dict[str, str]:
    """``preferred``'s tags (bounded here; empty ones left out), then those of ``others`` (bounded
    already) whose key is not taken, at most ``MAX_TAGS`` in all."""
    tags = bounded_tags(preferred)
    for key, value in others.items():
        if len(tags) >= MAX_TAGS:
            break
        tags.setdefault(key, value)
    return tags
