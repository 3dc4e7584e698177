"""TtlCache: values trusted for the configured seconds, missing ones cached or asked again."""

from pipeline.ttl_cache import TtlCache


class Loader:
    def __init__(self, values: dict) -> None:
        self.values, self.calls = values, 0

    def __call__(self, key):
        self.calls += 1
        return self.values.get(key)


def test_a_value_is_loaded_once_within_the_ttl_and_again_after_clear(settings):
    settings.TEST_CACHE_TTL_S = 60
    cache, load = TtlCache("TEST_CACHE_TTL_S"), Loader({1: "one"})
    assert [cache.get(1, load), cache.get(1, load)] == ["one", "one"]
    assert load.calls == 1
    load.values[1] = "uno"
    cache.clear(sender=object)  # as a signal receiver
    assert cache.get(1, load) == "uno"
    assert load.calls == 2


def test_a_ttl_of_zero_caches_nothing(settings):
    settings.TEST_CACHE_TTL_S = 0
    cache, load = TtlCache("TEST_CACHE_TTL_S"), Loader({1: "one"})
    cache.get(1, load)
    cache.get(1, load)
    assert load.calls == 2


def test_the_ttl_is_read_at_each_call(settings):
    settings.TEST_CACHE_TTL_S = 60
    cache, load = TtlCache("TEST_CACHE_TTL_S"), Loader({1: "one"})
    cache.get(1, load)
    settings.TEST_CACHE_TTL_S = -1  # an entry stored from now on is already stale
    cache.clear()
    cache.get(1, load)
    cache.get(1, load)
    assert load.calls == 3


def test_what_was_not_found_is_cached_unless_asked_not_to(settings):
    settings.TEST_CACHE_TTL_S = 60
    caching, load = TtlCache("TEST_CACHE_TTL_S"), Loader({})
    caching.get(1, load)
    caching.get(1, load)
    assert load.calls == 1
    asking, load = TtlCache("TEST_CACHE_TTL_S", cache_none=False), Loader({})
    asking.get(1, load)
    asking.get(1, load)
    assert load.calls == 2
