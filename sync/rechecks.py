"""Re-checks (准确率), pure: how many households a sample takes, the seeded draw, a re-check compared with the register
field by field, and the counts accuracy is read from (docs/rechecks.md)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["COMPARED_FIELDS", "PRESENT", "AWAY", "NEWCOMER_FIELDS", "RecheckCounts", "Observed", "Newcomer", "Finding",
           "sample_size", "draw", "compare", "tally", "accuracy"]

COMPARED_FIELDS = ("name", "sex", "birth_date", "id_number", "relationship", "phone", "residence", "hukou")
"""The fields of a person a re-check compares with the register, in the order the page asks them."""
PRESENT = "present"
"""The finding that says whether a person was found at the household: observed "1" found, "0" not found."""
AWAY = frozenset({"working_away", "moved_away"})
"""Residences of people the register does not expect to find at the household (not finding them agrees)."""
NEWCOMER_FIELDS = ("sex", "birth_date")
"""What a re-check notes, besides the name, of a person found at the household who is not on its register."""


class RecheckCounts(NamedTuple):
    """Re-checks counted together (a group's in a period, or a village's sample).

    rechecked: people on the register of the households re-checked (each re-check of a household once);
    correct: of them, those every finding of whom agrees with the register (found, and every field the same);
    found: people the re-checks found at the households, on the register or not;
    found_on_register: of them, those on the register."""

    rechecked: int = 0
    correct: int = 0
    found: int = 0
    found_on_register: int = 0


@dataclass(frozen=True)
class Observed:
    """What a re-check found of one person on the register: found at the household or not, and for each compared
    field the value found where it differs from the register's (a field left out agrees)."""

    found: bool
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Newcomer:
    """A person found at the household who is not on its register."""

    name: str
    sex: str | None = None
    birth_date: str | None = None


class Finding(NamedTuple):
    """One field of one person: the register's value beside the value found (person_uuid None: not on the
    register)."""

    person_uuid: str | None
    person_name: str
    field: str
    register_value: str | None
    observed_value: str | None
    agrees: bool


def sample_size(households: int, percent: float) -> int:
    """How many of a village's households a sample of `percent` (0 < percent ≤ 100) takes: the share rounded up,
    at least one (none of none)."""
    if not 0 < percent <= 100:
        raise ValueError(f"percent {percent!r}")
    return min(households, max(1, math.ceil(households * percent / 100 - 1e-9))) if households else 0


def draw(household_uuids: Iterable[str], seed: int, percent: float) -> list[str]:
    """The households a sample takes, in the order drawn: the uuids sorted (so the order they were read in does not
    matter), then drawn by random.Random(seed); the same seed and households draw the same sample."""
    ordered = sorted(set(household_uuids))
    return random.Random(seed).sample(ordered, sample_size(len(ordered), percent))


def compare(register_people: Sequence[Mapping[str, str | None]], observed: Mapping[str, Observed],
            newcomers: Sequence[Newcomer] = ()) -> list[Finding]:
    """A household's re-check beside its register, field by field. Each person on the register (a mapping with
    "uuid" and the COMPARED_FIELDS) has a finding "present" (register "1", or "0" for one the register has living
    away; observed "1" found or "0" not; it agrees when the two are the same), and when
    found one per compared field (a value found that differs disagrees; a field not given agrees); a person not on
    the register has a finding "present" (no register value, observed "1", disagreeing) and one for each of
    NEWCOMER_FIELDS given. Every person on the register must be in `observed` (KeyError otherwise)."""
    findings = []
    for person in register_people:
        seen = observed[person["uuid"]]
        name = person.get("name") or ""
        expected = "0" if person.get("residence") in AWAY else "1"
        findings.append(Finding(person["uuid"], name, PRESENT, expected, "1" if seen.found else "0",
                                seen.found == (expected == "1")))
        if not seen.found:
            continue
        for name_of_field in COMPARED_FIELDS:
            held = person.get(name_of_field) or None
            found = seen.values.get(name_of_field) or held
            findings.append(Finding(person["uuid"], name, name_of_field, held, found, found == held))
    for newcomer in newcomers:
        findings.append(Finding(None, newcomer.name, PRESENT, None, "1", False))
        findings.extend(Finding(None, newcomer.name, name_of_field, None, getattr(newcomer, name_of_field), False)
                        for name_of_field in NEWCOMER_FIELDS if getattr(newcomer, name_of_field))
    return findings


def tally(rows: Iterable) -> RecheckCounts:
    """The counts of findings (rows with recheck_id, person_uuid, field, observed_value, agrees), by the
    definitions of RecheckCounts."""
    agrees: dict[tuple[int, str], bool] = {}
    found: list[bool] = []
    for row in rows:
        if row.field == PRESENT and row.observed_value == "1":
            found.append(row.person_uuid is not None)
        if row.person_uuid is not None:
            key = (row.recheck_id, row.person_uuid)
            agrees[key] = agrees.get(key, True) and bool(row.agrees)
    return RecheckCounts(rechecked=len(agrees), correct=sum(agrees.values()), found=len(found),
                         found_on_register=sum(found))


def accuracy(counts: RecheckCounts) -> float | None:
    """准确率: people correct ÷ people re-checked (None when nobody was re-checked)."""
    return counts.correct / counts.rechecked if counts.rechecked else None
