"""Service items as stored (derived from visits), with the decisions and follow-up results about them: named rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from server.areas.models import Area
from server.areas.queries import inside_area
from server.boundary import chunks
from server.database import matching
from server.extensions import db
from server.forms.models import Form, FormVersion
from server.register.models import Household, Person, RegisterDecision, ServiceItemRecord, Visit
from server.register.open_events import SERVICE_DECISION_KINDS, changes_about, service_item
from server.submissions.models import Submission
from server.users.models import User
from sync.periods import as_utc
from sync.services import ItemState, ServiceItem, item_state

__all__ = ["PlacedItem", "item_of", "items_of", "ItemKey", "item_keys", "placed_items", "ITEMS_ORDER", "items_query",
           "placed", "items_in",
           "referrals_of_people_in",
           "VisitSource", "visit_source", "ItemDecision", "decisions_about",
           "visits_by_id", "HouseholdLabel", "household_labels"]


class PlacedItem(NamedTuple):
    """A service item as it stands, with its visit and where it is in the register."""

    key: str
    submission_id: int
    state: ItemState
    visit_date: dt.date | None
    visited_at: dt.datetime | None
    household_uuid: str | None
    person_uuid: str | None
    person_name: str | None        # the register's name of the person (or the name the visit wrote)
    household_no: str | None
    group_id: int | None
    group_path: str | None
    form: str                      # the visit's form (household_visit, followup): whose words its codes are
    form_version: str | None

    @property
    def item(self) -> ServiceItem:
        return self.state.item


def _placed_query():
    return (select(ServiceItemRecord, Person.name.label("register_name"), Household.household_no, Household.group_id,
                   Area.path.label("group_path"), Visit.form, Visit.form_version)
            .join(Visit, Visit.submission_id == ServiceItemRecord.submission_id)
            .outerjoin(Person, Person.uuid == ServiceItemRecord.person_uuid)
            .outerjoin(Household, Household.uuid == ServiceItemRecord.household_uuid)
            .outerjoin(Area, Area.id == Household.group_id))


def placed(rows) -> list[PlacedItem]:
    """Rows of `items_query` (or of the item look-ups here) as the items stand."""
    return _placed(rows)


def _placed(rows) -> list[PlacedItem]:
    rows = list(rows)
    changes = changes_about(row.ServiceItemRecord.item_key for row in rows)
    placed = []
    for row in rows:
        stored = row.ServiceItemRecord
        placed.append(PlacedItem(
            key=stored.item_key, submission_id=stored.submission_id,
            state=item_state(service_item(stored), changes.get(stored.item_key, ())), visit_date=stored.visit_date,
            visited_at=as_utc(stored.visited_at) if stored.visited_at else None,
            household_uuid=stored.household_uuid, person_uuid=stored.person_uuid,
            person_name=row.register_name or stored.person_name, household_no=row.household_no,
            group_id=row.group_id, group_path=row.group_path, form=row.form, form_version=row.form_version))
    return placed


def items_of(keys: Iterable[str]) -> list[PlacedItem]:
    """Service items by their keys, as they stand, in the order of the keys."""
    keys = list(keys)
    found: dict[str, PlacedItem] = {}
    for asked in matching(ServiceItemRecord.item_key, keys):
        found.update((item.key, item) for item in _placed(db.session.execute(_placed_query().where(asked))))
    return [found[key] for key in keys if key in found]


class ItemKey(NamedTuple):
    key: str
    code: str | None        # as the visit wrote it
    recoded: bool           # a correction in force changed the code


def item_keys(query) -> list[ItemKey]:
    """The keys of the items of an `items_query`, in ITEMS_ORDER, with their codes as written and whether a
    correction recoded them (a light read: no item placed, no decision read)."""
    return [ItemKey(*row) for row in db.session.execute(query.with_only_columns(
        ServiceItemRecord.item_key, ServiceItemRecord.code, _recoded()).order_by(*ITEMS_ORDER))]


def item_of(key: str) -> PlacedItem | None:
    """One service item by its key, as it stands."""
    found = _placed(db.session.execute(_placed_query().where(ServiceItemRecord.item_key == key)))
    return found[0] if found else None


def placed_items(*, submission_id: int | None = None, person_uuid: str | None = None,
                 household_uuid: str | None = None) -> list[PlacedItem]:
    """The items of a visit, of a person, or of a household (its own and its members'), newest visit first."""
    query = _placed_query()
    if submission_id is not None:
        query = query.where(ServiceItemRecord.submission_id == submission_id)
    elif person_uuid is not None:
        query = query.where(ServiceItemRecord.person_uuid == person_uuid)
    else:
        query = query.where(ServiceItemRecord.household_uuid == household_uuid)
    return _placed(db.session.execute(query.order_by(ServiceItemRecord.visited_at.desc(),
                                                     ServiceItemRecord.submission_id.desc(), ServiceItemRecord.seq)))


ITEMS_ORDER = (ServiceItemRecord.visit_date, ServiceItemRecord.submission_id, ServiceItemRecord.seq)
"""The order items of an area are listed in: oldest visit first, each visit's in its order."""


def items_query(area_path: str | None, kinds: Iterable[str], *, since: dt.date | None = None,
                until: dt.date | None = None, codes: Iterable[str] | None = None, or_recoded: bool = False):
    """The select of items of these kinds (and codes, as the visit wrote them; `or_recoded`: or whose code a
    correction in force changed, which may have those codes as they stand) recorded in an area (None: everywhere) on
    visits dated from `since` to `until` (inclusive); read its rows with `placed`."""
    query = _placed_query().where(ServiceItemRecord.kind.in_(list(kinds)))
    if area_path is not None:
        query = query.where(inside_area(Area.path, area_path))
    if since is not None:
        query = query.where(ServiceItemRecord.visit_date >= since)
    if until is not None:
        query = query.where(ServiceItemRecord.visit_date <= until)
    if codes is not None:
        written = ServiceItemRecord.code.in_(list(codes))
        query = query.where(or_(written, _recoded()) if or_recoded else written)
    return query


def _recoded():
    """Items whose code a correction in force changed."""
    return ServiceItemRecord.item_key.in_(select(RegisterDecision.subject_uuid).where(
        RegisterDecision.kind == "correct_service", RegisterDecision.field == "code",
        RegisterDecision.undone_at.is_(None)))


def items_in(area_path: str | None, kinds: Iterable[str], *, since: dt.date | None = None,
             until: dt.date | None = None, codes: Iterable[str] | None = None) -> list[PlacedItem]:
    """Items of these kinds recorded in an area (None: everywhere) on visits dated from `since` to `until`
    (inclusive), oldest first."""
    query = items_query(area_path, kinds, since=since, until=until, codes=codes)
    return _placed(db.session.execute(query.order_by(*ITEMS_ORDER)))


def referrals_of_people_in(area_path: str | None) -> list[PlacedItem]:
    """The referrals about the people who live in an area now (None: everywhere), wherever they were made: a
    referral moves with its person (docs/moves.md); oldest first."""
    lives, there = aliased(Household), aliased(Area)
    query = (_placed_query().where(ServiceItemRecord.kind == "referral")
             .join(lives, lives.uuid == Person.household_uuid).join(there, there.id == lives.group_id))
    if area_path is not None:
        query = query.where(inside_area(there.path, area_path))
    return _placed(db.session.execute(query.order_by(*ITEMS_ORDER)))


# ---- what the staff pages read (server.services.browsing) ----------------------------------------------------------

class VisitSource(NamedTuple):
    """A stored submission as the visit page shows it: its XML, the XForm of its version, who sent it, where."""

    submission_id: int
    xml: bytes
    xml_form_id: str
    xform: bytes               # the published XForm of the version it was filled on
    form_title: str
    collector_name: str | None  # the account that sent it
    collector_display_name: str | None
    received_at: dt.datetime
    group_full_name: str | None


def visit_source(submission_id: int) -> VisitSource | None:
    """A submission with the XForm of its own version and its collector's name, or None."""
    row = db.session.execute(
        select(Submission.id, Submission.xml, Form.xml_form_id, FormVersion.xml.label("xform"),
               FormVersion.title, Submission.collector_name, User.display_name, Submission.received_at,
               Area.full_name)
        .join(Form, Form.id == Submission.form_id).join(FormVersion, FormVersion.id == Submission.form_version_id)
        .outerjoin(User, User.username == Submission.collector_name)
        .outerjoin(Area, Area.id == Submission.area_id).where(Submission.id == submission_id)).first()
    if row is None:
        return None
    return VisitSource(row.id, bytes(row.xml), row.xml_form_id, bytes(row.xform), row.title, row.collector_name,
                       row.display_name, as_utc(row.received_at), row.full_name)


class ItemDecision(NamedTuple):
    """A decision in force about a service item, with who took it."""

    id: int
    subject: str               # the item's key
    kind: str                  # referral_result, support_outcome, correct_service
    field: str | None
    target: str
    decided_at: dt.datetime
    decided_by: str | None     # the display name of who took it


def decisions_about(keys: Iterable[str]) -> dict[str, list[ItemDecision]]:
    """The decisions in force about these items, oldest first, by item key."""
    found: dict[str, list[ItemDecision]] = defaultdict(list)
    for chunk in chunks(set(keys)):
        for row in db.session.execute(
                select(RegisterDecision.id, RegisterDecision.subject_uuid, RegisterDecision.kind,
                       RegisterDecision.field, RegisterDecision.target, RegisterDecision.decided_at,
                       User.display_name)
                .outerjoin(User, User.id == RegisterDecision.decided_by)
                .where(RegisterDecision.subject_uuid.in_(chunk), RegisterDecision.kind.in_(SERVICE_DECISION_KINDS),
                       RegisterDecision.undone_at.is_(None))
                .order_by(RegisterDecision.decided_at, RegisterDecision.id)):
            found[row.subject_uuid].append(ItemDecision(row.id, row.subject_uuid, row.kind, row.field, row.target,
                                                        as_utc(row.decided_at), row.display_name))
    return found


def visits_by_id(submission_ids: Iterable[int]) -> dict[int, Visit]:
    """Visit rows by submission id (visits in the register)."""
    found: dict[int, Visit] = {}
    for chunk in chunks(submission_ids):
        found.update((visit.submission_id, visit) for visit in db.session.scalars(
            select(Visit).where(Visit.submission_id.in_(chunk))))
    return found


class HouseholdLabel(NamedTuple):
    household_no: str | None
    head_name: str | None


def household_labels(uuids: Iterable[str]) -> dict[str, HouseholdLabel]:
    """Households' numbers and heads' names (as the phone lists show them), by uuid."""
    uuids = list(set(uuids))
    if not uuids:
        return {}
    heads = {row.household_uuid: row.name for row in db.session.execute(
        select(Person.household_uuid, Person.name).where(Person.household_uuid.in_(uuids),
                                                         Person.relationship == "head").order_by(Person.uuid))}
    return {row.uuid: HouseholdLabel(row.household_no, heads.get(row.uuid))
            for row in db.session.execute(select(Household.uuid, Household.household_no)
                                          .where(Household.uuid.in_(uuids)))}
