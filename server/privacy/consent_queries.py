"""Reads of consent withdrawals: the withdrawals in force, who they cover and what the register holds by consent."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import exists, func, or_, select

from server.extensions import db
from server.register.models import RegisterDecision, ServiceAnchor, ServiceItemRecord
from server.users.models import User
from sync.consent import BY_HOUSEHOLD, BY_PERSON
from sync.decisions import WITHDRAW_CONSENT
from sync.privacy import CONSENT_ANCHOR_KINDS

__all__ = ["Withdrawal", "withdrawals", "WithdrawalShown", "withdrawals_of",
           "holds_consent_records"]


class Withdrawal(NamedTuple):
    """A withdrawal of consent in force: the person, the household they lived in, the newest submission before it."""

    id: int
    person_uuid: str
    household_uuid: str
    after_submission_id: int
    day: str | None = None          # the day the person withdrew it (as recorded)


def withdrawals(*, covering: int | None = None) -> list[Withdrawal]:
    """The withdrawals in force (`covering`: those recorded after that submission, which they may cover)."""
    query = select(RegisterDecision.id, RegisterDecision.subject_uuid, RegisterDecision.target,
                   RegisterDecision.after_submission_id, RegisterDecision.field).where(
        RegisterDecision.kind == WITHDRAW_CONSENT.name, RegisterDecision.undone_at.is_(None))
    if covering is not None:
        query = query.where(RegisterDecision.after_submission_id >= covering)
    return [Withdrawal(*row) for row in db.session.execute(query.order_by(RegisterDecision.id))]


class WithdrawalShown(NamedTuple):
    """A withdrawal in force of one person, as their consent page lists it."""

    id: int
    day: str | None
    note: str | None
    decided_at: dt.datetime
    decided_by: str | None


def withdrawals_of(person_uuid: str) -> list[WithdrawalShown]:
    """The person's withdrawals in force, oldest first, with who recorded them."""
    rows = db.session.execute(
        select(RegisterDecision.id, RegisterDecision.field, RegisterDecision.note, RegisterDecision.decided_at,
               func.coalesce(User.display_name, User.username))
        .outerjoin(User, User.id == RegisterDecision.decided_by)
        .where(RegisterDecision.kind == WITHDRAW_CONSENT.name, RegisterDecision.undone_at.is_(None),
               RegisterDecision.subject_uuid == person_uuid).order_by(RegisterDecision.id))
    return [WithdrawalShown(*row) for row in rows]


def holds_consent_records(person_uuid: str, household_uuid: str | None) -> bool:
    """Whether the register holds anything a withdrawal by this person would take out (sync.consent)."""
    items = or_(ServiceItemRecord.kind.in_(BY_PERSON) & (ServiceItemRecord.person_uuid == person_uuid),
                ServiceItemRecord.kind.in_(BY_HOUSEHOLD) & (ServiceItemRecord.household_uuid == household_uuid))
    return bool(db.session.scalar(select(
        exists().where(items) | exists().where(ServiceAnchor.kind.in_(CONSENT_ANCHOR_KINDS),
                                               ServiceAnchor.person_uuid == person_uuid))))
