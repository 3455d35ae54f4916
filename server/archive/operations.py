"""The archive's services: keep a report as it is handed over (its bytes, their hash, the figures it showed), list
the reports of the reader's area, give one back byte for byte; each read and write audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping

from server import clock
from server.archive import queries
from server.archive.models import ARCHIVED_KINDS, ArchivedReport
from server.areas.models import Area
from server.audit import queries as audit
from server.principal import Principal
from sync.access import STAFF_ROLES, area_contains
from sync.errors import Forbidden, NotFound

__all__ = ["keep", "archived_reports", "archived_report"]


def keep(principal: Principal, kind: str, area: Area, period_start: dt.date, period_end: dt.date, file_name: str,
         content: bytes, figures: Mapping) -> ArchivedReport:
    """Archive a report as handed over now, as the next version of its kind, area and period. The caller has
    checked that `area` is the principal's to hand over; `figures` is what it showed, as JSON-able values."""
    if kind not in ARCHIVED_KINDS:
        raise ValueError(kind)
    report = queries.add(ArchivedReport(
        kind=kind, area_id=area.id, period_start=period_start, period_end=period_end,
        version=queries.next_version(kind, area.id, period_start), file_name=file_name, content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        figures=json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str),
        created_by=principal.id, created_at=clock.now()))
    audit.record(principal.id, "archive.keep", area_path=area.path, subject=f"{file_name} v{report.version}")
    return report


def _staff(principal: Principal) -> None:
    if principal.role not in STAFF_ROLES:
        raise Forbidden("the archive is for village cadres and the town office")


def archived_reports(principal: Principal, *, kind: str | None = None, since: dt.date | None = None,
                     until: dt.date | None = None) -> list[queries.ArchivedRow]:
    """The archived reports of the reader's area (a village cadre's village, a town's villages, the county's all)."""
    _staff(principal)
    return queries.listed(principal.area_path, kind=kind, since=since, until=until)


def archived_report(principal: Principal, report_id: int) -> tuple[queries.ArchivedRow, bytes]:
    """One archived report of the reader's area with its bytes as they were archived (the read audited)."""
    _staff(principal)
    found = queries.by_id(report_id)
    if found is None:
        raise NotFound(f"archived report {report_id}")
    row, content = found
    if not area_contains(principal.area_path, row.area_path):
        raise Forbidden(f"archived report {report_id}")
    audit.record(principal.id, "archive.read", area_path=row.area_path, subject=f"{row.file_name} v{row.version}")
    return row, content
