"""Sampling: a stable decision per occurrence id."""

import uuid

import pytest

from replays.detection.sampling import is_sampled, sample_point

IDS = [uuid.uuid5(uuid.NAMESPACE_URL, f"click-{i}").hex for i in range(10_000)]


def test_rate_zero_never_and_rate_one_always():
    assert not any(is_sampled(identifier, 0.0) for identifier in IDS)
    assert all(is_sampled(identifier, 1.0) for identifier in IDS)


def test_the_same_id_always_gets_the_same_decision():
    for identifier in IDS[:200]:
        decisions = {is_sampled(identifier, 0.5) for _ in range(3)}
        assert len(decisions) == 1
        assert sample_point(identifier) == sample_point(identifier)


@pytest.mark.parametrize("rate", [0.5, 0.1, 0.9])
def test_a_rate_keeps_about_that_share_of_ids(rate):
    kept = sum(is_sampled(identifier, rate) for identifier in IDS)
    assert abs(kept - rate * len(IDS)) < 0.03 * len(IDS)


def test_a_lower_rate_keeps_a_subset_of_a_higher_ones():
    low = {i for i in IDS if is_sampled(i, 0.2)}
    high = {i for i in IDS if is_sampled(i, 0.6)}
    assert low < high


def test_sample_points_are_in_the_unit_interval():
    points = [sample_point(identifier) for identifier in IDS]
    assert all(0 <= point < 1 for point in points)
    assert min(points) < 0.01
    assert max(points) > 0.99
