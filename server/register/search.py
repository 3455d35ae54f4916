"""Person search for staff: what was typed read as names, pinyin, initials, household, phone or ID numbers
(sync.search_keys), people of the reader's area only, at most `LIMIT` shown with how many were found; audited."""

from __future__ import annotations

from dataclasses import dataclass

from server.audit import queries as audit
from server.principal import Principal
from server.register import search_queries as queries
from sync.access import STAFF_ROLES
from sync.errors import Forbidden
from sync.search_keys import read_search

__all__ = ["LIMIT", "COUNTED_UP_TO", "FoundPerson", "SearchPage", "search"]

LIMIT = 50
"""At most this many people are shown; the page says how many were found."""

COUNTED_UP_TO = 1_000
"""People found are counted up to this many; beyond, the page says "more than 1,000" (a surname alone finds tens of
thousands in a county, and the reader types more anyway)."""


@dataclass(frozen=True)
class FoundPerson:
    """A person found, as the results list shows them."""

    uuid: str
    name: str
    sex: str | None
    birth_date: str | None
    status: str | None
    household_no: str | None
    head_name: str | None
    group_name: str
    id_number: str | None = None   # in full: pages show them masked (|masked)
    phone: str | None = None


@dataclass(frozen=True)
class SearchPage:
    searched: bool                 # False: nothing was typed (no search was made)
    people: list[FoundPerson]      # at most LIMIT, by name
    total: int                     # how many were found (counted up to COUNTED_UP_TO)
    more: bool = False             # True: more than `total` were found

    @property
    def capped(self) -> bool:
        return self.total > len(self.people)


def search(principal: Principal, text: str) -> SearchPage:
    """People of the reader's area matching what was typed; every search made is audited."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden("search is for village cadres and the town office")
    if not (text or "").strip():
        return SearchPage(False, [], 0)
    rows, total, more = queries.find_people(principal.area_path, read_search(text), LIMIT, COUNTED_UP_TO)
    heads = queries.household_heads({row.household_uuid for row in rows})
    people = [FoundPerson(row.uuid, row.name or "", row.sex, row.birth_date, row.status, row.household_no,
                          heads.get(row.household_uuid), row.group_name, row.id_number, row.phone)
              for row in rows]
    audit.record(principal.id, "person.search", area_path=principal.area_path, records=len(people))
    return SearchPage(True, people, total, more)
