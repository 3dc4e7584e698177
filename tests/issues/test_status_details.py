"""Ignore until… and resolve in the next release, through the services and the grouping as the
issues consumer runs it (real database); the clock is frozen with ``ISSUES_NOW``."""

from datetime import UTC, datetime, timedelta

import pytest

from issues.archive import IgnoreUntil
from issues.models import ActivityKind, Issue, IssueActivity, IssueStatus
from issues.services import issue_set_status, issues_set_status, issues_wake_ignored
from tests.issues.builders import another_click, fixture_occurrences, record

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def dead_click(sdk_project) -> dict:
    return fixture_occurrences()[0]


@pytest.fixture
def frozen(settings):
    settings.ISSUES_NOW = NOW
    return settings


def issue_of(click: dict) -> Issue:
    return Issue.objects.get(pk=record(click).issue_id)


def clicked(click: dict, user: str | None = None, release: str | None = None) -> None:
    fields = {"timestamp": NOW.timestamp() + 1}
    if user is not None:
        fields["user"] = {"id": user}
    if release is not None:
        fields["release"] = release
    record(another_click(click, **fields))


def test_ignored_until_n_more_occurrences(dead_click, frozen):
    issue = issue_of(dead_click)
    issue_set_status(issue, IssueStatus.IGNORED, ignore=IgnoreUntil(count=2))
    clicked(dead_click)
    assert Issue.objects.get().status == IssueStatus.IGNORED
    clicked(dead_click)
    issue = Issue.objects.get()
    assert (issue.status, issue.times_seen, issue.ignore_count) == ("unresolved", 3, None)
    kinds = list(IssueActivity.objects.values_list("kind", "from_status", "to_status"))
    assert kinds == [("unignored", "ignored", "unresolved"), ("status", "unresolved", "ignored")]


def test_ignored_until_n_more_users_counts_new_users_only(dead_click, frozen):
    issue = issue_of(dead_click)
    issue_set_status(issue, IssueStatus.IGNORED, ignore=IgnoreUntil(user_count=2))
    clicked(dead_click, user="u-1")
    clicked(dead_click, user="u-1")
    clicked(dead_click, user="u-77")  # the fixture's user: seen before the ignore
    assert Issue.objects.get().status == IssueStatus.IGNORED
    clicked(dead_click, user="u-2")
    assert Issue.objects.get().status == IssueStatus.UNRESOLVED


def test_ignored_for_a_duration_ends_when_the_clock_passes_it(dead_click, frozen):
    issue = issue_of(dead_click)
    issue_set_status(issue, IssueStatus.IGNORED, ignore=IgnoreUntil(until=NOW + timedelta(hours=1)))
    assert issues_wake_ignored(Issue.objects.all()) == 0
    clicked(dead_click)
    assert Issue.objects.get().status == IssueStatus.IGNORED

    frozen.ISSUES_NOW = NOW + timedelta(hours=1)
    assert issues_wake_ignored(Issue.objects.all()) == 1
    issue = Issue.objects.get()
    assert (issue.status, issue.ignore_until, issue.times_seen) == ("unresolved", None, 2)
    assert IssueActivity.objects.first().kind == ActivityKind.UNIGNORED


def test_a_duration_that_passed_ends_the_ignore_when_an_occurrence_arrives(dead_click, frozen):
    issue = issue_of(dead_click)
    issue_set_status(issue, IssueStatus.IGNORED, ignore=IgnoreUntil(until=NOW + timedelta(hours=1)))
    frozen.ISSUES_NOW = NOW + timedelta(hours=2)
    clicked(dead_click)
    assert Issue.objects.get().status == IssueStatus.UNRESOLVED


def test_an_ignore_without_condition_stays(dead_click, frozen):
    issue = issue_of(dead_click)
    issue_set_status(issue, IssueStatus.IGNORED)
    frozen.ISSUES_NOW = NOW + timedelta(days=3650)
    clicked(dead_click, user="u-9")
    assert issues_wake_ignored(Issue.objects.all()) == 0
    assert Issue.objects.get().status == IssueStatus.IGNORED


def test_resolved_in_the_next_release_reopens_on_a_newer_release_only(dead_click, frozen):
    issue = issue_of(dead_click)  # release shop@1.4.2
    issue_set_status(issue, IssueStatus.RESOLVED, in_next_release=True)
    issue.refresh_from_db()
    assert issue.resolved_in_release == "shop@1.4.2"

    clicked(dead_click, release="shop@1.4.2")
    clicked(dead_click, release="shop@1.3.9")
    clicked(dead_click, release="")
    assert Issue.objects.get().status == IssueStatus.RESOLVED

    clicked(dead_click, release="shop@1.4.10")
    issue = Issue.objects.get()
    assert (issue.status, issue.resolved_in_release, issue.times_seen) == ("unresolved", "", 5)
    assert issue.regressed_at is not None
    regression = IssueActivity.objects.first()
    assert (regression.kind, regression.data["release"]) == ("regression", "shop@1.4.10")


def test_resolved_in_the_next_release_orders_other_names_by_first_seen(dead_click, frozen):
    issue = issue_of(another_click(dead_click, release="build-a"))
    issue_set_status(issue, IssueStatus.RESOLVED, in_next_release=True)
    issue.refresh_from_db()
    assert issue.resolved_in_release == "build-a"
    clicked(dead_click, release="build-a")
    assert Issue.objects.get().status == IssueStatus.RESOLVED
    clicked(dead_click, release="build-b")
    assert Issue.objects.get().status == IssueStatus.UNRESOLVED


def test_a_bulk_change_goes_through_each_issue_and_keeps_the_counters(
    sdk_project, django_user_model
):
    user = django_user_model.objects.create_user("triager")
    first, second = fixture_occurrences()[:2]
    issues = [issue_of(first), issue_of(second)]
    counters = [(issue.times_seen, issue.users_seen) for issue in issues]

    changed = issues_set_status(
        Issue.objects.filter(pk__in=[issue.pk for issue in issues]), "resolved", user=user
    )

    assert len(changed) == 2
    for issue, counted in zip(issues, counters, strict=True):
        issue.refresh_from_db()
        assert issue.status == "resolved"
        assert issue.resolved_at is not None
        assert (issue.times_seen, issue.users_seen) == counted
    assert IssueActivity.objects.filter(user=user, to_status="resolved").count() == 2
