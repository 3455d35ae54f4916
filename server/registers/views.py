"""The named registers over HTTP: their index, each register's page (area, period, paging) and its workbook."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from server.accounts.session import require_staff
from server.database import commit
from server.exports.downloads import full_export_asked, xlsx_download
from server.extensions import csrf, db
from server.registers import operations
from server.registers.schemas import read_filters
from sync.errors import Forbidden, NotFound
from sync.periods import next_month
from sync.registers import cell_text

bp = Blueprint("registers", __name__, template_folder="templates")
bp.before_request(csrf.protect)
bp.add_app_template_filter(cell_text, "register_cell")

def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


def _problem_messages(problems: set[str]) -> list[str]:
    messages = {
        "area": _("Choose an area from the list."),
        "since": _("“From” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-01."),
        "until": _("“To” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-31."),
        "order": _("The period ends before it starts."),
        "page": _("The page is not a number from 1 up."),
        "open": _("“Open only” is yes or no."),
    }
    return [messages[name] for name in messages if name in problems]


@bp.get("/registers/")
def index():
    return render_template("registers/index.html", registers=operations.registers(require_staff()),
                           language=_language())


@bp.get("/registers/<name>")
def page(name: str):
    """A page of a register (fifty rows, with their numbers and the total); a bad filter, or an area outside the
    reader's, is said on the page itself."""
    principal = require_staff()
    chosen = operations.register(name)
    loaded, problems = read_filters(request.args)
    choices = operations.area_choices(principal, loaded["area"])

    def refused(messages: list[str], status: int):
        db.session.rollback()
        return render_template("registers/register.html", register=chosen, found=None, choices=choices,
                               selected=request.args.get("area", ""), messages=messages, arguments=request.args,
                               everywhere=principal.area_path is None, language=_language()), status

    if problems:
        return refused(_problem_messages(problems), 400)
    try:
        filters = operations.filters_for(principal, area_id=loaded["area"], since=loaded["since"],
                                         until=loaded["until"], open_only=loaded["open"])
    except Forbidden:
        return refused([_("That area is outside yours: choose one from the list.")], 403)
    except NotFound:
        return refused([_("There is no such area: choose one from the list.")], 404)
    found = operations.register_page(principal, chosen, filters, page=loaded["page"], language=_language())
    commit()  # the audit record of this read
    return render_template("registers/register.html", register=chosen, found=found, choices=choices,
                           selected=str(filters.area.id) if filters.area else "", messages=[], arguments=request.args,
                           everywhere=principal.area_path is None, language=_language())


@bp.route("/registers/<name>.xlsx", methods=["GET", "POST"])
def workbook(name: str):
    """The register as a workbook, ID numbers and phones masked; posted with `full` and a reason, in full."""
    principal = require_staff()
    chosen = operations.register(name)
    loaded, problems = read_filters(request.args)
    if problems:
        return " ".join(_problem_messages(problems)) + "\n", 400, {"Content-Type": "text/plain; charset=utf-8"}
    filters = operations.filters_for(principal, area_id=loaded["area"], since=loaded["since"],
                                     until=loaded["until"], open_only=loaded["open"])
    full, reason = full_export_asked()
    content = operations.register_workbook(principal, chosen, filters, language=_language(), full=full,
                                           reason=reason)
    commit()
    # Named by the area, the period (a calendar month as 2026-11) and the register: 东村_2026-11_出生登记.xlsx
    whole_month = (filters.since.day == 1 and filters.until == next_month(filters.since) - dt.timedelta(days=1))
    period = (f"{filters.since:%Y-%m}" if whole_month else f"{filters.since:%Y-%m-%d}~{filters.until:%Y-%m-%d}")
    return xlsx_download(content, filters.area.full_name if filters.area else _("All areas"), period,
                         chosen.label(_language()), chosen.name)
