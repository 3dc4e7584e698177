"""A per-process cache of database reads that the admin may change: what a project key grants,
a project's detection settings, its noise threshold.

Each value is trusted for a number of seconds read from the settings at each call (so a test or
an operator can change it). A change saved in the same process clears the cache at once, through
``clear`` connected to the model's signals; other processes see it within the TTL.
"""

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl_setting: str, *, cache_none: bool = True) -> None:
        """``ttl_setting`` names the setting that holds the TTL in seconds (0: no caching).
        ``cache_none=False`` asks again each time for what was not found."""
        self.ttl_setting = ttl_setting
        self.cache_none = cache_none
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K, load: Callable[[K], V]) -> V:
        now = time.monotonic()
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        value = load(key)
        ttl = getattr(settings, self.ttl_setting)
        if ttl > 0 and (value is not None or self.cache_none):
            self._entries[key] = (now + ttl, value)
        return value

    def clear(self, **_signal_kwargs: object) -> None:
        self._entries.clear()
