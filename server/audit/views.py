"""The audit log page, for town officers and county administrators: who read or did what in their area."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import get_locale

from server.accounts.session import require_staff
from server.audit import listing
from server.extensions import csrf
from server.services import browsing as service_pages
from sync.errors import BadRequest

bp = Blueprint("audit", __name__, template_folder="templates")
bp.before_request(csrf.protect)


@bp.get("/audit")
def audit_page():
    number = request.args.get("page", "1")
    if not number.isdigit() or not 0 < int(number) < 1_000_000:
        raise BadRequest("page must be a whole number from 1")
    page = int(number)
    rows, total, more = service_pages.audit_log(require_staff(), page, "zh" if str(get_locale()) == "zh" else "en")
    first = (page - 1) * listing.PAGE_SIZE
    return render_template("audit/log.html", rows=rows, total=total, more=more, page=page, first=first + 1 if rows else 0,
                           last=first + len(rows))
