"""Reading the audit log for the audit page: an area's events, newest first, a page at a time, with who did them (by
display name) and the area's names."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func, literal, select

from server.areas.models import Area
from server.areas.queries import inside_area
from server.audit.models import AuditEvent
from server.database import counted_up_to, on_postgresql
from server.extensions import db
from server.users.models import User

__all__ = ["AuditEntry", "AuditPage", "PAGE_SIZE", "page", "display_names"]

PAGE_SIZE = 50


class AuditEntry(NamedTuple):
    """An audit event with who did it (display name, else user name; None when no account did it) and the full
    name of the area it concerns (None when it names none, or one no longer here)."""

    event: AuditEvent
    username: str | None
    area_name: str | None = None


class AuditPage(NamedTuple):
    entries: list[AuditEntry]
    total: int                     # how many events the area's log holds (counted up to a cap: see `more`)
    more: bool = False             # True: more than `total` (server.database.counted_up_to)


def _events(area_path: str | None, *columns):
    """The events about an area: a town's, on PostgreSQL, by the index on each event's town and id (migration
    0025: its log is read newest first from its own events, not by walking the whole county's log)."""
    query = select(*(columns or (AuditEvent,)))
    if area_path is None:
        return query
    town = area_path.strip("/").split("/")[0]
    if area_path == f"/{town}/" and on_postgresql():
        return query.where(func.split_part(AuditEvent.area_path, "/", 2) == literal(town, literal_execute=True))
    return query.where(inside_area(AuditEvent.area_path, area_path))


def page(area_path: str | None, number: int = 1, size: int | None = None) -> AuditPage:
    """One page of the events about an area (all of them for the county), newest first, and how many there are."""
    size = size or PAGE_SIZE
    query = (_events(area_path).add_columns(func.coalesce(User.display_name, User.username).label("who"),
                                            Area.full_name)
             .outerjoin(User, User.id == AuditEvent.user_id).outerjoin(Area, Area.path == AuditEvent.area_path)
             .order_by(AuditEvent.id.desc()).offset((number - 1) * size).limit(size))
    total, more = counted_up_to(_events(area_path, AuditEvent.id), (number - 1) * size, size)
    return AuditPage([AuditEntry(row.AuditEvent, row.who, row.full_name) for row in db.session.execute(query)],
                     total, more)


def display_names(usernames: set[str]) -> dict[str, str]:
    """Accounts' display names (or user names) by user name."""
    if not usernames:
        return {}
    return {row.username: row.display_name or row.username for row in db.session.execute(
        select(User.username, User.display_name).where(User.username.in_(usernames)))}
