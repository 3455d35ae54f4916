"""The schedule summary's text columns: what one person or household's flags need, written and read back (pure).

A person's or household's row (server.register.summaries) keeps every completed visit date, every tier change and
anchor, as short text that SQLite and PostgreSQL both hold, so `sync.schedules.flags_for` can be asked about any
as-of date from one row per person instead of every visit row: household visits "2026-01-05,2026-02-11" (by date),
a person's follow-ups "2026-03-05:tier_key,…", tier changes "<instant in UTC>=<tier>;…" (oldest first, "" for
none), anchors "birth:2026-10-01,…"; and the open events: next visits agreed "2026-06-15>2026-07-15,…" (agreed on
the visit of the first day, for the second), referrals as JSON [[day, key, closing instant in UTC or null, place],
…] (a place is free text).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from sync.periods import as_utc, local_date
from sync.schedules import Anchor, ReferralMade, VisitAgreed, VisitDone, tiers_from

__all__ = ["SummaryReader", "household_visits_text", "followups_text", "tiers_text", "anchors_text", "agreed_text",
           "referrals_text", "household_visits_of", "followups_of", "tier_changes_of", "anchors_of", "agreed_of",
           "referrals_of"]

_date = dt.date.fromisoformat


def household_visits_text(days: Iterable[dt.date]) -> str:
    return ",".join(day.isoformat() for day in sorted(days))


def followups_text(visits: Iterable[tuple[dt.date, str | None]]) -> str:
    return ",".join(f"{day.isoformat()}:{kind or ''}" for day, kind in sorted(visits, key=lambda v: (v[0], v[1] or "")))


def tiers_text(changes: Iterable[tuple[dt.datetime, str | None]]) -> str:
    """Tier changes in the order given (the register's: version, then row)."""
    return ";".join(f"{as_utc(at).isoformat()}={tier or ''}" for at, tier in changes)


def anchors_text(anchors: Iterable[tuple[str, dt.date]]) -> str:
    return ",".join(f"{kind}:{day.isoformat()}" for kind, day in sorted(anchors))


def agreed_text(agreements: Iterable[tuple[dt.date, dt.date]]) -> str:
    """Next visits agreed (the day of the visit that agreed each, the day agreed), in the order given."""
    return ",".join(f"{agreed_on.isoformat()}>{day.isoformat()}" for agreed_on, day in agreements)


def referrals_text(referrals: Iterable[tuple[dt.date, str, dt.datetime | None, str | None]]) -> str:
    """Referrals (made on, key, the instant a result closed it or None, place), in the order given ("" for none)."""
    found = [[day.isoformat(), key, as_utc(closed_at).isoformat() if closed_at else None, place]
             for day, key, closed_at, place in referrals]
    return json.dumps(found, ensure_ascii=False, separators=(",", ":")) if found else ""


class _ReadOnce(dict):
    """Text → what `read` makes of it, each distinct text read once."""

    def __init__(self, read) -> None:
        super().__init__()
        self.read = read

    def __missing__(self, text: str):
        found = self[text] = self.read(text)
        return found


def _visit_done(item: str) -> VisitDone:
    """"2026-03-05" (a household visit) or "2026-03-05:tier_key" (a follow-up)."""
    return VisitDone(_date(item[:10]), item[11:] or None) if len(item) > 10 else VisitDone(_date(item))


class SummaryReader:
    """Reads summary text back into sync.schedules' inputs. A county's rows repeat the same few hundred days, follow-up
    types, tier instants and agreed visits, and a group's households are often visited on the same days: each
    distinct piece is turned into its value once (kept for the reader's life)."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self._visit = _ReadOnce(_visit_done).__getitem__
        self._household_visits = _ReadOnce(lambda text: tuple(map(self._visit, text.split(",")))).__getitem__
        self._tiers = _ReadOnce(lambda text: tiers_from(tier_changes_of(text), timezone)).__getitem__
        self._agreed = _ReadOnce(agreed_of).__getitem__

    def household_visits(self, text: str | None) -> tuple[VisitDone, ...]:
        return self._household_visits(text) if text else ()

    def followups(self, text: str | None) -> tuple[VisitDone, ...]:
        return tuple(map(self._visit, text.split(","))) if text else ()

    def tiers(self, text: str | None) -> tuple[tuple[dt.date, str | None], ...]:
        """As sync.schedules.tiers_from: each change from the day it was made where the town is."""
        return self._tiers(text) if text else ()

    def agreed(self, text: str | None) -> tuple[VisitAgreed, ...]:
        return self._agreed(text) if text else ()

    def referrals(self, text: str | None) -> tuple[ReferralMade, ...]:
        """As sync.schedules' ReferralMade: closed on the day its result was recorded where the town is."""
        return referrals_of(text, self.timezone)


def household_visits_of(text: str | None) -> tuple[VisitDone, ...]:
    return tuple(VisitDone(_date(day)) for day in text.split(",")) if text else ()


def followups_of(text: str | None) -> tuple[VisitDone, ...]:
    if not text:
        return ()
    return tuple(VisitDone(_date(item[:10]), item[11:] or None) for item in text.split(","))


def tier_changes_of(text: str | None) -> tuple[tuple[dt.datetime, str], ...]:
    """(instant, tier or "") as the register's tier history holds them, for sync.schedules.tiers_from."""
    if not text:
        return ()
    return tuple((dt.datetime.fromisoformat(at), tier) for at, _, tier in (item.partition("=")
                                                                          for item in text.split(";")))


def anchors_of(text: str | None) -> tuple[Anchor, ...]:
    if not text:
        return ()
    return tuple(Anchor(kind, _date(day)) for kind, _, day in (item.partition(":") for item in text.split(",")))


def agreed_of(text: str | None) -> tuple[VisitAgreed, ...]:
    if not text:
        return ()
    return tuple(VisitAgreed(_date(agreed_on), _date(day)) for agreed_on, _, day in (item.partition(">")
                                                                                      for item in text.split(",")))


def referrals_of(text: str | None, timezone: str) -> tuple[ReferralMade, ...]:
    if not text:
        return ()
    return tuple(ReferralMade(_date(day), key, local_date(dt.datetime.fromisoformat(closed_at), timezone)
                              if closed_at else None, place) for day, key, closed_at, place in json.loads(text))
