"""The admin pages of issues and occurrences, over the SDK fixture's replay and its five issues."""

import pytest
from django.urls import reverse

from issues.models import Issue, IssueStatus, Occurrence
from tests.issues.builders import FIXTURE_REPLAY_ID, store_fixture_replay

pytestmark = pytest.mark.django_db

ISSUES = reverse("admin:issues_issue_changelist")
OCCURRENCES = reverse("admin:issues_occurrence_changelist")


@pytest.fixture
def fixture_issues(sdk_project) -> list[Issue]:
    store_fixture_replay(sdk_project.project_id)
    return list(Issue.objects.order_by("pk"))


def listed(response) -> int:
    """How many rows the changelist shows (its own count, not a guess from the HTML)."""
    assert response.status_code == 200
    return response.context["cl"].result_count


def change_form(issue: Issue, **fields: str) -> dict[str, str]:
    return {"status": issue.status, **fields}


def test_the_issue_list_shows_the_fixture_issues_with_their_columns(
    admin_client, fixture_issues, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = admin_client.get(ISSUES)
    assert listed(response) == 5
    html = response.content.decode()
    for issue in fixture_issues:
        assert issue.short_id in html
    assert "body &gt; button#buy.btn.primary" in html
    assert "Rage click" in html
    assert "shop (" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type__exact": "replay_dead_click"}, 3),
        ({"type__exact": "replay_rage_click"}, 1),
        ({"level__exact": "info"}, 1),
        ({"status__exact": "unresolved"}, 5),
        ({"status__exact": "resolved"}, 0),
        ({"is_visible__exact": "1"}, 5),
        ({"q": "#buy"}, 2),
        ({"q": "a#cart"}, 1),
        ({"q": "Slow Click"}, 1),
        ({"q": "/cart"}, 2),
    ],
)
def test_issue_filters_and_search(admin_client, fixture_issues, query, expected):
    assert listed(admin_client.get(ISSUES, query)) == expected


def test_issues_are_found_by_their_fingerprint_hash_and_project(admin_client, fixture_issues):
    issue = fixture_issues[0]
    assert listed(admin_client.get(ISSUES, {"q": issue.fingerprint_hash})) == 1
    assert listed(admin_client.get(ISSUES, {"project__id__exact": issue.project_id})) == 5
    assert listed(admin_client.get(ISSUES, {"last_seen__year": issue.last_seen.year})) == 5


def test_the_issue_page_links_to_its_occurrences_and_the_web_ui(admin_client, fixture_issues):
    issue = fixture_issues[0]
    response = admin_client.get(reverse("admin:issues_issue_change", args=[issue.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{OCCURRENCES}?issue__id__exact={issue.pk}" in html
    assert f"/issues/{issue.pk}/" in html  # "View on site"

    occurrences = admin_client.get(OCCURRENCES, {"issue__id__exact": issue.pk})
    assert listed(occurrences) == 1
    assert occurrences.context["cl"].result_list[0].issue_id == issue.pk


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("resolve_issues", IssueStatus.RESOLVED),
        ("ignore_issues", IssueStatus.IGNORED),
    ],
)
def test_actions_change_the_status_of_the_selected_issues(
    admin_client, fixture_issues, action, status
):
    chosen = [issue.pk for issue in fixture_issues[:2]]
    response = admin_client.post(ISSUES, {"action": action, "_selected_action": chosen})
    assert response.status_code == 302

    changed = Issue.objects.filter(pk__in=chosen)
    assert {issue.status for issue in changed} == {status}
    resolved = status == IssueStatus.RESOLVED
    assert all((issue.resolved_at is not None) == resolved for issue in changed)
    untouched = Issue.objects.exclude(pk__in=chosen)
    assert {issue.status for issue in untouched} == {IssueStatus.UNRESOLVED}


def test_unresolve_reopens_resolved_issues_and_clears_resolved_at(admin_client, fixture_issues):
    chosen = [issue.pk for issue in fixture_issues]
    admin_client.post(ISSUES, {"action": "resolve_issues", "_selected_action": chosen})
    assert Issue.objects.filter(resolved_at__isnull=False).count() == 5

    admin_client.post(ISSUES, {"action": "unresolve_issues", "_selected_action": chosen[:3]})
    assert Issue.objects.filter(status=IssueStatus.UNRESOLVED, resolved_at=None).count() == 3
    assert Issue.objects.filter(status=IssueStatus.RESOLVED).count() == 2


def test_saving_the_change_form_sets_the_status_and_leaves_the_counters(
    admin_client, fixture_issues
):
    issue = fixture_issues[0]
    url = reverse("admin:issues_issue_change", args=[issue.pk])
    form = change_form(
        issue,
        status=IssueStatus.RESOLVED,
        times_seen="999",
        users_seen="999",
        title="edited",
        is_visible="",
    )
    assert admin_client.post(url, form).status_code == 302

    issue.refresh_from_db()
    assert issue.status == IssueStatus.RESOLVED
    assert issue.resolved_at is not None
    assert (issue.times_seen, issue.users_seen, issue.title, issue.is_visible) == (
        1,
        1,
        "Dead Click",
        True,
    )


def test_saving_the_change_form_does_not_overwrite_counters_the_consumer_moved(
    admin_client, fixture_issues
):
    """The form was loaded before the consumer counted more clicks: the save keeps them."""
    issue = fixture_issues[0]
    url = reverse("admin:issues_issue_change", args=[issue.pk])
    admin_client.get(url)
    Issue.objects.filter(pk=issue.pk).update(times_seen=7, users_seen=3)

    admin_client.post(url, change_form(issue, status=IssueStatus.IGNORED))

    issue.refresh_from_db()
    assert (issue.status, issue.times_seen, issue.users_seen) == (IssueStatus.IGNORED, 7, 3)


def test_counters_are_read_only_and_issues_cannot_be_added(admin_client, fixture_issues):
    response = admin_client.get(reverse("admin:issues_issue_change", args=[fixture_issues[0].pk]))
    form_fields = set(response.context["adminform"].form.fields)
    assert form_fields == {"status"}
    assert admin_client.get(reverse("admin:issues_issue_add")).status_code == 403


def test_the_occurrence_list_shows_its_columns_and_links(
    admin_client, fixture_issues, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = admin_client.get(OCCURRENCES)
    assert listed(response) == 5
    html = response.content.decode()
    occurrence = Occurrence.objects.select_related("issue").first()
    assert reverse("admin:issues_issue_change", args=[occurrence.issue_id]) in html
    assert (
        f"/projects/{occurrence.project_id}/replays/{FIXTURE_REPLAY_ID}/"
        f"?occurrence={occurrence.occurrence_id}"
    ) in html
    assert "u-77" in html
    assert "shop@1.4.2" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"environment": "staging"}, 5),
        ({"environment": "production"}, 0),
        ({"browser": "Chrome"}, 5),
        ({"q": "u-77"}, 5),
        ({"q": "/cart"}, 2),
        ({"q": FIXTURE_REPLAY_ID}, 5),
        ({"q": "40196c4e-fd83-4eed-aa8e-1947c813b364"}, 5),
        ({"q": "00000000-0000-0000-0000-000000000000"}, 0),
    ],
)
def test_occurrence_filters_and_search(admin_client, fixture_issues, query, expected):
    assert listed(admin_client.get(OCCURRENCES, query)) == expected


def test_an_occurrence_is_found_by_its_id_and_shown_read_only(admin_client, fixture_issues):
    occurrence = Occurrence.objects.first()
    assert listed(admin_client.get(OCCURRENCES, {"q": occurrence.occurrence_id})) == 1
    assert listed(admin_client.get(OCCURRENCES, {"project__id__exact": 42})) == 5

    url = reverse("admin:issues_occurrence_change", args=[occurrence.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Watch the click" in html
    assert f"?occurrence={occurrence.occurrence_id}" in html
    assert 'name="_save"' not in html

    assert admin_client.post(url, {"user_key": "someone-else"}).status_code == 403
    delete = reverse("admin:issues_occurrence_delete", args=[occurrence.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert Occurrence.objects.filter(user_key="u-77").count() == 5
