"""The click times an occurrence may carry: what the issue platform stores (both stages)."""

from datetime import UTC, datetime

# Timestamps outside these years are not clicks (and do not fit every database's datetime): the
# issues stage refuses them, so detection falls back to another clock rather than publish one.
MIN_TIMESTAMP = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
MAX_TIMESTAMP = datetime(2200, 1, 1, tzinfo=UTC).timestamp()


def is_click_time(seconds: float) -> bool:
    """Whether ``seconds`` since the epoch is a time the issue platform takes for a click."""
    return MIN_TIMESTAMP <= seconds < MAX_TIMESTAMP
