"""The re-checks' services: the town office draws a village's sample for a month (a stored seed; drawn again only
explicitly, and only before any re-check of it), records what a re-check of a sampled household found (compared with
the register field by field), and reads the month's samples, their accuracy and their disagreements. Re-checks are
the town office's (and the county's): a village does not re-check itself. Every id that arrives is checked against
the reader's area before anything is read or written."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from server import clock
from server.areas import queries as area_queries
from server.areas.operations import village_in_area
from server.areas.queries import AreaRow
from server.audit import queries as audit
from server.principal import Principal
from server.rechecks import queries
from server.rechecks.models import RecheckSample
from server.register import queries as register_queries
from sync.access import TOWN_OFFICE_ROLES, area_contains
from sync.decisions import CHOICE_FIELDS, check_field_value
from sync.errors import (
    AlreadyRechecked,
    BadRequest,
    DateValueInvalid,
    FieldValueInvalid,
    Forbidden,
    OutsideArea,
    RecheckMonthInFuture,
    RecheckNotInSample,
    RecheckPercentInvalid,
    RechecksStarted,
    RecordNotFound,
    SampleAlreadyDrawn,
)
from sync.periods import month_of
from sync.rechecks import COMPARED_FIELDS, Newcomer, Observed, RecheckCounts, compare, draw

__all__ = ["MAX_NEWCOMERS", "CHOICE_LISTS", "village_in_town", "draw_sample", "VillageMonth", "month_overview", "SamplePage",
           "sample_page", "HouseholdPage", "household_page", "record_recheck"]

MAX_NEWCOMERS = 3
"""People not on the register a re-check of one household may note (the page has as many rows)."""
_MAX_VALUE = 50
CHOICE_LISTS = {field: CHOICE_FIELDS[f"person:{field}"] for field in COMPARED_FIELDS
                if f"person:{field}" in CHOICE_FIELDS}
"""The compared fields chosen from a list, and the list's name."""


def _town_office(principal: Principal) -> None:
    if principal.role not in TOWN_OFFICE_ROLES:
        raise Forbidden("re-checks are the town office's: a village does not re-check itself")


def village_in_town(principal: Principal, village_id: int) -> AreaRow:
    """The village, when it is inside the town office's area."""
    return village_in_area(principal, village_id, roles=TOWN_OFFICE_ROLES,
                           refusal="re-checks are the town office's: a village does not re-check itself")


def _first_day(month: dt.date) -> dt.date:
    return month.replace(day=1)


def draw_sample(principal: Principal, village_id: int, month: dt.date, percent: float, *, again: bool = False,
                now: dt.datetime | None = None) -> RecheckSample:
    """Draw the village's sample for a month (`again`: draw it anew, the explicit re-draw, refused once a re-check
    of it is recorded): `percent` of the households with someone living there, at least one, by a new seed."""
    village = village_in_town(principal, village_id)
    now = now or clock.now()
    month = _first_day(month)
    if month > month_of(clock.date_of(now)).start:
        raise RecheckMonthInFuture(f"{month:%Y-%m}")
    if not 0 < percent <= 100:
        raise RecheckPercentInvalid(str(percent))
    existing = queries.sample(village.id, month)
    if existing is not None and not again:
        raise SampleAlreadyDrawn(f"{month:%Y-%m}")
    if existing is not None and queries.rechecks_started(existing.id):
        raise RechecksStarted(f"{month:%Y-%m}")
    seed = secrets.randbits(63)
    drawn = draw(queries.inhabited_households(village.path), seed, percent)
    values = dict(seed=seed, percent=percent, size=len(drawn), drawn_by=principal.id, drawn_at=now)
    if existing is None:
        sample = queries.add_sample(village_id=village.id, month=month, **values)
    else:
        sample = existing
        for name, value in values.items():
            setattr(sample, name, value)
    queries.replace_households(sample.id, drawn)
    audit.record(principal.id, "recheck.redraw" if existing is not None else "recheck.draw", area_path=village.path,
                 subject=f"{month:%Y-%m}", records=len(drawn))
    return sample


@dataclass(frozen=True)
class VillageMonth:
    """A village's re-checks of a month: its sample (None: not drawn), how many households were re-checked, the
    counts accuracy is read from."""

    village: AreaRow
    sample: RecheckSample | None
    rechecked_households: int
    counts: RecheckCounts


def month_overview(principal: Principal, month: dt.date) -> list[VillageMonth]:
    """Every village of the town office's area with its re-checks of the month."""
    _town_office(principal)
    villages = area_queries.villages_in(principal.area_path)
    drawn = queries.samples([village.id for village in villages], _first_day(month))
    counts = queries.counts_of_samples([sample.id for sample in drawn.values()])
    rows = []
    for village in villages:
        sample = drawn.get(village.id)
        households = queries.sampled_households(sample.id) if sample else []
        rows.append(VillageMonth(village, sample, sum(1 for row in households if row.checked_on),
                                 counts.get(sample.id, RecheckCounts()) if sample else RecheckCounts()))
    return rows


@dataclass(frozen=True)
class SamplePage:
    village: AreaRow
    month: dt.date
    sample: RecheckSample | None
    drawn_by: str | None
    households: list[queries.SampledHousehold]
    counts: RecheckCounts
    disagreements: list[queries.FindingRow]     # every finding that disagrees, household by household
    started: bool                               # a re-check is recorded (no re-draw)
    now: dict[str, dict]                        # person uuid → the register's fields now (corrected since?)


def sample_page(principal: Principal, village_id: int, month: dt.date) -> SamplePage:
    """A village's sample of the month with its re-checks, accuracy and disagreements (the read audited when it
    names people)."""
    village = village_in_town(principal, village_id)
    month = _first_day(month)
    sample = queries.sample(village.id, month)
    if sample is None:
        return SamplePage(village, month, None, None, [], RecheckCounts(), [], False, {})
    findings = queries.findings_of([sample.id])
    households = queries.sampled_households(sample.id)
    disagreements = [row for row in findings if not row.agrees]
    if disagreements:
        audit.record(principal.id, "recheck.read", area_path=village.path, subject=f"{month:%Y-%m}",
                     records=len({(row.person_uuid, row.person_name) for row in disagreements}))
    names = register_queries.display_names({sample.drawn_by} - {None})
    return SamplePage(village, month, sample, names.get(sample.drawn_by), households,
                      queries.counts_of_samples([sample.id])[sample.id], disagreements,
                      any(row.checked_on for row in households),
                      queries.register_now({row.person_uuid for row in disagreements} - {None}))


@dataclass(frozen=True)
class HouseholdPage:
    village: AreaRow
    month: dt.date
    placed: register_queries.PlacedRecord
    people: list
    checked_on: dt.date | None       # the day its re-check was recorded for (None: not yet)


def _sampled(principal: Principal, village_id: int, month: dt.date, household_uuid: str):
    """The village, the month's sample and the household, when the household is in the sample and the area."""
    village = village_in_town(principal, village_id)
    month = _first_day(month)
    sample = queries.sample(village.id, month)
    if sample is None or household_uuid not in {row.uuid for row in queries.sampled_households(sample.id)}:
        raise RecheckNotInSample(f"{month:%Y-%m}")
    placed = register_queries.household_page_rows(household_uuid)
    if placed is None:
        raise RecordNotFound(household_uuid)
    if not area_contains(principal.area_path, placed.group.path):
        raise OutsideArea(household_uuid)
    return village, month, sample, placed


def household_page(principal: Principal, village_id: int, month: dt.date, household_uuid: str) -> HouseholdPage:
    """A sampled household with its members as the register stands, for its re-check (the read audited)."""
    village, month, sample, placed = _sampled(principal, village_id, month, household_uuid)
    recheck = queries.recheck_of(sample.id, household_uuid)
    audit.record(principal.id, "household.read", area_path=placed.group.path, subject=household_uuid)
    return HouseholdPage(village, month, placed, queries.register_people(household_uuid),
                         recheck.checked_on if recheck else None)


def _checked(field: str, value: str, person: str) -> str:
    """A value found, as the forms would take it (the refusal names the person and the field)."""
    value = value.strip()
    try:
        if not value or len(value) > _MAX_VALUE:
            raise FieldValueInvalid()
        check_field_value(f"person:{field}", value)
    except FieldValueInvalid as refused:
        refused.context.update(person=person, field=field)
        raise
    return value


def record_recheck(principal: Principal, village_id: int, month: dt.date, household_uuid: str, *,
                   checked_on: dt.date, observed: dict[str, Observed], newcomers: list[Newcomer] = (),
                   now: dt.datetime | None = None) -> int:
    """Record a sampled household's re-check (on the web): what was found of each member on the register, and the
    people found who are not on it; compared with the register field by field. Returns the re-check's id."""
    village, month, sample, placed = _sampled(principal, village_id, month, household_uuid)
    if queries.recheck_of(sample.id, household_uuid) is not None:
        raise AlreadyRechecked(household_uuid)
    now = now or clock.now()
    if not month <= checked_on <= clock.date_of(now):
        raise DateValueInvalid(checked_on.isoformat(), field="checked_on")
    people = queries.register_people(household_uuid)
    if set(observed) != {person.uuid for person in people}:
        raise BadRequest("every member of the household: found or not")
    if len(newcomers) > MAX_NEWCOMERS:
        raise BadRequest("too many people not on the register")
    found = {}
    for person in people:
        seen = observed[person.uuid]
        values = {field: _checked(field, value, person.name or "") for field, value in seen.values.items()
                  if field in COMPARED_FIELDS}
        found[person.uuid] = Observed(seen.found, values)
    newcomers = [Newcomer(_checked("name", newcomer.name, ""),
                          *(_checked(field, value, newcomer.name) if value else None
                            for field, value in (("sex", newcomer.sex), ("birth_date", newcomer.birth_date))))
                 for newcomer in newcomers]
    findings = compare([{"uuid": person.uuid, **{field: getattr(person, field) for field in COMPARED_FIELDS}}
                        for person in people], found, newcomers)
    recheck = queries.add_recheck(findings, sample_id=sample.id, household_uuid=household_uuid,
                                  checked_on=checked_on, source="web", recorded_by=principal.id, recorded_at=now)
    audit.record(principal.id, "recheck.record", area_path=placed.group.path, subject=household_uuid,
                 records=len(people))
    return recheck.id
