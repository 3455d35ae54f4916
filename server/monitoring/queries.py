"""What collector monitoring reads and writes: a phone's form download recorded (an upsert), and per collector of an
area, one grouped query per figure (latest submission, forms on the phone, submissions per week, visit outcomes)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import and_, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from server.areas.models import Area
from server.areas.queries import inside_area
from server.extensions import db
from server.forms.models import Form, FormVersion
from server.register.models import Visit
from server.submissions.models import Submission
from server.users.models import CollectorFormDownload, User
from sync.periods import as_utc

__all__ = ["record_form_download", "MonitoredCollector", "collectors_in", "LatestSubmission", "latest_submissions",
           "FormOnPhone", "forms_on_phones", "submissions_per_week", "visit_outcomes"]


def record_form_download(user_id: int, form_pk: int, version: str, at: dt.datetime, user_agent: str | None) -> None:
    """The version of a form a collector's phone now holds (one row per collector and form, the latest kept)."""
    table = CollectorFormDownload.__table__
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    values = {"version": version, "downloaded_at": at, "user_agent": (user_agent or None) and user_agent[:500]}
    statement = insert(table).values(user_id=user_id, form_id=form_pk, **values)
    db.session.execute(statement.on_conflict_do_update(index_elements=[table.c.user_id, table.c.form_id],
                                                       set_=values))


class MonitoredCollector(NamedTuple):
    id: int
    username: str
    display_name: str
    active: bool
    group_full_name: str
    group_path: str = ""


def _collectors(path: str | None):
    query = select(User.id).join(Area, Area.id == User.area_id).where(User.role == "collector")
    return query if path is None else query.where(inside_area(Area.path, path))


def collectors_in(path: str | None) -> list[MonitoredCollector]:
    """The collectors (active or revoked) of the groups inside an area, by group and name."""
    query = (select(User.id, User.username, User.display_name, User.active, Area.full_name, Area.path)
             .join(Area, Area.id == User.area_id).where(User.role == "collector")
             .order_by(Area.full_name, User.display_name, User.username))
    if path is not None:
        query = query.where(inside_area(Area.path, path))
    return [MonitoredCollector(row.id, row.username, row.display_name or row.username, row.active, row.full_name,
                               row.path) for row in db.session.execute(query)]


class LatestSubmission(NamedTuple):
    user_id: int
    received_at: dt.datetime
    device_id: str | None
    user_agent: str | None


def latest_submissions(path: str | None) -> dict[int, LatestSubmission]:
    """Each collector's latest submission (their last successful sync): when, and the phone that sent it."""
    latest = (select(func.max(Submission.id)).where(Submission.submitter_id.in_(_collectors(path)))
              .group_by(Submission.submitter_id))
    query = (select(Submission.submitter_id, Submission.received_at, Submission.device_id, Submission.user_agent)
             .where(Submission.id.in_(latest)))
    return {row.submitter_id: LatestSubmission(row.submitter_id, as_utc(row.received_at), row.device_id,
                                               row.user_agent) for row in db.session.execute(query)}


class FormOnPhone(NamedTuple):
    user_id: int
    form_title: str
    version: str                # the version the phone downloaded last
    current_version: str | None     # the version published now
    downloaded_at: dt.datetime
    user_agent: str | None


def forms_on_phones(path: str | None) -> list[FormOnPhone]:
    """The forms each collector's phone downloaded, with the version it holds and the one published now."""
    query = (select(CollectorFormDownload.user_id, Form.title, CollectorFormDownload.version,
                    FormVersion.version.label("current"), CollectorFormDownload.downloaded_at,
                    CollectorFormDownload.user_agent)
             .join(Form, Form.id == CollectorFormDownload.form_id)
             .outerjoin(FormVersion, FormVersion.id == Form.current_version_id)
             .where(CollectorFormDownload.user_id.in_(_collectors(path)))
             .order_by(CollectorFormDownload.user_id, Form.title))
    return [FormOnPhone(row.user_id, row.title, row.version, row.current, as_utc(row.downloaded_at), row.user_agent)
            for row in db.session.execute(query)]


def submissions_per_week(path: str | None, weeks: list[tuple[dt.datetime, dt.datetime]]) -> dict[int, tuple[int, ...]]:
    """Submissions each collector sent in each week (given as [start, end) instants), oldest week first."""
    counts = [func.sum(case((and_(Submission.received_at >= start, Submission.received_at < end), 1), else_=0))
              for start, end in weeks]
    query = (select(Submission.submitter_id, *counts)
             .where(Submission.submitter_id.in_(_collectors(path)), Submission.received_at >= weeks[0][0],
                    Submission.received_at < weeks[-1][1])
             .group_by(Submission.submitter_id))
    return {row[0]: tuple(int(count or 0) for count in row[1:]) for row in db.session.execute(query)}


def visit_outcomes(path: str | None, first_day: dt.date, last_day: dt.date) -> dict[int, dict[str, int]]:
    """Each collector's visits dated (on the phone) from `first_day` to `last_day`, counted by outcome."""
    query = (select(Submission.submitter_id, Visit.outcome, func.count())
             .join(Submission, Submission.id == Visit.submission_id)
             .where(Submission.submitter_id.in_(_collectors(path)), Visit.visit_date >= first_day,
                    Visit.visit_date <= last_day)
             .group_by(Submission.submitter_id, Visit.outcome))
    found: dict[int, dict[str, int]] = {}
    for user_id, outcome, count in db.session.execute(query):
        found.setdefault(user_id, {})[outcome] = count
    return found
