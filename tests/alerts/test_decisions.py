"""The decisions, made in the issues stage's transaction from the SDK's captured clicks: one
``new_issue`` per issue, none for the same clicks again, one ``regression`` after a resolve, the
noise threshold, ``frequency`` and ``page_frequency`` windows on a clock the test controls, and
``action_interval_s``."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from alerts import services
from alerts.models import AlertDelivery
from issues.models import Issue, IssueStatus
from issues.occurrence_message import decode_occurrence
from issues.services import CreationQuota, NoiseThreshold, issue_record_occurrence, issue_set_status
from tests.alerts.builders import webhook_rule
from tests.issues.builders import another_click, fixture_occurrences, occurrence_message, record

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def clock(monkeypatch):
    """The decisions' clock, moved by the test: ``clock.now`` is what they see."""

    class Clock:
        now = datetime(2030, 1, 1, tzinfo=UTC)

        def __call__(self) -> datetime:
            return self.now

    fixed = Clock()
    monkeypatch.setattr(services, "decision_clock", fixed)
    return fixed


def deliveries(trigger: str | None = None) -> list[AlertDelivery]:
    rows = AlertDelivery.objects.order_by("pk")
    return list(rows.filter(trigger=trigger) if trigger else rows)


def test_the_captured_clicks_give_one_new_issue_delivery_per_issue_and_none_again(sdk_project):
    webhook_rule(sdk_project.project_id, URL)
    occurrences = fixture_occurrences()
    for occurrence in occurrences:
        record(occurrence)
    for occurrence in occurrences:
        record(occurrence)  # delivered again: recorded before, nothing decided

    sent = deliveries()
    assert len(sent) == Issue.objects.count() == 5
    assert sorted(d.issue_id for d in sent) == sorted(Issue.objects.values_list("pk", flat=True))
    body = sent[0].payload
    assert body["id"] == sent[0].delivery_id
    assert body["action"] == "new_issue"
    assert body["project"] == {"id": sdk_project.project_id, "name": "shop"}
    issue = body["issue"]
    assert issue["web_url"] == f"http://127.0.0.1:8000/issues/{issue['id']}/"
    assert issue["replay_url"].startswith(
        f"http://127.0.0.1:8000/projects/{sdk_project.project_id}/replays/"
    )
    assert "?occurrence=" in issue["replay_url"]
    assert {"selector", "url"} <= set(issue["metadata"])

    # Another click on a known element: no new issue, no alert.
    record(another_click(occurrences[0]))
    assert len(deliveries()) == 5


def test_a_rolled_back_batch_leaves_no_decision(sdk_project):
    webhook_rule(sdk_project.project_id, URL)
    occurrence = fixture_occurrences()[0]

    def die_before_the_commit() -> None:
        with transaction.atomic():
            record(occurrence)
            assert len(deliveries()) == 1
            raise RuntimeError("the consumer died before the commit")

    with pytest.raises(RuntimeError):
        die_before_the_commit()
    assert deliveries() == []
    record(occurrence)  # the message comes again
    assert len(deliveries()) == 1


def test_a_resolved_issue_clicked_again_gives_one_regression(sdk_project):
    webhook_rule(sdk_project.project_id, URL, trigger="regression")
    occurrence = fixture_occurrences()[0]
    record(occurrence)
    issue = Issue.objects.get()
    issue_set_status(issue, IssueStatus.RESOLVED)
    later = issue.resolved_at.timestamp() + 60
    newer = another_click(occurrence, timestamp=later)
    record(newer)
    record(newer)  # again: recorded before
    record(another_click(occurrence, timestamp=later + 1))  # reopened already: no regression

    [regression] = deliveries()
    assert regression.trigger == "regression"
    assert regression.issue_id == issue.pk
    assert regression.payload["issue"]["status"] == "unresolved"


def test_new_issue_fires_when_the_noise_threshold_is_crossed_not_before(sdk_project):
    webhook_rule(sdk_project.project_id, URL)
    occurrence = fixture_occurrences()[0]
    held_back = NoiseThreshold(occurrences=2)
    record(occurrence, held_back)
    assert deliveries() == []
    record(another_click(occurrence), held_back)
    [delivery] = deliveries()
    assert delivery.payload["issue"]["times_seen"] == 2
    record(another_click(occurrence), held_back)
    assert len(deliveries()) == 1


def test_filters_by_issue_type_and_environment(sdk_project):
    project_id = sdk_project.project_id
    webhook_rule(project_id, URL, name="rage", issue_types=["replay_rage_click"])
    webhook_rule(project_id, URL, name="production", environment="production")
    webhook_rule(
        project_id,
        URL,
        name="staging dead",
        environment="staging",
        issue_types=["replay_dead_click"],
    )
    for occurrence in fixture_occurrences():  # all five in staging
        record(occurrence)
    by_rule = sorted((d.rule.name, d.payload["issue"]["type"]) for d in deliveries())
    assert by_rule == [("rage", "replay_rage_click")] + [("staging dead", "replay_dead_click")] * 3


def test_frequency_counts_within_the_window_and_respects_the_interval(sdk_project, clock):
    occurrence = fixture_occurrences()[0]
    clicked = clock.now
    rule = webhook_rule(
        sdk_project.project_id,
        URL,
        trigger="frequency",
        count=3,
        window_s=600,
        action_interval_s=3600,
    )

    def click_at(moment: datetime) -> None:
        clock.now = moment
        record(another_click(occurrence, timestamp=moment.timestamp()))

    click_at(clicked)
    click_at(clicked + timedelta(seconds=400))
    click_at(clicked + timedelta(seconds=700))  # the first is out of the window: 2 in it
    assert deliveries() == []
    click_at(clicked + timedelta(seconds=800))  # 3 within 600 s
    [first] = deliveries("frequency")
    assert first.rule == rule
    click_at(clicked + timedelta(seconds=900))  # still frequent, within the interval
    assert len(deliveries()) == 1
    for seconds in (4500, 4510):
        click_at(clicked + timedelta(seconds=seconds))
    assert len(deliveries()) == 1  # the interval is over, but only 2 in the window
    click_at(clicked + timedelta(seconds=4520))
    assert len(deliveries()) == 2


def test_frequency_by_distinct_users(sdk_project, clock):
    occurrence = fixture_occurrences()[0]
    webhook_rule(sdk_project.project_id, URL, trigger="frequency", users=2, window_s=600)
    moment = clock.now
    for user in ("u1", "u1", "u1"):
        record(another_click(occurrence, timestamp=moment.timestamp(), user={"id": user}))
    assert deliveries() == []
    record(another_click(occurrence, timestamp=moment.timestamp(), user={"id": "u2"}))
    assert len(deliveries("frequency")) == 1


def test_page_frequency_counts_every_issue_on_the_page(sdk_project, clock):
    """The fixture's clicks: three issues on / (dead, rage, slow), two on /cart."""
    occurrences = fixture_occurrences()
    webhook_rule(sdk_project.project_id, URL, trigger="page_frequency", count=4, window_s=300)
    moment = clock.now
    for occurrence in occurrences:
        record(another_click(occurrence, timestamp=moment.timestamp()))
    assert deliveries() == []  # 3 on /, 2 on /cart
    home = next(o for o in occurrences if o["evidence_data"]["url"].endswith("/index.html"))
    record(another_click(home, timestamp=moment.timestamp()))
    [page] = deliveries()
    assert page.payload["page"]["count"] == 4
    assert page.payload["issue"] is None
    assert page.page == page.payload["page"]["page"]
    # Within the interval: no second alert for the page.
    record(another_click(home, timestamp=moment.timestamp()))
    assert len(deliveries()) == 1
    # Later, past the interval and with the window's clicks gone: none.
    clock.now = moment + timedelta(hours=2)
    record(another_click(home, timestamp=clock.now.timestamp()))
    assert len(deliveries()) == 1


def test_a_new_issue_held_back_by_the_creation_quota_is_alerted_when_the_quota_shows_it(
    sdk_project,
):
    """Decided with the counts (the outbox), due when the issue is shown: the worker, which
    claims only due deliveries, sends it then and not before."""
    webhook_rule(sdk_project.project_id, URL)
    quota = CreationQuota(issues=2, window=timedelta(hours=1))
    for occurrence in fixture_occurrences():
        issue_record_occurrence(decode_occurrence(occurrence_message(occurrence)), quota=quota)

    sent = deliveries("new_issue")
    assert len(sent) == Issue.objects.count() == 5
    now = timezone.now()
    due_now = [d for d in sent if d.next_attempt_at <= now]
    held = [d for d in sent if d.next_attempt_at > now]
    assert len(due_now) == 2
    assert len(held) == 3
    for delivery in held:
        issue = Issue.objects.get(pk=delivery.issue_id)
        assert issue.shown_at > now
        assert delivery.next_attempt_at == issue.shown_at
