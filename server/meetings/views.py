"""The meeting sheet over HTTP: GET /meetings?area=<village>&month=YYYY-MM, one printable A4 page; the village
reviews: GET /reports/village-review.xlsx?area=…&period=2026-Q4|2026 and POST to file it in the archive."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from server import clock
from server.accounts.session import require_staff
from server.database import commit
from server.exports.downloads import xlsx_download
from server.extensions import csrf
from server.meetings.operations import meeting_sheet
from server.meetings.reviews import file_village_review, village_review
from sync.code_labels import code_label
from sync.indicators import INDICATORS
from sync.periods import parse_month

bp = Blueprint("meetings", __name__, template_folder="templates")
bp.before_request(csrf.protect)


def _month(text: str | None) -> dt.date:
    if not text:
        return clock.today().replace(day=1)
    return parse_month(text)


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


@bp.get("/meetings")
def meeting_page():
    principal = require_staff()
    if not request.args.get("area") and principal.role != "village_cadre":
        # The town office or the county opened it without a village: the list of villages' sheets to choose from.
        return redirect(url_for("exports.reports_page", _anchor="meetings"))
    sheet = meeting_sheet(principal, request.args.get("area"), _month(request.args.get("month")))
    commit()
    language = _language()
    return render_template("meetings/sheet.html", sheet=sheet, indicators=list(INDICATORS.values()),
                           language=language, word=lambda list_name, code: code_label(list_name, code, language))


@bp.get("/reports/village-review.xlsx")
def village_review_download():
    review = village_review(require_staff(), request.args.get("area", ""), request.args.get("period", ""))
    commit()
    return xlsx_download(review.content, review.area_full_name, review.period_code, review.report_name,
                         review.ascii_name)


@bp.post("/reports/village-review")
def village_review_file():
    kept = file_village_review(require_staff(), request.form.get("area", ""), request.form.get("period", ""))
    commit()
    flash(_("Filed in the archive: %(name)s, version %(version)s.", name=kept.file_name, version=kept.version),
          "notice")
    return redirect(url_for("exports.reports_page"))
