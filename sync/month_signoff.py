"""A village's month as its cadre signs it off and the town office decides on it: when a month may be submitted,
returned or accepted, and when a first submission is late (after the due day of the next month, where the town is).

A month is open until its cadre first submits it; it may be submitted once it is over (from its next month's first
day), and again only after the town office returned it; the town office returns (with a comment) or accepts a
submitted month; an accepted month is final.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sync.periods import month_start, next_month

__all__ = ["STEPS", "submit_refusal", "decide_refusal", "due_date", "due_at", "is_late"]

STEPS = ("submitted", "returned", "accepted")
"""A month's states, and the steps that lead to them (the same words)."""


def submit_refusal(state: str | None, month: dt.date, today: dt.date) -> str | None:
    """Why a month cannot be submitted now (None: it can): "not_over" (the month has not ended: this month or a
    future one), "submitted" (waiting for the town office), "accepted" (final)."""
    if today < next_month(month_start(month)):
        return "not_over"
    if state in ("submitted", "accepted"):
        return state
    return None


def decide_refusal(state: str | None) -> str | None:
    """Why the town office cannot return or accept a month now (None: it can): only a submitted month is decided;
    "open" (never submitted), "returned" (waiting for the village), "accepted" (already final)."""
    if state == "submitted":
        return None
    return state or "open"


def due_date(month: dt.date, due_day: int) -> dt.date:
    """The day a month's report is due by (its end): the `due_day`th of the next month."""
    return next_month(month_start(month)) + dt.timedelta(days=due_day - 1)


def due_at(month: dt.date, due_day: int, timezone: str) -> dt.datetime:
    """The instant a month's report is due: the end of its due date where the town is."""
    return dt.datetime.combine(due_date(month, due_day) + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))


def is_late(first_submitted_at: dt.datetime, month: dt.date, due_day: int, timezone: str) -> bool:
    """Whether a month's first submission came after the end of its due day."""
    return first_submitted_at >= due_at(month, due_day, timezone)
