"""The archive over HTTP: the reports of the reader's area as they were submitted or filed (GET /archive, filtered by
kind and period), and each one's bytes as archived (GET /archive/<id>/download)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import get_locale

from server.accounts.session import require_staff
from server.archive.models import ARCHIVED_KINDS
from server.archive.operations import archived_report, archived_reports
from server.archive.schemas import ArchiveQuery
from server.database import commit
from server.exports.downloads import named_download
from server.extensions import csrf
from sync.code_labels import code_label
from sync.periods import parse_month, period_of

bp = Blueprint("archive", __name__, template_folder="templates")
bp.before_request(csrf.protect)


@bp.app_template_global("archived_kind")
def archived_kind(kind: str) -> str:
    """A kind of archived report in the reader's words."""
    return code_label("archived_kind", kind, "zh" if str(get_locale()) == "zh" else "en") or ""


def _period_words(start, end) -> str:
    """An archived report's period as people name it ("2026年11月", "2026年第3季度", "2026年"), else its two days."""
    language = "zh" if str(get_locale()) == "zh" else "en"
    for kind in ("month", "quarter", "year"):
        period = period_of(kind, start)
        if (period.start, period.end) == (start, end):
            return period.label(language)
    return f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"


@bp.get("/archive")
def archive_page():
    principal = require_staff()
    query = ArchiveQuery().load({name: value for name, value in request.args.items() if value})
    reports = archived_reports(principal, kind=query["kind"],
                               since=parse_month(query["since"]) if query["since"] else None,
                               until=parse_month(query["until"]) if query["until"] else None)
    commit()
    return render_template("archive/archive.html", reports=reports, kinds=ARCHIVED_KINDS, filters=request.args,
                           period_words=_period_words)


@bp.get("/archive/<int:report_id>/download")
def download(report_id: int):
    row, content = archived_report(require_staff(), report_id)
    commit()
    return named_download(content, row.file_name)
