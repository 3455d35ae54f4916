"""What the re-checks read and write: samples, the households drawn, re-checks and their findings, and the counts
the indicators read (准确率, and the people a re-check found for 录入率)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import select

from server.areas.models import Area
from server.extensions import db
from server.rechecks.models import Recheck, RecheckFinding
from server.register.models import Household

__all__ = ["RecheckCounts", "recheck_counts"]

PRESENT = "present"
"""The finding that says whether a person was found at the household: observed "1" found, "0" not found."""


class RecheckCounts(NamedTuple):
    """One group's re-checks in a period (by the day each household was re-checked).

    rechecked: people on the register of the households re-checked (each re-check of a household once);
    correct: of them, those every finding of whom agrees with the register (found, and every field the same);
    found: people the re-checks found at the households, on the register or not;
    found_on_register: of them, those on the register."""

    rechecked: int = 0
    correct: int = 0
    found: int = 0
    found_on_register: int = 0


def recheck_counts(path: str | None, since: dt.date, until: dt.date) -> dict[int, RecheckCounts]:
    """Each group's re-check counts (its households' re-checks dated from `since` to `until`, both included) for
    the groups inside `path` (None: every group); groups without re-checks are left out."""
    query = (select(Household.group_id, RecheckFinding.recheck_id, RecheckFinding.person_uuid,
                    RecheckFinding.person_name, RecheckFinding.field, RecheckFinding.observed_value,
                    RecheckFinding.agrees)
             .join(Recheck, Recheck.id == RecheckFinding.recheck_id)
             .join(Household, Household.uuid == Recheck.household_uuid)
             .where(Recheck.checked_on >= since, Recheck.checked_on <= until, Household.group_id.is_not(None)))
    if path is not None:
        query = query.join(Area, Area.id == Household.group_id).where(Area.path.startswith(path, autoescape=True))
    agrees: dict[int, dict[tuple[int, str], bool]] = defaultdict(dict)      # group → (re-check, person) → all agree
    found: dict[int, list[bool]] = defaultdict(list)                        # group → on the register, per person found
    for row in db.session.execute(query):
        if row.field == PRESENT and row.observed_value == "1":
            found[row.group_id].append(row.person_uuid is not None)
        if row.person_uuid is not None:
            key = (row.recheck_id, row.person_uuid)
            agrees[row.group_id][key] = agrees[row.group_id].get(key, True) and row.agrees
    return {group: RecheckCounts(rechecked=len(agrees[group]), correct=sum(agrees[group].values()),
                                 found=len(found[group]), found_on_register=sum(found[group]))
            for group in set(agrees) | set(found)}
