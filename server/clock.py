"""The server's clock, in one place so tests can set it (the one thing they may fake)."""

from __future__ import annotations

import datetime as dt

__all__ = ["now"]


def now() -> dt.datetime:
    """The current instant, in UTC."""
    return dt.datetime.now(dt.timezone.utc)
