"""Home pages over HTTP: GET /home shows a village cadre their to-do, the town office its villages, the county its
towns (the site's root sends signed-in staff here)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from server.accounts.session import require_staff
from server.database import commit
from server.extensions import csrf
from server.home.operations import cadre_todo, dashboard, reading_watch
from server.indicators.operations import area_indicators
from sync.dashboard import bars
from sync.indicators import INDICATORS, KEY_INDICATORS, period_code
from sync.periods import month_of

bp = Blueprint("home", __name__, template_folder="templates")
bp.before_request(csrf.protect)

# The chart's geometry (SVG user units): the label column, the bars' longest length, one row's height.
CHART_LABEL_WIDTH, CHART_WIDTH, CHART_ROW = 150, 300, 34


@bp.get("/home")
def home_page():
    principal = require_staff()
    days, due_day = current_app.config["TAIZHANG_SYNC_ALERT_DAYS"], current_app.config["TAIZHANG_REPORT_DUE_DAY"]
    if principal.role == "village_cadre":
        return render_template("home/todo.html", todo=cadre_todo(principal, days=days, due_day=due_day))
    board = dashboard(principal, days=days, due_day=due_day)
    chart = bars(((row.area.full_name, row.asked, row.done) for row in board.rows), width=CHART_WIDTH,
                 row_height=CHART_ROW)
    indicators = area_indicators(principal, None, month_of(board.as_of).previous(), as_of=board.as_of)
    watch = reading_watch(principal, limit=current_app.config["TAIZHANG_UNUSUAL_READS_PER_HOUR"],
                          days=current_app.config["TAIZHANG_UNUSUAL_READS_DAYS"])
    commit()  # the audit record of the people named in the unusual reading list
    return render_template("home/dashboard.html", board=board, chart=chart, label_width=CHART_LABEL_WIDTH,
                           chart_width=CHART_WIDTH, row_height=CHART_ROW, indicators=indicators,
                           key_indicators=KEY_INDICATORS, all_indicators=INDICATORS,
                           period_code=period_code(indicators.period), watch=watch)
