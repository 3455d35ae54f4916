"""Figures that take seconds to count (a town's schedule flags), kept per process while what they are counted from
is unchanged; after a change, the last count is served, saying when it was made, while a thread counts again."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from server import clock
from server.extensions import db
from server.schedules.queries import register_fingerprint

__all__ = ["Counted", "counted", "wait_for_counts", "forget_counts"]


@dataclass(frozen=True)
class Counted:
    """A count as made at an instant; `fresh` is False while a newer one is under way (something has changed)."""

    value: Any
    counted_at: dt.datetime
    fresh: bool = True


class _Counts:
    """The most recent KEEP counts, keyed by what they count and the fingerprint of the data they count from
    (server.schedules.queries.register_fingerprint: a count is never taken for fresh when anything has changed)."""

    KEEP = 256     # a county server's readers: every town's and village's figures, the purge plan

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, tuple[tuple, Counted]] = OrderedDict()
        self._counting: set[Hashable] = set()
        self._lock = threading.Lock()

    def of(self, key: Hashable, count: Callable[[], Any], stale_seconds: int) -> Counted:
        fingerprint = register_fingerprint()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is not None and entry[0] == fingerprint:
            return entry[1]
        if entry is not None and (clock.now() - entry[1].counted_at).total_seconds() < stale_seconds:
            self._count_in_background(current_app._get_current_object(), key, count)
            return Counted(entry[1].value, entry[1].counted_at, fresh=False)
        return self._count(key, count, fingerprint)

    def _count(self, key: Hashable, count: Callable[[], Any], fingerprint: tuple) -> Counted:
        made = Counted(count(), clock.now())
        with self._lock:
            self._entries[key] = (fingerprint, made)
            self._entries.move_to_end(key)
            while len(self._entries) > self.KEEP:
                self._entries.popitem(last=False)
        # Out of the cyclic collector's sight from now on: a county's kept figures are millions of objects that every
        # full collection would walk again (150 ms of a request in seven on the county's home page). They hold no
        # cycles: when a newer count replaces them, they are freed as before.
        gc.freeze()
        return made

    def _count_in_background(self, app, key: Hashable, count: Callable[[], Any]) -> None:
        with self._lock:
            if key in self._counting:
                return
            self._counting.add(key)

        def run() -> None:
            with app.app_context():
                try:
                    self._count(key, count, register_fingerprint())
                finally:
                    db.session.remove()
                    with self._lock:
                        self._counting.discard(key)

        threading.Thread(target=run, name="taizhang-count", daemon=True).start()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def wait(self) -> None:
        while True:
            with self._lock:
                if not self._counting:
                    return
            time.sleep(0.02)


def _counts() -> _Counts:
    return current_app.extensions.setdefault("taizhang_counts", _Counts())


def counted(key: Hashable, count: Callable[[], Any]) -> Counted:
    """`count()` as last made for `key` (made now if never, or if the data changed more than
    TAIZHANG_DASHBOARD_STALE_SECONDS after it was made). `count` must read only the database and its arguments:
    it may run in a thread of its own, in an app context of its own."""
    return _counts().of(key, count, current_app.config["TAIZHANG_DASHBOARD_STALE_SECONDS"])


def wait_for_counts() -> None:
    """Until no count runs in the background (for tests)."""
    _counts().wait()


def forget_counts() -> None:
    """Forget every kept count (after the tables are emptied and filled again, as tests do: the fingerprint tells
    changes apart, not a database started over)."""
    _counts().clear()
