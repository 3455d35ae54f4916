"""Reads and writes of service notices: by uuid, the list of a town (from it or to it), the steps past a cursor; and
what the register holds of a person the sender picks (their record and the groups they lived in)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import func, or_, select

from server.areas.models import Area
from server.extensions import db
from server.notices.models import ServiceNotice, ServiceNoticeStep
from server.register.models import Household, Person
from server.users.models import User

__all__ = ["by_uuid", "listed", "add_notice", "add_step", "steps_after", "notices_by_id", "PersonRow", "person",
           "town_names", "is_town", "steps_of", "staff_name"]


def by_uuid(uuid: str) -> ServiceNotice | None:
    return db.session.scalar(select(ServiceNotice).where(ServiceNotice.uuid == uuid))


def listed(town: str | None, limit: int) -> list[ServiceNotice]:
    """The notices sent from or to a town (every notice for None), the latest sent first."""
    query = select(ServiceNotice).order_by(ServiceNotice.sent_at.desc(), ServiceNotice.id.desc()).limit(limit)
    if town is not None:
        query = query.where(or_((ServiceNotice.from_place == town) & ~ServiceNotice.from_outside,
                                (ServiceNotice.to_place == town) & ~ServiceNotice.to_outside))
    return list(db.session.scalars(query))


def add_notice(**values) -> ServiceNotice:
    notice = ServiceNotice(**values)
    db.session.add(notice)
    db.session.flush()
    return notice


def add_step(notice_id: int, step: str, source: str, user_id: int | None, at: dt.datetime) -> None:
    db.session.add(ServiceNoticeStep(notice_id=notice_id, step=step, source=source, user_id=user_id, recorded_at=at))
    db.session.flush()


class StepRow(NamedTuple):
    id: int
    notice_id: int
    recorded_at: dt.datetime


def steps_after(cursor: int, limit: int) -> list[StepRow]:
    """The steps past the cursor, by id."""
    return [StepRow(*row) for row in db.session.execute(
        select(ServiceNoticeStep.id, ServiceNoticeStep.notice_id, ServiceNoticeStep.recorded_at)
        .where(ServiceNoticeStep.id > cursor).order_by(ServiceNoticeStep.id).limit(limit))]


def notices_by_id(ids: set[int]) -> dict[int, ServiceNotice]:
    return {notice.id: notice for notice in db.session.scalars(select(ServiceNotice).where(ServiceNotice.id.in_(ids)))}


class StepShown(NamedTuple):
    step: str
    source: str
    recorded_at: dt.datetime


def steps_of(notice_id: int) -> list[StepShown]:
    return [StepShown(*row) for row in db.session.execute(
        select(ServiceNoticeStep.step, ServiceNoticeStep.source, ServiceNoticeStep.recorded_at)
        .where(ServiceNoticeStep.notice_id == notice_id).order_by(ServiceNoticeStep.id))]


class PersonRow(NamedTuple):
    """A register record as a notice starts from it, with the path of the group their household is in now."""

    uuid: str
    name: str | None
    sex: str | None
    birth_date: str | None
    id_number: str | None
    phone: str | None
    residence: str | None
    address: str | None
    group_path: str | None


def person(uuid: str) -> PersonRow | None:
    row = db.session.execute(
        select(Person.uuid, Person.name, Person.sex, Person.birth_date, Person.id_number, Person.phone,
               Person.residence, Household.address, Area.path)
        .outerjoin(Household, Household.uuid == Person.household_uuid)
        .outerjoin(Area, Area.id == Household.group_id).where(Person.uuid == uuid)).first()
    return PersonRow(*row) if row else None


def town_names() -> list[str]:
    """The towns this server serves, by name."""
    return list(db.session.scalars(select(Area.full_name).where(Area.kind == "town").order_by(Area.full_name)))


def is_town(name: str) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Area).where(Area.full_name == name,
                                                                                  Area.kind == "town")))


def staff_name(user_id: int) -> str:
    """A staff member as a notice names them: their display name, else their user name."""
    from_row = db.session.execute(select(User.display_name, User.username).where(User.id == user_id)).first()
    return (from_row.display_name or from_row.username) if from_row else ""
