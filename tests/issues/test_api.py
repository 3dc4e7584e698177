"""The REST API under /api/0/ on the SDK's captured replay, through the real grouping service.

``store_fixture_replay`` stores replay 40196c4e... and groups its five clicks into five issues
(dead and rage on button#buy, slow on button#slowok, dead on a#cart and input#submit), all from
user u-77 on Chrome, environment staging, release shop@1.4.2.
"""

from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token

from ingest.models import Project
from issues.models import Issue, IssueActivity, IssueStatus
from issues.services import NoiseThreshold
from tests.issues.builders import FIXTURE_REPLAY_ID, another_click, record, store_fixture_replay

BUY = "body > button#buy.btn.primary"
SLOWOK = "body > button#slowok.btn"
CART = "body > nav > a#cart"
SUBMIT = 'body > input#submit[type="submit"]'
ISSUES = "/api/0/projects/42/issues/"


@pytest.fixture
def operator(django_user_model, organization):
    """A member of the organization that owns project 42."""
    user = django_user_model.objects.create_user("operator", password="not-a-secret")
    organization.members.add(user)
    return user


@pytest.fixture
def api(client: Client, operator) -> Client:
    """A client signed in with a session."""
    client.force_login(operator)
    return client


@pytest.fixture
def clicks(sdk_project) -> list[dict[str, Any]]:
    """The fixture replay's five occurrences, stored and grouped."""
    return store_fixture_replay()


def issue_of(occurrence: dict[str, Any]) -> Issue:
    return Issue.objects.get(occurrences__occurrence_id=occurrence["id"])


def listed(api: Client, query: str = "") -> list[dict[str, Any]]:
    response = api.get(ISSUES + query)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def selectors(issues: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(issue["type"], issue["metadata"]["selector"]) for issue in issues]


# --- the issue list ------------------------------------------------------------------------------


def test_issue_list_shows_the_fixture_issues_newest_first(api, clicks):
    body = api.get(ISSUES).json()

    assert body["count"] == 5
    assert body["next"] is None
    assert body["previous"] is None
    assert selectors(body["results"]) == [
        ("replay_dead_click", SUBMIT),
        ("replay_dead_click", CART),
        ("replay_slow_click", SLOWOK),
        ("replay_rage_click", BUY),
        ("replay_dead_click", BUY),
    ]
    buy = issue_of(clicks[0])
    first = next(issue for issue in body["results"] if issue["id"] == buy.pk)
    assert first == {
        "id": buy.pk,
        "short_id": "SHOP-1",
        "project": 42,
        "type": "replay_dead_click",
        "title": "Dead Click",
        "subtitle": BUY,
        "culprit": "http://127.0.0.1:18766/index.html",
        "level": "warning",
        "status": "unresolved",
        "times_seen": 1,
        "users_seen": 1,
        "first_seen": "2026-11-24T16:29:30.184000Z",
        "last_seen": "2026-11-24T16:29:30.184000Z",
        "resolved_at": None,
        "regressed_at": None,
        "resolved_in_release": "",
        "ignore_until": None,
        "ignore_count": None,
        "ignore_user_count": None,
        "metadata": {
            "selector": BUY,
            "url": "http://127.0.0.1:18766/index.html",
            "route": "",
            "component": "",
            "tag": "button",
            "text": "Buy now",
            "attributes": {"id": "buy", "class": "btn primary", "testId": "buy-button"},
        },
        "permalink": f"http://testserver/issues/{buy.pk}/",
        # The capture's clicks carry no cause (its producer read no window).
        "likely_cause": None,
        # One session on /index.html; two ui.click breadcrumbs on the buy button.
        "impact": {
            "page_sessions": 1,
            "page_share": 1.0,
            "element_clicks": 2,
            "element_share": 0.5,
        },
    }


def test_issue_list_reads_a_page_in_constant_queries(api, clicks, django_assert_num_queries):
    for number in range(20):
        click = another_click(clicks[0])
        click["fingerprint"] = ["replay_dead_click", f"body > button#b{number}", "/index.html"]
        record(click)

    # the session, the user, the project, the ignores that ended (none), the count and the page
    with django_assert_num_queries(6):
        assert len(listed(api, "?environment=staging&sort=users")) == 25


def test_issue_list_leaves_out_issues_held_back_by_the_noise_threshold(api, clicks):
    held_back = another_click(clicks[0])
    held_back["fingerprint"] = ["replay_dead_click", "body > button#later", "/index.html"]
    record(held_back, NoiseThreshold(occurrences=2))
    hidden = issue_of(held_back)
    assert not hidden.is_visible

    ids = [issue["id"] for issue in listed(api)]

    assert len(ids) == 5
    assert hidden.pk not in ids
    assert api.get(f"/api/0/issues/{hidden.pk}/").status_code == 404
    assert api.get(f"/api/0/issues/{hidden.pk}/occurrences/").status_code == 404


def test_issue_list_of_a_project_without_issues_is_empty(api, clicks):
    Project.objects.create(id=43, name="blog", org_id=7)

    response = api.get("/api/0/projects/43/issues/")

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_issue_list_of_an_unknown_project_is_404(api, clicks):
    assert api.get("/api/0/projects/999/issues/").status_code == 404


def test_filter_by_type(api, clicks):
    assert selectors(listed(api, "?type=replay_rage_click")) == [("replay_rage_click", BUY)]
    assert selectors(listed(api, "?type=replay_slow_click&type=replay_rage_click")) == [
        ("replay_slow_click", SLOWOK),
        ("replay_rage_click", BUY),
    ]
    assert len(listed(api, "?type=replay_dead_click")) == 3


def test_filter_by_an_unknown_type_is_400(api, clicks):
    response = api.get(ISSUES + "?type=replay_click")

    assert response.status_code == 400
    assert "type" in response.json()


def test_filter_by_status(api, clicks):
    api.patch(
        f"/api/0/issues/{issue_of(clicks[2]).pk}/",
        {"status": "resolved"},
        content_type="application/json",
    )
    api.patch(
        f"/api/0/issues/{issue_of(clicks[3]).pk}/",
        {"status": "ignored"},
        content_type="application/json",
    )

    assert selectors(listed(api, "?status=resolved")) == [("replay_slow_click", SLOWOK)]
    assert selectors(listed(api, "?status=ignored")) == [("replay_dead_click", CART)]
    assert len(listed(api, "?status=unresolved")) == 3
    assert len(listed(api, "?status=resolved&status=ignored")) == 2


def test_filter_by_environment(api, clicks):
    record(another_click(clicks[2], environment="production"))

    assert selectors(listed(api, "?environment=production")) == [("replay_slow_click", SLOWOK)]
    assert len(listed(api, "?environment=staging")) == 5
    assert listed(api, "?environment=development") == []


def test_filter_by_release(api, clicks):
    record(another_click(clicks[3], release="shop@1.5.0"))

    assert selectors(listed(api, "?release=shop@1.5.0")) == [("replay_dead_click", CART)]
    assert len(listed(api, "?release=shop@1.4.2")) == 5


def test_filter_by_browser(api, clicks):
    firefox = {"browser": {"name": "Firefox", "version": "130"}}
    record(another_click(clicks[1], contexts=firefox))

    assert selectors(listed(api, "?browser=Firefox")) == [("replay_rage_click", BUY)]
    assert len(listed(api, "?browser=Chrome")) == 5


def test_search_by_words_of_the_selector_url_or_title(api, clicks):
    assert selectors(listed(api, "?query=slowok")) == [("replay_slow_click", SLOWOK)]
    assert selectors(listed(api, "?query=cart")) == [
        ("replay_dead_click", SUBMIT),
        ("replay_dead_click", CART),
    ]
    assert selectors(listed(api, "?query=rage+buy")) == [("replay_rage_click", BUY)]
    assert listed(api, "?query=checkout") == []


def test_filters_combine(api, clicks):
    record(another_click(clicks[0], environment="production"))
    record(another_click(clicks[3], environment="production"))

    query = "?environment=production&type=replay_dead_click&query=index.html"
    assert selectors(listed(api, query)) == [("replay_dead_click", BUY)]


def test_sort_by_times_seen_users_and_first_seen(api, clicks):
    record(another_click(clicks[2]))
    record(another_click(clicks[2]))
    record(another_click(clicks[0], user={"id": "u-2"}))

    by_times = listed(api, "?sort=times_seen")
    assert [issue["times_seen"] for issue in by_times] == [3, 2, 1, 1, 1]
    assert selectors(by_times)[:2] == [("replay_slow_click", SLOWOK), ("replay_dead_click", BUY)]
    by_users = listed(api, "?sort=users")
    assert [issue["users_seen"] for issue in by_users] == [2, 1, 1, 1, 1]
    assert selectors(by_users)[0] == ("replay_dead_click", BUY)
    by_first_seen = listed(api, "?sort=first_seen")
    assert [issue["first_seen"] for issue in by_first_seen] == sorted(
        (issue["first_seen"] for issue in by_first_seen), reverse=True
    )
    assert selectors(listed(api, "?sort=last_seen"))[0] == ("replay_dead_click", SUBMIT)


def test_sort_by_an_unknown_key_is_400(api, clicks):
    response = api.get(ISSUES + "?sort=title")

    assert response.status_code == 400
    assert "sort" in response.json()


def test_pagination_with_per_page(api, clicks):
    first = api.get(ISSUES + "?per_page=2").json()
    assert first["count"] == 5
    assert len(first["results"]) == 2
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/0/projects/42/issues/?page=2&per_page=2"

    last = api.get(ISSUES + "?per_page=2&page=3").json()
    assert len(last["results"]) == 1
    assert last["next"] is None
    pages = [first, api.get(first["next"]).json(), last]
    ids = [issue["id"] for page in pages for issue in page["results"]]
    assert sorted(ids) == sorted(issue_of(click).pk for click in clicks)

    assert api.get(ISSUES + "?per_page=2&page=4").status_code == 404


def test_per_page_is_capped_at_100(api, clicks):
    for number in range(101):
        click = another_click(clicks[0])
        click["fingerprint"] = ["replay_dead_click", f"body > button#b{number}", "/index.html"]
        record(click)

    body = api.get(ISSUES + "?per_page=500").json()

    assert body["count"] == 106
    assert len(body["results"]) == 100


def test_default_page_size_is_issues_page_size(api, clicks, settings):
    assert settings.REST_FRAMEWORK["PAGE_SIZE"] == settings.ISSUES_PAGE_SIZE
    for number in range(settings.ISSUES_PAGE_SIZE):
        click = another_click(clicks[0])
        click["fingerprint"] = ["replay_dead_click", f"body > button#b{number}", "/index.html"]
        record(click)

    assert len(listed(api)) == settings.ISSUES_PAGE_SIZE


# --- one issue, and its status -------------------------------------------------------------------


def test_issue_detail_has_the_latest_occurrence_and_its_replay(api, clicks):
    later = another_click(clicks[0], timestamp=1795537800.0, user={"id": "u-2"})
    record(later)
    issue = issue_of(clicks[0])

    response = api.get(f"/api/0/issues/{issue.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == issue.pk
    assert body["times_seen"] == 2
    assert body["users_seen"] == 2
    assert body["metadata"]["selector"] == BUY
    latest = body["latest_occurrence"]
    assert latest["id"] == later["id"]
    assert latest["user"]["id"] == "u-2"
    assert latest["replay_id"] == later["resource_id"]
    assert latest["replay_url"] == (
        f"http://testserver/projects/42/replays/{later['resource_id']}/?occurrence={later['id']}"
    )


def test_unknown_issue_is_404(api, clicks):
    assert api.get("/api/0/issues/999999/").status_code == 404
    assert api.get("/api/0/issues/999999/occurrences/").status_code == 404
    response = api.patch(
        "/api/0/issues/999999/", {"status": "resolved"}, content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("status", ["resolved", "ignored", "unresolved"])
def test_patch_sets_the_status(api, clicks, status):
    issue = issue_of(clicks[1])

    response = api.patch(
        f"/api/0/issues/{issue.pk}/", {"status": status}, content_type="application/json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == status
    issue.refresh_from_db()
    assert issue.status == status
    assert (issue.resolved_at is not None) == (status == IssueStatus.RESOLVED)
    assert response.json()["resolved_at"] == (
        issue.resolved_at.isoformat().replace("+00:00", "Z") if issue.resolved_at else None
    )


def test_reopening_a_resolved_issue_clears_resolved_at(api, clicks):
    url = f"/api/0/issues/{issue_of(clicks[1]).pk}/"
    api.patch(url, {"status": "resolved"}, content_type="application/json")

    body = api.patch(url, {"status": "unresolved"}, content_type="application/json").json()

    assert body["status"] == "unresolved"
    assert body["resolved_at"] is None


def test_patch_with_an_unknown_status_is_400_and_says_which_are_known(api, clicks):
    issue = issue_of(clicks[1])

    response = api.patch(
        f"/api/0/issues/{issue.pk}/", {"status": "fixed"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "status": ['"fixed" is not a status: use one of unresolved, resolved, ignored.']
    }
    issue.refresh_from_db()
    assert issue.status == "unresolved"


def test_patch_without_a_status_is_400(api, clicks):
    response = api.patch(
        f"/api/0/issues/{issue_of(clicks[1]).pk}/", {}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "status" in response.json()


def test_patch_cannot_change_other_fields(api, clicks):
    issue = issue_of(clicks[1])
    before = Issue.objects.filter(pk=issue.pk).values().get()

    response = api.patch(
        f"/api/0/issues/{issue.pk}/",
        {"status": "resolved", "title": "Fine", "times_seen": 0, "is_visible": False},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {
        name: ["Read-only: only status can be changed."]
        for name in ["is_visible", "times_seen", "title"]
    }
    assert Issue.objects.filter(pk=issue.pk).values().get() == before


def test_put_and_delete_are_not_allowed(api, clicks):
    url = f"/api/0/issues/{issue_of(clicks[1]).pk}/"

    assert api.put(url, {"status": "resolved"}, content_type="application/json").status_code == 405
    assert api.delete(url).status_code == 405
    assert Issue.objects.count() == 5


# --- occurrences ---------------------------------------------------------------------------------


def test_occurrences_newest_first_with_links_to_the_replay(api, clicks):
    earlier = another_click(clicks[3], timestamp=1795537000.0, user={"id": "u-2"})
    later = another_click(clicks[3], timestamp=1795537900.0, environment="production")
    record(earlier)
    record(later)
    issue = issue_of(clicks[3])

    body = api.get(f"/api/0/issues/{issue.pk}/occurrences/").json()

    assert body["count"] == 3
    assert [occurrence["id"] for occurrence in body["results"]] == [
        later["id"],
        clicks[3]["id"],
        earlier["id"],
    ]
    fixture = body["results"][1]
    assert fixture == {
        "id": clicks[3]["id"],
        "issue": issue.pk,
        "event_id": clicks[3]["event"]["event_id"],
        "replay_id": FIXTURE_REPLAY_ID,
        "segment_id": 6,
        "timestamp": "2026-11-24T16:30:16.158000Z",
        "user": {"id": "u-77", "email": "ana@example.com", "username": "", "ip_address": ""},
        "release": "shop@1.4.2",
        "environment": "staging",
        "browser": "Chrome",
        "browser_version": "156.0.0",
        "os": "Linux",
        "os_version": "",
        "device": "",
        "url": "http://127.0.0.1:18766/cart#cart",
        "evidence": clicks[3]["evidence_data"],
        "evidence_display": clicks[3]["evidence_display"],
        "tags": clicks[3]["event"]["tags"],
        "replay_url": (
            f"http://testserver/projects/42/replays/{FIXTURE_REPLAY_ID}/"
            f"?occurrence={clicks[3]['id']}"
        ),
        "cause": None,
    }
    assert body["results"][0]["environment"] == "production"
    assert body["results"][2]["user"]["id"] == "u-2"


def test_occurrences_are_paginated(api, clicks):
    for _ in range(3):
        record(another_click(clicks[0]))
    url = f"/api/0/issues/{issue_of(clicks[0]).pk}/occurrences/?per_page=3"

    first = api.get(url).json()

    assert first["count"] == 4
    assert len(first["results"]) == 3
    assert len(api.get(first["next"]).json()["results"]) == 1


# --- replays and projects ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "replay_id", [FIXTURE_REPLAY_ID, "40196c4e-fd83-4eed-aa8e-1947c813b364"], ids=["hex", "uuid"]
)
def test_replay_with_its_segments_and_clicks(api, clicks, replay_id):
    response = api.get(f"/api/0/projects/42/replays/{replay_id}/")

    assert response.status_code == 200, response.content
    replay = response.json()
    assert replay["id"] == FIXTURE_REPLAY_ID
    assert replay["project"] == 42
    assert replay["segment_count"] == 7
    assert replay["started_at"] == "2026-11-24T16:29:28.856100Z"
    assert replay["user"] == {
        "id": "u-77",
        "email": "ana@example.com",
        "username": "",
        "ip_address": "",
    }
    assert (replay["browser"], replay["os"], replay["environment"], replay["release"]) == (
        "Chrome",
        "Linux",
        "staging",
        "shop@1.4.2",
    )
    assert replay["sdk_name"] == "sentry.javascript.browser"
    assert "http://127.0.0.1:18766/cart" in replay["urls"]
    clicks_counted = [replay[f"{kind}_clicks"] for kind in ("dead", "rage", "slow", "multi")]
    assert clicks_counted == [3, 1, 1, 1]
    assert [segment["segment_id"] for segment in replay["segments"]] == list(range(7))
    first = replay["segments"][0]
    assert first["size"] == 6283
    assert first["compressed_size"] == 1640
    assert first["timestamp"] == "2026-11-24T16:29:34.504000Z"
    assert sum(segment["dead_clicks"] for segment in replay["segments"]) == 3
    assert replay["replay_url"] == f"http://testserver/projects/42/replays/{FIXTURE_REPLAY_ID}/"


@pytest.mark.parametrize(
    "url",
    [
        "/api/0/projects/42/replays/00000000000000000000000000000000/",
        "/api/0/projects/42/replays/not-a-replay-id/",
        f"/api/0/projects/43/replays/{FIXTURE_REPLAY_ID}/",
        f"/api/0/projects/999/replays/{FIXTURE_REPLAY_ID}/",
    ],
    ids=["unknown", "malformed", "other-project", "unknown-project"],
)
def test_unknown_replay_is_404(api, clicks, url):
    Project.objects.create(id=43, name="blog", org_id=7)

    assert api.get(url).status_code == 404


def test_projects_list(api, clicks):
    Project.objects.create(id=43, name="blog", org_id=7)

    body = api.get("/api/0/projects/").json()

    assert body["count"] == 2
    assert [(project["id"], project["name"], project["org_id"]) for project in body["results"]] == [
        (42, "shop", 7),
        (43, "blog", 7),
    ]


# --- authentication ------------------------------------------------------------------------------

# --- status changes in bulk, and their conditions -------------------------------------------------


def bulk(api: Client, query: str, body: dict[str, Any]):
    return api.patch(ISSUES + query, body, content_type="application/json")


def test_bulk_patch_changes_the_issues_of_the_ids_only(api, clicks, operator):
    chosen = [issue_of(clicks[0]).pk, issue_of(clicks[2]).pk]
    counters = dict(Issue.objects.values_list("pk", "times_seen"))

    response = bulk(api, f"?id={chosen[0]}&id={chosen[1]}", {"status": "resolved"})

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "resolved", "ids": sorted(chosen)}
    assert sorted(Issue.objects.filter(status="resolved").values_list("pk", flat=True)) == sorted(
        chosen
    )
    assert dict(Issue.objects.values_list("pk", "times_seen")) == counters
    assert IssueActivity.objects.filter(user=operator, to_status="resolved").count() == 2


def test_bulk_patch_without_ids_changes_what_the_filters_match(api, clicks):
    response = bulk(api, "?type=replay_dead_click&status=unresolved", {"status": "ignored"})

    assert response.status_code == 200, response.content
    assert len(response.json()["ids"]) == 3
    assert (
        sorted(Issue.objects.filter(status="ignored").values_list("type", flat=True))
        == ["replay_dead_click"] * 3
    )


def test_bulk_patch_with_an_unknown_id_is_404_and_changes_nothing(api, clicks):
    known = issue_of(clicks[0]).pk

    response = bulk(api, f"?id={known}&id=999999", {"status": "resolved"})

    assert response.status_code == 404
    assert not Issue.objects.exclude(status="unresolved").exists()
    assert bulk(api, "?id=abc", {"status": "resolved"}).status_code == 400
    too_big = f"?id={known}&id=309319163015688188067840"
    assert bulk(api, too_big, {"status": "resolved"}).status_code == 404
    assert bulk(api, f"?id={known}&id=-3", {"status": "resolved"}).status_code == 404
    assert not Issue.objects.exclude(status="unresolved").exists()


def test_bulk_patch_takes_the_ignore_conditions(api, clicks, settings):
    settings.ISSUES_NOW = "2030-01-01T12:00:00+00:00"
    issue = issue_of(clicks[1])

    response = bulk(
        api, f"?id={issue.pk}", {"status": "ignored", "ignore_duration": 60, "ignore_count": 5}
    )

    assert response.status_code == 200, response.content
    body = api.get(f"/api/0/issues/{issue.pk}/").json()
    assert (body["status"], body["ignore_until"], body["ignore_count"]) == (
        "ignored",
        "2030-01-01T13:00:00Z",
        5,
    )
    # An hour later the issue is unresolved again when it is read.
    settings.ISSUES_NOW = "2030-01-01T13:00:00+00:00"
    body = api.get(f"/api/0/issues/{issue.pk}/").json()
    assert (body["status"], body["ignore_until"]) == ("unresolved", None)


def test_the_time_range_of_the_api(api, clicks, settings):
    settings.ISSUES_NOW = "2026-11-24T18:00:00+00:00"  # 1.5 h after the fixture's clicks
    assert len(listed(api, "?period=24h")) == 5
    assert listed(api, "?period=custom&until=2026-11-23") == []
    assert api.get(ISSUES + "?period=custom&until=").status_code == 400
    assert api.get(ISSUES + "?since=2026-02-31").status_code == 400


def test_an_ignore_until_a_time_and_for_a_duration_ends_at_the_earlier(api, clicks, settings):
    settings.ISSUES_NOW = "2030-01-01T12:00:00+00:00"
    url = f"/api/0/issues/{issue_of(clicks[1]).pk}/"
    change = {"status": "ignored", "ignore_until": "2030-01-01T12:30:00Z"}

    later = api.patch(url, {**change, "ignore_duration": 60}, content_type="application/json")
    sooner = api.patch(url, {**change, "ignore_duration": 10}, content_type="application/json")

    assert later.json()["ignore_until"] == "2030-01-01T12:30:00Z"
    assert sooner.json()["ignore_until"] == "2030-01-01T12:10:00Z"


def test_patch_resolves_in_the_next_release(api, clicks):
    issue = issue_of(clicks[1])

    body = api.patch(
        f"/api/0/issues/{issue.pk}/",
        {"status": "resolved", "in_next_release": True},
        content_type="application/json",
    ).json()

    assert (body["status"], body["resolved_in_release"]) == ("resolved", "shop@1.4.2")


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ({"status": "resolved", "ignore_count": 3}, "ignore_count"),
        ({"status": "ignored", "in_next_release": True}, "in_next_release"),
        ({"status": "ignored", "ignore_count": 0}, "ignore_count"),
        ({"status": "unresolved", "in_next_release": False}, "in_next_release"),
    ],
)
def test_conditions_that_do_not_fit_the_status_are_400(api, clicks, body, refused):
    issue = issue_of(clicks[1])

    response = api.patch(f"/api/0/issues/{issue.pk}/", body, content_type="application/json")

    assert response.status_code == 400
    assert refused in response.json()
    assert Issue.objects.get(pk=issue.pk).status == "unresolved"


EVERY_ENDPOINT = [
    ("get", "/api/0/projects/"),
    ("get", ISSUES),
    ("patch", ISSUES),
    ("get", "/api/0/issues/{issue}/"),
    ("patch", "/api/0/issues/{issue}/"),
    ("get", "/api/0/issues/{issue}/occurrences/"),
    ("get", f"/api/0/projects/42/replays/{FIXTURE_REPLAY_ID}/"),
    ("get", "/api/schema/"),
]


@pytest.mark.parametrize(("method", "url"), EVERY_ENDPOINT)
def test_anonymous_is_refused_everywhere(client, clicks, method, url):
    issue = issue_of(clicks[0])

    response = getattr(client, method)(
        url.format(issue=issue.pk), {"status": "resolved"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    issue.refresh_from_db()
    assert issue.status == "unresolved"


@pytest.mark.parametrize(("method", "url"), EVERY_ENDPOINT)
def test_a_wrong_token_is_refused_everywhere(client, clicks, method, url):
    response = getattr(client, method)(
        url.format(issue=issue_of(clicks[0]).pk),
        {"status": "resolved"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567",
    )

    assert response.status_code == 401


def test_token_from_drf_create_token_works(client, clicks, operator):
    call_command("drf_create_token", "operator", stdout=StringIO())
    token = Token.objects.get(user=operator).key
    authorization = {"HTTP_AUTHORIZATION": f"Token {token}"}
    issue = issue_of(clicks[0])

    listed_issues = client.get(ISSUES, **authorization)
    patched = client.patch(
        f"/api/0/issues/{issue.pk}/",
        {"status": "resolved"},
        content_type="application/json",
        **authorization,
    )

    assert listed_issues.status_code == 200
    assert listed_issues.json()["count"] == 5
    assert patched.status_code == 200
    assert patched.json()["status"] == "resolved"


def test_session_patch_needs_the_csrf_token(clicks, operator):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator)
    issue = issue_of(clicks[0])
    url = f"/api/0/issues/{issue.pk}/"

    assert browser.get(url).status_code == 200
    refused = browser.patch(url, {"status": "resolved"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    issue.refresh_from_db()
    assert issue.status == "unresolved"

    csrf_secret = "a" * 32
    browser.cookies["csrftoken"] = csrf_secret
    accepted = browser.patch(
        url,
        {"status": "resolved"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf_secret,
    )
    assert accepted.status_code == 200
    issue.refresh_from_db()
    assert issue.status == "resolved"


# --- the OpenAPI document ------------------------------------------------------------------------


def test_schema_is_served_to_a_signed_in_user(api):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert {
        "/api/0/projects/",
        "/api/0/projects/{project_id}/issues/",
        "/api/0/issues/{id}/",
        "/api/0/issues/{issue_id}/occurrences/",
        "/api/0/projects/{project_id}/replays/{replay_id}/",
    } <= set(document["paths"])
    parameters = {
        parameter["name"]
        for parameter in document["paths"]["/api/0/projects/{project_id}/issues/"]["get"][
            "parameters"
        ]
    }
    assert {"type", "status", "environment", "release", "browser", "query", "sort"} <= parameters
    assert {"page", "per_page"} <= parameters


def test_swagger_ui_is_served_to_a_signed_in_user(api):
    response = api.get("/api/docs/")

    assert response.status_code == 200
    assert b"/api/schema/" in response.content


def test_schema_validates_without_warnings(db, tmp_path):
    schema = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(schema))

    assert "/api/0/issues/{id}/" in yaml.safe_load(schema.read_text())["paths"]
