"""Report downloads for staff: the page listing them, and each report as an .xlsx file of the reader's area."""

from __future__ import annotations

import datetime as dt
import tempfile

from flask import Blueprint, render_template, request
from flask_babel import get_locale

from server import clock
from server.accounts.session import require_staff
from server.database import commit
from server.exports.downloads import full_export_asked, xlsx_download, xlsx_file_download
from server.exports.operations import COUNTY, coverage_report, monthly_change_report, register_export
from server.extensions import csrf
from server.register.queries import groups_in
from sync.periods import parse_month

bp = Blueprint("exports", __name__, template_folder="templates")
bp.before_request(csrf.protect)



@bp.get("/reports")
def reports_page():
    principal = require_staff()
    areas = sorted({group.full_name.rsplit("/", 1)[0] for group in groups_in(principal.area_path)}
                   | {group.full_name.split("/", 1)[0] for group in groups_in(principal.area_path)
                      if principal.role != "village_cadre"})
    last_month = (clock.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    quarter_ago = clock.today().replace(day=1) - dt.timedelta(days=80)
    return render_template("exports/reports.html", areas=areas, last_month=last_month,
                           county=COUNTY if principal.area_path is None else None,
                           this_month=clock.today().strftime("%Y-%m"),
                           last_quarter=f"{quarter_ago.year}-Q{(quarter_ago.month - 1) // 3 + 1}")


def _monthly_report(build, report: str, ascii_report: str):
    """A month's report of the area asked for, as a download named after the area and the month."""
    month = parse_month(request.args.get("month"))
    area = request.args.get("area", "")
    content = build(require_staff(), area, month)
    commit()
    return xlsx_download(content, area, f"{month:%Y-%m}", report, ascii_report)


@bp.get("/reports/monthly-change.xlsx")
def monthly_change():
    return _monthly_report(monthly_change_report, "月变更报告单", "monthly-change")


@bp.get("/reports/coverage.xlsx")
def coverage():
    return _monthly_report(coverage_report, "随访情况", "coverage")


@bp.route("/reports/register.xlsx", methods=["GET", "POST"])
def register():
    """A village's or town's register (a few MB), or the county's (全县, one sheet per town: tens of MB, about a
    minute), codes in the reader's language, ID numbers and phones masked (posted with `full` and a reason: in
    full); written to a temporary file and sent from it."""
    output = tempfile.TemporaryFile()
    try:
        area = request.values.get("area", "")
        full, reason = full_export_asked()
        register_export(require_staff(), area, output, language="zh" if str(get_locale()) == "zh" else "en",
                        full=full, reason=reason)
        commit()
    except BaseException:
        output.close()
        raise
    return xlsx_file_download(output, area, f"{clock.today():%Y-%m}", "台账", "register")
