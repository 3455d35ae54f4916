"""What the re-checks read and write: samples, the households drawn, re-checks and their findings, and the counts
the indicators read (准确率, and the people a re-check found for 录入率)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import delete, func, or_, select

from server.areas.models import Area
from server.areas.queries import inside_area
from server.extensions import db
from server.rechecks.models import Recheck, RecheckFinding, RecheckHousehold, RecheckSample
from server.register.models import Household, Person
from sync.rechecks import PRESENT, Finding, RecheckCounts, tally

__all__ = ["PRESENT", "RecheckCounts", "recheck_counts", "register_now",
           "inhabited_households", "sample", "samples", "SampledHousehold", "sampled_households",
           "replace_households", "add_sample", "recheck_of", "rechecks_started", "add_recheck", "FindingRow",
           "findings_of", "observed_value", "counts_of_samples", "register_people"]


def _finding_columns():
    return (RecheckFinding.recheck_id, RecheckFinding.person_uuid, RecheckFinding.person_name, RecheckFinding.field,
            RecheckFinding.register_value, RecheckFinding.observed_value, RecheckFinding.agrees)


def recheck_counts(path: str | None, since: dt.date, until: dt.date) -> dict[int, RecheckCounts]:
    """Each group's re-check counts (its households' re-checks dated from `since` to `until`, both included) for
    the groups inside `path` (None: every group); groups without re-checks are left out."""
    query = (select(Household.group_id, *_finding_columns())
             .join(Recheck, Recheck.id == RecheckFinding.recheck_id)
             .join(Household, Household.uuid == Recheck.household_uuid)
             .where(Recheck.checked_on >= since, Recheck.checked_on <= until, Household.group_id.is_not(None)))
    if path is not None:
        query = query.join(Area, Area.id == Household.group_id).where(Area.path.startswith(path, autoescape=True))
    by_group = defaultdict(list)
    for row in db.session.execute(query):
        by_group[row.group_id].append(row)
    return {group: tally(rows) for group, rows in by_group.items()}


def inhabited_households(village_path: str) -> list[str]:
    """The village's households with someone living there as the register stands: a member not died whose
    residence is here (or not recorded)."""
    query = (select(Household.uuid).distinct()
             .join(Area, Area.id == Household.group_id)
             .join(Person, Person.household_uuid == Household.uuid)
             .where(inside_area(Area.path, village_path),
                    or_(Person.status.is_(None), Person.status != "died"),
                    or_(Person.residence.is_(None), Person.residence == "here")))
    return list(db.session.scalars(query))


def sample(village_id: int, month: dt.date) -> RecheckSample | None:
    return db.session.scalar(select(RecheckSample).where(RecheckSample.village_id == village_id,
                                                         RecheckSample.month == month))


def samples(village_ids: list[int], month: dt.date) -> dict[int, RecheckSample]:
    """The month's samples of these villages, by village id."""
    if not village_ids:
        return {}
    return {row.village_id: row for row in db.session.scalars(select(RecheckSample).where(
        RecheckSample.village_id.in_(village_ids), RecheckSample.month == month))}


class SampledHousehold(NamedTuple):
    uuid: str
    position: int
    household_no: str | None
    group_name: str | None
    head: str | None                 # the head of household's name, as the register stands
    checked_on: dt.date | None       # when it was re-checked (None: not yet)
    source: str | None


def sampled_households(sample_id: int) -> list[SampledHousehold]:
    """A sample's households in the order drawn, with their group, head and re-check."""
    head = (select(func.min(Person.name)).where(Person.household_uuid == RecheckHousehold.household_uuid,
                                                Person.relationship == "head").scalar_subquery())
    query = (select(RecheckHousehold.household_uuid, RecheckHousehold.position, Household.household_no,
                    Area.full_name, head, Recheck.checked_on, Recheck.source)
             .outerjoin(Household, Household.uuid == RecheckHousehold.household_uuid)
             .outerjoin(Area, Area.id == Household.group_id)
             .outerjoin(Recheck, (Recheck.sample_id == RecheckHousehold.sample_id)
                        & (Recheck.household_uuid == RecheckHousehold.household_uuid))
             .where(RecheckHousehold.sample_id == sample_id).order_by(RecheckHousehold.position))
    return [SampledHousehold(*row) for row in db.session.execute(query)]


def add_sample(**values) -> RecheckSample:
    row = RecheckSample(**values)
    db.session.add(row)
    db.session.flush()
    return row


def replace_households(sample_id: int, household_uuids: list[str]) -> None:
    """The sample's households: these, in this order (those drawn before are let go)."""
    db.session.execute(delete(RecheckHousehold).where(RecheckHousehold.sample_id == sample_id))
    db.session.add_all(RecheckHousehold(sample_id=sample_id, household_uuid=uuid, position=position)
                       for position, uuid in enumerate(household_uuids, start=1))
    db.session.flush()


def recheck_of(sample_id: int, household_uuid: str) -> Recheck | None:
    return db.session.scalar(select(Recheck).where(Recheck.sample_id == sample_id,
                                                   Recheck.household_uuid == household_uuid))


def rechecks_started(sample_id: int) -> int:
    """How many re-checks of the sample are recorded."""
    return db.session.scalar(select(func.count()).select_from(Recheck).where(Recheck.sample_id == sample_id))


def add_recheck(findings: list, **values) -> Recheck:
    """A re-check with its findings (sync.rechecks.Finding)."""
    row = Recheck(**values)
    db.session.add(row)
    db.session.flush()
    db.session.add_all(RecheckFinding(recheck_id=row.id, **finding._asdict()) for finding in findings)
    db.session.flush()
    return row


FindingRow = NamedTuple("FindingRow", [("sample_id", int), ("household_uuid", str), ("household_no", str | None),
                                        ("recheck_id", int), *Finding.__annotations__.items()])
"""A stored finding with its sample, household and re-check (then the fields of sync.rechecks.Finding)."""


def findings_of(sample_ids: list[int]) -> list[FindingRow]:
    """Every finding of these samples' re-checks, household by household (by number), each person's findings in
    the order written."""
    if not sample_ids:
        return []
    query = (select(Recheck.sample_id, Recheck.household_uuid, Household.household_no, *_finding_columns())
             .join(Recheck, Recheck.id == RecheckFinding.recheck_id)
             .outerjoin(Household, Household.uuid == Recheck.household_uuid)
             .where(Recheck.sample_id.in_(sample_ids))
             .order_by(Recheck.sample_id, Household.household_no, Recheck.household_uuid, RecheckFinding.id))
    return [FindingRow(*row) for row in db.session.execute(query)]


def observed_value(recheck_id: int, person_uuid: str, field: str) -> str | None:
    """What a re-check found of a person's field (None: it noted nothing of it)."""
    return db.session.scalar(select(RecheckFinding.observed_value).where(
        RecheckFinding.recheck_id == recheck_id, RecheckFinding.person_uuid == person_uuid,
        RecheckFinding.field == field).limit(1))


def counts_of_samples(sample_ids: list[int]) -> dict[int, RecheckCounts]:
    """Each sample's re-check counts (every re-check of it, whatever its day)."""
    by_sample = defaultdict(list)
    for row in findings_of(sample_ids):
        by_sample[row.sample_id].append(row)
    return {sample_id: tally(by_sample[sample_id]) for sample_id in sample_ids}


def register_people(household_uuid: str) -> list[Person]:
    """The household's members as the register stands, head first (those died are not re-checked)."""
    return list(db.session.scalars(select(Person).where(
        Person.household_uuid == household_uuid, or_(Person.status.is_(None), Person.status != "died"))
        .order_by(Person.relationship != "head", Person.birth_date, Person.uuid)))


def register_now(person_uuids: set[str]) -> dict[str, dict[str, str | None]]:
    """What the register holds now for these people (each compared field, and residence): a disagreement corrected
    since the re-check shows as corrected."""
    if not person_uuids:
        return {}
    fields = ("name", "sex", "birth_date", "id_number", "relationship", "phone", "residence", "hukou")
    rows = db.session.execute(select(Person.uuid, *(getattr(Person, name) for name in fields))
                              .where(Person.uuid.in_(sorted(person_uuids)))).all()
    return {row.uuid: {name: getattr(row, name) for name in fields} for row in rows}
