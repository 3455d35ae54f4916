"""A person's own copy in SQL: the copy requests of a person, and what the copy reads besides the person's pages (the
audit log about them, the service notices about them, the visits and accounts it names)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from server.audit.models import AuditEvent
from server.copies.models import PersonCopy
from server.extensions import db
from server.notices.models import ServiceNotice
from server.users.models import User

__all__ = ["CopyRow", "copies_of", "copy_of", "add_copy", "AuditRow", "audit_about", "notices_about"]


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment


class CopyRow(NamedTuple):
    """A copy request with the names of the staff who recorded, produced and handed it over."""

    copy: PersonCopy
    recorded_by: str | None
    produced_by: str | None
    handed_by: str | None


def _name(user):
    """An account's display name, else its user name."""
    return func.coalesce(user.display_name, user.username)


def _with_names():
    recorder, producer, giver = aliased(User), aliased(User), aliased(User)
    return (select(PersonCopy, *(_name(user).label(label) for user, label in
                                 ((recorder, "recorder"), (producer, "producer"), (giver, "giver"))))
            .outerjoin(recorder, recorder.id == PersonCopy.recorded_by)
            .outerjoin(producer, producer.id == PersonCopy.produced_by)
            .outerjoin(giver, giver.id == PersonCopy.handed_by))


def copies_of(person_uuid: str) -> list[CopyRow]:
    """The person's copy requests, newest first."""
    rows = db.session.execute(_with_names().where(PersonCopy.person_uuid == person_uuid)
                              .order_by(PersonCopy.id.desc()))
    return [CopyRow(row.PersonCopy, row.recorder, row.producer, row.giver) for row in rows]


def copy_of(person_uuid: str, copy_id: int) -> PersonCopy | None:
    """One copy request of the person (None when the id is another person's, or none), locked for the change."""
    return db.session.scalar(select(PersonCopy).where(PersonCopy.id == copy_id, PersonCopy.person_uuid == person_uuid)
                             .with_for_update())


def add_copy(**values) -> PersonCopy:
    row = PersonCopy(**values)
    db.session.add(row)
    db.session.flush()
    return row


class AuditRow(NamedTuple):
    """An audit event about the person: when, who (display name and role), what."""

    at: dt.datetime
    who: str | None
    role: str | None
    action: str


def audit_about(person_uuid: str, household_uuid: str | None) -> list[AuditRow]:
    """Every audit event whose subject is the person, and the reads of the household they live in, oldest first."""
    about = AuditEvent.subject == person_uuid
    if household_uuid:
        about = or_(about, and_(AuditEvent.subject == household_uuid, AuditEvent.action == "household.read"))
    rows = db.session.execute(
        select(AuditEvent.at, AuditEvent.action, _name(User).label("who"), User.role)
        .outerjoin(User, User.id == AuditEvent.user_id).where(about).order_by(AuditEvent.at, AuditEvent.id))
    return [AuditRow(_utc(row.at), row.who, row.role, row.action) for row in rows]


def notices_about(person_uuid: str) -> list[ServiceNotice]:
    """The service notices this server sent about the person, oldest first."""
    return list(db.session.scalars(select(ServiceNotice).where(ServiceNotice.person_uuid == person_uuid)
                                   .order_by(ServiceNotice.sent_at, ServiceNotice.id)))
