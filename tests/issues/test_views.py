"""The web UI's pages over the SDK's captured replay, grouped as the consumers do it.

Real database, real recordings storage, no mocks: ``store_fixture_replay`` stores the replay, its
seven segments' files and the five issues (dead and rage on button#buy, slow on button#slowok,
dead on a#cart and input#submit on /cart).
"""

import re
import uuid
import zlib
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.core.files.storage import storages
from django.test import Client
from django.urls import reverse

from ingest.models import Project
from issues.models import Issue, IssueStatus, IssueType, Occurrence
from issues.services import issue_set_status
from organizations.models import Organization
from replays.detection.fingerprint import legacy_entry, legacy_parts
from replays.models import Replay
from tests.issues.builders import (
    FIXTURE_REPLAY_ID,
    another_click,
    fixture_occurrences,
    record,
    store_fixture_replay,
)

PROJECT_ID = 42
BUY = "body > button#buy.btn.primary"


@pytest.fixture
def user(django_user_model, organization):
    """A member of the organization that owns project 42."""
    user = django_user_model.objects.create_user("dev", "dev@example.com", "secret-pass")
    organization.members.add(user)
    return user


@pytest.fixture
def signed_in(client, user) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def stored(sdk_project) -> list[dict]:
    return store_fixture_replay(PROJECT_ID)


def issue_of(issue_type: str, selector: str = BUY) -> Issue:
    return Issue.objects.get(type=issue_type, selector=selector)


def rows(response) -> list[tuple[str, str]]:
    """(issue id, type) of each issue row, in page order."""
    return re.findall(
        r'data-testid="issue-row" data-issue-type="([a-z_]+)" data-issue-id="(\d+)"',
        response.content.decode(),
    )


def row_ids(response) -> list[int]:
    return [int(issue_id) for _, issue_id in rows(response)]


def list_url(**params) -> str:
    url = reverse("issues:issue-list", args=[PROJECT_ID])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def replay_url(replay_id: str = FIXTURE_REPLAY_ID) -> str:
    return reverse("issues:replay", args=[PROJECT_ID, replay_id])


def recording_url(replay_id: str = FIXTURE_REPLAY_ID) -> str:
    return reverse("issues:replay-recording", args=[PROJECT_ID, replay_id])


def player_config(response) -> dict:
    match = re.search(
        r'<script id="player-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the replay page has no player bootstrap"
    return orjson.loads(match.group(1))


def new_element_click(base: dict, number: int, **event_fields) -> dict:
    """A click on another element (its own issue), in a replay of its own."""
    click = another_click(base, **event_fields)
    selector = f"body > button#b{number}"
    slug, _, _ = legacy_parts(click["fingerprint"][1])
    page = f"/page/{number}"
    click["fingerprint"] = [
        f'v2 {slug} tag="button" id="b{number}" path="{selector}" page="{page}"',
        legacy_entry([slug, selector, page]),
    ]
    click["subtitle"] = selector
    click["evidence_data"]["selector"] = selector
    return click


# --- Access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        f"/projects/{PROJECT_ID}/issues/",
        "/issues/1/",
        f"/projects/{PROJECT_ID}/replays/{FIXTURE_REPLAY_ID}/",
        f"/projects/{PROJECT_ID}/replays/{FIXTURE_REPLAY_ID}/recording.json",
        f"/projects/{PROJECT_ID}/elements/",
        f"/projects/{PROJECT_ID}/settings/",
        f"/projects/{PROJECT_ID}/settings/alerts/",
    ],
)
def test_pages_send_anonymous_users_to_the_login_page(client, stored, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_anonymous_status_change_goes_to_login_and_changes_nothing(client, stored):
    issue = issue_of(IssueType.DEAD_CLICK)
    response = client.post(reverse("issues:issue-status", args=[issue.pk]), {"status": "resolved"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    issue.refresh_from_db()
    assert issue.status == IssueStatus.UNRESOLVED


def test_login_page_renders_and_signs_in(client, user, stored):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content
    assert b'name="password"' in page.content
    response = client.post(reverse("login"), {"username": "dev", "password": "secret-pass"})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # home, then on to the only project's issues


def test_logout_is_a_post_form_in_the_header(signed_in, stored):
    page = signed_in.get(list_url()).content.decode()
    assert re.search(r'<form method="post" action="/accounts/logout/">', page)
    assert signed_in.post(reverse("logout")).status_code == 302
    assert signed_in.get(list_url()).status_code == 302


# --- Home ------------------------------------------------------------------------------------


def test_home_goes_to_the_only_projects_issues(signed_in, stored):
    response = signed_in.get("/")
    assert response.status_code == 302
    assert response["Location"] == list_url()


def test_home_lists_projects_when_there_are_several(signed_in, stored):
    from ingest.models import Project

    Project.objects.create(id=43, name="checkout", org_id=7)
    response = signed_in.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="project-row"') == 2
    assert "checkout" in page
    assert list_url() in page


def test_home_without_projects_says_how_to_make_one(signed_in, db):
    response = signed_in.get("/")
    assert response.status_code == 200
    assert b"createproject" in response.content


# --- Issue list ------------------------------------------------------------------------------


def test_issue_list_shows_every_fixture_issue_newest_first(signed_in, stored):
    response = signed_in.get(list_url())
    assert response.status_code == 200
    page = response.content.decode()
    expected = list(Issue.objects.order_by("-last_seen").values_list("type", "pk"))
    assert rows(response) == [(issue_type, str(pk)) for issue_type, pk in expected]
    assert page.count('data-testid="issue-title"') == 5
    # The unresolved tab says the status: no badge repeats it (the "All" tab shows them).
    assert page.count('data-testid="status-badge"') == 0
    assert (
        signed_in.get(list_url() + "?status=all")
        .content.decode()
        .count('data-testid="status-badge"')
        == 5
    )
    assert 'data-testid="filter-type"' in page
    assert "body &gt; button#buy.btn.primary" in page
    assert "/index.html" in page
    # The page location folds the fragment, as grouping does: /cart#cart is /cart.
    assert '">/cart</span>' in page
    assert "Buy now" in page
    assert page.count('<svg class="sparkline"') == 5
    # Header: project switcher, links to the selectors page and the API docs.
    assert reverse("issues:elements", args=[PROJECT_ID]) in page
    assert "/api/docs/" in page
    assert "shop" in page


def test_issue_list_offers_the_projects_environments_releases_and_browsers(signed_in, stored):
    page = signed_in.get(list_url()).content.decode()
    assert "<option>staging</option>" in page
    assert "<option>shop@1.4.2</option>" in page
    assert "<option>Chrome</option>" in page


def test_issue_list_filters_by_type(signed_in, stored):
    response = signed_in.get(list_url(type=IssueType.DEAD_CLICK))
    assert {issue_type for issue_type, _ in rows(response)} == {IssueType.DEAD_CLICK}
    assert len(rows(response)) == 3
    assert 'value="replay_dead_click" selected' in response.content.decode()


def test_issue_list_shows_unresolved_by_default_and_other_statuses_on_request(signed_in, stored):
    resolved = issue_of(IssueType.RAGE_CLICK)
    ignored = issue_of(IssueType.SLOW_CLICK, "body > button#slowok.btn")
    issue_set_status(resolved, IssueStatus.RESOLVED)
    issue_set_status(ignored, IssueStatus.IGNORED)

    assert set(row_ids(signed_in.get(list_url()))) == set(
        Issue.objects.filter(status=IssueStatus.UNRESOLVED).values_list("pk", flat=True)
    )
    assert row_ids(signed_in.get(list_url(status="resolved"))) == [resolved.pk]
    assert row_ids(signed_in.get(list_url(status="ignored"))) == [ignored.pk]
    assert len(rows(signed_in.get(list_url(status="all")))) == 5
    assert len(rows(signed_in.get(list_url(status="")))) == 5
    tabs = signed_in.get(list_url()).content.decode()
    assert re.search(r'status-tab-unresolved".*?<span class="count">3</span>', tabs)
    assert re.search(r'status-tab-all".*?<span class="count">5</span>', tabs)


def test_issue_list_filters_by_environment_release_and_browser(signed_in, stored):
    base = fixture_occurrences()[0]
    record(
        new_element_click(
            base,
            1,
            environment="production",
            release="shop@2.0.0",
            contexts={"browser": {"name": "Firefox", "version": "140"}},
        )
    )
    other = Issue.objects.get(selector="body > button#b1")
    for params in (
        {"environment": "production"},
        {"release": "shop@2.0.0"},
        {"browser": "Firefox"},
    ):
        assert row_ids(signed_in.get(list_url(**params))) == [other.pk], params
    assert len(rows(signed_in.get(list_url(environment="staging")))) == 5
    assert rows(signed_in.get(list_url(browser="Safari"))) == []


def test_issue_list_search_matches_selector_and_url(signed_in, stored):
    assert {pk for pk in row_ids(signed_in.get(list_url(query="button%23buy")))} == {
        issue_of(IssueType.DEAD_CLICK).pk,
        issue_of(IssueType.RAGE_CLICK).pk,
    }
    assert len(rows(signed_in.get(list_url(query="cart")))) == 2
    response = signed_in.get(list_url(query="nothing-like-this"))
    assert rows(response) == []
    assert b"No issues match" in response.content


def test_issue_list_sorts_by_times_seen_and_users(signed_in, stored):
    slow = issue_of(IssueType.SLOW_CLICK, "body > button#slowok.btn")
    slow_click = next(o for o in fixture_occurrences() if "slowok" in o["subtitle"])
    for n in range(2):
        record(another_click(slow_click, user={"id": f"u-{n}"}))
    assert row_ids(signed_in.get(list_url(sort="times_seen")))[0] == slow.pk
    assert row_ids(signed_in.get(list_url(sort="users")))[0] == slow.pk
    assert row_ids(signed_in.get(list_url(sort="first_seen")))[0] != slow.pk


def test_issue_list_pages_through_issues(signed_in, stored, settings):
    settings.ISSUES_PAGE_SIZE = 2
    seen = []
    for page in (1, 2, 3):
        response = signed_in.get(list_url(page=page))
        seen += row_ids(response)
    assert len(seen) == 5
    assert len(set(seen)) == 5
    page_two = signed_in.get(list_url(page=2, type=IssueType.DEAD_CLICK)).content.decode()
    assert "3\N{EN DASH}3 of 3" in page_two
    # Page links keep the filters.
    assert "type=replay_dead_click" in page_two
    assert "page=1" in page_two


def test_issue_list_hides_issues_below_the_noise_threshold(signed_in, stored):
    hidden = issue_of(IssueType.DEAD_CLICK)
    Issue.objects.filter(pk=hidden.pk).update(is_visible=False)
    assert hidden.pk not in row_ids(signed_in.get(list_url(status="all")))
    assert signed_in.get(reverse("issues:issue-detail", args=[hidden.pk])).status_code == 404


def test_issue_list_draws_the_last_14_days(signed_in, stored):
    base = fixture_occurrences()[0]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).timestamp()
    for _ in range(3):
        record(new_element_click(base, 1, timestamp=yesterday))
    page = signed_in.get(list_url()).content.decode()
    day = datetime.fromtimestamp(yesterday, UTC)
    assert f"<title>{day:%b} {day.day}: 3</title>" in page


def test_issue_list_query_count_does_not_grow_with_issues(
    signed_in, stored, django_assert_max_num_queries
):
    base = fixture_occurrences()[0]
    for number in range(30):
        record(new_element_click(base, number))
    # 13: one of them ends the ignores whose time has passed (issues_wake_ignored).
    with django_assert_max_num_queries(13):
        response = signed_in.get(list_url())
    assert len(rows(response)) == 25


def test_issue_list_of_an_empty_project_says_how_to_send_replays(signed_in, sdk_project):
    page = signed_in.get(list_url()).content.decode()
    assert 'data-testid="empty-state"' in page
    assert f"/api/{PROJECT_ID}/envelope/" in page
    assert sdk_project.public_key in page  # the DSN to paste into Sentry.init


def test_issue_list_of_an_unknown_project_is_404(signed_in, stored):
    assert signed_in.get(reverse("issues:issue-list", args=[999])).status_code == 404


# --- Issue page ------------------------------------------------------------------------------


def test_issue_page_shows_the_element_counts_trend_breakdowns_and_occurrences(signed_in, stored):
    issue = issue_of(IssueType.RAGE_CLICK)
    response = signed_in.get(reverse("issues:issue-detail", args=[issue.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "body &gt; button#buy.btn.primary" in page
    assert "&lt;button&gt;" in page
    assert "Buy now" in page
    assert "buy-button" in page  # an attribute of the element
    assert "http://127.0.0.1:18766/index.html" in page
    assert '<svg class="trend"' in page
    for field in ("page", "browser", "os", "release", "environment"):
        assert f'data-testid="breakdown-{field}"' in page
    assert re.search(r"Chrome</span><span class=\"muted\">1 · 100.0%", page)
    assert re.search(r"/index.html</span><span class=\"muted\">1 · 100.0%", page)
    assert "staging" in page
    assert "shop@1.4.2" in page
    assert "Linux" in page
    assert page.count('data-testid="occurrence-row"') == 1
    occurrence = Occurrence.objects.get(issue=issue)
    link = f"{replay_url()}?occurrence={occurrence.occurrence_id}"
    assert f'data-testid="replay-link" href="{link}"' in page
    assert 'data-testid="resolve-button"' in page
    assert 'data-testid="ignore-button"' in page
    assert 'data-testid="unresolve-button"' not in page
    assert "ana@example.com" in page


def test_issue_page_pages_through_occurrences(signed_in, stored):
    base = fixture_occurrences()[0]
    for _ in range(24):
        record(another_click(base))
    issue = issue_of(IssueType.DEAD_CLICK)
    url = reverse("issues:issue-detail", args=[issue.pk])
    first = signed_in.get(url).content.decode()
    second = signed_in.get(url + "?page=2").content.decode()
    assert first.count('data-testid="occurrence-row"') == 20
    assert second.count('data-testid="occurrence-row"') == 5
    assert "21\N{EN DASH}25 of 25" in second


def test_issue_page_says_regressed(signed_in, stored):
    issue = issue_of(IssueType.DEAD_CLICK)
    Issue.objects.filter(pk=issue.pk).update(regressed_at=datetime.now(UTC))
    page = signed_in.get(reverse("issues:issue-detail", args=[issue.pk])).content.decode()
    assert "Regressed" in page
    Issue.objects.filter(pk=issue.pk).update(status=IssueStatus.RESOLVED)
    page = signed_in.get(reverse("issues:issue-detail", args=[issue.pk])).content.decode()
    assert "Regressed" not in page
    assert 'data-testid="unresolve-button"' in page
    assert 'data-testid="resolve-button"' not in page


def test_unknown_issue_is_404(signed_in, stored):
    assert signed_in.get(reverse("issues:issue-detail", args=[99999])).status_code == 404


# --- Status changes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [("resolved", "resolved"), ("ignored", "ignored"), ("unresolved", "reopened")],
)
def test_status_buttons_change_the_status_and_go_back(signed_in, stored, status, message):
    issue = issue_of(IssueType.DEAD_CLICK)
    if status == "unresolved":
        Issue.objects.filter(pk=issue.pk).update(status=IssueStatus.IGNORED)
    url = reverse("issues:issue-status", args=[issue.pk])
    response = signed_in.post(url, {"status": status}, follow=True)
    issue.refresh_from_db()
    assert issue.status == status
    assert response.redirect_chain[-1][0] == reverse("issues:issue-detail", args=[issue.pk])
    assert f"{issue.short_id} {message}" in response.content.decode()
    if status == "resolved":
        assert issue.resolved_at is not None


def test_status_change_returns_to_a_local_next_page_only(signed_in, stored):
    issue = issue_of(IssueType.DEAD_CLICK)
    url = reverse("issues:issue-status", args=[issue.pk])
    back = list_url(type="replay_dead_click")
    assert signed_in.post(url, {"status": "ignored", "next": back})["Location"] == back
    response = signed_in.post(url, {"status": "unresolved", "next": "https://evil.example/"})
    assert response["Location"] == reverse("issues:issue-detail", args=[issue.pk])


def test_status_change_refuses_unknown_statuses_and_get(signed_in, stored):
    issue = issue_of(IssueType.DEAD_CLICK)
    url = reverse("issues:issue-status", args=[issue.pk])
    assert signed_in.post(url, {"status": "deleted"}).status_code == 400
    assert signed_in.get(url).status_code == 405
    assert (
        signed_in.post(
            reverse("issues:issue-status", args=[99999]), {"status": "resolved"}
        ).status_code
        == 404
    )
    issue.refresh_from_db()
    assert issue.status == IssueStatus.UNRESOLVED


def test_status_change_needs_the_csrf_token(user, stored):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    issue = issue_of(IssueType.DEAD_CLICK)
    url = reverse("issues:issue-status", args=[issue.pk])
    assert browser.post(url, {"status": "resolved"}).status_code == 403
    issue.refresh_from_db()
    assert issue.status == IssueStatus.UNRESOLVED

    page = browser.get(reverse("issues:issue-detail", args=[issue.pk])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(url, {"status": "resolved", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == IssueStatus.RESOLVED


# --- Replay page and recording ---------------------------------------------------------------


def segment_events(replay: Replay) -> list[list[dict]]:
    storage = storages["recordings"]
    events = []
    for segment in replay.segments.order_by("segment_id"):
        with storage.open(segment.recording, "rb") as recording_file:
            events.append(orjson.loads(zlib.decompress(recording_file.read())))
    return events


def test_recording_json_is_every_segments_events_in_order(signed_in, stored):
    replay = Replay.objects.get(replay_id=FIXTURE_REPLAY_ID)
    per_segment = segment_events(replay)
    assert len(per_segment) == 7
    response = signed_in.get(recording_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    events = orjson.loads(response.content)
    assert len(events) == sum(len(segment) for segment in per_segment)
    assert events == [event for segment in per_segment for event in segment]
    assert any(event["type"] == 2 for event in events)  # a full snapshot to start from
    assert "X-Replay-Missing-Segments" not in response


def test_recording_json_skips_a_missing_file_and_says_so(signed_in, stored):
    replay = Replay.objects.get(replay_id=FIXTURE_REPLAY_ID)
    per_segment = segment_events(replay)
    storages["recordings"].delete(replay.segments.get(segment_id=3).recording)
    response = signed_in.get(recording_url())
    assert response.status_code == 200
    assert response["X-Replay-Missing-Segments"] == "3"
    expected = [
        event for index, segment in enumerate(per_segment) if index != 3 for event in segment
    ]
    assert orjson.loads(response.content) == expected


def test_recording_json_of_an_unknown_replay_is_404(signed_in, stored):
    assert signed_in.get(recording_url(uuid.uuid4().hex)).status_code == 404
    other_project = reverse("issues:replay-recording", args=[999, FIXTURE_REPLAY_ID])
    assert signed_in.get(other_project).status_code == 404


def test_replay_page_shows_metadata_clicks_and_the_player(signed_in, stored):
    response = signed_in.get(replay_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="player"' in page
    assert 'data-testid="player"' in page
    assert "rrweb-player/rrweb-player.min.js" in page
    assert "rrweb-player/style.css" in page
    assert "ana@example.com" in page
    assert "Chrome" in page
    assert "Linux" in page
    assert "shop@1.4.2" in page
    assert "staging" in page
    assert '<dd data-testid="segment-count">7</dd>' in page
    # The SDK sent .../cart, then .../cart#cart (a jump within the page): one page, folded as
    # grouping folds it, in the list and in its tooltips alike.
    pages = re.findall(r'<li title="([^"]*)"[^>]*data-testid="replay-page-url">([^<]*)</li>', page)
    assert pages == [
        ("http://127.0.0.1:18766/index.html", "/index.html"),
        ("http://127.0.0.1:18766/cart", "/cart"),
    ]
    assert "/cart#cart" not in page
    assert page.count('data-testid="replay-click"') == 5
    config = player_config(response)
    assert config["recordingUrl"] == recording_url()
    assert config["focusMs"] is None
    assert config["startMs"] is None
    assert config["tags"] == {
        "dead click": "#e5484d",
        "rage click": "#f76b15",
        "slow click": "#e2a336",
    }
    assert [click["tag"] for click in config["clicks"]] == [
        "dead click",
        "rage click",
        "slow click",
        "dead click",
        "dead click",
    ]
    assert config["clicks"][0]["ms"] == 1_795_537_770_184


def test_replay_page_starts_five_seconds_before_the_occurrence(signed_in, stored):
    rage = Occurrence.objects.get(issue__type=IssueType.RAGE_CLICK)
    response = signed_in.get(replay_url() + f"?occurrence={rage.occurrence_id}")
    config = player_config(response)
    click_ms = round(rage.timestamp.timestamp() * 1000)
    assert click_ms == 1_795_537_778_711
    assert config["focusMs"] == click_ms
    assert config["startMs"] == click_ms - 5000
    assert config["leadMs"] == 5000
    assert re.search(
        rf'class="click active"[^>]*data-occurrence-id="{rage.occurrence_id}"',
        response.content.decode(),
    )


def test_replay_page_starts_at_a_given_time(signed_in, stored):
    config = player_config(signed_in.get(replay_url() + "?t=1795537790000"))
    assert config["focusMs"] == 1_795_537_790_000
    assert config["startMs"] == 1_795_537_785_000
    config = player_config(signed_in.get(replay_url() + "?occurrence=unknown&t=oops"))
    assert config["focusMs"] is None


def test_replay_page_takes_the_id_with_dashes(signed_in, stored):
    dashed = str(uuid.UUID(FIXTURE_REPLAY_ID))
    response = signed_in.get(f"/projects/{PROJECT_ID}/replays/{dashed}/")
    assert response.status_code == 200


def test_unknown_replays_are_404(signed_in, stored):
    assert signed_in.get(replay_url(uuid.uuid4().hex)).status_code == 404
    assert signed_in.get(reverse("issues:replay", args=[999, FIXTURE_REPLAY_ID])).status_code == 404
    assert signed_in.get(f"/projects/{PROJECT_ID}/replays/not-a-replay/").status_code == 404


# --- Selectors page --------------------------------------------------------------------------


def selector_rows(response) -> list[dict]:
    page = response.content.decode()
    found = []
    for row in re.findall(r'<tr data-testid="selector-row".*?</tr>', page, re.S):
        counts = {
            name: int(value)
            for name, value in re.findall(r'data-testid="(dead|rage|slow|total)-count">(\d+)<', row)
        }
        selector = re.search(r'data-selector="([^"]*)"', row).group(1)
        found.append({"selector": selector.replace("&gt;", ">").replace("&quot;", '"'), **counts})
    return found


def test_selectors_page_counts_each_elements_clicks(signed_in, stored):
    response = signed_in.get(reverse("issues:elements", args=[PROJECT_ID]))
    assert response.status_code == 200
    found = selector_rows(response)
    assert found[0] == {"selector": BUY, "dead": 1, "rage": 1, "slow": 0, "total": 2}
    assert {row["selector"]: row["total"] for row in found} == {
        BUY: 2,
        "body > button#slowok.btn": 1,
        "body > nav > a#cart": 1,
        'body > input#submit[type="submit"]': 1,
    }
    page = response.content.decode()
    assert list_url() + "?status=all&amp;query=body%20%3E%20button%23buy.btn.primary" in page
    latest_buy = Occurrence.objects.filter(issue__selector=BUY).order_by("-timestamp").first()
    assert f"{replay_url()}?occurrence={latest_buy.occurrence_id}" in page


def test_selectors_page_sorts_by_a_column(signed_in, stored):
    base = fixture_occurrences()
    slow = next(o for o in base if "slowok" in o["subtitle"])
    for _ in range(3):
        record(another_click(slow))
    url = reverse("issues:elements", args=[PROJECT_ID])
    assert selector_rows(signed_in.get(url))[0]["selector"] == "body > button#slowok.btn"
    by_dead = selector_rows(signed_in.get(url + "?sort=dead"))
    assert by_dead[0]["dead"] == 1
    assert by_dead[-1]["selector"] == "body > button#slowok.btn"
    assert selector_rows(signed_in.get(url + "?sort=rage"))[0]["selector"] == BUY
    assert len(selector_rows(signed_in.get(url + "?sort=nonsense"))) == 4


def test_selectors_page_links_to_issues_that_the_search_finds(signed_in, stored):
    response = signed_in.get(list_url(status="all", query="body%20%3E%20button%23buy.btn.primary"))
    assert {issue_type for issue_type, _ in rows(response)} == {
        IssueType.DEAD_CLICK,
        IssueType.RAGE_CLICK,
    }


def test_selectors_page_of_an_empty_project_says_what_to_do(signed_in, sdk_project):
    page = signed_in.get(reverse("issues:elements", args=[PROJECT_ID])).content.decode()
    assert 'data-testid="empty-state"' in page
    assert f"/api/{PROJECT_ID}/envelope/" in page


def test_occurrences_without_a_stored_replay_have_no_replay_link(signed_in, stored):
    base = fixture_occurrences()[0]
    record(another_click(base))  # its replay was never stored (or retention removed it)
    issue = issue_of(IssueType.DEAD_CLICK)
    page = signed_in.get(reverse("issues:issue-detail", args=[issue.pk])).content.decode()
    assert page.count('data-testid="occurrence-row"') == 2
    assert page.count('data-testid="replay-link"') == 1
    assert "no replay" in page
    # "Watch the latest click" skips the click whose replay is gone.
    fixture_click = Occurrence.objects.get(issue=issue, replay_id=uuid.UUID(FIXTURE_REPLAY_ID))
    assert f"?occurrence={fixture_click.occurrence_id}" in page
    assert 'data-testid="latest-replay-link"' in page


def test_not_found_page_is_the_uis(signed_in, stored):
    response = signed_in.get(reverse("issues:issue-detail", args=[99999]))
    assert response.status_code == 404
    assert b"Back to the issues" in response.content


def test_the_issue_pages_show_page_urls_without_their_fragment(signed_in, stored):
    """The SDK's clicks on /cart came from http://127.0.0.1:18766/cart#cart: grouping reads the
    page /cart, and so does every place the UI shows the page (the link keeps the URL sent)."""
    issue = Issue.objects.get(selector="body > nav > a#cart")
    assert issue.metadata["url"] == "http://127.0.0.1:18766/cart#cart"
    page = signed_in.get(reverse("issues:issue-detail", args=[issue.pk])).content.decode()
    where = re.search(r'<a href="([^"]*)"[^>]*data-testid="element-where">([^<]*)</a>', page)
    assert where is not None
    assert where.groups() == ("http://127.0.0.1:18766/cart#cart", "http://127.0.0.1:18766/cart")
    assert '<span title="http://127.0.0.1:18766/cart">/cart</span>' in page  # the header
    assert '<td class="truncate" title="http://127.0.0.1:18766/cart">/cart</td>' in page
    assert page.count("/cart#cart") == 1  # the link's target, nowhere shown
    listing = signed_in.get(list_url()).content.decode()
    assert "/cart#cart" not in listing
    assert 'title="http://127.0.0.1:18766/cart">/cart</span>' in listing


def test_a_culprit_that_is_a_selector_keeps_its_id(signed_in, stored):
    """Without a URL or a route, a click's culprit is its selector: ``#b1`` is an id there."""
    click = new_element_click(fixture_occurrences()[0], 1)
    click["culprit"] = "body > button#b1"
    click["evidence_data"]["url"] = ""
    record(click)
    issue = Issue.objects.get(selector="body > button#b1")
    assert issue.culprit == "body > button#b1"
    page = signed_in.get(reverse("issues:issue-detail", args=[issue.pk])).content.decode()
    assert '<span title="body &gt; button#b1">body &gt; button#b1</span>' in page
    listing = signed_in.get(list_url()).content.decode()
    assert 'title="body &gt; button#b1">body &gt; button#b1</span>' in listing


def test_a_page_url_that_is_not_http_is_never_a_link(signed_in, stored):
    click = new_element_click(fixture_occurrences()[0], 1)
    click["evidence_data"]["url"] = "javascript:alert(document.cookie)"
    record(click)
    issue = Issue.objects.get(selector="body > button#b1")
    page = signed_in.get(reverse("issues:issue-detail", args=[issue.pk])).content.decode()
    assert "javascript:alert(document.cookie)" in page
    assert 'href="javascript:' not in page


# --- Not found, with DEBUG on (devstack's default) ----------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/issues/99999/",
        "/projects/999/issues/",
        f"/projects/{PROJECT_ID}/replays/{'0' * 32}/",
        "/no-such-page/",
    ],
)
def test_a_ui_404_is_the_projects_page_with_debug_on(signed_in, stored, settings, path):
    settings.DEBUG = True
    response = signed_in.get(path)
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no such issue, replay or project here" in page
    assert "Back to the issues" in page
    assert "URLconf" not in page  # not Django's technical 404, which lists the URL patterns


def test_an_api_404_stays_json_with_debug_on(signed_in, stored, settings):
    settings.DEBUG = True
    response = signed_in.get("/api/0/issues/99999/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


# --- Triage: bulk changes, the time range, the issue page's links and activity ------------------


def bulk_url() -> str:
    return reverse("issues:issue-bulk-status", args=[PROJECT_ID])


def test_bulk_status_changes_the_ticked_issues_through_the_service(signed_in, stored, user):
    dead, rage = issue_of(IssueType.DEAD_CLICK), issue_of(IssueType.RAGE_CLICK)
    counters = dict(Issue.objects.values_list("pk", "times_seen"))

    response = signed_in.post(
        bulk_url(), {"status": "ignored", "ignore_count": "10", "id": [dead.pk, rage.pk]}
    )

    assert response.status_code == 302
    ignored = Issue.objects.filter(status=IssueStatus.IGNORED)
    assert sorted(ignored.values_list("pk", "ignore_count")) == sorted(
        [(dead.pk, 10), (rage.pk, 10)]
    )
    assert dict(Issue.objects.values_list("pk", "times_seen")) == counters
    assert dead.activities.get().user == user


def test_bulk_status_of_all_matching_follows_the_lists_filters(signed_in, stored):
    response = signed_in.post(
        bulk_url(), {"status": "resolved", "all": "1", "filters": "type=replay_dead_click"}
    )

    assert response.status_code == 302
    assert (
        sorted(Issue.objects.filter(status="resolved").values_list("type", flat=True))
        == ["replay_dead_click"] * 3
    )


def test_bulk_status_refuses_ids_of_another_project_and_changes_nothing(signed_in, stored):
    theirs = another_project_issue()
    ours = issue_of(IssueType.DEAD_CLICK)

    response = signed_in.post(bulk_url(), {"status": "resolved", "id": [ours.pk, theirs.pk]})

    assert response.status_code == 400
    assert not Issue.objects.filter(status="resolved").exists()


def test_the_time_range_counts_what_it_holds(signed_in, stored, settings):
    dead = issue_of(IssueType.DEAD_CLICK)
    first = dead.occurrences.get()
    settings.ISSUES_NOW = first.timestamp + timedelta(hours=1)
    click = next(o for o in fixture_occurrences() if o["id"] == first.occurrence_id)
    record(another_click(click, timestamp=(first.timestamp - timedelta(days=3)).timestamp()))

    assert counted(signed_in.get(list_url()), dead) == "2"
    day = signed_in.get(list_url(period="24h"))
    assert counted(day, dead) == "1"
    assert len(rows(day)) == 5
    before = signed_in.get(
        list_url(period="custom", until=f"{first.timestamp.date() - timedelta(days=1)}")
    )
    assert [pk for _, pk in rows(before)] == [str(dead.pk)]


def counted(response, issue: Issue) -> str:
    page = response.content.decode()
    row = page[page.index(f'data-issue-id="{issue.pk}"') :]
    return re.search(r'data-testid="issue-times">(\d+)<', row).group(1)


def test_the_issue_page_links_the_other_issues_on_its_element(signed_in, stored):
    dead, rage = issue_of(IssueType.DEAD_CLICK), issue_of(IssueType.RAGE_CLICK)

    page = signed_in.get(reverse("issues:issue-detail", args=[dead.pk])).content.decode()

    assert f'href="/issues/{rage.pk}/" data-testid="same-element-link"' in page
    assert f'href="/issues/{issue_of(IssueType.SLOW_CLICK, SLOWOK).pk}/"' not in page
    assert 'data-testid="element-row-link"' in page


SLOWOK = "body > button#slowok.btn"


def another_project_issue() -> Issue:
    """An issue of another organization's project."""
    organization = Organization.objects.create(id=8, name="Other", slug="other")
    project = Project.objects.create(id=99, name="theirs", org=organization)
    seen = datetime(2026, 11, 24, tzinfo=UTC)
    return Issue.objects.create(
        project=project,
        fingerprint_hash="f" * 32,
        type=IssueType.DEAD_CLICK,
        title="Dead Click",
        first_seen=seen,
        last_seen=seen,
        times_seen=1,
    )
