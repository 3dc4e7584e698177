"""The outbox through the real issues consumer and broker: the captured clicks give one
``new_issue`` delivery per issue, the same messages again give none, a resolve then a newer click
gives one ``regression``; the worker then delivers each once to a real receiver."""

import pytest

from alerts.models import AlertDelivery
from alerts.worker import DeliveryWorker
from issues.models import Issue, IssueStatus, Occurrence
from issues.services import issue_set_status
from tests.alerts.builders import webhook_rule
from tests.alerts.receivers import receiving
from tests.consumers import produce, start_occurrences_consumer, wait_until
from tests.issues.builders import another_click, fixture_occurrences, occurrence_message

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_consumer_decides_each_alert_once_and_the_worker_delivers_it(
    sdk_project, occurrences_topic, occurrences_dlq_topic
):
    with receiving() as receiver:
        webhook_rule(sdk_project.project_id, receiver.url, name="new")
        webhook_rule(sdk_project.project_id, receiver.url, trigger="regression", name="back")
        occurrences = fixture_occurrences()
        produce(occurrences_topic, [occurrence_message(o) for o in occurrences])
        consumer = start_occurrences_consumer()
        try:
            wait_until(lambda: Occurrence.objects.count() == 5, what="five occurrences")
            assert AlertDelivery.objects.filter(trigger="new_issue").count() == 5
            # The same five again (a rebalance, a replayed topic), then a marker to wait for.
            produce(occurrences_topic, [occurrence_message(o) for o in occurrences])
            marker = another_click(occurrences[1], user={"id": "u-marker"})
            produce(occurrences_topic, [occurrence_message(marker)])
            wait_until(lambda: Occurrence.objects.count() == 6, what="the marker")
            assert AlertDelivery.objects.count() == 5

            issue = Issue.objects.get(type="replay_slow_click")
            issue_set_status(issue, IssueStatus.RESOLVED)
            slow = next(o for o in occurrences if o["type"] == 5004)
            newer = another_click(slow, timestamp=issue.resolved_at.timestamp() + 5)
            produce(occurrences_topic, [occurrence_message(newer)] * 2)
            wait_until(lambda: Occurrence.objects.count() == 7, what="the newer click")
        finally:
            consumer.stop()

        [regression] = AlertDelivery.objects.filter(trigger="regression")
        assert regression.issue_id == issue.pk
        assert AlertDelivery.objects.count() == 6

        worker = DeliveryWorker()
        try:
            assert worker.run_once() == 6
            assert worker.run_once() == 0
        finally:
            worker.close()

    assert sorted(receiver.deliveries()) == sorted(
        AlertDelivery.objects.values_list("delivery_id", flat=True)
    )
    actions = sorted(request.json["action"] for request in receiver.received)
    assert actions == ["new_issue"] * 5 + ["regression"]
