"""Unusual reading: a staff member who opened more than a limit of different people's records within any 60 minutes
(a sliding window, not clock hours), told as stretches of such reading; and which audited actions are exports of
personal data, full or masked."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from sync.privacy import FULL_SUFFIX

__all__ = ["WINDOW", "READ_ACTIONS", "PersonRead", "UnusualReading", "unusual_reading", "is_export",
           "export_is_full"]

WINDOW = dt.timedelta(hours=1)
# What counts as opening a person's record: their person page (the one page showing the record whole, the ID number
# and phone unmasked; the read is audited with the person's uuid as its subject).
READ_ACTIONS = ("person.read",)


@dataclass(frozen=True)
class PersonRead:
    user_id: int
    at: dt.datetime
    person: str           # the person's uuid


@dataclass(frozen=True)
class UnusualReading:
    """A stretch of reading by one staff member in which some 60 minutes held more than the limit of different
    people: from its first read to its last, the people read in it (in the order first read) and the most different
    people read within one 60 minutes of it."""

    user_id: int
    start: dt.datetime
    end: dt.datetime
    people: tuple[str, ...]
    peak: int


def unusual_reading(reads: Iterable[PersonRead], *, limit: int, window: dt.timedelta = WINDOW) -> list[UnusualReading]:
    """Every stretch in which a staff member read more than `limit` different people within `window` (a read at
    exactly `window` after another is not within it; reading one person again does not count twice). Windows that
    overlap join into one stretch. By staff member, then start."""
    found: list[UnusualReading] = []
    ordered = sorted(reads, key=lambda read: (read.user_id, read.at))
    for user_id, own in groupby(ordered, key=lambda read: read.user_id):
        found.extend(_stretches(user_id, list(own), limit, window))
    return found


def _stretches(user_id: int, reads: list[PersonRead], limit: int, window: dt.timedelta) -> list[UnusualReading]:
    spans: list[list[int]] = []          # [first index, last index, peak] of each stretch
    inside: Counter[str] = Counter()
    first = 0
    for last, read in enumerate(reads):
        inside[read.person] += 1
        while reads[first].at <= read.at - window:
            inside[reads[first].person] -= 1
            if not inside[reads[first].person]:
                del inside[reads[first].person]
            first += 1
        if len(inside) <= limit:
            continue
        if spans and first <= spans[-1][1]:
            spans[-1][1], spans[-1][2] = last, max(spans[-1][2], len(inside))
        else:
            spans.append([first, last, len(inside)])
    return [UnusualReading(user_id, reads[lo].at, reads[hi].at,
                           tuple(dict.fromkeys(read.person for read in reads[lo:hi + 1])), peak)
            for lo, hi, peak in spans]


def is_export(action: str) -> bool:
    """An audited action that took personal data out of the server as a file: the reports (export.*), the named
    registers' workbooks, service notices exported, and any later `*.export` (each `.full` when asked for in full),
    and a person's own copy produced."""
    return (action.startswith("export.") or action.removesuffix(FULL_SUFFIX).endswith(".export")
            or action == "copy.produce")


def export_is_full(reason: str | None) -> bool:
    """An export shows ID numbers and phones in full only when the user asked for it and said why: the reason is
    recorded with it. Without one it was masked."""
    return bool(reason and reason.strip())
