"""Reading the audit log for the audit page: the newest events about an area, with the user's name."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from server.users.models import User

__all__ = ["AuditEntry", "recent"]


class AuditEntry(NamedTuple):
    """An audit event with the user name of who did it (None when no account did it)."""

    event: AuditEvent
    username: str | None


def recent(area_path: str | None, limit: int = 500) -> list[AuditEntry]:
    """The newest events about an area (all of them for the county), with the user's name."""
    query = (select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.user_id)
             .order_by(AuditEvent.id.desc()).limit(limit))
    if area_path is not None:
        query = query.where(AuditEvent.area_path.startswith(area_path))
    return [AuditEntry(row.AuditEvent, row.username) for row in db.session.execute(query)]
