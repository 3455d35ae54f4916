"""Collector monitoring over HTTP: GET /monitoring lists the collectors of the reader's area (?area=: one inside it;
the whole county: its towns in sum)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale

from server.accounts.session import require_staff
from server.extensions import csrf
from server.monitoring.operations import collector_monitoring
from sync.code_labels import CODE_LABELS, code_label

bp = Blueprint("monitoring", __name__, template_folder="templates")
bp.before_request(csrf.protect)


@bp.get("/monitoring")
def monitoring_page():
    principal = require_staff()
    language = "zh" if str(get_locale()) == "zh" else "en"
    report = collector_monitoring(principal, days=current_app.config["TAIZHANG_SYNC_ALERT_DAYS"],
                                  area=request.args.get("area"))
    outcomes = [(code, code_label("outcome", code, language)) for code in CODE_LABELS["outcome"]]
    return render_template("monitoring/collectors.html", report=report, outcomes=outcomes)
