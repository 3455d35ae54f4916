"""The purge over HTTP: GET /privacy/purge shows the town office the dry run per village and rule (read-only)."""

from __future__ import annotations

from flask import Blueprint, render_template

from server import clock
from server.accounts.session import require_staff
from server.extensions import csrf
from server.privacy.operations import purge_preview
from sync.privacy import RETENTION_RULES

bp = Blueprint("privacy", __name__, template_folder="templates")
bp.before_request(csrf.protect)


@bp.get("/privacy/purge")
def purge_page():
    principal = require_staff()
    report, rows = purge_preview(principal, clock.today())
    return render_template("privacy/purge.html", report=report, rows=rows, rules=RETENTION_RULES)
