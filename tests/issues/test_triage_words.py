"""The pure parts of the issue list's time range and the issue page's words (no database)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from issues import presentation
from issues.filters import period_bounds

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "since", "until", "bounds"),
    [
        ("", None, None, None),
        ("24h", None, None, (NOW - timedelta(hours=24), NOW)),
        ("30d", date(2020, 1, 1), None, (NOW - timedelta(days=30), NOW)),
        ("custom", None, None, None),
        (
            "custom",
            date(2026, 11, 1),
            date(2026, 11, 2),
            (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)),
        ),
        ("custom", date(2026, 11, 1), None, (datetime(2026, 11, 1, tzinfo=UTC), NOW)),
    ],
)
def test_period_bounds(period, since, until, bounds):
    assert period_bounds(period, since, until, NOW) == bounds


@pytest.mark.parametrize(
    ("evidence", "outcome", "clicks"),
    [
        (
            {"endReason": "timeout", "timeAfterClickMs": 7000, "clickCount": 1},
            "no response after 7.0 s",
            "clicked once",
        ),
        (
            {"endReason": "mutation", "timeAfterClickMs": 4200.3, "clickCount": 6},
            "answered after 4.2 s",
            "clicked 6 times",
        ),
        ({"timeAfterClickMs": "soon", "clickCount": True}, "", ""),
        (None, "", ""),
    ],
)
def test_what_happened_in_plain_words(evidence, outcome, clicks):
    assert presentation.click_outcome(evidence) == outcome
    assert presentation.click_count_words(evidence) == clicks


def test_the_activity_list_folds_status_changes_regressions_and_alerts_newest_first():
    entries = presentation.activity_entries(
        [
            (
                NOW,
                "status",
                "ana",
                "unresolved",
                "ignored",
                {"ignore_count": 10, "ignore_until": "2026-12-01T14:00:00+00:00"},
            ),
            (
                NOW + timedelta(hours=2),
                "regression",
                "",
                "resolved",
                "unresolved",
                {"release": "shop@2.0.0"},
            ),
            (NOW + timedelta(hours=1), "unignored", "", "ignored", "unresolved", {}),
        ],
        [(NOW + timedelta(minutes=1), "An issue becomes visible · Pager", "Failed · 3 attempts")],
    )
    assert [(entry.kind, entry.who, entry.text) for entry in entries] == [
        ("regression", "", "regressed: clicked again after it was resolved (release shop@2.0.0)"),
        ("unignored", "", "unresolved again: its ignore condition was met"),
        ("alert", "", "Alert: An issue becomes visible · Pager · Failed · 3 attempts"),
        (
            "status",
            "ana",
            "ignored until 2026-12-01 14:00 UTC or until 10 more events (was unresolved)",
        ),
    ]
