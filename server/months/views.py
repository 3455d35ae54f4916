"""A village's month over HTTP: the months list, the sign-off page, the cadre's submission and the town office's
return or acceptance (a refused one shows the page again with why; nothing changed)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from server.accounts.session import require_staff
from server.database import commit
from server.extensions import csrf, db
from server.months import operations
from server.months.schemas import DecisionForm, MonthQuery, SignForm, parse_month
from sync.code_labels import code_label
from sync.errors import BadRequest, Conflict

bp = Blueprint("months", __name__, template_folder="templates")
bp.before_request(csrf.protect)


def _zh() -> bool:
    return str(get_locale()) == "zh"


@bp.app_template_global("month_state")
def month_state(state: str) -> str:
    """A village's month's state (open, submitted, returned, accepted) in the reader's words."""
    return code_label("month_state", state, "zh" if _zh() else "en") or ""


@bp.app_template_global("month_step")
def month_step(step: str) -> str:
    """A step of a village's month (submitted, returned, accepted) in the reader's words."""
    return code_label("month_step", step, "zh" if _zh() else "en") or ""


def _due_day() -> int:
    return current_app.config["TAIZHANG_REPORT_DUE_DAY"]


@bp.get("/months")
def months_page():
    principal = require_staff()
    query = MonthQuery().load({name: value for name, value in request.args.items() if value})
    month = parse_month(query["month"]) if query["month"] else None
    listed = operations.months_list(principal, month, due_day=_due_day())
    commit()
    return render_template("months/list.html", listed=listed, cadre=principal.role == "village_cadre")


def _page(village_id: int, month_text: str, problem: str | None = None, status: int = 200):
    page = operations.signoff_page(require_staff(), village_id, parse_month(month_text), due_day=_due_day())
    commit()
    return render_template("months/signoff.html", page=page, problem=problem,
                           month_text=f"{page.month.start:%Y-%m}"), status


@bp.get("/months/<int:village_id>/<month>")
def signoff(village_id: int, month: str):
    return _page(village_id, month)


def _step(village_id: int, month: str, do, done: str):
    """Take a step: done → commit, say so, back to the page; refused (a bad or untimely request) → the page again
    with why, nothing kept. Another area's or role's request is refused with the error page (403)."""
    try:
        do()
    except (BadRequest, Conflict) as refused:
        db.session.rollback()
        return _page(village_id, month, refused.message_zh if _zh() else refused.message_en, refused.status)
    commit()
    flash(done, "notice")
    return redirect(url_for("months.signoff", village_id=village_id, month=month))


@bp.post("/months/<int:village_id>/<month>/submit")
def submit(village_id: int, month: str):
    principal, form, day = require_staff(), SignForm().load(request.form), parse_month(month)
    return _step(village_id, month, lambda: operations.submit_month(
        principal, village_id, day, confirmed=bool(form["confirm"]), due_day=_due_day()),
        _("Signed and submitted: the town office has been sent this month's report."))


def _decide(village_id: int, month: str, step: str, done: str):
    principal, form, day = require_staff(), DecisionForm().load(request.form), parse_month(month)
    return _step(village_id, month, lambda: operations.decide_month(principal, village_id, day, step,
                                                                    form["comment"]), done)


@bp.post("/months/<int:village_id>/<month>/return")
def return_month(village_id: int, month: str):
    return _decide(village_id, month, "returned",
                   _("Returned to the village with your comment; the cadre can correct and submit it again."))


@bp.post("/months/<int:village_id>/<month>/accept")
def accept(village_id: int, month: str):
    return _decide(village_id, month, "accepted", _("Accepted: this month's report is final."))
