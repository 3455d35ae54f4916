"""The schedule summary kept at merge time: one row per person and household (ScheduleSummary) worked out again from
the register's visits, tier history, anchors, life events and open events (next visits agreed, a household's head,
referrals as they stand) for the records a merge, replay, rebuild or service decision touched, in the same
transaction (both stores call `refresh` when they are flushed; a rebuild refreshes every row)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    String,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)

from server.boundary import chunks
from server.database import matching
from server.extensions import db
from server.register.models import (
    LifeEventRecord,
    Person,
    RegisterFieldValue,
    ScheduleSummary,
    ServiceAnchor,
    ServiceItemRecord,
    Visit,
)
from server.register.open_events import household_heads, latest_agreements, referrals_of
from server.register.queries import bulk_insert
from sync.schedule_summary import (
    agreed_text,
    anchors_text,
    followups_text,
    household_visits_text,
    referrals_text,
    tiers_text,
)

__all__ = ["refresh", "refresh_item", "fill", "visited_records", "summary_rows"]


def refresh(households: set[str] | None, people: set[str] | None, *, members: set[str] | None = None) -> None:
    """Work out again the summary rows of these households and people (both None: every record), from the register
    as it stands in this transaction. A record without completed visits, tiers, anchors, ends or open events has
    none. `members`: people who may have changed a household's head (joined, left, renamed, re-related, died or
    moved away): the households they live in and those they headed are worked out again too."""
    if households is None and people is None:
        db.session.execute(delete(ScheduleSummary))
        _insert(summary_rows(None, None))
        return
    households = set(households) | _homes_and_headed(members or set())
    # Households and people together: a live merge's batch rewrites its rows in a few statements.
    for chunk in chunks([("household", uuid) for uuid in households] + [("person", uuid) for uuid in people]):
        chunk_households = [uuid for kind, uuid in chunk if kind == "household"]
        chunk_people = [uuid for kind, uuid in chunk if kind == "person"]
        db.session.execute(delete(ScheduleSummary).where(or_(
            and_(ScheduleSummary.record_kind == "household", ScheduleSummary.record_uuid.in_(chunk_households)),
            and_(ScheduleSummary.record_kind == "person", ScheduleSummary.record_uuid.in_(chunk_people)))))
        _insert(summary_rows(chunk_households, chunk_people))


def refresh_item(item_key: str) -> None:
    """Work out again the summary of the person a service item is about (a decision about it was taken or undone:
    a referral's result closes it)."""
    person = db.session.scalar(select(ServiceItemRecord.person_uuid).where(ServiceItemRecord.item_key == item_key))
    if person is not None:
        refresh(set(), {person})


def _homes_and_headed(people: set[str]) -> set[str]:
    """The households these people live in, and those whose summary names one of them as head."""
    found: set[str] = set()
    for asked in matching(Person.uuid, people):
        found.update(db.session.scalars(select(Person.household_uuid).where(asked)))
    for asked in matching(ScheduleSummary.head, people):
        found.update(db.session.scalars(select(ScheduleSummary.record_uuid).where(
            asked, ScheduleSummary.record_kind == "household")))
    return found - {None}


def _insert(rows: list[dict]) -> None:
    """A few rows (the live merge) by INSERT, many (a rebuild) by COPY."""
    if len(rows) > 100:
        bulk_insert(ScheduleSummary, rows)
    elif rows:
        db.session.execute(insert(ScheduleSummary), rows)


def fill(connection) -> None:
    """Every summary row, on a connection of its own (the migration that adds the table: a register already
    there has its flags at once)."""
    rows = summary_rows(None, None, execute=connection.execute)
    if rows:
        connection.execute(insert(ScheduleSummary.__table__), rows)


def summary_rows(households: list[str] | None, people: list[str] | None, *, execute=None) -> list[dict]:
    """The summary rows of these households and people (None: every one), read from the register's tables: visits,
    tiers, anchors and ends in one statement, then the agreements, heads and referrals (a few round trips for the
    live merge's batch; through `execute`: the session's by default)."""
    execute = execute or db.session.execute

    def where(column):
        uuids = households if column is Visit.household_uuid else people
        return () if uuids is None else (column.in_(uuids),)

    def part(name, uuid, day=None, text=None, at=None, version=None, row_id=None):
        """One source's rows, in the columns every part shares (typed NULL where it has none)."""
        return select(literal(name).label("part"), uuid.label("uuid"),
                      (cast(null(), Date) if day is None else day).label("day"),
                      (cast(null(), String) if text is None else text).label("text"),
                      (cast(null(), DateTime(timezone=True)) if at is None else at).label("at"),
                      (cast(null(), BigInteger) if version is None else version).label("version"),
                      (cast(null(), BigInteger) if row_id is None else row_id).label("row_id"))

    household_parts = [
        part("h", Visit.household_uuid, Visit.visit_date).where(
            Visit.form == "household_visit", Visit.completed.is_(True), Visit.visit_date.is_not(None),
            Visit.household_uuid.is_not(None), *where(Visit.household_uuid))]
    person_parts = [
        part("f", Visit.person_uuid, Visit.visit_date, Visit.followup_type).where(
            Visit.form == "followup", Visit.completed.is_(True), Visit.visit_date.is_not(None),
            Visit.person_uuid.is_not(None), *where(Visit.person_uuid)),
        part("t", RegisterFieldValue.record_uuid, text=RegisterFieldValue.value, at=RegisterFieldValue.visited_at,
             version=RegisterFieldValue.version, row_id=RegisterFieldValue.id).where(
            RegisterFieldValue.field == "tier", RegisterFieldValue.record_kind == "person",
            *where(RegisterFieldValue.record_uuid)),
        part("a", ServiceAnchor.person_uuid, ServiceAnchor.anchor_date, ServiceAnchor.kind).where(
            *where(ServiceAnchor.person_uuid)),
        part("e", LifeEventRecord.person_uuid, func.max(LifeEventRecord.event_date), LifeEventRecord.kind)
        .where(LifeEventRecord.kind.in_(("death", "moved_out")), LifeEventRecord.event_date.is_not(None),
               *where(LifeEventRecord.person_uuid))
        .group_by(LifeEventRecord.person_uuid, LifeEventRecord.kind)]
    parts = (household_parts if households is None or households else []) + (
        person_parts if people is None or people else [])
    if not parts:
        return []
    household_visits: dict[str, list[dt.date]] = defaultdict(list)
    people_found: dict[str, dict] = defaultdict(lambda: dict(followups=[], tiers=[], anchors=[], died_on=None,
                                                             moved_out_on=None))
    # (Fetched many rows at a time: a county's 2.6 million one by one cost a fifth of its summary.)
    found = execute(union_all(*parts) if len(parts) > 1 else parts[0]).partitions(10_000)
    for part, uuid, day, text, at, version, row_id in (row for rows in found for row in rows):
        if part == "h":
            household_visits[uuid].append(day)
        elif part == "f":
            people_found[uuid]["followups"].append((day, text))
        elif part == "t":
            people_found[uuid]["tiers"].append((version, row_id, at, text))
        elif part == "a":
            people_found[uuid]["anchors"].append((text, day))
        else:
            people_found[uuid]["died_on" if text == "death" else "moved_out_on"] = day
    # The open events: next visits agreed (a household's own, due for its head; a follow-up's, for its person)
    # and referrals as they stand.
    own_agreed: dict[str, tuple] = {}
    person_agreed: dict[str, list[tuple]] = defaultdict(list)
    for agreed in latest_agreements(_agreements_of(households, people), execute=execute):
        if agreed.person_uuid is None:
            own_agreed[agreed.household_uuid] = (agreed.agreed_on, agreed.next_visit)
        else:
            person_agreed[agreed.person_uuid].append((agreed.agreed_on, agreed.next_visit))
    heads = household_heads(None if households is None else set(own_agreed), execute=execute) if own_agreed else {}
    referrals: dict[str, list[tuple]] = defaultdict(list)
    if people is None or people:
        for referral in referrals_of(None if people is None else set(people), execute=execute):
            referrals[referral.person_uuid].append(referral[1:])
    rows = [dict(record_kind="household", record_uuid=uuid, visits=household_visits_text(household_visits.get(uuid, ())),
                 tiers="", anchors="", died_on=None, moved_out_on=None, scheduled=False,
                 agreed=agreed_text([own_agreed[uuid]]) if uuid in own_agreed else "", referrals="",
                 head=heads.get(uuid) if uuid in own_agreed else None)
            for uuid in household_visits.keys() | own_agreed.keys()]
    empty = dict(followups=(), tiers=(), anchors=(), died_on=None, moved_out_on=None)
    for uuid in people_found.keys() | person_agreed.keys() | referrals.keys():
        found = people_found.get(uuid, empty)
        rows.append(dict(record_kind="person", record_uuid=uuid, visits=followups_text(found["followups"]),
                         tiers=tiers_text((at, tier) for _, _, at, tier in sorted(found["tiers"], key=lambda t: t[:2])),
                         anchors=anchors_text(found["anchors"]), died_on=found["died_on"],
                         moved_out_on=found["moved_out_on"], agreed=agreed_text(person_agreed.get(uuid, ())),
                         referrals=referrals_text(referrals.get(uuid, ())), head=None,
                         scheduled=bool(found["tiers"] or found["anchors"] or uuid in person_agreed
                                        or uuid in referrals)))
    return rows


def _agreements_of(households: list[str] | None, people: list[str] | None):
    """The visits whose agreements these households' and people's rows hold (None: every visit's)."""
    if households is None and people is None:
        return None
    return or_(and_(Visit.person_uuid.is_(None), Visit.household_uuid.in_(households or ())),
               Visit.person_uuid.in_(people or ()))


def visited_records(submission_ids: set[int]) -> set[str]:
    """The households and people of these submissions' visit rows (before a replay forgets them: their summaries
    change even if the replay does not put the visits back)."""
    found: set[str] = set()
    for chunk in chunks(submission_ids):
        for household, person in db.session.execute(select(Visit.household_uuid, Visit.person_uuid).where(
                Visit.submission_id.in_(chunk))):
            found |= {uuid for uuid in (household, person) if uuid}
    return found
