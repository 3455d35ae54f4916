"""A short-lived per-process cache of the look-ups every OpenRosa request makes (who is asking, which form version).

Changes made in this process clear it at once; other worker processes and app servers see them within
TAIZHANG_LOOKUP_CACHE_SECONDS (a revoked token, a new password, a closed form). Misses are never cached, so a new
user or form works at once everywhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from itertools import islice
from typing import Any, TypeVar

from flask import current_app

__all__ = ["LookupCache", "lookup_cache"]

T = TypeVar("T")


class LookupCache:
    """Entries kept `seconds` after they were loaded, at most `maxsize` of them (when full, the expired ones go,
    then the older half). A hit is one dict read with no lock (a dict's get is atomic; only writers take the lock):
    Collect's HEAD + POST make five look-ups, and cachetools' TTLCache under a lock took 3.6 µs each
    (docs/benchmarks.md § Issue 22 (round 4), item 6)."""

    def __init__(self, seconds: float, *, maxsize: int = 50_000, timer: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._maxsize = maxsize
        self._timer = timer
        self._entries: dict[Hashable, tuple[float, Any]] = {}   # key → (expires at, value)
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T | None]) -> T | None:
        if self._seconds <= 0:
            return load()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._timer():
            return entry[1]
        value = load()
        if value is not None:
            with self._lock:
                if len(self._entries) >= self._maxsize and key not in self._entries:
                    self._make_room()
                self._entries[key] = (self._timer() + self._seconds, value)
        return value

    def _make_room(self) -> None:
        now = self._timer()
        for key in [key for key, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        if len(self._entries) >= self._maxsize:   # in insertion order: the oldest loaded first
            for key in list(islice(self._entries, max(len(self._entries) // 2, 1))):
                del self._entries[key]

    def discard(self, key: Hashable) -> None:
        """Forget one entry (a change this process made)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def lookup_cache() -> LookupCache:
    """The current app's cache."""
    return current_app.extensions["taizhang_lookup_cache"]
