"""Likely cause and impact on the real database: revised evidence, cause counts, exposure counted
by the replays stage from the SDK's captures, and what the API and pages show of them."""

import copy
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from issues.models import Issue, IssueCause, IssueUser, Occurrence
from issues.occurrence_message import decode_occurrence
from issues.services import issue_record_occurrences
from replays.detection.detect import DetectionSettings, decode_segment, detect_clicks
from replays.models import ElementClicks, PageSessions, PageVisit
from replays.services import replay_record_segment
from tests.issues.builders import (
    another_click,
    fixture_occurrences,
    occurrence_message,
    record,
    store_fixture_replay,
)
from tests.replays.messages import (
    MAX_INFLATED_BYTES,
    RECEIVED,
    captured_click,
    fixture_messages,
    fixture_replay_event,
    recording_message,
)

BUY = "body > button#buy.btn.primary"
FAILED = {"kind": "request_failed", "detail": "POST /api/checkout answered 500"}
PENDING = {"kind": "request_pending", "detail": "POST /api/checkout had not answered"}


@pytest.fixture
def dead_click(sdk_project) -> dict[str, Any]:
    return fixture_occurrences()[0]


@pytest.fixture
def api(client: Client, django_user_model, organization) -> Client:
    user = django_user_model.objects.create_user("operator", password="not-a-secret")
    organization.members.add(user)
    client.force_login(user)
    return client


def version(occurrence: dict, cause: dict | None, revision: int | None) -> dict:
    """The occurrence with a cause in its evidence, as the replays consumer (re)publishes it."""
    revised = copy.deepcopy(occurrence)
    revised["evidence_data"]["cause"] = cause
    if revision is None:  # as a producer that knows no revisions publishes it
        revised["evidence_data"].pop("revision", None)
    else:
        revised["evidence_data"]["revision"] = revision
    return revised


def group(*occurrences: dict) -> None:
    """One batch of the issues consumer."""
    issue_record_occurrences([decode_occurrence(occurrence_message(o)) for o in occurrences])


def counts(issue: Issue) -> tuple[int, int, int]:
    issue.refresh_from_db()
    return issue.times_seen, issue.users_seen, IssueUser.objects.filter(issue=issue).count()


def stored_cause(occurrence: dict) -> dict | None:
    return Occurrence.objects.get(occurrence_id=occurrence["id"]).evidence.get("cause")


# --- revised evidence ----------------------------------------------------------------------------


def test_a_revised_occurrence_updates_its_evidence_and_counts_nothing_again(dead_click):
    first, later = version(dead_click, PENDING, 1), version(dead_click, FAILED, 2)
    assert record(first) is not None
    issue = Issue.objects.get()
    assert issue.likely_cause["kind"] == "request_pending"
    before = counts(issue)

    assert record(later) is None  # no new occurrence: nothing to alert or count
    assert stored_cause(dead_click) == FAILED
    assert counts(issue) == before == (1, 1, 1)
    assert Occurrence.objects.count() == 1
    issue.refresh_from_db()
    assert issue.likely_cause == {**FAILED, "share": 1.0, "count": 1, "of": 1}
    assert {(c.kind, c.count) for c in IssueCause.objects.all()} == {
        ("request_pending", 0),
        ("request_failed", 1),
    }

    # The older version again (a re-delivery) and the same one again change nothing.
    record(first)
    record(later)
    assert stored_cause(dead_click) == FAILED
    assert counts(issue) == before
    issue.refresh_from_db()
    assert issue.likely_cause["kind"] == "request_failed"


@pytest.mark.parametrize(
    "order",
    [
        "one by one, older first",
        "one by one, later first",
        "one batch, older first",
        "one batch, later first",
    ],
)
def test_both_versions_in_any_order_end_with_the_later_one(dead_click, order):
    first, later = version(dead_click, PENDING, 1), version(dead_click, FAILED, 2)
    deliveries = [first, later] if "older first" in order else [later, first]
    if order.startswith("one batch"):
        group(*deliveries)
    else:
        for delivery in deliveries:
            group(delivery)
    issue = Issue.objects.get()
    assert stored_cause(dead_click) == FAILED
    assert counts(issue)[0] == 1
    assert issue.likely_cause == {**FAILED, "share": 1.0, "count": 1, "of": 1}


def test_a_version_without_a_revision_loses_to_one_with(dead_click):
    group(version(dead_click, FAILED, 1))
    group(version(dead_click, PENDING, None))
    assert stored_cause(dead_click) == FAILED


# --- likely cause --------------------------------------------------------------------------------


def test_the_likely_cause_share_is_exact_and_moves_with_a_revision(dead_click, api):
    clicks = [version(another_click(dead_click), FAILED, 1) for _ in range(9)]
    clicks.append(version(another_click(dead_click), None, 1))
    group(*clicks[:4])
    group(*clicks[4:])
    issue = Issue.objects.get()
    assert issue.times_seen == 10
    assert issue.likely_cause == {**FAILED, "share": 0.9, "count": 9, "of": 10}

    detail = api.get(f"/api/0/issues/{issue.pk}/").json()
    assert detail["likely_cause"] == {**FAILED, "share": 0.9}
    listed = api.get("/api/0/projects/42/issues/").json()["results"]
    assert listed[0]["likely_cause"] == {**FAILED, "share": 0.9}
    occurrences = api.get(f"/api/0/issues/{issue.pk}/occurrences/").json()["results"]
    assert sorted(str(o["cause"]) for o in occurrences) == sorted([str(FAILED)] * 9 + ["None"])

    page = api.get(f"/issues/{issue.pk}/").content.decode()
    assert "POST /api/checkout answered 500 in 9 of 10 clicks" in page
    listing = api.get("/projects/42/issues/").content.decode()
    assert "Likely cause: POST /api/checkout answered 500 in 9 of 10 clicks" in listing

    # A later segment shows that one of them was only pending.
    group(version(clicks[0], PENDING, 2))
    issue.refresh_from_db()
    assert issue.likely_cause == {**FAILED, "share": 0.8, "count": 8, "of": 10}
    assert issue.times_seen == 10


def test_an_issue_without_causes_has_none(dead_click, api):
    record(dead_click)
    issue = Issue.objects.get()
    assert issue.likely_cause is None
    assert api.get(f"/api/0/issues/{issue.pk}/").json()["likely_cause"] is None


# --- impact --------------------------------------------------------------------------------------


def store_segment(raw: bytes) -> None:
    segment = decode_segment(raw, MAX_INFLATED_BYTES)
    replay_record_segment(segment, detect_clicks(segment, DetectionSettings(), float(RECEIVED)))


def a_session_that_clicks_buy_and_gets_an_answer() -> bytes:
    """Another replay on /index.html the same day: one click on the buy button, answered."""
    click = captured_click(0)
    click["data"]["payload"]["category"] = "ui.click"
    replay_id = uuid.uuid4().hex
    return recording_message(
        [click], replay_event=fixture_replay_event(0, replay_id), replay_id=replay_id
    )


def impacts(api: Client) -> dict[tuple[str, str], dict]:
    issues = api.get("/api/0/projects/42/issues/").json()["results"]
    return {(issue["type"], issue["metadata"]["selector"]): issue["impact"] for issue in issues}


def test_the_captures_impact_against_the_sessions_and_clicks_around_it(sdk_project, api):
    store_segment(a_session_that_clicks_buy_and_gets_an_answer())
    store_fixture_replay()

    figures = impacts(api)
    # Two sessions on /index.html that day, one of them the capture's; the buy button was clicked
    # twice in the capture (its ui.click breadcrumbs) and once in the other session.
    assert figures[("replay_dead_click", BUY)] == {
        "page_sessions": 2,
        "page_share": 0.5,
        "element_clicks": 3,
        "element_share": 0.3333,
    }
    assert figures[("replay_slow_click", "body > button#slowok.btn")] == {
        "page_sessions": 2,
        "page_share": 0.5,
        "element_clicks": 1,
        "element_share": 1.0,
    }
    assert figures[("replay_dead_click", "body > nav > a#cart")] == {
        "page_sessions": 1,
        "page_share": 1.0,
        "element_clicks": 1,
        "element_share": 1.0,
    }
    issue = Issue.objects.get(type="replay_dead_click", selector=BUY)
    page = api.get(f"/issues/{issue.pk}/").content.decode()
    assert "50% of sessions on" in page
    assert "33% of clicks on this element are dead" in page


def test_exposure_counts_each_segment_and_each_visit_once(sdk_project):
    store_fixture_replay()
    before = (
        sorted(PageSessions.objects.values_list("page", "sessions")),
        sorted(ElementClicks.objects.values_list("element_hash", "clicks")),
        PageVisit.objects.count(),
    )
    assert before[0] == [("/cart", 1), ("/index.html", 1)]
    assert sum(clicks for _, clicks in before[1]) == 9
    for raw in fixture_messages():  # every segment delivered again
        store_segment(raw)
    after = (
        sorted(PageSessions.objects.values_list("page", "sessions")),
        sorted(ElementClicks.objects.values_list("element_hash", "clicks")),
        PageVisit.objects.count(),
    )
    assert after == before


def test_the_list_sorts_by_impact(sdk_project, api):
    store_segment(a_session_that_clicks_buy_and_gets_an_answer())
    store_fixture_replay()
    issues = api.get("/api/0/projects/42/issues/?sort=impact").json()["results"]
    shares = [issue["impact"]["page_share"] for issue in issues]
    assert shares == sorted(shares, reverse=True)
    assert shares[0] == 1.0
    assert shares[-1] == 0.5
    page = api.get("/projects/42/issues/?sort=impact")
    assert page.status_code == 200


def test_the_batch_reads_each_issues_sessions_and_clicks_over_its_own_days(sdk_project):
    """The issues consumer reads the sessions and clicks of all the issues of a batch in one
    query each: every key gets the sum over its own days, keys sharing a page or an element but
    not their days included, a key without rows 0, another project's rows not counted."""
    from datetime import date

    from ingest.models import Project
    from replays.queries import elements_clicks, pages_sessions

    project_id = sdk_project.project_id
    other = Project.objects.create(
        id=project_id + 1, name="Other", org_id=Project.objects.get(pk=project_id).org_id
    )
    for day, sessions in ((1, 3), (2, 5), (3, 7), (10, 11)):
        PageSessions.objects.create(
            project_id=project_id,
            page_hash="a" * 32,
            page="/cart",
            day=date(2026, 11, day),
            sessions=sessions,
        )
        ElementClicks.objects.create(
            project_id=project_id,
            element_hash="b" * 32,
            day=date(2026, 11, day),
            clicks=sessions * 2,
        )
    PageSessions.objects.create(
        project_id=other.pk, page_hash="a" * 32, page="/cart", day=date(2026, 11, 2), sessions=100
    )
    keys = [
        (project_id, "a" * 32, date(2026, 11, 1), date(2026, 11, 2)),
        (project_id, "a" * 32, date(2026, 11, 2), date(2026, 11, 10)),
        (project_id, "a" * 32, date(2026, 11, 3), date(2026, 11, 3)),
        (project_id, "c" * 32, date(2026, 11, 1), date(2026, 11, 30)),
        (project_id, "a" * 32, date(2026, 11, 4), date(2026, 11, 9)),
    ]
    assert pages_sessions(keys) == dict(zip(keys, [8, 23, 7, 0, 0], strict=True))
    assert pages_sessions(keys[:1] * 2) == {keys[0]: 8}
    assert pages_sessions([]) == {}
    clicks = [(project_id, "b" * 32, first, last) for _, _, first, last in keys]
    assert list(elements_clicks(clicks).values()) == [16, 46, 14, 52, 0]


def _element_issues(dead_click: dict, count: int, start: int) -> list[dict]:
    """``count`` clicks, each on an element of its own (its own issue, with a page and an
    element key, so each has sessions and clicks to read)."""
    clicks = []
    for n in range(start, start + count):
        click = another_click(dead_click, user={"id": f"u{n}"})
        click["fingerprint"] = [
            f'v2 replay_dead_click testid="button-{n}" tag="button"',
            f'v1 ["replay_dead_click","button#b{n}","/index.html"]',
        ]
        clicks.append(click)
    return clicks


def test_a_batch_reads_in_queries_that_do_not_grow_with_its_issues(dead_click):
    """A batch's statements do not depend on how many issues it counts: the issues it locks are
    read with the fields the aggregates need, and the sessions and clicks of all of them are one
    query each (they were four queries per issue: 786 statements for a batch of 500)."""
    group(*_element_issues(dead_click, 3, 0))
    statements = []
    for count, start in ((3, 100), (30, 200)):
        with CaptureQueriesContext(connection) as queries:
            group(*_element_issues(dead_click, count, start))
        statements.append(len(queries.captured_queries))
    assert Issue.objects.count() == 36
    assert statements[0] == statements[1]
    # Every issue got its figures (none was left out of the batch's two reads).
    assert not Issue.objects.filter(page_sessions__isnull=True).exists()
    assert not Issue.objects.filter(element_clicks__isnull=True).exists()
