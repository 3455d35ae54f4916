"""Writing audit events (in the request's own transaction: an action and its record commit together)."""

from __future__ import annotations

from server import clock
from server.audit.models import AuditEvent
from server.extensions import db

__all__ = ["record"]


def record(user_id: int | None, action: str, *, area_path: str | None = None, subject: str | None = None,
           records: int = 0, reason: str | None = None) -> None:
    db.session.add(AuditEvent(at=clock.now(), user_id=user_id, action=action,
                              area_path=area_path, subject=subject, records=records, reason=reason))

