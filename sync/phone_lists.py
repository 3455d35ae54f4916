"""The lists a collector's phone gets as form media (households.csv, people.csv, due.csv, destinations.csv,
arrivals.csv; xlsforms/README.md has the contract), built as bytes from plain rows so their md5 changes exactly when
their content does."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sync.privacy import mask_id_number, mask_phone
from sync.schedules import Flag, Schedule
from sync.visits import OUTSIDE

__all__ = ["DUE_STATUSES", "LIST_FILES", "OUTSIDE_LABEL", "HouseholdRow", "PersonRow", "ArrivalRow", "due_csv",
           "households_csv", "people_csv", "destinations_csv", "arrivals_csv"]

LIST_FILES = ("households.csv", "people.csv", "due.csv", "destinations.csv", "arrivals.csv")
OUTSIDE_LABEL = "其他地方（县外）"
"""How the phone shows a move to a place outside the register (its value is sync.visits.OUTSIDE)."""
_SEX_WORDS = {"female": "女", "male": "男"}
DUE_STATUSES = ("due", "overdue")
"""The flags a phone lists: what is asked for now (not upcoming, done or expired)."""

_DUE_ITEM_NAMESPACE = uuid.UUID("5f3c6a0e-9d1b-4c55-8a77-2f1d0c3b9e41")


@dataclass(frozen=True)
class HouseholdRow:
    uuid: str
    household_no: str
    head_name: str
    address: str
    members: int
    version: int


@dataclass(frozen=True)
class PersonRow:
    uuid: str
    household: str
    household_no: str
    name: str
    sex: str
    birth_date: str
    id_number: str
    relationship: str
    phone: str
    residence: str
    hukou: str
    version: int


@dataclass(frozen=True)
class ArrivalRow:
    """A person who moved out towards the collector's village (or its town) and has not arrived yet."""

    uuid: str
    name: str
    sex: str
    birth_date: str
    version: int
    origin: str               # the full name of the village they left ("青山镇/东村"); "" when not known
    moved_on: dt.date | None  # the day they moved out


def _csv(header: list[str], rows: Iterable[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def households_csv(households: Iterable[HouseholdRow], notes: Mapping[str, str] | None = None) -> bytes:
    """`notes`: the village cadre's comment on the latest visit to a household that has issues, shown on the
    phone with the household until a later review clears it."""
    notes = notes or {}

    def label(h: HouseholdRow) -> str:
        text = f"{h.household_no} {h.head_name}".strip()
        return f"{text}（审核意见：{notes[h.uuid]}）" if notes.get(h.uuid) else text

    return _csv(["name", "label", "household_no", "head_name", "address", "members", "base_version"],
                ([h.uuid, label(h), h.household_no, h.head_name, h.address, h.members, h.version]
                 for h in sorted(households, key=lambda h: (h.household_no, h.uuid))))


def people_csv(people: Iterable[PersonRow]) -> bytes:
    """The collector's people. Their ID numbers and phones are masked (sync.privacy): no form reads them from the
    list (a correction or a new number is typed on the phone), and a phone may be lost."""
    return _csv(["name", "label", "household", "person_name", "sex", "birth_date", "id_number", "relationship",
                 "phone", "residence", "hukou", "base_version"],
                ([p.uuid, f"{p.name}（{p.household_no}）", p.household, p.name, p.sex, p.birth_date,
                  mask_id_number(p.id_number), p.relationship, mask_phone(p.phone), p.residence, p.hukou, p.version]
                 for p in sorted(people, key=lambda p: (p.household_no, p.household, p.name, p.uuid))))


def due_csv(flags: Iterable[Flag], people: Mapping[str, PersonRow], schedule: Schedule) -> bytes:
    """The due and overdue items of the collector's people, most overdue (earliest due-by date) first; `item` is
    the referral a referral item follows up (sync.services.item_key), empty for the others. Nothing in a
    row depends on the day the list is made: it carries the due-by date and the form counts the days from the
    phone's today(), so a list downloaded last week still shows the right number."""
    listed = sorted((flag for flag in flags if flag.status in DUE_STATUSES and flag.person in people),
                    key=lambda flag: (flag.due_by or dt.date.max, flag.due_since, people[flag.person].name, flag.key))
    return _csv(["name", "label", "person", "household", "person_name", "due_type", "due_since", "due_by",
                 "last_visit", "base_version", "item"],
                ([str(uuid.uuid5(_DUE_ITEM_NAMESPACE, flag.key)), _label(flag, people[flag.person], schedule),
                  flag.person, people[flag.person].household, people[flag.person].name, flag.rule,
                  flag.due_since.isoformat(), _iso(flag.due_by), _iso(flag.last_visit),
                  people[flag.person].version, flag.extra.get("item", "")] for flag in listed))


def _label(flag: Flag, person: PersonRow, schedule: Schedule) -> str:
    due_by = f"（应于{flag.due_by.isoformat()}前）" if flag.due_by else ""
    place = f"（{flag.extra['place']}）" if flag.extra.get("place") else ""
    return f"{person.name}：{schedule.rule(flag.rule).label_zh}{place}{due_by}"


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def destinations_csv(full_names: Iterable[str]) -> bytes:
    """Where a move out may go: the register's villages and towns by full name ("青山镇/西村", the value a visit
    sends back; shown as "青山镇 西村"), each town before its villages, then a place outside (`outside`: its name is
    written in the visit's `place`)."""
    areas = sorted(set(full_names), key=lambda full_name: full_name.split("/"))
    return _csv(["name", "label"], [*([name, _area_words(name)] for name in areas), [OUTSIDE, OUTSIDE_LABEL]])


def arrivals_csv(arrivals: Iterable[ArrivalRow], town: str = "") -> bytes:
    """The people expected in the collector's village, to pick instead of registering them anew: label
    "孙丽（女，1990-04-08）从东村迁出 2026-11-03" (the origin's town is named when it is not `town`, the collector's),
    `origin` the village left in words (the form fills it in as where they came from), `base_version` the
    person's register version the phone sees."""
    return _csv(["name", "label", "person_name", "sex", "birth_date", "base_version", "origin"],
                ([row.uuid, _arrival_label(row, town), row.name, row.sex, row.birth_date, row.version,
                  _area_words(row.origin)]
                 for row in sorted(arrivals, key=lambda row: (row.name, row.birth_date, row.uuid))))


def _area_words(full_name: str) -> str:
    return " ".join(full_name.split("/"))


def _arrival_label(row: ArrivalRow, town: str) -> str:
    details = "，".join(value for value in (_SEX_WORDS.get(row.sex, ""), row.birth_date) if value)
    parts = row.origin.split("/") if row.origin else []
    origin = "".join(parts[1:] if parts and parts[0] == town else parts)
    moved = f"从{origin}迁出" if origin else "迁出"
    when = f" {row.moved_on.isoformat()}" if row.moved_on else ""
    return f"{row.name}{f'（{details}）' if details else ''}{moved}{when}"
