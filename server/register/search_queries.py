"""The SQL of person search: people of an area matching what was typed, each with their household and group.

Each way of finding is an indexed look-up (a prefix `LIKE` on an indexed column, or an equality), all of a person's
own columns in one condition (PostgreSQL ORs their index scans: no sort to put them together), people of the households
numbered so beside them; they are then joined to households and groups and kept to the reader's area."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Select, Subquery, or_, select, union

from server.areas.models import Area
from server.database import counted_up_to
from server.extensions import db
from server.register.models import Household, Person
from sync.search_keys import SearchTerms

__all__ = ["FoundRow", "find_statement", "find_people", "household_heads"]


class FoundRow(NamedTuple):
    uuid: str
    name: str | None
    sex: str | None
    birth_date: str | None
    status: str | None
    household_uuid: str
    household_no: str | None
    group_name: str              # the group's full name (青山镇/东村/第一组)
    id_number: str | None        # in full: the page shows them masked
    phone: str | None


_SHOWN = (Person.uuid, Person.name, Person.sex, Person.birth_date, Person.status, Person.household_uuid,
          Person.id_number, Person.phone, Person.name_pinyin)


def _matching(area_path: str | None, terms: SearchTerms) -> Subquery | None:
    """The people matching any of the terms, with what is shown of them: the ways of finding by the person's own
    indexed columns as one condition (an index look-up each, their rows put together without a sort: a surname finds
    tens of thousands in a county), and people of the households numbered so (of the area) beside them."""
    wanted = []
    if terms.name_start:
        wanted.append(Person.name.startswith(terms.name_start, autoescape=True))
    if terms.name_pinyin:
        wanted.append(Person.name_pinyin == terms.name_pinyin)
    if terms.letters:
        wanted += [Person.name_pinyin.startswith(terms.letters, autoescape=True),
                   Person.name_initials.startswith(terms.letters, autoescape=True)]
    if terms.number_start:
        wanted += [Person.id_number.startswith(terms.number_start, autoescape=True),
                   Person.phone.startswith(terms.number_start, autoescape=True)]
    selects = [select(*_SHOWN).where(or_(*wanted))] if wanted else []
    if terms.household_numbers:
        households = select(Household.uuid).where(Household.household_no.in_(terms.household_numbers))
        if area_path is not None:   # households numbered alike are in every group: those of the area only
            households = households.join(Area, Area.id == Household.group_id).where(
                Area.path.startswith(area_path, autoescape=True))
        selects.append(select(*_SHOWN).where(Person.household_uuid.in_(households)))
    if not selects:
        return None
    return (selects[0] if len(selects) == 1 else union(*selects)).subquery("matching")


def find_statement(area_path: str | None, terms: SearchTerms) -> Select | None:
    """The people of an area (None: everywhere) matching the terms, with their household and group, by name (pinyin
    order); None when the terms ask for nothing."""
    matching = _matching(area_path, terms)
    if matching is None:
        return None
    found = (select(matching.c.uuid, matching.c.name, matching.c.sex, matching.c.birth_date, matching.c.status,
                    matching.c.household_uuid, Household.household_no, Area.full_name.label("group_name"),
                    matching.c.id_number, matching.c.phone)
             .select_from(matching).join(Household, Household.uuid == matching.c.household_uuid)
             .join(Area, Area.id == Household.group_id))
    if area_path is not None:
        found = found.where(Area.path.startswith(area_path, autoescape=True))
    return found.order_by(matching.c.name_pinyin, matching.c.name, matching.c.birth_date, matching.c.uuid)


def find_people(area_path: str | None, terms: SearchTerms, limit: int, cap: int) -> tuple[list[FoundRow], int, bool]:
    """The first `limit` people of an area matching the terms, by name (pinyin order), how many match (counted up
    to `cap`), and whether more than that do."""
    found = find_statement(area_path, terms)
    if found is None:
        return [], 0, False
    total, more = counted_up_to(found.order_by(None), 0, limit, cap)
    return [FoundRow(*row) for row in db.session.execute(found.limit(limit))], total, more


def household_heads(household_uuids: set[str]) -> dict[str, str]:
    """The head's name of each of these households that has one (as the phone lists show the household)."""
    if not household_uuids:
        return {}
    return {row.household_uuid: row.name for row in db.session.execute(
        select(Person.household_uuid, Person.name).where(Person.household_uuid.in_(household_uuids),
                                                         Person.relationship == "head", Person.name.is_not(None))
        .order_by(Person.uuid))}
