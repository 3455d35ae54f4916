"""Service items as stored (derived from visits), with the decisions and follow-up results about them: named rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import select

from server.areas.models import Area
from server.extensions import db
from server.register.models import Household, Person, RegisterDecision, ServiceItemRecord, Visit
from sync.periods import as_utc
from sync.services import ItemChange, ItemState, ServiceItem, item_state

__all__ = ["PlacedItem", "item_of", "placed_items", "items_in", "changes_about",
           "open_referrals", "agreed_visits"]

SERVICE_DECISION_KINDS = ("referral_result", "support_outcome", "correct_service")


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
    form_version: str | None

    @property
    def item(self) -> ServiceItem:
        return self.state.item


def _item(row: ServiceItemRecord) -> ServiceItem:
    return ServiceItem(kind=row.kind, seq=row.seq, person_uuid=row.person_uuid, person_name=row.person_name,
                       code=row.code, quantity=row.quantity, quantity_text=row.quantity_text, given=row.given,
                       place=row.place, text=row.text, detail=row.detail, consent=row.consent,
                       refers_to=row.refers_to, problems=tuple((row.problems or "").split()))


def changes_about(keys: Iterable[str]) -> dict[str, list[ItemChange]]:
    """What was said about these items after their visits: decisions in force, and follow-ups' referral results
    (a result counts only from a follow-up of the referral's own person)."""
    keys = set(keys)
    changes: dict[str, list[ItemChange]] = defaultdict(list)
    if not keys:
        return changes
    for chunk in _chunks(keys):
        for decision in db.session.scalars(select(RegisterDecision).where(
                RegisterDecision.subject_uuid.in_(chunk), RegisterDecision.kind.in_(SERVICE_DECISION_KINDS),
                RegisterDecision.undone_at.is_(None))):
            changes[decision.subject_uuid].append(ItemChange(as_utc(decision.decided_at), decision.kind,
                                                             decision.field, decision.target))
        referral = ServiceItemRecord.__table__.alias("referral")
        for row in db.session.execute(
                select(ServiceItemRecord.refers_to, ServiceItemRecord.code, ServiceItemRecord.visited_at)
                .join(referral, (referral.c.item_key == ServiceItemRecord.refers_to)
                      & (referral.c.person_uuid == ServiceItemRecord.person_uuid))
                .where(ServiceItemRecord.kind == "referral_result", ServiceItemRecord.refers_to.in_(chunk))):
            if row.visited_at is not None:
                changes[row.refers_to].append(ItemChange(as_utc(row.visited_at), "referral_result", None, row.code,
                                                         by_visit=True))
    return changes


def _chunks(keys: set[str], size: int = 900) -> Iterable[list[str]]:
    ordered = sorted(keys)
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def _placed_query():
    return (select(ServiceItemRecord, Person.name.label("register_name"), Household.household_no, Household.group_id,
                   Area.path.label("group_path"), Visit.form_version)
            .join(Visit, Visit.submission_id == ServiceItemRecord.submission_id)
            .outerjoin(Person, Person.uuid == ServiceItemRecord.person_uuid)
            .outerjoin(Household, Household.uuid == ServiceItemRecord.household_uuid)
            .outerjoin(Area, Area.id == Household.group_id))


def _placed(rows) -> list[PlacedItem]:
    rows = list(rows)
    changes = changes_about(row.ServiceItemRecord.item_key for row in rows)
    placed = []
    for row in rows:
        stored = row.ServiceItemRecord
        placed.append(PlacedItem(
            key=stored.item_key, submission_id=stored.submission_id,
            state=item_state(_item(stored), changes.get(stored.item_key, ())), visit_date=stored.visit_date,
            visited_at=as_utc(stored.visited_at) if stored.visited_at else None,
            household_uuid=stored.household_uuid, person_uuid=stored.person_uuid,
            person_name=row.register_name or stored.person_name, household_no=row.household_no,
            group_id=row.group_id, group_path=row.group_path, form_version=row.form_version))
    return placed


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


def items_in(area_path: str | None, kinds: Iterable[str], *, since: dt.date | None = None,
             until: dt.date | None = None, codes: Iterable[str] | None = None) -> list[PlacedItem]:
    """Items of these kinds recorded in an area (None: everywhere) on visits dated from `since` to `until`
    (inclusive), oldest first."""
    query = _placed_query().where(ServiceItemRecord.kind.in_(list(kinds)))
    if area_path is not None:
        query = query.where(Area.path.startswith(area_path))
    if since is not None:
        query = query.where(ServiceItemRecord.visit_date >= since)
    if until is not None:
        query = query.where(ServiceItemRecord.visit_date <= until)
    if codes is not None:
        query = query.where(ServiceItemRecord.code.in_(list(codes)))
    return _placed(db.session.execute(query.order_by(ServiceItemRecord.visit_date, ServiceItemRecord.submission_id,
                                                     ServiceItemRecord.seq)))


def open_referrals(area_path: str | None = None) -> list[PlacedItem]:
    """Referrals nobody has attended or declined yet, of people in the register, in an area."""
    return [placed for placed in items_in(area_path, ("referral",)) if placed.state.is_open and placed.group_path]


class AgreedVisit(NamedTuple):
    household_uuid: str
    person_uuid: str | None     # a follow-up's person; None: agreed with the household on a household visit
    agreed_on: dt.date          # the day of the visit that agreed it
    next_visit: dt.date


def agreed_visits(household_uuids: set[str]) -> list[AgreedVisit]:
    """Next visits agreed on visits to these households (each household's, or follow-up person's, latest)."""
    latest: dict[tuple[str, str | None], AgreedVisit] = {}
    for chunk in _chunks(household_uuids):
        for row in db.session.execute(
                select(Visit.household_uuid, Visit.person_uuid, Visit.visit_date, Visit.next_visit)
                .where(Visit.next_visit.is_not(None), Visit.refusal.is_(None), Visit.visit_date.is_not(None),
                       Visit.household_uuid.in_(chunk))
                .order_by(Visit.visit_date, Visit.submission_id)):
            latest[(row.household_uuid, row.person_uuid)] = AgreedVisit(row.household_uuid, row.person_uuid,
                                                                        row.visit_date, row.next_visit)
    return sorted(latest.values())
