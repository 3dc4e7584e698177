"""Per-type sampling that a re-delivered segment cannot change: a hash of the occurrence id."""

import hashlib


def sample_point(occurrence_id: str) -> float:
    """Where the occurrence falls in [0, 1): uniform over ids, the same for the same id."""
    digest = hashlib.sha256(occurrence_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_sampled(occurrence_id: str, rate: float) -> bool:
    """Kept at rate 1, dropped at rate 0, and a stable ``rate`` share of ids in between."""
    return sample_point(occurrence_id) < rate
