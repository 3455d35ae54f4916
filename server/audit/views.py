"""The audit log page, for town officers and county administrators: who read or did what in their area."""

from __future__ import annotations

from flask import Blueprint, render_template

from server.accounts.session import require_staff
from server.audit import listing
from server.extensions import csrf
from sync.access import TOWN_OFFICE_ROLES
from sync.errors import Forbidden

bp = Blueprint("audit", __name__, template_folder="templates")
bp.before_request(csrf.protect)

@bp.get("/audit")
def audit_page():
    principal = require_staff()
    if principal.role not in TOWN_OFFICE_ROLES:
        raise Forbidden("the audit log is for the town office")
    return render_template("audit/log.html", events=listing.recent(principal.area_path))
