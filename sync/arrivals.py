"""Arrivals nobody expected, matched with the county's recent departures: pairs a move may explain (docs/moves.md).

An **arrival** is a person living in a village whose record began there as someone new: their life event is a move
in (`moved_in`) or a plain registration (`registered`, what a collector records when they do not say why a member
is new), dated within `MOVE_MATCH_DAYS` of the day asked about (or undated). A birth is not an arrival.

A **departure** is a person recorded as moved away (`residence` moved_away) whose latest move out is within the
same number of days (or undated), in a village other than the arrival's.

A pair of them is scored with the duplicate scorer (sync.identity: name characters and pinyin, birth date, sex,
ID number, phone) plus the reasons a move adds: `moved` (the mark of a move pair, weight 0), `origin_matches` (the
place the arrival came from, as written, names the departure's village or town) and `destination_matches` (the
move out named the arrival's village or town). A pair scoring at least `MOVE_THRESHOLD` (dedupe's) is a
candidate. Both valid ID numbers identical, with no sex or birth date against them, is a **sure** pair (score 1):
still a question for the arrival's cadre, never merged without one (a merge across villages records a move).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sync.identity import LARGEST_BLOCK, WEIGHTS, MatchScore, PersonRecord, block_keys, identifiers, score_identifiers

__all__ = ["MOVE_MATCH_DAYS", "MOVE_THRESHOLD", "ARRIVAL_EVENTS", "Arrival", "Departure", "MovePair",
           "recent", "origin_names", "score_move", "move_candidates", "move_pairs"]

MOVE_MATCH_DAYS = 365
"""How many days back an arrival and a departure are matched (the server's TAIZHANG_MOVE_MATCH_DAYS)."""

MOVE_THRESHOLD = 0.6
"""The score from which a pair is a candidate: dedupe's threshold (sync.identity.candidate_pairs)."""

ARRIVAL_EVENTS = ("moved_in", "registered")
"""The life events that make a new record an arrival (a birth does not)."""

_CONTRADICTIONS = frozenset({"sex_differs", "birth_date_differs", "id_number_differs"})


@dataclass(frozen=True, slots=True)
class Arrival:
    """A person registered anew in a village: their identity (`record.village` the village's id), the day of their
    arrival event, where they said they came from, and the ids of the village and town they live in."""

    record: PersonRecord
    arrived_on: dt.date | None
    origin: str | None
    areas: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Departure:
    """A person who moved away: their identity (`record.village` the village they left), the day of their latest
    move out, the names of the village and town they left, and the id of the area the move named (None: outside)."""

    record: PersonRecord
    moved_on: dt.date | None
    place_names: tuple[str, ...]
    destination: str | None


@dataclass(frozen=True, slots=True)
class MovePair:
    """An arrival and a departure that may be one person; `a` < `b` are the two ids as a candidate pair stores them."""

    arrival: str
    departed: str
    score: MatchScore

    @property
    def a(self) -> str:
        return min(self.arrival, self.departed)

    @property
    def b(self) -> str:
        return max(self.arrival, self.departed)


def recent(day: dt.date | None, as_of: dt.date, days: int = MOVE_MATCH_DAYS) -> bool:
    """Whether a move on `day` is within `days` before `as_of` (or after it); an undated one counts as recent."""
    return day is None or day >= as_of - dt.timedelta(days=days)


def _folded(text: str | None) -> str:
    """NFKC, without whitespace and the "/" of full names."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).replace("/", "")


def origin_names(*names: str | None) -> tuple[str, ...]:
    """The names a place of origin may be written with (a village's, a town's, a full name), folded, without
    one-character names (too short to say anything)."""
    return tuple(dict.fromkeys(folded for name in names if len(folded := _folded(name)) > 1))


def _origin_matches(origin: str | None, names: tuple[str, ...]) -> bool:
    written = _folded(origin)
    return len(written) > 1 and any(name in written or written in name for name in names)


def score_move(arrival: Arrival, departure: Departure, *, as_of: dt.date | None = None) -> MatchScore | None:
    """How likely a departure is the arrival's person; None when the two cannot be a move (the same record, or
    the same village: that is the village's own duplicate check)."""
    if arrival.record.id == departure.record.id or arrival.record.village == departure.record.village:
        return None
    base = score_identifiers(identifiers(arrival.record, as_of), identifiers(departure.record, as_of))
    reasons = [*base.reasons, "moved"]
    if _origin_matches(arrival.origin, departure.place_names):
        reasons.append("origin_matches")
    if departure.destination is not None and departure.destination in arrival.areas:
        reasons.append("destination_matches")
    sure = "same_id_number" in reasons and not _CONTRADICTIONS & set(reasons)
    total = 1.0 if sure else min(1.0, max(0.0, sum(map(WEIGHTS.__getitem__, reasons))))
    return MatchScore(score=round(total, 6), reasons=tuple(reasons), automatic=sure)


def _best_first(pair: MovePair) -> tuple[float, str, str]:
    return -pair.score.score, pair.arrival, pair.departed


def move_candidates(arrival: Arrival, departures: Iterable[Departure], *, as_of: dt.date,
                    days: int = MOVE_MATCH_DAYS, threshold: float = MOVE_THRESHOLD) -> list[MovePair]:
    """The departures a recent arrival may be, best first: those of other villages, moved within `days` of
    `as_of`, scoring at least `threshold` (none when the arrival is not recent itself). Each departure is scored
    once, however often it is given."""
    if not recent(arrival.arrived_on, as_of, days):
        return []
    found, seen = [], set()
    for departure in departures:
        if departure.record.id in seen or not recent(departure.moved_on, as_of, days):
            continue
        seen.add(departure.record.id)
        score = score_move(arrival, departure, as_of=as_of)
        if score is not None and score.score >= threshold:
            found.append(MovePair(arrival.record.id, departure.record.id, score))
    found.sort(key=_best_first)
    return found


def move_pairs(arrivals: Iterable[Arrival], departures: Iterable[Departure], *, as_of: dt.date,
               days: int = MOVE_MATCH_DAYS, threshold: float = MOVE_THRESHOLD,
               largest_block: int = LARGEST_BLOCK) -> list[MovePair]:
    """Every candidate pair of an arrival and a departure sharing a block key (sync.identity.block_keys; a key
    shared by more than `largest_block` departures is a placeholder and not followed), best first: the full scan
    across the county."""
    by_key: dict[str, list[Departure]] = defaultdict(list)
    for departure in departures:
        if recent(departure.moved_on, as_of, days):
            for key in dict.fromkeys(block_keys(departure.record, as_of=as_of)):
                by_key[key].append(departure)
    found = []
    for arrival in arrivals:
        sharing = [departure for key in dict.fromkeys(block_keys(arrival.record, as_of=as_of))
                   if len(by_key.get(key, ())) <= largest_block for departure in by_key.get(key, ())]
        found += move_candidates(arrival, sharing, as_of=as_of, days=days, threshold=threshold)
    found.sort(key=_best_first)
    return found
