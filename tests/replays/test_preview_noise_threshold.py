"""Which issues a preview says would appear, under the current and the draft noise thresholds
(``previews.comparison``, database only): a fingerprint appears when the draft's occurrences of
the range (or their distinct users) reach the draft's threshold and the current settings' do not
reach the current one; an issue shown already never appears, a hidden one does, linked."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from issues.models import Issue, IssueHash
from issues.services import SHOW_AT_ONCE, NoiseThreshold
from replays.previews import comparison
from replays.reprocessing import Summary

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CART, SAVE, MENU = "a" * 32, "b" * 32, "c" * 32


def summary(counts: dict[str, int], users: dict[str, set[str]] | None = None) -> Summary:
    found = Summary(count_users=True)
    found.by_fingerprint = Counter(counts)
    found.users = users or {}
    found.titles = {key: ("replay_slow_click", "Slow Click", key) for key in counts}
    return found


def appearing(before: Summary, after: Summary, project_id: int, noise) -> dict[str, int | None]:
    result = comparison(project_id, before, after, noise=noise)
    assert result["appear_total"] == len(result["appear"])
    return {issue["culprit"]: issue["issue_id"] for issue in result["appear"]}


def existing(project_id: int, fingerprint_hash: str, visible: bool) -> Issue:
    issue = Issue.objects.create(
        project_id=project_id,
        fingerprint_hash=fingerprint_hash,
        type="replay_slow_click",
        title="Slow Click",
        first_seen=NOW,
        last_seen=NOW,
        is_visible=visible,
    )
    IssueHash.objects.create(project_id=project_id, hash=fingerprint_hash, issue=issue)
    return issue


def test_the_draft_threshold_keeps_out_the_fingerprints_below_it(sdk_project):
    project_id = sdk_project.project_id
    before, after = summary({}), summary({CART: 3, SAVE: 1})

    assert appearing(before, after, project_id, (SHOW_AT_ONCE, SHOW_AT_ONCE)) == {
        CART: None,
        SAVE: None,
    }
    assert appearing(before, after, project_id, (SHOW_AT_ONCE, NoiseThreshold(3))) == {CART: None}
    assert appearing(before, after, project_id, (SHOW_AT_ONCE, NoiseThreshold(4))) == {}


def test_distinct_users_reach_it_too(sdk_project):
    after = summary({CART: 2, SAVE: 2}, users={CART: {"u-1", "u-2"}, SAVE: {"u-1"}})
    noise = (SHOW_AT_ONCE, NoiseThreshold(5, users=2))
    assert appearing(summary({}), after, sdk_project.project_id, noise) == {CART: None}


def test_a_lower_draft_threshold_makes_appear_what_the_current_one_held_back(sdk_project):
    project_id = sdk_project.project_id
    same = {CART: 2, SAVE: 5}
    noise = (NoiseThreshold(5), NoiseThreshold(2))
    assert appearing(summary(same), summary(same), project_id, noise) == {CART: None}
    # The other way round, nothing appears (and nothing is said to stop: both still get some).
    result = comparison(project_id, summary(same), summary(same), noise=noise[::-1])
    assert (result["appear"], result["stop"]) == ([], [])


def test_a_shown_issue_never_appears_and_a_hidden_one_is_linked(sdk_project):
    project_id = sdk_project.project_id
    existing(project_id, CART, visible=True)
    hidden = existing(project_id, SAVE, visible=False)
    after = summary({CART: 4, SAVE: 4, MENU: 4})

    assert appearing(summary({}), after, project_id, (SHOW_AT_ONCE, NoiseThreshold(4))) == {
        SAVE: hidden.pk,
        MENU: None,
    }
