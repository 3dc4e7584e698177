"""The replay page's server side: the click window and the trail back to the issue, in the page's
player configuration and breadcrumbs, over the real ``failing`` and main SDK captures stored as the
consumers store them (real database and recordings storage)."""

import re

import orjson
import pytest
from django.test import Client
from django.urls import reverse

from ingest.models import Project
from issues.models import Issue, IssueType, Occurrence
from organizations.models import Organization
from tests.issues.builders import (
    FIXTURE_REPLAY_ID,
    another_click,
    fixture_occurrences,
    record,
    store_fixture_replay,
)

PROJECT_ID = 42
FAILING_REPLAY_ID = "0d0d96a4bc914d9d91fd25394941757b"
PLACE_ORDER_CLICK_MS = 1_796_141_661_884


@pytest.fixture
def signed_in(client, django_user_model, organization) -> Client:
    user = django_user_model.objects.create_user("dev", "dev@example.com", "secret-pass")
    organization.members.add(user)
    client.force_login(user)
    return client


@pytest.fixture
def stored(sdk_project) -> None:
    store_fixture_replay(PROJECT_ID)
    store_fixture_replay(PROJECT_ID, scenario="failing")


def replay_url(replay_id: str, query: str = "") -> str:
    return reverse("issues:replay", args=[PROJECT_ID, replay_id]) + query


def player_config(response) -> dict:
    match = re.search(
        r'<script id="player-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the replay page has no player bootstrap"
    return orjson.loads(match.group(1))


def trail(response) -> str:
    match = re.search(r'<nav class="breadcrumbs".*?</nav>', response.content.decode(), re.S)
    assert match, "the replay page has no breadcrumb trail"
    return match.group(0)


def failing_click() -> Occurrence:
    return Occurrence.objects.get(replay_id=FAILING_REPLAY_ID, issue__type=IssueType.DEAD_CLICK)


def test_the_focused_clicks_window_is_the_sdks_wait(signed_in, stored):
    click = failing_click()
    response = signed_in.get(replay_url(FAILING_REPLAY_ID, f"?occurrence={click.occurrence_id}"))
    config = player_config(response)
    # The SDK waited 7 s for the page to answer the click on "Place order" (endReason timeout).
    assert config["focusWindow"] == {
        "startMs": PLACE_ORDER_CLICK_MS,
        "endMs": PLACE_ORDER_CLICK_MS + 7000,
    }
    assert config["errors"] == []


def test_no_window_without_a_focused_click(signed_in, stored):
    assert player_config(signed_in.get(replay_url(FAILING_REPLAY_ID)))["focusWindow"] is None
    at_a_time = replay_url(FAILING_REPLAY_ID, f"?t={PLACE_ORDER_CLICK_MS}")
    assert player_config(signed_in.get(at_a_time))["focusWindow"] is None


def test_the_trail_keeps_the_issue_of_the_occurrence_asked_for(signed_in, stored):
    click = failing_click()
    response = signed_in.get(replay_url(FAILING_REPLAY_ID, f"?occurrence={click.occurrence_id}"))
    issue_link = f'href="{reverse("issues:issue-detail", args=[click.issue.pk])}"'
    assert issue_link in trail(response)
    assert click.issue.short_id in trail(response)
    assert player_config(response)["issueParam"] == click.issue.pk
    # The click list's links carry it, so a jump (or a reload after one) keeps the trail.
    assert (
        f"?occurrence={click.occurrence_id}&amp;issue={click.issue.pk}" in response.content.decode()
    )


def test_the_trail_keeps_the_issue_given_by_id(signed_in, stored):
    rage = Issue.objects.get(type=IssueType.RAGE_CLICK)
    response = signed_in.get(replay_url(FIXTURE_REPLAY_ID, f"?issue={rage.pk}"))
    assert rage.short_id in trail(response)
    assert player_config(response)["issueParam"] == rage.pk


@pytest.mark.parametrize("wanted", ["999999", "abc", "", "-1", "\uff11"])
def test_an_unknown_issue_leaves_the_trail_plain(signed_in, stored, wanted):
    response = signed_in.get(replay_url(FIXTURE_REPLAY_ID, f"?issue={wanted}"))
    assert response.status_code == 200
    assert 'data-testid="came-from"' not in trail(response)
    assert player_config(response)["issueParam"] is None


def test_another_organizations_issue_is_not_named_in_the_trail(signed_in, stored):
    other_org = Organization.objects.create(id=8, name="Other", slug="other")
    Project.objects.create(id=99, name="theirs", org=other_org)
    theirs_click = another_click(fixture_occurrences()[0])
    theirs_click["project_id"] = 99
    theirs = Issue.objects.get(pk=record(theirs_click).issue_id)
    assert theirs.project_id == 99
    response = signed_in.get(replay_url(FAILING_REPLAY_ID, f"?issue={theirs.pk}"))
    assert 'data-testid="came-from"' not in trail(response)
    assert theirs.short_id not in trail(response)


def test_the_header_leaves_the_duration_to_the_player(signed_in, stored):
    """The replay event's timestamps (00:56 for the main capture) are not the recording's length
    (00:47): the page writes the player's own total into the header once it has loaded."""
    page = signed_in.get(replay_url(FIXTURE_REPLAY_ID)).content.decode()
    assert '<span data-testid="replay-duration" hidden></span>' in page
    assert "00:56" not in page


def test_the_replays_stored_error_events_are_on_its_timeline(signed_in, stored):
    from datetime import UTC, datetime

    from replay_errors.models import ReplayErrorEvent

    thrown_at = datetime.fromtimestamp((PLACE_ORDER_CLICK_MS + 12) / 1000, tz=UTC)
    ReplayErrorEvent.objects.create(
        project_id=PROJECT_ID,
        replay_id=FAILING_REPLAY_ID,
        event_id="5b1a7c8e9d0f41a2b3c4d5e6f7a8b9c0",
        timestamp=thrown_at,
        received_at=thrown_at,
        type="TypeError",
        value="Cannot read properties of null (reading 'total')",
        culprit="placeOrder(app.js)",
    )
    errors = player_config(signed_in.get(replay_url(FAILING_REPLAY_ID)))["errors"]
    assert errors == [
        {
            "ms": PLACE_ORDER_CLICK_MS + 12,
            "eventId": "5b1a7c8e9d0f41a2b3c4d5e6f7a8b9c0",
            "level": "error",
            "type": "TypeError",
            "value": "Cannot read properties of null (reading 'total')",
            "culprit": "placeOrder(app.js)",
        }
    ]
