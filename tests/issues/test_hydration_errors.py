"""Hydration errors in the issues stage: the hydrate capture grouped (one issue per page), and the
UI and API showing an issue without an element, without errors.

Real database and recordings storage: ``store_fixture_replay(scenario="hydrate")`` stores the
captured replay and groups its occurrences as the two consumers do.
"""

import html

import pytest
from django.test import Client
from django.urls import reverse

from issues.grouptypes import HYDRATION_ERROR
from issues.models import Issue
from replays.models import Replay
from tests.issues.builders import store_fixture_replay

PROJECT_ID = 42
HYDRATE_REPLAY_ID = "90e1eddb40b641899ece15447de2fb5a"


@pytest.fixture
def signed_in(client, django_user_model, organization) -> Client:
    user = django_user_model.objects.create_user("dev", "dev@example.com", "secret-pass")
    organization.members.add(user)
    client.force_login(user)
    return client


@pytest.fixture
def hydrate(sdk_project) -> list[dict]:
    return store_fixture_replay(PROJECT_ID, scenario="hydrate")


def hydration_issues() -> list[Issue]:
    return list(Issue.objects.filter(type=HYDRATION_ERROR.slug).order_by("culprit"))


def test_the_capture_groups_into_one_visible_issue_per_page(hydrate):
    index, cart = sorted(hydration_issues(), key=lambda issue: issue.culprit != "/index.html")
    assert [(i.culprit, i.times_seen, i.users_seen) for i in (index, cart)] == [
        ("/index.html", 1, 1),
        ("/cart", 2, 1),
    ]
    for issue in (index, cart):
        assert issue.is_visible
        assert issue.title == HYDRATION_ERROR.title
        assert issue.level == HYDRATION_ERROR.default_level
        assert issue.selector == ""
        assert issue.fingerprint == [HYDRATION_ERROR.slug, issue.culprit]
        occurrence = issue.occurrences.first()
        assert occurrence.replay_id.hex == HYDRATE_REPLAY_ID
        assert (occurrence.release, occurrence.environment) == ("shop@1.4.2", "staging")
        assert occurrence.user_id == "u-77"
        assert occurrence.url.endswith(issue.culprit)
    # The dead clicks of the same session are an issue of their own: one, since they are on one
    # button with a test id (a strong identity: one issue across pages), on both pages.
    [dead] = Issue.objects.filter(type="replay_dead_click")
    assert dead.times_seen == 2
    replay = Replay.objects.get()
    assert (replay.hydration_errors, replay.dead_clicks) == (3, 2)
    assert [s.hydration_errors for s in replay.segments.order_by("segment_id")] == [1, 2, 0]


def test_the_issue_list_shows_and_filters_them(signed_in, hydrate):
    url = reverse("issues:issue-list", args=[PROJECT_ID])
    page = signed_in.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-issue-type="replay_hydration_error"') == 2
    assert "Hydration error" in text  # the registry's label, on the badge and in the filter
    assert 'value="replay_hydration_error"' in text
    only = signed_in.get(url + "?type=replay_hydration_error").content.decode()
    assert only.count('data-testid="issue-row"') == 2
    assert 'data-issue-type="replay_dead_click"' not in only


def test_the_issue_page_shows_the_evidence_and_links_to_the_replay_at_that_moment(
    signed_in, hydrate
):
    cart = next(issue for issue in hydration_issues() if issue.culprit == "/cart")
    response = signed_in.get(reverse("issues:issue-detail", args=[cart.pk]))
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert "Hydration Error" in text
    assert "The element" not in text  # no element panel for a type without a selector
    assert 'data-testid="evidence"' in text
    assert "http://127.0.0.1:18766/cart" in text
    assert text.count('data-testid="occurrence-row"') == 2
    latest = cart.occurrences.order_by("-timestamp").first()
    link = f"/replays/{HYDRATE_REPLAY_ID}/?occurrence={latest.occurrence_id}"
    assert link in text or link.replace(HYDRATE_REPLAY_ID, str(latest.replay_id)) in text
    replay = signed_in.get(
        reverse("issues:replay", args=[PROJECT_ID, latest.replay_id])
        + f"?occurrence={latest.occurrence_id}"
    )
    assert replay.status_code == 200
    assert round(latest.timestamp.timestamp() * 1000) == 1796141645201  # the breadcrumb's time
    assert b"hydration error" in replay.content  # the player's marker for it


def test_the_selectors_page_leaves_out_issues_without_an_element(signed_in, hydrate):
    response = signed_in.get(reverse("issues:elements", args=[PROJECT_ID]))
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert 'data-selector=""' not in text
    assert "(no selector)" not in text
    assert text.count('data-testid="selector-row"') == 1  # body > button#buy, on both pages


def test_the_api_lists_filters_and_shows_them(signed_in, hydrate):
    issues_url = f"/api/0/projects/{PROJECT_ID}/issues/"
    listed = signed_in.get(issues_url + "?type=replay_hydration_error")
    assert listed.status_code == 200, listed.content
    results = listed.json()["results"]
    assert sorted(issue["culprit"] for issue in results) == ["/cart", "/index.html"]
    for issue in results:
        assert issue["type"] == "replay_hydration_error"
        assert issue["title"] == "Hydration Error"
        detail = signed_in.get(f"/api/0/issues/{issue['id']}/")
        assert detail.status_code == 200, detail.content
        assert detail.json()["metadata"]["selector"] == ""
        occurrences = signed_in.get(f"/api/0/issues/{issue['id']}/occurrences/")
        assert occurrences.status_code == 200, occurrences.content
        assert occurrences.json()["results"][0]["replay_id"].replace("-", "") == HYDRATE_REPLAY_ID
    replay = signed_in.get(f"/api/0/projects/{PROJECT_ID}/replays/{HYDRATE_REPLAY_ID}/")
    assert replay.status_code == 200, replay.content
