"""Grouping by several hashes (the issue platform's semantics) on the real database, and what an
upgrade to version 2 fingerprints does to the issues made by version 1: nothing splits, no count
is lost, the version 2 hash joins the old issue."""

import threading

import pytest
from django.db import connections

from issues.models import Issue, IssueHash, Occurrence
from issues.occurrence_message import decode_occurrence
from issues.services import issue_record_occurrences
from replays.detection.fingerprint import fingerprint_hash, legacy_parts
from tests.issues.builders import another_click, fixture_occurrences, occurrence_message, record


def as_version_1(occurrence: dict) -> dict:
    """The same click as the version 1 producer published it: ``[type, selector, page]``."""
    return {**occurrence, "fingerprint": legacy_parts(occurrence["fingerprint"][1])}


def hashes_of(issue: Issue) -> set[str]:
    return set(issue.hashes.values_list("hash", flat=True))


@pytest.fixture
def dead_click(sdk_project) -> dict:
    return fixture_occurrences()[0]


def test_an_issue_made_by_version_1_keeps_counting_version_2_occurrences(dead_click):
    old = as_version_1(another_click(dead_click, user={"id": "u-1"}))
    made = record(old)
    issue = Issue.objects.get()
    assert issue.fingerprint_hash == fingerprint_hash(old["fingerprint"])
    assert hashes_of(issue) == {issue.fingerprint_hash}

    for user in ("u-1", "u-2", "u-3"):
        joined = record(another_click(dead_click, user={"id": user}))
        assert (joined.issue_id, joined.issue_created) == (made.issue_id, False)
    # Still in the topic after the upgrade: a version 1 occurrence goes where it always went.
    assert record(as_version_1(another_click(dead_click))).issue_id == made.issue_id

    issue = Issue.objects.get()
    assert (issue.times_seen, issue.users_seen) == (5, 4)  # u-1, u-2, u-3 and the fixture's
    primary, legacy = decode_occurrence(occurrence_message(dead_click)).fingerprint_hashes
    assert issue.fingerprint_hash == legacy
    assert hashes_of(issue) == {primary, legacy}


def test_a_new_issue_gets_every_hash_and_version_1_occurrences_find_it(dead_click):
    made = record(dead_click)
    issue = Issue.objects.get()
    primary, legacy = decode_occurrence(occurrence_message(dead_click)).fingerprint_hashes
    assert issue.fingerprint_hash == primary
    assert hashes_of(issue) == {primary, legacy}
    assert issue.fingerprint == dead_click["fingerprint"]
    assert record(as_version_1(another_click(dead_click))).issue_id == made.issue_id
    assert Issue.objects.get().times_seen == 2


def test_a_strong_identity_is_one_issue_across_pages_and_old_per_page_issues_stay(dead_click):
    """The fixture's buy button has a test id: its dead clicks on two pages were two issues in
    version 1; version 2 joins the first that gets an occurrence, and the other keeps its count."""
    on_cart = another_click(dead_click)
    on_cart["evidence_data"]["url"] = "http://127.0.0.1:18766/cart"
    parts = legacy_parts(on_cart["fingerprint"][1])
    on_cart["fingerprint"] = [on_cart["fingerprint"][0], f'v1 ["{parts[0]}","{parts[1]}","/cart"]']
    old_home = record(as_version_1(another_click(dead_click)))
    old_cart = record(as_version_1(another_click(on_cart)))
    assert old_home.issue_id != old_cart.issue_id

    assert record(another_click(on_cart)).issue_id == old_cart.issue_id
    # The version 2 hash is the cart issue's now: a click on the home page joins it too.
    assert record(another_click(dead_click)).issue_id == old_cart.issue_id
    counts = dict(Issue.objects.values_list("pk", "times_seen"))
    assert counts == {old_home.issue_id: 1, old_cart.issue_id: 3}
    home = Issue.objects.get(pk=old_home.issue_id)
    assert hashes_of(home) == {home.fingerprint_hash}  # its legacy hash stays its own
    assert Occurrence.objects.count() == 4


def test_another_producers_fingerprints_group_by_the_first_known_string(dead_click):
    def click(*fingerprint: str) -> dict:
        generic = another_click(dead_click)
        generic["type"] = 5005  # error clicks: no version 1 shape to read
        generic["fingerprint"] = list(fingerprint)
        return generic

    first = record(click("a", "b"))
    assert record(click("c", "b")).issue_id == first.issue_id  # b is known
    assert record(click("c")).issue_id == first.issue_id  # c was added to it
    other = record(click("d"))
    assert other.issue_id != first.issue_id
    # "d" is known first: the issue of "d", though "a" is the first issue's.
    assert record(click("d", "a")).issue_id == other.issue_id
    assert dict(Issue.objects.values_list("pk", "times_seen")) == {
        first.issue_id: 3,
        other.issue_id: 2,
    }


def test_in_a_batch_a_hash_one_occurrence_brings_is_known_to_the_next(dead_click):
    def click(*fingerprint: str) -> dict:
        generic = another_click(dead_click)
        generic["type"] = 5005
        generic["fingerprint"] = list(fingerprint)
        return generic

    batch = [click("a", "b"), click("b", "c"), click("c"), click("d")]
    results = issue_record_occurrences(
        [decode_occurrence(occurrence_message(one)) for one in batch]
    )
    assert [result.issue_created for result in results] == [True, False, False, True]
    assert len({results[0].issue_id, results[1].issue_id, results[2].issue_id}) == 1
    assert Issue.objects.count() == 2
    assert IssueHash.objects.count() == 4
    assert Issue.objects.get(pk=results[0].issue_id).times_seen == 3


@pytest.mark.django_db(transaction=True)
def test_threads_upgrading_the_same_old_issues_at_once_count_each_once(sdk_project):
    """Three issues made by version 1; four writers then record the same 60 version 2 clicks in
    different orders: each old issue gets its version 2 hash once, no issue is added, every
    counter is exact."""
    base = fixture_occurrences()[:3]
    for occurrence in base:
        record(as_version_1(occurrence))
    clicks = [another_click(base[index % 3]) for index in range(60)]
    errors: list[BaseException] = []

    def writer(order: list[dict], size: int) -> None:
        try:
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                issue_record_occurrences(
                    [decode_occurrence(occurrence_message(one)) for one in batch]
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    orders = [(clicks, 1), (clicks[::-1], 7), (clicks[30:] + clicks[:30], 3), (clicks, 20)]
    threads = [threading.Thread(target=writer, args=order) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert Occurrence.objects.count() == 63
    # The fixture's dead and rage clicks on the buy button are two types: three issues still.
    assert Issue.objects.count() == 3
    assert IssueHash.objects.count() == 6
    for issue in Issue.objects.all():
        assert issue.times_seen == 21


@pytest.mark.django_db(transaction=True)
def test_threads_making_the_same_new_issues_at_once_make_each_once(sdk_project):
    base = fixture_occurrences()
    clicks = [another_click(base[index % 5]) for index in range(50)]
    errors: list[BaseException] = []

    def writer(order: list[dict]) -> None:
        try:
            for one in order:
                record(one)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    orders = [clicks, clicks[::-1], clicks[25:] + clicks[:25]]
    threads = [threading.Thread(target=writer, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert Issue.objects.count() == 5
    assert IssueHash.objects.count() == 10
    assert sorted(Issue.objects.values_list("times_seen", flat=True)) == [10] * 5


def test_an_issue_that_an_old_consumer_made_without_hashes_is_found_by_its_fingerprint_hash(
    dead_click,
):
    """During a rolling upgrade an issues consumer of the previous version still makes issues,
    without ``IssueHash`` rows: the first version 2 occurrence finds it all the same."""
    made = record(as_version_1(another_click(dead_click)))
    IssueHash.objects.all().delete()  # as the previous version left it
    joined = record(another_click(dead_click))
    assert (joined.issue_id, joined.issue_created) == (made.issue_id, False)
    issue = Issue.objects.get()
    assert issue.times_seen == 2
    assert hashes_of(issue) == set(
        decode_occurrence(occurrence_message(dead_click)).fingerprint_hashes
    )
