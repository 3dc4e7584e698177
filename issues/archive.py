"""When an ignored or resolved issue comes back (Sentry's archive and "resolve in the next
release"): pure rules, no database and no clock; the services pass the issue's numbers in.

- Ignored until a time, until N more occurrences, or until N more users: the issue is unresolved
  again once one of the conditions that were set is met.
- Resolved in the next release: a click from a release newer than the one that was the project's
  newest when it was resolved reopens it; a click from that release (or an older one, or none)
  does not. Two releases compare as versions when both parse as one (``shop@1.10.0`` is newer
  than ``shop@1.9.2``: the ``package@`` prefix must be the same), otherwise by when the project
  first saw each (a release the project has not seen before is newer).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

_VERSION = re.compile(r"v?(\d+(?:\.\d+){0,3})(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")


@dataclass(frozen=True, slots=True)
class IgnoreUntil:
    """The conditions of an ignore; all None: ignored for good."""

    until: datetime | None = None
    count: int | None = None
    user_count: int | None = None


def ignore_ended(
    condition: IgnoreUntil,
    more_times_seen: int,
    more_users_seen: int,
    now: datetime,
) -> bool:
    """Whether an issue ignored with ``condition`` returns to unresolved, given how many
    occurrences and users came since it was ignored."""
    if condition.until is not None and now >= condition.until:
        return True
    if condition.count is not None and more_times_seen >= condition.count:
        return True
    return condition.user_count is not None and more_users_seen >= condition.user_count


def version_key(release: str) -> tuple[str, tuple[int, ...], int, str] | None:
    """(package, numbers, 1 for a final version or 0 for a pre-release, pre-release) of a
    release that reads as a version (``shop@1.4.2``, ``v2.0``, ``1.0.0-rc.1``); None otherwise."""
    package, _, version = release.rpartition("@")
    match = _VERSION.fullmatch(version)
    if match is None:
        return None
    numbers = tuple(int(part) for part in match.group(1).split("."))
    numbers += (0,) * (4 - len(numbers))
    pre = match.group(2) or ""
    return package, numbers, 0 if pre else 1, pre


def release_is_newer(candidate: str, base: str, first_seen: Mapping[str, datetime]) -> bool:
    """Whether ``candidate`` is a newer release than ``base`` (see the module's docstring);
    ``first_seen`` holds when the project first saw each release it knows."""
    if not candidate or candidate == base:
        return False
    if not base:
        return True
    candidate_key, base_key = version_key(candidate), version_key(base)
    if candidate_key and base_key and candidate_key[0] == base_key[0]:
        return candidate_key[1:] > base_key[1:]
    seen, base_seen = first_seen.get(candidate), first_seen.get(base)
    if seen is None:
        return True
    if base_seen is None:
        return False
    return seen > base_seen


def newest_release(first_seen: Mapping[str, datetime]) -> str:
    """The project's newest release by ``release_is_newer`` ("" when it knows none)."""
    newest = ""
    for release in sorted(first_seen, key=lambda release: (first_seen[release], release)):
        if not newest or release_is_newer(release, newest, first_seen):
            newest = release
    return newest
