"""What schedules and phone lists read from the register, for the groups of an area (Core selects, no ORM rows:
a town's or county's people are read at once)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import NamedTuple

from sqlalchemy import func, select, text
from sqlalchemy.orm import aliased

from server.areas.models import Area
from server.database import matching, on_postgresql, read_ahead
from server.extensions import db
from server.register.models import (
    Household,
    LifeEventRecord,
    Person,
    RegisterDecision,
    RegisterFieldValue,
    ScheduleSummary,
    ServiceAnchor,
    ServiceItemRecord,
    Visit,
    VisitReview,
)
from server.schedules.models import RegisterChange
from server.submissions.models import Submission
from sync.schedules import Anchor, VisitDone

__all__ = ["register_fingerprint", "households_in", "people_in", "scheduled_people", "summarised_people",
           "Summary", "Summarised", "summaries_of", "TierChange", "tier_history", "anchors_of",
           "CompletedVisits", "completed_visits", "end_dates", "review_notes", "destination_names",
           "expected_arrivals"]

# Events after which a person is no longer due (with the field value that says they still apply).
_ENDING_EVENTS = {"death": (Person.status, "died"), "moved_out": (Person.residence, "moved_away")}


def _groups_of(path: str):
    """A condition on Household.group_id: the group itself for a group's path ("/town/village/group/": no look at
    the area table, the phone lists' case), else every group under the area."""
    ids = path.strip("/").split("/")
    if len(ids) == 3:
        return Household.group_id == int(ids[2])
    return Household.group_id.in_(select(Area.id).where(Area.path.startswith(path)))


def _in_area(path: str):
    """Households whose group lies in the area with this path."""
    return select(Household.uuid).where(_groups_of(path))


def households_in(path: str):
    """uuid, group, number, address and version of the area's households."""
    return db.session.execute(
        select(Household.uuid, Household.group_id, Household.household_no, Household.address, Household.version)
        .where(_groups_of(path))).all()


_PEOPLE = (select(Person.uuid, Person.household_uuid, Person.name, Person.sex, Person.birth_date, Person.id_number,
                  Person.relationship, Person.phone, Person.residence, Person.hukou, Person.status, Person.tier,
                  Person.version, Household.household_no, Household.group_id)
           .join(Household, Household.uuid == Person.household_uuid))


def people_in(path: str, *, current_only: bool):
    """The people of the area's households, with their household's group and number (current members only: not
    dead, not moved away)."""
    query = _PEOPLE.where(_groups_of(path))
    if current_only:
        query = query.where(Person.status.is_distinct_from("died"), Person.residence.is_distinct_from("moved_away"))
    return db.session.execute(query).all()


def _scheduled(path: str):
    """People of the area with a tier (now or ever), an anchor event, a referral, a visit agreed with their
    household or on a follow-up of theirs: the only ones a schedule concerns."""
    tier_ever = select(RegisterFieldValue.id).where(RegisterFieldValue.field == "tier",
                                                    RegisterFieldValue.record_uuid == Person.uuid).exists()
    anchored = select(ServiceAnchor.id).where(ServiceAnchor.person_uuid == Person.uuid).exists()
    referred = select(ServiceItemRecord.id).where(ServiceItemRecord.kind == "referral",
                                                  ServiceItemRecord.person_uuid == Person.uuid).exists()
    agreed = select(Visit.submission_id).where(Visit.household_uuid == Person.household_uuid,
                                               Visit.next_visit.is_not(None)).exists()
    followed = select(Visit.submission_id).where(Visit.person_uuid == Person.uuid,
                                                 Visit.next_visit.is_not(None)).exists()
    return select(Person.uuid).where(Person.household_uuid.in_(_in_area(path)),
                                     Person.tier.is_not(None) | tier_ever | anchored | referred | agreed | followed)


def scheduled_people(path: str):
    """As people_in, for the people a schedule concerns only."""
    return db.session.execute(_PEOPLE.where(_groups_of(path), Person.uuid.in_(_scheduled(path)))).all()


# ---- from the schedule summary (server.register.summaries): one row per person, no visit rows -------------------

class Summary(NamedTuple):
    """A person's schedule summary with their household's visits, next visit agreed and head (the text of
    sync.schedule_summary)."""

    followups: str | None
    tiers: str | None
    anchors: str | None
    died_on: dt.date | None
    moved_out_on: dt.date | None
    scheduled: bool | None
    agreed: str | None
    referrals: str | None
    household_visits: str | None
    household_agreed: str | None
    household_head: str | None     # the household's head, where a visit was agreed with it


# The columns of summarised_people's rows, in their order: a person (what flags and the pages showing them read:
# name, household, group), then their Summary. (A county's rows are unpacked by position: reading a column of an
# SQLAlchemy row by name costs ten times as much, a few seconds over 270,000 rows.)
Summarised = NamedTuple("Summarised", [
    ("uuid", str), ("household_uuid", str), ("name", "str | None"), ("relationship", "str | None"),
    ("residence", "str | None"), ("status", "str | None"), ("household_no", "str | None"), ("group_id", int),
    *Summary.__annotations__.items()])


# The summary's columns a person's Summary holds, in its order: their own row's, then their household's.
_OWN_SUMMARY = ("visits", "tiers", "anchors", "died_on", "moved_out_on", "scheduled", "agreed", "referrals")
_HOME_SUMMARY = ("visits", "agreed", "head")
_OWN, _HOME = aliased(ScheduleSummary), aliased(ScheduleSummary)
_SUMMARISED_COLUMNS = dict(
    uuid=Person.uuid, household_uuid=Person.household_uuid, name=Person.name, relationship=Person.relationship,
    residence=Person.residence, status=Person.status, household_no=Household.household_no,
    group_id=Household.group_id,
    **dict(zip(Summary._fields, [getattr(_OWN, column) for column in _OWN_SUMMARY]
               + [getattr(_HOME, column) for column in _HOME_SUMMARY], strict=True)))
_SUMMARISED = (select(*(_SUMMARISED_COLUMNS[name].label(name) for name in Summarised._fields))
               .join(Household, Household.uuid == Person.household_uuid)
               .outerjoin(_HOME, (_HOME.record_kind == "household") & (_HOME.record_uuid == Person.household_uuid)))


# Rows a batch of summarised_people's stream: a county's come in 90 batches.
SUMMARISED_BATCH = 5_000


def summarised_people(path: str) -> Iterator[list]:
    """The people of the area a schedule concerns (a tier ever, an anchor, a follow-up's agreed visit or a referral
    of their own, or the head of a household a visit was agreed with), each with their schedule summary and their
    household's (Summarised's columns, in its order), in batches. The whole register's (a county's 440,000 rows)
    are streamed from a server-side cursor and read ahead (server.database.read_ahead), so PostgreSQL works out the
    next rows on the other core while the caller works on the ones before; a town's or a smaller area's come in one
    batch, read at once (PostgreSQL shares such a read among parallel workers, which it never does for a cursor: a
    town's took twice as long as a cursor). The session's connection is the stream's until the last batch."""
    connection = db.session.connection()   # (Core: a county's rows without the ORM's bookkeeping)
    streamed = path == "/"
    if on_postgresql():
        # A county's read joins 800,000 people to their rows in hash tables that spill to disk in the default 4 MB
        # (a third more CPU); and its cursor is planned for all its rows, not for the first tenth (nested loops by
        # index for 800,000 people); for this transaction only.
        connection.execute(text("SET LOCAL work_mem = '64MB'"))
        if streamed:
            connection.execute(text("SET LOCAL cursor_tuple_fraction = 1"))
    statement = (_SUMMARISED.outerjoin(_OWN, (_OWN.record_kind == "person") & (_OWN.record_uuid == Person.uuid))
                 .where(_groups_of(path), _OWN.scheduled.is_(True) | (_HOME.head == Person.uuid)))
    if not streamed:
        return iter([connection.execute(statement).all()])
    return read_ahead(connection.execute(statement, execution_options={"yield_per": SUMMARISED_BATCH}).partitions())


def summaries_of(people: dict) -> dict[str, Summary]:
    """The summaries of these people (uuid → row with household_uuid), by key (None in every column where there is
    no summary row)."""
    own = _summary_rows("person", set(people), _OWN_SUMMARY)
    homes = _summary_rows("household", {row.household_uuid for row in people.values()}, _HOME_SUMMARY)
    no_own, no_home = (None,) * len(_OWN_SUMMARY), (None,) * len(_HOME_SUMMARY)
    return {uuid: Summary(*own.get(uuid, no_own), *homes.get(row.household_uuid, no_home))
            for uuid, row in people.items()}


def _summary_rows(kind: str, uuids: set[str], columns: tuple[str, ...]) -> dict[str, tuple]:
    """These columns of the summary rows of a kind, by record uuid."""
    found: dict[str, tuple] = {}
    selected = [getattr(ScheduleSummary, column) for column in columns]
    for asked in matching(ScheduleSummary.record_uuid, uuids):
        for row in db.session.execute(select(ScheduleSummary.record_uuid, *selected)
                                      .where(asked, ScheduleSummary.record_kind == kind)):
            found[row[0]] = tuple(row[1:])
    return found


class TierChange(NamedTuple):
    """A tier given to a person: when (an instant) and which ("" for none)."""

    at: dt.datetime
    tier: str


def tier_history(people) -> dict[str, list[TierChange]]:
    """Each person's tier changes, oldest first."""
    history: dict[str, list] = defaultdict(list)
    for asked in matching(RegisterFieldValue.record_uuid, people):
        for uuid, at, value in db.session.execute(
                select(RegisterFieldValue.record_uuid, RegisterFieldValue.visited_at, RegisterFieldValue.value)
                .where(RegisterFieldValue.field == "tier", asked, RegisterFieldValue.record_kind == "person")
                .order_by(RegisterFieldValue.record_uuid, RegisterFieldValue.version, RegisterFieldValue.id)):
            history[uuid].append(TierChange(at, value))
    return history


def anchors_of(people) -> dict[str, tuple[Anchor, ...]]:
    """Each person's anchor events (a birth, an operation, a pregnancy told), which follow-ups count from."""
    anchors: dict[str, list] = defaultdict(list)
    for asked in matching(ServiceAnchor.person_uuid, people):
        for uuid, kind, day in db.session.execute(
                select(ServiceAnchor.person_uuid, ServiceAnchor.kind, ServiceAnchor.anchor_date).where(asked)):
            anchors[uuid].append(Anchor(kind, day))
    return {uuid: tuple(found) for uuid, found in anchors.items()}


class CompletedVisits(NamedTuple):
    """Completed visits by date: household visits by household, follow-ups (with their type) by person."""

    by_household: dict[str, tuple[VisitDone, ...]]
    by_person: dict[str, tuple[VisitDone, ...]]


def completed_visits(people, households) -> CompletedVisits:
    """The completed household visits to these households and follow-ups of these people (uuids or subqueries)."""
    by_household: dict[str, list] = defaultdict(list)
    for asked in matching(Visit.household_uuid, households):
        for uuid, day in db.session.execute(select(Visit.household_uuid, Visit.visit_date).where(
                asked, Visit.form == "household_visit", Visit.completed.is_(True),
                Visit.visit_date.is_not(None))):
            by_household[uuid].append(VisitDone(day))
    by_person: dict[str, list] = defaultdict(list)
    for asked in matching(Visit.person_uuid, people):
        for uuid, day, kind in db.session.execute(
                select(Visit.person_uuid, Visit.visit_date, Visit.followup_type).where(
                    asked, Visit.form == "followup", Visit.completed.is_(True),
                    Visit.visit_date.is_not(None))):
            by_person[uuid].append(VisitDone(day, kind))
    return CompletedVisits({uuid: tuple(visits) for uuid, visits in by_household.items()},
                           {uuid: tuple(visits) for uuid, visits in by_person.items()})


def end_dates(people) -> dict[str, dt.date]:
    """When people who died or moved away did so (their latest such event, where the register still says so)."""
    ends: dict[str, dt.date] = {}
    for kind, (column, value) in _ENDING_EVENTS.items():
        for asked in matching(LifeEventRecord.person_uuid, people):
            for uuid, day in db.session.execute(
                    select(LifeEventRecord.person_uuid, func.max(LifeEventRecord.event_date))
                    .join(Person, Person.uuid == LifeEventRecord.person_uuid)
                    .where(asked, LifeEventRecord.kind == kind, column == value,
                           LifeEventRecord.event_date.is_not(None))
                    .group_by(LifeEventRecord.person_uuid)):
                ends[uuid] = min(day, ends.get(uuid, day))
    return ends


def review_notes(path: str) -> dict[str, str]:
    """For households of the area whose latest reviewed visit has issues: the cadre's comment."""
    latest = (select(Visit.household_uuid, func.max(VisitReview.submission_id).label("submission_id"))
              .join(VisitReview, VisitReview.submission_id == Visit.submission_id)
              .where(Visit.household_uuid.in_(_in_area(path))).group_by(Visit.household_uuid).subquery())
    rows = db.session.execute(select(latest.c.household_uuid, VisitReview.state, VisitReview.comment)
                              .join(VisitReview, VisitReview.submission_id == latest.c.submission_id))
    return {household: comment for household, state, comment in rows if state == "has_issues" and comment}


def destination_names() -> list[str]:
    """The full names of the register's villages and towns (where a move out may go)."""
    return list(db.session.scalars(select(Area.full_name).where(Area.kind.in_(("village", "town")))))


def expected_arrivals(village_id: int, town_id: int):
    """The people whose latest move out went towards this village or its town and who have not arrived (still
    recorded as moved away, not dead): uuid, name, sex, birth date, version, the day they moved out and the full
    name of the village they left (None: not known). Read from the moves towards the place (indexed), not from
    every person."""
    later = aliased(LifeEventRecord)
    moved_since = select(later.id).where(later.person_uuid == LifeEventRecord.person_uuid,
                                         later.kind == "moved_out", later.id > LifeEventRecord.id).exists()
    group, village = aliased(Area), aliased(Area)
    return db.session.execute(
        select(Person.uuid, Person.name, Person.sex, Person.birth_date, Person.version,
               LifeEventRecord.event_date.label("moved_on"), village.full_name.label("origin"))
        .select_from(LifeEventRecord).join(Person, Person.uuid == LifeEventRecord.person_uuid)
        .outerjoin(group, group.id == LifeEventRecord.group_id).outerjoin(village, village.id == group.parent_id)
        .where(LifeEventRecord.destination_id.in_((village_id, town_id)), LifeEventRecord.kind == "moved_out",
               ~moved_since, Person.residence == "moved_away", Person.status.is_distinct_from("died"))).all()


def register_fingerprint() -> tuple:
    """What changes whenever anything the home pages count changes. The register changes only by a merged visit
    (a visit row: their number and the newest; an edit is a new submission) or a decision (taken, undone,
    replicated), and a replay redoes the same rows; the review backlog by a submission received or a review
    given or taken back. The newest instanceID and decision uuid (random) tell apart two databases that hold as
    many rows (one emptied and filled again).

    On PostgreSQL the rows are not counted (at county size that read millions of index entries on every request):
    the sum of the change counter (server.schedules.models.RegisterChange), which a statement trigger bumps in the
    same transaction as every write to those four tables, stands for the counts; the rest are index look-ups."""
    newest = (select(func.max(Visit.submission_id)).scalar_subquery(),
              select(func.max(Submission.instance_id)).scalar_subquery(),
              select(func.max(RegisterDecision.id)).scalar_subquery(),
              select(func.max(RegisterDecision.uuid)).scalar_subquery())
    if on_postgresql():
        return tuple(db.session.execute(select(
            select(func.sum(RegisterChange.changes)).scalar_subquery(), *newest)).one())
    return tuple(db.session.execute(select(
        *newest,
        select(func.count()).select_from(Visit).scalar_subquery(),
        select(func.count()).select_from(Submission).scalar_subquery(),
        select(func.count()).select_from(RegisterDecision).scalar_subquery(),
        select(func.count(RegisterDecision.undone_at)).scalar_subquery(),
        select(func.count()).select_from(VisitReview).scalar_subquery(),
        select(func.sum(VisitReview.submission_id)).scalar_subquery())).one())
