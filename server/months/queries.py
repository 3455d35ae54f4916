"""What the month sign-off reads and writes: a village's month as it stands, its steps, the villages of an area with
their month, the month's visits not reviewed yet."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from server.archive.models import ArchivedReport
from server.areas.models import Area
from server.extensions import db
from server.forms.models import Form
from server.months.models import MonthSignoff, MonthSignoffStep
from server.register.models import Visit, VisitReview
from server.submissions.models import Submission
from server.users.models import User
from sync.periods import as_utc

VISIT_FORMS = ("household_visit", "followup")
"""The forms whose submissions are the visits the inbox lists and a cadre reviews."""

__all__ = ["SignoffRow", "StepRow", "signoff", "add", "signoffs_of_month",
           "signoffs_of_village", "steps", "unreviewed_visits"]

_submitter, _decider = aliased(User), aliased(User)


class SignoffRow(NamedTuple):
    """A village's month as it stands (the names are the users' display names, else their user names)."""

    village_id: int
    month: dt.date
    state: str
    version: int
    report_id: int
    first_submitted_at: dt.datetime
    late: bool
    submitted_by: str | None
    submitted_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str | None


class StepRow(NamedTuple):
    step: str
    version: int
    report_id: int
    file_name: str
    user: str | None
    at: dt.datetime
    late: bool
    comment: str | None


def _name(user):
    return func.coalesce(func.nullif(user.display_name, ""), user.username)


def signoff(village_id: int, month: dt.date) -> MonthSignoff | None:
    """The village's month (to change it), or None while it is open."""
    return db.session.scalar(select(MonthSignoff).where(MonthSignoff.village_id == village_id,
                                                        MonthSignoff.month == month))


def add(row) -> None:
    db.session.add(row)
    db.session.flush()


def _signoffs():
    return (select(MonthSignoff.village_id, MonthSignoff.month, MonthSignoff.state, MonthSignoff.version,
                   MonthSignoff.report_id, MonthSignoff.first_submitted_at, MonthSignoff.late,
                   _name(_submitter), MonthSignoff.submitted_at, _name(_decider), MonthSignoff.decided_at,
                   MonthSignoff.comment)
            .outerjoin(_submitter, _submitter.id == MonthSignoff.submitted_by)
            .outerjoin(_decider, _decider.id == MonthSignoff.decided_by))


def _row(row) -> SignoffRow:
    found = SignoffRow(*row)
    return found._replace(first_submitted_at=as_utc(found.first_submitted_at), submitted_at=as_utc(found.submitted_at),
                          decided_at=as_utc(found.decided_at) if found.decided_at else None)


def signoffs_of_month(path: str | None, month: dt.date) -> dict[int, SignoffRow]:
    """village id → its month as it stands, for the villages of an area that have submitted the month."""
    query = _signoffs().join(Area, Area.id == MonthSignoff.village_id).where(MonthSignoff.month == month)
    if path is not None:
        query = query.where(Area.path.startswith(path, autoescape=True))
    return {row.village_id: row for row in map(_row, db.session.execute(query))}


def signoffs_of_village(village_id: int, since: dt.date) -> dict[dt.date, SignoffRow]:
    """month → the village's month as it stands, for its months from `since` that have been submitted."""
    query = _signoffs().where(MonthSignoff.village_id == village_id, MonthSignoff.month >= since)
    return {row.month: row for row in map(_row, db.session.execute(query))}


def steps(village_id: int, month: dt.date) -> list[StepRow]:
    """Every step of a village's month, oldest first, with who took it and the archived version it concerned."""
    query = (select(MonthSignoffStep.step, MonthSignoffStep.version, MonthSignoffStep.report_id,
                    ArchivedReport.file_name, _name(_submitter), MonthSignoffStep.at, MonthSignoffStep.late,
                    MonthSignoffStep.comment)
             .join(MonthSignoff, MonthSignoff.id == MonthSignoffStep.signoff_id)
             .join(ArchivedReport, ArchivedReport.id == MonthSignoffStep.report_id)
             .outerjoin(_submitter, _submitter.id == MonthSignoffStep.user_id)
             .where(MonthSignoff.village_id == village_id, MonthSignoff.month == month)
             .order_by(MonthSignoffStep.at, MonthSignoffStep.id))
    return [row._replace(at=as_utc(row.at)) for row in (StepRow(*found) for found in db.session.execute(query))]


def unreviewed_visits(path: str, since: dt.date, until: dt.date) -> int:
    """Visits of an area dated from `since` to `until` nobody has reviewed yet: what the inbox filtered so
    (`register.queries.inbox`, state "received") counts, without reading a page of them or their collectors."""
    return db.session.scalar(
        select(func.count()).select_from(Submission)
        .join(Form, Form.id == Submission.form_id).join(Area, Area.id == Submission.area_id)
        .join(Visit, Visit.submission_id == Submission.id)
        .outerjoin(VisitReview, VisitReview.submission_id == Submission.id)
        .where(Form.xml_form_id.in_(VISIT_FORMS), Area.path.startswith(path, autoescape=True),
               Visit.visit_date >= since, Visit.visit_date <= until, VisitReview.submission_id.is_(None)))
