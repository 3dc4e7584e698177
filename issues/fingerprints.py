"""The hashes an occurrence is grouped by (pure): the issue platform's semantics.

As Sentry's ``issues/ingest.py``: each string of a fingerprint is hashed on its own (MD5), and an
occurrence joins the issue of the first of its hashes that already exists; a new issue gets all of
them. Two shapes of our replays producer are read as they were meant:

- version 1 (unversioned) fingerprints, which occurrences already in the topic when the version 2
  producer is deployed still carry: ``[slug, selector, page]`` for dead, rage and slow clicks,
  ``[slug, page]`` for hydration errors (still written so). Each is one hash of its parts joined by
  NUL, exactly as every issue made from them was grouped.
- a ``v1 [...]`` string in a versioned fingerprint (``replays.detection.fingerprint.legacy_entry``):
  the hash of that version 1 fingerprint, so an issue made before version 2 is found.
"""

from issues import grouptypes
from replays.detection.fingerprint import fingerprint_hash, legacy_parts

# The registered types whose version 1 fingerprints were (and are) unversioned: the number of
# parts each had. The first part is always the type's slug.
UNVERSIONED_PARTS: dict[int, int] = {
    grouptypes.DEAD_CLICK.type_id: 3,
    grouptypes.RAGE_CLICK.type_id: 3,
    grouptypes.SLOW_CLICK.type_id: 3,
    grouptypes.HYDRATION_ERROR.type_id: 2,
}
REPLAY_TYPES = frozenset(UNVERSIONED_PARTS)


def occurrence_hashes(type_id: int, fingerprint: list[str]) -> tuple[str, ...]:
    """The hashes of an occurrence's fingerprint, the primary one first, without repeats."""
    if is_unversioned(type_id, fingerprint):
        return (fingerprint_hash(fingerprint),)
    hashes = (
        fingerprint_hash(parts)
        if type_id in REPLAY_TYPES and (parts := legacy_parts(entry)) is not None
        else fingerprint_hash([entry])
        for entry in fingerprint
    )
    return tuple(dict.fromkeys(hashes))


def is_unversioned(type_id: int, fingerprint: list[str]) -> bool:
    """Whether ``fingerprint`` has the shape our replays producer wrote before version 2."""
    group_type = grouptypes.get_by_id(type_id)
    return (
        group_type is not None
        and UNVERSIONED_PARTS.get(type_id) == len(fingerprint)
        and fingerprint[0] == group_type.slug
    )
