"""LookupCache: hits within the TTL, expiry, misses never cached, clear, disabled at 0 seconds."""

from __future__ import annotations

from server.lookup_cache import LookupCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting_loader(values):
    calls = []

    def load():
        calls.append(1)
        return values[len(calls) - 1]

    return load, calls


def test_a_hit_within_the_ttl_does_not_load_again():
    cache = LookupCache(5, timer=Clock())
    load, calls = counting_loader(["a", "b"])
    assert cache.get("k", load) == "a"
    assert cache.get("k", load) == "a"
    assert len(calls) == 1


def test_an_entry_expires_after_the_ttl():
    clock = Clock()
    cache = LookupCache(5, timer=clock)
    load, calls = counting_loader(["old", "new"])
    assert cache.get("k", load) == "old"
    clock.now += 4.9
    assert cache.get("k", load) == "old"
    clock.now += 0.2
    assert cache.get("k", load) == "new"
    assert len(calls) == 2


def test_misses_are_never_cached():
    cache = LookupCache(5, timer=Clock())
    load, calls = counting_loader([None, "created"])
    assert cache.get("k", load) is None
    assert cache.get("k", load) == "created"


def test_clear_forgets_everything():
    cache = LookupCache(5, timer=Clock())
    load, _ = counting_loader(["a", "b"])
    cache.get("k", load)
    cache.clear()
    assert cache.get("k", load) == "b"


def test_zero_seconds_disables_the_cache():
    cache = LookupCache(0)
    load, calls = counting_loader(["a", "b"])
    assert [cache.get("k", load), cache.get("k", load)] == ["a", "b"]


def test_a_full_cache_drops_the_expired_entries_then_the_oldest():
    clock = Clock()
    cache = LookupCache(5, maxsize=4, timer=clock)
    for key in "ab":
        cache.get(key, lambda key=key: key.upper())
    clock.now += 6   # a and b expired
    for key in "cd":
        cache.get(key, lambda key=key: key.upper())
    cache.get("e", lambda: "E")   # full: a and b go, the rest stays
    load, calls = counting_loader(["C2", "E2"])
    assert [cache.get("c", load), cache.get("e", load)] == ["C", "E"] and not calls
    for key in "fgh":   # full again, nothing expired: the older half (c, d) goes
        cache.get(key, lambda key=key: key.upper())
    assert cache.get("e", load) == "E"
    assert cache.get("c", load) == "C2"
