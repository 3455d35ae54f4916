"""What the home pages count, in aggregate SQL grouped by the group an item belongs to (a town's figures are a few
hundred rows, folded into villages or towns by the caller): review backlog, completed visits and life events of a
period, each collector's last sync; and from the audit log, the person reads of staff who read many people and the
exports of personal data."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import distinct, func, or_, select

from server.areas.models import Area
from server.areas.queries import AreaRow, areas_under, inside_area
from server.audit.models import AuditEvent
from server.extensions import db
from server.forms.models import Form
from server.register.models import Household, LifeEventRecord, Person, Visit, VisitReview
from server.submissions.models import Submission
from server.users.models import User

__all__ = ["AreaRow", "areas_under", "unreviewed_by_group", "completed_visits_by_group",
           "life_events_by_group", "CollectorSync", "collector_syncs", "heavy_person_reads", "StaffMember",
           "staff_members", "people_named", "ExportEvent", "exports"]

# The forms whose submissions are visits the inbox lists (and a cadre reviews).
VISIT_FORMS = ("household_visit", "followup")


def _groups_inside(path: str | None):
    """The ids of the groups inside an area (everywhere for None)."""
    query = select(Area.id).where(Area.kind == "group")
    return query if path is None else query.where(inside_area(Area.path, path))


def unreviewed_by_group(path: str | None) -> dict[int, int]:
    """Visits (submissions of the visit forms, as the inbox lists them) nobody has reviewed yet, per group."""
    query = (select(Submission.area_id, func.count())
             .join(Form, Form.id == Submission.form_id)
             .outerjoin(VisitReview, VisitReview.submission_id == Submission.id)
             .where(Form.xml_form_id.in_(VISIT_FORMS), VisitReview.submission_id.is_(None),
                    Submission.area_id.in_(_groups_inside(path)))
             .group_by(Submission.area_id))
    return dict(db.session.execute(query).all())


def completed_visits_by_group(path: str | None, since: dt.date, until: dt.date) -> dict[int, int]:
    """Completed visits (household visits and follow-ups) dated from `since` to `until`, per group collected in."""
    query = (select(Submission.area_id, func.count()).select_from(Visit)
             .join(Submission, Submission.id == Visit.submission_id)
             .where(Visit.completed.is_(True), Visit.visit_date >= since, Visit.visit_date <= until,
                    Submission.area_id.in_(_groups_inside(path)))
             .group_by(Submission.area_id))
    return dict(db.session.execute(query).all())


def life_events_by_group(path: str | None, kinds: tuple[str, ...], since: dt.date, until: dt.date) -> dict[int, int]:
    """Life events of these kinds (births, deaths, marriages, moves…) dated from `since` to `until`, per group: the
    group the person lived in when it happened (a move out in the group left, a move in in the group arrived in:
    as the monthly change report counts them); for an event recorded before that was kept, the group the visit
    that told it was collected in, or for one registered on the web (a decision), the group of the person's
    household."""
    group = func.coalesce(LifeEventRecord.group_id, Submission.area_id, Household.group_id)
    query = (select(group, func.count()).select_from(LifeEventRecord)
             .outerjoin(Submission, Submission.id == LifeEventRecord.submission_id)
             .outerjoin(Person, (Person.uuid == LifeEventRecord.person_uuid) & LifeEventRecord.submission_id.is_(None))
             .outerjoin(Household, Household.uuid == Person.household_uuid)
             .where(LifeEventRecord.kind.in_(kinds), LifeEventRecord.event_date >= since,
                    LifeEventRecord.event_date <= until, group.in_(_groups_inside(path)))
             .group_by(group))
    return dict(db.session.execute(query).all())


class CollectorSync(NamedTuple):
    username: str
    display_name: str
    group_id: int
    last_sync: dt.datetime | None    # when a visit of theirs last reached this server (None: never)


def collector_syncs(path: str | None) -> list[CollectorSync]:
    """The active collectors of an area's groups and when each last sent a submission, by display name."""
    last = (select(func.max(Submission.received_at)).where(Submission.submitter_id == User.id)
            .correlate(User).scalar_subquery())
    query = (select(User.username, User.display_name, User.area_id, last)
             .where(User.role == "collector", User.active.is_(True), User.area_id.in_(_groups_inside(path)))
             .order_by(User.display_name, User.username))
    return [CollectorSync(username, display_name or username, group_id, _utc(at))
            for username, display_name, group_id, at in db.session.execute(query)]


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives instants back without their zone: they are UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment is not None and moment.tzinfo is None else moment


def _staff_inside(path: str | None):
    """The ids of the users whose own area is inside an area (everyone for None: the county sees its own staff too)."""
    query = select(User.id)
    if path is None:
        return query
    return query.join(Area, Area.id == User.area_id).where(inside_area(Area.path, path))


def heavy_person_reads(path: str | None, actions: tuple[str, ...], since: dt.datetime,
                       more_than: int) -> list[tuple[int, dt.datetime, str]]:
    """(user id, when, person uuid) of every person read since `since` by the staff of an area who read more than
    `more_than` different people in that time at all (only they can have read more within an hour), by user and
    time. Read through the index on audit_event.at."""
    heavy = (select(AuditEvent.user_id)
             .where(AuditEvent.action.in_(actions), AuditEvent.at >= since, AuditEvent.subject.is_not(None),
                    AuditEvent.user_id.in_(_staff_inside(path)))
             .group_by(AuditEvent.user_id)
             .having(func.count(distinct(AuditEvent.subject)) > more_than))
    query = (select(AuditEvent.user_id, AuditEvent.at, AuditEvent.subject)
             .where(AuditEvent.action.in_(actions), AuditEvent.at >= since, AuditEvent.subject.is_not(None),
                    AuditEvent.user_id.in_(heavy))
             .order_by(AuditEvent.user_id, AuditEvent.at, AuditEvent.id))
    return [(user_id, _utc(at), subject) for user_id, at, subject in db.session.execute(query)]


class StaffMember(NamedTuple):
    id: int
    username: str
    display_name: str
    role: str
    area_full_name: str | None      # None: the county


def staff_members(ids: set[int]) -> dict[int, StaffMember]:
    query = (select(User.id, User.username, User.display_name, User.role, Area.full_name)
             .outerjoin(Area, Area.id == User.area_id).where(User.id.in_(sorted(ids))))
    return {row[0]: StaffMember(row[0], row[1], row[2] or row[1], row[3], row[4])
            for row in db.session.execute(query)} if ids else {}


def people_named(uuids: set[str], path: str | None) -> dict[str, str]:
    """The names of those of these people who live in an area now (uuid → name); others are left out."""
    if not uuids:
        return {}
    query = (select(Person.uuid, Person.name).join(Household, Household.uuid == Person.household_uuid)
             .join(Area, Area.id == Household.group_id).where(Person.uuid.in_(sorted(uuids))))
    if path is not None:
        query = query.where(inside_area(Area.path, path))
    return {uuid: name or "" for uuid, name in db.session.execute(query)}


class ExportEvent(NamedTuple):
    at: dt.datetime
    user_id: int | None
    action: str
    area_full_name: str | None    # the area the export covered (None: the county, or not recorded)
    subject: str | None           # the period, the register's name, the notices exported …
    records: int
    reason: str | None


def exports(path: str | None, since: dt.datetime) -> list[ExportEvent]:
    """The exports of personal data (audited as export.*, *.export, *.export.full, and a person's own copy produced)
    since `since` by the staff of an area, newest
    first."""
    query = (select(AuditEvent.at, AuditEvent.user_id, AuditEvent.action, Area.full_name, AuditEvent.subject,
                    AuditEvent.records, AuditEvent.reason)
             .outerjoin(Area, Area.path == AuditEvent.area_path)
             .where(AuditEvent.at >= since, or_(AuditEvent.action.like("export.%"), AuditEvent.action.like("%.export"),
                                                     AuditEvent.action.like("%.export.full"),
                                                     AuditEvent.action == "copy.produce"),
                    AuditEvent.user_id.in_(_staff_inside(path)))
             .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()))
    return [ExportEvent(_utc(at), *rest) for at, *rest in db.session.execute(query)]
