"""Revised occurrences on the real broker: the replays consumer publishes an occurrence again with
the same id when a later segment changes its window. Two issues consumers of one group, each
version delivered twice in shuffled order, end with the latest evidence and count each click
once."""

import copy
import random
import time
import uuid

import pytest

from issues.models import Issue, IssueUser, Occurrence
from tests.consumers import produce, start_occurrences_consumer, wait_until
from tests.issues.builders import another_click, fixture_occurrences, occurrence_message

pytestmark = pytest.mark.django_db(transaction=True)

PENDING = {"kind": "request_pending", "detail": "GET /api/quote had not answered"}
FAILED = {"kind": "request_failed", "detail": "GET /api/quote answered 504"}


def with_cause(occurrence: dict, cause: dict, revision: int) -> dict:
    revised = copy.deepcopy(occurrence)
    revised["evidence_data"]["cause"] = cause
    revised["evidence_data"]["revision"] = revision
    return revised


def test_revisions_in_any_order_on_two_consumers_end_with_the_latest_and_count_once(
    sdk_project, occurrences_topic, occurrences_dlq_topic, topic_reader
):
    base = fixture_occurrences()[0]
    clicks = [another_click(base, user={"id": f"user-{index % 5}"}) for index in range(40)]
    # Clicks 0..29 are revised from pending to failed; 30..39 stay pending.
    versions = [with_cause(click, PENDING, 1) for click in clicks]
    versions += [with_cause(click, FAILED, 2) for click in clicks[:30]]
    values = [occurrence_message(version) for version in versions] * 2
    random.Random(17).shuffle(values)
    group = f"test-revisions-{uuid.uuid4().hex[:8]}"
    first = start_occurrences_consumer(group)
    second = start_occurrences_consumer(group)
    try:
        # Random keys: one click's versions land on different partitions, so the two consumers
        # take them in any order, at the same moment too.
        produce(occurrences_topic, values, key=lambda: uuid.uuid4().bytes)
        wait_until(
            lambda: Occurrence.objects.filter(evidence__cause__kind="request_failed").count() == 30,
            timeout_s=60,
            what="30 revised occurrences",
        )
        time.sleep(1)  # let the re-deliveries still in flight land
    finally:
        first.stop()
        second.stop()

    assert Occurrence.objects.count() == 40
    causes = dict(Occurrence.objects.values_list("occurrence_id", "evidence__cause__kind"))
    assert causes == {
        click["id"]: "request_failed" if index < 30 else "request_pending"
        for index, click in enumerate(clicks)
    }
    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (40, 5)
    assert IssueUser.objects.filter(issue=issue).count() == 5
    assert issue.likely_cause == {**FAILED, "share": 0.75, "count": 30, "of": 40}
    assert topic_reader(occurrences_dlq_topic, 1, timeout_s=1) == []
