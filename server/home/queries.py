"""What the home pages count, in aggregate SQL grouped by the group an item belongs to (a town's figures are a few
hundred rows, folded into villages or towns by the caller): review backlog, completed visits and life events of a
period, each collector's last sync."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import func, select

from server.areas.models import Area
from server.areas.queries import AreaRow, areas_under, inside_area
from server.extensions import db
from server.forms.models import Form
from server.register.models import Household, LifeEventRecord, Person, Visit, VisitReview
from server.submissions.models import Submission
from server.users.models import User

__all__ = ["AreaRow", "areas_under", "unreviewed_by_group", "completed_visits_by_group",
           "life_events_by_group", "CollectorSync", "collector_syncs"]

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
