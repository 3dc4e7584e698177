"""The pure rules of an ignore that ends and of "resolve in the next release" (issues.archive)."""

from datetime import UTC, datetime, timedelta

import pytest

from issues.archive import IgnoreUntil, ignore_ended, newest_release, release_is_newer

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("condition", "more_times", "more_users", "now", "ended"),
    [
        (IgnoreUntil(), 1000, 1000, NOW + timedelta(days=999), False),
        (IgnoreUntil(until=NOW), 0, 0, NOW - timedelta(seconds=1), False),
        (IgnoreUntil(until=NOW), 0, 0, NOW, True),
        (IgnoreUntil(count=3), 2, 0, NOW, False),
        (IgnoreUntil(count=3), 3, 0, NOW, True),
        (IgnoreUntil(user_count=2), 5, 1, NOW, False),
        (IgnoreUntil(user_count=2), 5, 2, NOW, True),
        (IgnoreUntil(until=NOW, count=10), 10, 0, NOW - timedelta(hours=1), True),
    ],
)
def test_an_ignore_ends_when_one_of_its_conditions_is_met(
    condition, more_times, more_users, now, ended
):
    assert ignore_ended(condition, more_times, more_users, now) is ended


SEEN = {
    "build-a": NOW - timedelta(days=3),
    "build-b": NOW - timedelta(days=1),
    "shop@1.9.2": NOW - timedelta(days=1),
    "shop@1.10.0": NOW - timedelta(days=2),
}


@pytest.mark.parametrize(
    ("candidate", "base", "newer"),
    [
        ("shop@1.10.0", "shop@1.9.2", True),  # versions: 10 > 9, though seen earlier
        ("shop@1.9.2", "shop@1.10.0", False),
        ("shop@1.9.2", "shop@1.9.2", False),  # the same release never reopens
        ("shop@2.0.0-rc.1", "shop@2.0.0", False),  # a pre-release comes before its release
        ("build-b", "build-a", True),  # not versions: first seen later is newer
        ("build-a", "build-b", False),
        ("build-c", "build-b", True),  # never seen before: newer
        ("", "build-a", False),  # a click without a release tells nothing
        ("other@1.0.0", "shop@1.9.2", True),  # other packages: never seen before, newer
    ],
)
def test_releases_compare_as_versions_or_by_first_seen(candidate, base, newer):
    assert release_is_newer(candidate, base, SEEN) is newer


def test_the_newest_release_is_the_greatest_version_or_the_last_seen():
    assert newest_release({}) == ""
    assert (
        newest_release({"shop@1.9.2": SEEN["shop@1.9.2"], "shop@1.10.0": SEEN["shop@1.10.0"]})
        == "shop@1.10.0"
    )
    assert newest_release({"build-a": SEEN["build-a"], "build-b": SEEN["build-b"]}) == "build-b"
