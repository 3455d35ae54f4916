"""What the archive reads and writes: reports as handed over, listed by area and period, fetched by id."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import func, select

from server.archive.models import ArchivedReport
from server.areas.models import Area
from server.extensions import db
from server.users.models import User

__all__ = ["ArchivedRow", "add", "next_version", "listed", "by_id"]


class ArchivedRow(NamedTuple):
    """An archived report as a list shows it (not its bytes)."""

    id: int
    kind: str
    area_id: int
    area_path: str
    area_full_name: str
    period_start: dt.date
    period_end: dt.date
    version: int
    file_name: str
    sha256: str
    size: int
    created_by: str | None      # the display name of who submitted or filed it
    created_at: dt.datetime


def next_version(kind: str, area_id: int, period_start: dt.date) -> int:
    """The version the next report of this kind, area and period gets (1 for the first)."""
    latest = db.session.scalar(select(func.max(ArchivedReport.version)).where(
        ArchivedReport.kind == kind, ArchivedReport.area_id == area_id, ArchivedReport.period_start == period_start))
    return (latest or 0) + 1


def add(report: ArchivedReport) -> ArchivedReport:
    db.session.add(report)
    db.session.flush()
    return report


def _listing():
    return (select(ArchivedReport.id, ArchivedReport.kind, ArchivedReport.area_id, Area.path, Area.full_name,
                   ArchivedReport.period_start, ArchivedReport.period_end, ArchivedReport.version,
                   ArchivedReport.file_name, ArchivedReport.sha256, func.length(ArchivedReport.content),
                   User.display_name, ArchivedReport.created_at)
            .join(Area, Area.id == ArchivedReport.area_id)
            .outerjoin(User, User.id == ArchivedReport.created_by))


def listed(path: str | None, *, kind: str | None = None, since: dt.date | None = None,
           until: dt.date | None = None) -> list[ArchivedRow]:
    """The reports archived for areas inside `path` (None: every area), newest period first, then area, version."""
    query = _listing()
    if path is not None:
        query = query.where(Area.path.startswith(path, autoescape=True))
    if kind is not None:
        query = query.where(ArchivedReport.kind == kind)
    if since is not None:
        query = query.where(ArchivedReport.period_start >= since)
    if until is not None:
        query = query.where(ArchivedReport.period_start <= until)
    query = query.order_by(ArchivedReport.period_start.desc(), Area.full_name, ArchivedReport.kind,
                           ArchivedReport.version.desc())
    return [ArchivedRow(*row) for row in db.session.execute(query)]


def by_id(report_id: int) -> tuple[ArchivedRow, bytes] | None:
    """An archived report's row and its bytes."""
    row = db.session.execute(_listing().add_columns(ArchivedReport.content)
                             .where(ArchivedReport.id == report_id)).first()
    return (ArchivedRow(*row[:-1]), row[-1]) if row else None
