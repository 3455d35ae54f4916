"""The schedule summary kept at merge time: one row per person and household (ScheduleSummary) worked out again from
the register's visits, tier history, anchors and life events for the records a merge, replay or rebuild touched, in
the same transaction (both stores call `refresh` when they are flushed; a rebuild refreshes every row)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import BigInteger, Date, DateTime, String, cast, delete, func, insert, literal, null, select, union_all

from server.extensions import db
from server.register.models import LifeEventRecord, RegisterFieldValue, ScheduleSummary, ServiceAnchor, Visit
from server.register.queries import bulk_insert
from sync.schedule_summary import anchors_text, followups_text, household_visits_text, tiers_text

__all__ = ["refresh", "fill", "visited_records", "summary_rows"]

_CHUNK = 900   # uuids per IN (…): below SQLite's limit of bound parameters


def _chunks(uuids: set[str] | None) -> Iterable[list[str] | None]:
    """The uuids in lists short enough for one IN (…); None (every record): one pass without a condition."""
    if uuids is None:
        yield None
        return
    ordered = sorted(uuids)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


def refresh(uuids: set[str] | None) -> None:
    """Work out again the summary rows of these records (person or household uuids; None: every record), from the
    register as it stands in this transaction. A record without visits, tiers, anchors or life events has none."""
    if uuids is not None and not uuids:
        return
    for chunk in _chunks(uuids):
        statement = delete(ScheduleSummary)
        db.session.execute(statement if chunk is None else statement.where(ScheduleSummary.record_uuid.in_(chunk)))
    for chunk in _chunks(uuids):
        bulk_insert(ScheduleSummary, summary_rows(chunk))


def fill(connection) -> None:
    """Every summary row, on a connection of its own (the migration that adds the table: a register already
    there has its flags at once)."""
    rows = summary_rows(None, execute=connection.execute)
    if rows:
        connection.execute(insert(ScheduleSummary.__table__), rows)


def summary_rows(uuids: list[str] | None, *, execute=None) -> list[dict]:
    """The summary rows of these records (None: of every record), read from the register's tables in one statement
    (one round trip for the live merge; through `execute`: the session's by default)."""
    execute = execute or db.session.execute

    def where(column):
        return () if uuids is None else (column.in_(uuids),)

    no_day, no_text, no_at, no_number = (cast(null(), Date), cast(null(), String), cast(null(), DateTime(timezone=True)),
                                         cast(null(), BigInteger))
    parts = union_all(
        select(literal("h"), Visit.household_uuid, Visit.visit_date, no_text, no_at, no_number, no_number).where(
            Visit.form == "household_visit", Visit.completed.is_(True), Visit.visit_date.is_not(None),
            Visit.household_uuid.is_not(None), *where(Visit.household_uuid)),
        select(literal("f"), Visit.person_uuid, Visit.visit_date, Visit.followup_type, no_at, no_number,
               no_number).where(Visit.form == "followup", Visit.completed.is_(True), Visit.visit_date.is_not(None),
                                Visit.person_uuid.is_not(None), *where(Visit.person_uuid)),
        select(literal("t"), RegisterFieldValue.record_uuid, no_day, RegisterFieldValue.value,
               RegisterFieldValue.visited_at, RegisterFieldValue.version, RegisterFieldValue.id).where(
            RegisterFieldValue.field == "tier", RegisterFieldValue.record_kind == "person",
            *where(RegisterFieldValue.record_uuid)),
        select(literal("a"), ServiceAnchor.person_uuid, ServiceAnchor.anchor_date, ServiceAnchor.kind, no_at,
               no_number, no_number).where(*where(ServiceAnchor.person_uuid)),
        select(literal("e"), LifeEventRecord.person_uuid, func.max(LifeEventRecord.event_date), LifeEventRecord.kind,
               no_at, no_number, no_number)
        .where(LifeEventRecord.kind.in_(("death", "moved_out")), LifeEventRecord.event_date.is_not(None),
               *where(LifeEventRecord.person_uuid))
        .group_by(LifeEventRecord.person_uuid, LifeEventRecord.kind))
    household_visits: dict[str, list[dt.date]] = defaultdict(list)
    people: dict[str, dict] = defaultdict(lambda: dict(followups=[], tiers=[], anchors=[], died_on=None,
                                                       moved_out_on=None))
    for part, uuid, day, text, at, version, row_id in execute(parts):
        if part == "h":
            household_visits[uuid].append(day)
        elif part == "f":
            people[uuid]["followups"].append((day, text))
        elif part == "t":
            people[uuid]["tiers"].append((version, row_id, at, text))
        elif part == "a":
            people[uuid]["anchors"].append((text, day))
        else:
            people[uuid]["died_on" if text == "death" else "moved_out_on"] = day
    rows = [dict(record_kind="household", record_uuid=uuid, visits=household_visits_text(days), tiers="", anchors="",
                 scheduled=False) for uuid, days in household_visits.items()]
    rows += [dict(record_kind="person", record_uuid=uuid, visits=followups_text(found["followups"]),
                  tiers=tiers_text((at, tier) for _, _, at, tier in sorted(found["tiers"], key=lambda t: t[:2])),
                  anchors=anchors_text(found["anchors"]), died_on=found["died_on"],
                  moved_out_on=found["moved_out_on"], scheduled=bool(found["tiers"] or found["anchors"]))
             for uuid, found in people.items()]
    return rows


def visited_records(submission_ids: set[int]) -> set[str]:
    """The households and people of these submissions' visit rows (before a replay forgets them: their summaries
    change even if the replay does not put the visits back)."""
    found: set[str] = set()
    ordered = sorted(submission_ids)
    for start in range(0, len(ordered), _CHUNK):
        for household, person in db.session.execute(select(Visit.household_uuid, Visit.person_uuid).where(
                Visit.submission_id.in_(ordered[start:start + _CHUNK]))):
            found |= {uuid for uuid in (household, person) if uuid}
    return found
