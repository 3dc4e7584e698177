"""Short ids per project (SHOP-12) and the creation quota, on the real database.

Short ids count a project's issues, from 1, in the order the issues are made: they tell nothing
of another organization's. The quota shows at most N new issues per project per window; the next
ones are held back (their occurrences counted) and each is shown, oldest first, as the window
slides on: their ``shown_at`` is set when they pass the noise threshold, and the reads compare
it with the clock, so a held issue shows without an occurrence of its own. "After the window"
is written below as the stored times moved one window back, as the clock moving on would.
"""

import html
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connections
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ingest.models import Project
from ingest.slugs import project_slug
from issues.grouptypes import all_group_types, has_element
from issues.models import Issue, IssueStatus, Occurrence
from issues.occurrence_message import decode_occurrence
from issues.queries import creation_quota_for, held_by_quota_count, shown
from issues.services import (
    CreationQuota,
    NoiseThreshold,
    issue_record_occurrences,
    issue_set_status,
    quota_slots,
)
from organizations.models import Organization
from replays.models import DetectionSettings
from tests.consumers import produce, start_occurrences_consumer, wait_until
from tests.issues.builders import (
    another_click,
    fixture_occurrences,
    occurrence_message,
    store_fixture_replay,
)

HOUR = timedelta(hours=1)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FIVE_PER_HOUR = CreationQuota(5, HOUR)


def element(base: dict[str, Any], number: int, **event_fields: Any) -> dict[str, Any]:
    """A click on another element (its own fingerprint), ``number`` seconds after ``base``."""
    click = another_click(
        base, timestamp=base["evidence_data"]["timestamp"] + number, **event_fields
    )
    click["fingerprint"] = [f"flood-element-{number}"]
    return click


def records(clicks: list[dict[str, Any]]) -> list:
    return [decode_occurrence(occurrence_message(click)) for click in clicks]


def listed_short_ids(client: Client, project_id: int, query: str = "") -> list[str]:
    response = client.get(f"/api/0/projects/{project_id}/issues/{query}")
    assert response.status_code == 200, response.content
    return [issue["short_id"] for issue in response.json()["results"]]


def one_window_later(project_id: int) -> None:
    """The clock one window on: every stored time of the project moves one hour back."""
    Issue.objects.filter(project_id=project_id, shown_at__isnull=False).update(
        shown_at=F("shown_at") - HOUR
    )


# --- pure -------------------------------------------------------------------------------------


def test_a_slug_is_made_from_the_name_and_kept_unique_in_its_organization():
    assert project_slug("My Shop!", set()) == "my-shop"
    assert project_slug("My Shop", {"my-shop"}) == "my-shop-2"
    assert project_slug("My Shop", {"my-shop", "my-shop-2"}) == "my-shop-3"
    assert project_slug("¿¿", set()) == "project"
    long = project_slug("x" * 80, {"x" * 50})
    assert long == "x" * 48 + "-2"


def test_the_quota_shows_five_at_once_then_one_more_each_time_the_window_slides():
    slots = quota_slots([], 20, FIVE_PER_HOUR, NOW)
    assert slots == [NOW] * 5 + [NOW + HOUR] * 5 + [NOW + 2 * HOUR] * 5 + [NOW + 3 * HOUR] * 5


def test_the_quota_counts_the_issues_shown_earlier_in_the_window():
    earlier = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    slots = quota_slots(earlier, 4, CreationQuota(3, HOUR), NOW)
    assert slots == [NOW, NOW + timedelta(minutes=10), NOW + timedelta(minutes=50), NOW + HOUR]


def test_no_quota_shows_every_issue_at_once():
    assert quota_slots([NOW] * 10, 3, CreationQuota(None), NOW) == [NOW] * 3


def test_any_window_holds_at_most_the_quota():
    earlier = [NOW - timedelta(minutes=minutes) for minutes in (59, 40, 39, 2)]
    slots = sorted(earlier + quota_slots(earlier, 30, CreationQuota(4, HOUR), NOW))
    for start in slots:
        assert sum(start <= slot < start + HOUR for slot in slots) <= 4


# --- short ids --------------------------------------------------------------------------------


@pytest.fixture
def dead_click(sdk_project) -> dict[str, Any]:
    return fixture_occurrences()[0]


def test_projects_get_a_slug_unique_in_their_organization(organization):
    other = Organization.objects.create(id=8, name="Initech", slug="initech")
    first = Project.objects.create(id=1, name="Shop", org=organization)
    second = Project.objects.create(id=2, name="Shop", org=organization)
    elsewhere = Project.objects.create(id=3, name="Shop", org=other)
    assert (first.slug, second.slug, elsewhere.slug) == ("shop", "shop-2", "shop")


def test_issues_are_numbered_per_project_in_the_order_they_are_made(dead_click):
    clicks = [element(dead_click, number) for number in (3, 1, 2)]
    issue_record_occurrences(records(clicks))
    numbered = Issue.objects.order_by("first_seen").values_list("short_number", flat=True)
    assert list(numbered) == [1, 2, 3]  # oldest first within a batch
    issue_record_occurrences(records([element(dead_click, 0)]))
    newest = Issue.objects.get(fingerprint=["flood-element-0"])
    assert newest.short_id == "SHOP-4"
    assert Project.objects.get(id=newest.project_id).issue_counter == 4
    # Another occurrence of a known issue takes no number.
    issue_record_occurrences(records([another_click(clicks[0])]))
    assert Project.objects.get(id=newest.project_id).issue_counter == 4


def test_short_ids_do_not_tell_another_organizations_count(dead_click, sdk_project):
    """Organization 7's project has 12 issues; organization 8's first issue is still its 1."""
    issue_record_occurrences(records([element(dead_click, number) for number in range(12)]))
    other = Organization.objects.create(id=8, name="Initech", slug="initech")
    theirs = Project.objects.create(id=99, name="Shop", org=other)
    their_click = element(dead_click, 100)
    their_click["project_id"] = theirs.pk
    issue_record_occurrences(records([their_click]))

    their_issue = Issue.objects.get(project=theirs)
    assert their_issue.short_id == "SHOP-1"
    ours = Issue.objects.filter(project=sdk_project.project).order_by("short_number")
    assert [issue.short_id for issue in ours] == [f"SHOP-{n}" for n in range(1, 13)]


def test_an_issue_made_outside_the_issues_stage_is_numbered_too(sdk_project):
    made = Issue.objects.create(
        project=sdk_project.project,
        fingerprint_hash="0" * 32,
        type="replay_dead_click",
        title="Dead Click",
        first_seen=NOW,
        last_seen=NOW,
    )
    assert made.short_id == "SHOP-1"


@pytest.fixture
def member(client: Client, django_user_model, organization) -> Client:
    user = django_user_model.objects.create_user("member", password="not-a-secret")
    organization.members.add(user)
    client.force_login(user)
    return client


def test_a_search_for_a_short_id_finds_its_issue_new_form_and_old(dead_click, member):
    issue_record_occurrences(records([element(dead_click, number) for number in range(3)]))
    second = Issue.objects.get(short_number=2)
    assert listed_short_ids(member, 42, "?query=SHOP-2") == ["SHOP-2"]
    assert listed_short_ids(member, 42, "?query=shop-2") == ["SHOP-2"]
    # The old form, by primary key, as links and notes written before short ids say it.
    assert listed_short_ids(member, 42, f"?query=CLICK-{second.pk}") == ["SHOP-2"]
    assert listed_short_ids(member, 42, "?query=SHOP-9") == []


def test_the_issue_page_finds_a_resolved_issue_by_its_short_id(dead_click, member):
    """The list shows unresolved issues unless asked; a short id names one issue, whatever its
    status."""
    issue_record_occurrences(records([element(dead_click, number) for number in range(2)]))
    issue_set_status(Issue.objects.get(short_number=1), IssueStatus.RESOLVED)
    page = member.get("/projects/42/issues/?query=SHOP-1")
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="issue-row"') == 1
    assert "SHOP-1" in page.content.decode()


def test_issue_pages_and_the_api_by_primary_key_keep_working(dead_click, member):
    issue_record_occurrences(records([dead_click]))
    issue = Issue.objects.get()
    page = member.get(f"/issues/{issue.pk}/")
    assert page.status_code == 200
    assert "SHOP-1" in page.content.decode()
    detail = member.get(f"/api/0/issues/{issue.pk}/").json()
    assert detail["short_id"] == "SHOP-1"
    assert detail["metadata"]["selector"] == "body > button#buy.btn.primary"
    assert detail["metadata"]["url"] == "http://127.0.0.1:18766/index.html"


# --- the creation quota ------------------------------------------------------------------------


def test_issues_beyond_the_quota_are_held_back_with_their_counts_then_shown_in_order(dead_click):
    project_id = dead_click["project_id"]
    clicks = [element(dead_click, number) for number in range(20)]
    again = [another_click(click) for click in clicks]
    quotas = {project_id: FIVE_PER_HOUR}
    issue_record_occurrences(records(clicks), quotas=quotas)
    issue_record_occurrences(records(again), quotas=quotas)

    assert Issue.objects.count() == 20
    assert Occurrence.objects.count() == 40
    assert set(Issue.objects.values_list("times_seen", flat=True)) == {2}
    in_order = list(Issue.objects.order_by("first_seen"))
    assert [issue.held_by() for issue in in_order] == [""] * 5 + ["quota"] * 15
    project = Project.objects.get(id=project_id)
    assert held_by_quota_count(project) == 15

    for window, expected in ((1, 10), (2, 15), (3, 20)):
        one_window_later(project_id)
        visible = Issue.objects.filter(shown(), project_id=project_id).order_by("first_seen")
        assert list(visible) == in_order[:expected], f"after {window} window(s)"
        assert held_by_quota_count(project) == 20 - expected


def test_the_noise_threshold_and_the_quota_hold_issues_back_apart(dead_click):
    """An issue under the noise threshold is held by the noise, takes no place in the quota, and
    takes one only when it passes."""
    project_id = dead_click["project_id"]
    noise = {project_id: NoiseThreshold(occurrences=2)}
    quotas = {project_id: CreationQuota(2, HOUR)}
    clicks = [element(dead_click, number) for number in range(3)]
    issue_record_occurrences(records(clicks), noise, quotas)
    assert {issue.held_by() for issue in Issue.objects.all()} == {"noise"}

    issue_record_occurrences(records([another_click(click) for click in clicks]), noise, quotas)
    held = [issue.held_by() for issue in Issue.objects.order_by("first_seen")]
    assert held == ["", "", "quota"]


def test_a_quota_held_issue_shows_without_an_occurrence_of_its_own(dead_click, member):
    project_id = dead_click["project_id"]
    DetectionSettings.objects.update_or_create(project_id=project_id, defaults={"issue_quota": 1})
    quotas = {project_id: creation_quota_for(project_id)}
    assert quotas[project_id] == CreationQuota(1, HOUR)
    issue_record_occurrences(records([element(dead_click, n) for n in range(2)]), quotas=quotas)
    assert listed_short_ids(member, project_id) == ["SHOP-1"]
    page = member.get(f"/projects/{project_id}/issues/").content.decode()
    assert 'data-testid="held-by-quota"' in page
    assert "1 new issue held back by the project's creation quota (1 per hour)" in page

    one_window_later(project_id)
    assert sorted(listed_short_ids(member, project_id)) == ["SHOP-1", "SHOP-2"]
    page = member.get(f"/projects/{project_id}/issues/").content.decode()
    assert 'data-testid="held-by-quota"' not in page


@pytest.mark.django_db(transaction=True)
def test_writers_side_by_side_never_exceed_the_quota_nor_share_a_number(sdk_project):
    """Four writers record 40 distinct new issues of one project at once, in batches: numbers
    1..40 each once, and never more than five shown in any hour."""
    base = fixture_occurrences()[0]
    project_id = base["project_id"]
    clicks = [element(base, number) for number in range(40)]
    quotas = {project_id: FIVE_PER_HOUR}
    errors: list[BaseException] = []

    def writer(part: list[dict[str, Any]]) -> None:
        try:
            for start in range(0, len(part), 3):
                issue_record_occurrences(records(part[start : start + 3]), quotas=quotas)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(clicks[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sorted(Issue.objects.values_list("short_number", flat=True)) == list(range(1, 41))
    assert Project.objects.get(id=project_id).issue_counter == 40
    slots = sorted(Issue.objects.values_list("shown_at", flat=True))
    for start in slots:
        assert sum(start <= slot < start + HOUR for slot in slots) <= 5
    assert Issue.objects.filter(shown()).count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_flood_through_the_consumer_shows_five_and_holds_fifteen(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader, client, django_user_model
):
    """20 new elements, each clicked twice, through the real broker and issues consumer with
    the default quota (5 per hour): 5 shown, 15 held with all their counts; one window later
    five more, in the order they were first seen; after three, all."""
    base = fixture_occurrences()[0]
    project_id = base["project_id"]
    assert creation_quota_for(project_id) == FIVE_PER_HOUR  # the default
    clicks = [element(base, number, user={"id": f"user-{number}"}) for number in range(20)]
    again = [another_click(click, user={"id": "user-again"}) for click in clicks]
    produce(occurrences_topic, [occurrence_message(click) for click in clicks + again])
    consumer = start_occurrences_consumer()
    try:
        wait_until(lambda: Occurrence.objects.count() == 40, timeout_s=60, what="40 occurrences")
    finally:
        consumer.stop()
    assert topic_reader(occurrences_dlq_topic, 1, timeout_s=1) == []

    user = django_user_model.objects.create_user("member", password="not-a-secret")
    sdk_project.project.org.members.add(user)
    client.force_login(user)
    assert Issue.objects.count() == 20
    assert set(Issue.objects.values_list("times_seen", "users_seen")) == {(2, 2)}
    in_order = [issue.short_id for issue in Issue.objects.order_by("first_seen")]
    assert len(listed_short_ids(client, project_id)) == 5
    page = client.get(f"/projects/{project_id}/issues/").content.decode()
    assert "15 new issues held back by the project's creation quota (5 per hour)" in page

    for shown_count in (10, 15, 20):
        one_window_later(project_id)
        listed = listed_short_ids(client, project_id, "?sort=first_seen")
        assert listed[::-1] == in_order[:shown_count]
    now = timezone.now()
    assert Issue.objects.filter(shown(now=now)).count() == 20


# --- what is type-specific: the element ------------------------------------------------------


def test_the_registry_says_which_types_have_an_element():
    assert [t.slug for t in all_group_types() if has_element(t.slug)] == [
        "replay_dead_click",
        "replay_rage_click",
        "replay_slow_click",
        "replay_error_click",
    ]
    assert not has_element("replay_hydration_error")
    assert not has_element("no_such_type")


def test_the_element_card_and_selector_follow_the_type_not_the_selector(sdk_project, member):
    """A click issue shows its element; a hydration error shows its evidence and subtitle even
    with a selector stored (the column is the element's for the click types only)."""
    store_fixture_replay(42, scenario="hydrate")
    hydration = Issue.objects.filter(type="replay_hydration_error").first()
    Issue.objects.filter(pk=hydration.pk).update(selector="div#root")
    click = Issue.objects.filter(type="replay_dead_click").first()

    page = html.unescape(member.get(f"/issues/{hydration.pk}/").content.decode())
    assert 'data-testid="element"' not in page
    assert 'data-testid="evidence"' in page
    assert "div#root" not in page
    page = html.unescape(member.get(f"/issues/{click.pk}/").content.decode())
    assert 'data-testid="element"' in page
    assert click.selector in page

    listing = member.get("/projects/42/issues/?type=replay_hydration_error").content.decode()
    assert listing.count('data-testid="issue-subtitle"') == 2
    assert "div#root" not in listing


# --- the admin ---------------------------------------------------------------------------------


def test_the_admin_finds_a_short_id_shows_what_holds_an_issue_and_shows_it_now(
    dead_click, admin_client
):
    project_id = dead_click["project_id"]
    quotas = {project_id: CreationQuota(1, HOUR)}
    issue_record_occurrences(records([element(dead_click, n) for n in range(3)]), quotas=quotas)
    changelist = reverse("admin:issues_issue_changelist")
    found = admin_client.get(changelist, {"q": "SHOP-2"}).content.decode()
    assert found.count('class="action-select"') == 1
    assert "SHOP-2" in found
    listing = admin_client.get(changelist).content.decode()
    assert listing.count(">quota<") == 2

    held = list(Issue.objects.filter(short_number=2).values_list("pk", flat=True))
    admin_client.post(changelist, {"action": "show_now", "_selected_action": held})
    assert [issue.held_by() for issue in Issue.objects.order_by("short_number")] == [
        "",
        "",
        "quota",
    ]
