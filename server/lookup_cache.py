"""A short-lived per-process cache of the look-ups every OpenRosa request makes (who is asking, which form version).

Changes made in this process clear it at once; other worker processes and app servers see them within
TAIZHANG_LOOKUP_CACHE_SECONDS (a revoked token, a new password, a closed form). Misses are never cached, so a new
user or form works at once everywhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import TTLCache
from flask import current_app

__all__ = ["LookupCache", "lookup_cache"]

T = TypeVar("T")


class LookupCache:
    def __init__(self, seconds: float, *, maxsize: int = 50_000, timer: Callable[[], float] = time.monotonic) -> None:
        self._entries = TTLCache(maxsize=maxsize, ttl=seconds, timer=timer) if seconds > 0 else None
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T | None]) -> T | None:
        if self._entries is None:
            return load()
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None:
            return hit
        value = load()
        if value is not None:
            with self._lock:
                self._entries[key] = value
        return value

    def discard(self, key: Hashable) -> None:
        """Forget one entry (a change this process made)."""
        if self._entries is not None:
            with self._lock:
                self._entries.pop(key, None)

    def clear(self) -> None:
        if self._entries is not None:
            with self._lock:
                self._entries.clear()


def lookup_cache() -> LookupCache:
    """The current app's cache."""
    return current_app.extensions["taizhang_lookup_cache"]
