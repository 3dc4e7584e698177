"""occurrence_hashes: each fingerprint string hashed on its own, and our producer's version 1
shapes (unversioned, or a ``v1 [...]`` entry) hashed as version 1 grouped them."""

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from issues.fingerprints import is_unversioned, occurrence_hashes
from replays.detection.fingerprint import fingerprint_hash, legacy_entry

DEAD, HYDRATION, SLOW, ERROR_CLICK = 5001, 5003, 5004, 5005
V1_DEAD = ["replay_dead_click", "body > button#buy", "/cart"]


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def test_version_1_fingerprints_are_one_hash_of_their_parts_joined_as_before():
    assert occurrence_hashes(DEAD, V1_DEAD) == (md5("\x00".join(V1_DEAD)),)
    slow = ["replay_slow_click", "a", "/"]
    assert occurrence_hashes(SLOW, slow) == (fingerprint_hash(slow),)
    hydration = ["replay_hydration_error", "/cart"]
    assert occurrence_hashes(HYDRATION, hydration) == (md5("replay_hydration_error\x00/cart"),)


def test_only_our_types_own_shape_is_read_as_version_1():
    assert not is_unversioned(DEAD, ["replay_rage_click", "a", "/"])  # another type's slug
    assert not is_unversioned(DEAD, ["replay_dead_click", "a"])  # two parts
    assert not is_unversioned(HYDRATION, ["replay_hydration_error", "/", "x"])
    assert not is_unversioned(ERROR_CLICK, ["replay_error_click", "a", "/"])
    assert occurrence_hashes(ERROR_CLICK, ["replay_error_click", "a", "/"]) == (
        md5("replay_error_click"),
        md5("a"),
        md5("/"),
    )


def test_a_versioned_fingerprint_is_its_strings_hashes_in_order_the_legacy_one_as_before():
    current = 'v2 replay_dead_click testid="buy" tag="button"'
    assert occurrence_hashes(DEAD, [current, legacy_entry(V1_DEAD)]) == (
        md5(current),
        md5("\x00".join(V1_DEAD)),
    )


def test_another_producers_strings_are_hashed_each_and_repeats_dropped():
    assert occurrence_hashes(ERROR_CLICK, ["b", "a", "b"]) == (md5("b"), md5("a"))
    # A ``v1 [...]`` string means nothing special outside our replay types.
    entry = legacy_entry(V1_DEAD)
    assert occurrence_hashes(ERROR_CLICK, [entry]) == (md5(entry),)


@given(st.lists(st.text(min_size=1), min_size=1, max_size=5), st.sampled_from([5001, 5002, 5005]))
def test_the_primary_hash_is_the_first_strings(fingerprint, type_id):
    hashes = occurrence_hashes(type_id, fingerprint)
    assert 1 <= len(hashes) <= len(fingerprint)
    assert len(set(hashes)) == len(hashes)
    assert all(len(value) == 32 for value in hashes)
