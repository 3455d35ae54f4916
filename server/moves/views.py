"""The moves pages: expected arrivals, departures and (town office) the moves that waited too long, with a form to
confirm an arrival; the form of a move out from a person's page. A refused move shows the form again with why;
another area's record is refused (403) before anything is written."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from server import clock
from server.accounts.session import require_staff
from server.database import commit
from server.extensions import csrf, db
from server.moves import operations
from server.moves.schemas import ArrivalForm, MoveForm
from server.services.browsing import household_label
from server.services.views import error_message
from sync.code_labels import CODE_LABELS, code_label
from sync.errors import (
    DestinationUnknown,
    MoveDayInvalid,
    MovePlaceMissing,
    MoveToOwnVillage,
    PersonCannotMove,
)

bp = Blueprint("moves", __name__, template_folder="templates")
bp.before_request(csrf.protect)

_REFUSED = (MoveDayInvalid, MovePlaceMissing, DestinationUnknown, PersonCannotMove, MoveToOwnVillage)


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


@bp.get("/moves")
def moves_page():
    page = operations.moves_page(require_staff(), today=clock.today(),
                                 wait_days=current_app.config["TAIZHANG_MOVE_WAIT_DAYS"])
    commit()   # the audit record of this read
    language = _language()
    return render_template(
        "moves/moves.html", page=page, today=clock.today().isoformat(),
        sex=lambda code: code_label("sex", code, language) or "",
        relationships=[(code, code_label("relationship", code, language)) for code in CODE_LABELS["relationship"]],
        household_words=lambda household: " · ".join((household_label(household.household_no, household.head,
                                                                       language),
                                                       household.group_name.rsplit("/", 1)[-1])))


@bp.post("/moves/arrivals/<uuid>")
def confirm_arrival(uuid: str):
    """Confirm an expected arrival into a household; the message offers to undo it."""
    principal = require_staff()
    form = ArrivalForm().load(request.form)
    done = operations.confirm_arrival(principal, uuid, form["household"], form["day"],
                                      relationship=form["relationship"])
    back = url_for("moves.moves_page")
    flash({"text": _("Arrival confirmed: %(name)s", name=done.name),
           "undo": url_for("register.undo", decision_id=done.decision_id), "fields": {"back": back}}, "notice")
    commit()
    return redirect(back)


@bp.route("/people/<uuid>/move", methods=["GET", "POST"])
def record_move(uuid: str):
    """The form of a move out: a village or town of the county, or outside it with the place; the day."""
    principal = require_staff()
    values = {"destination": "", "place": "", "day": clock.today().isoformat()}
    problem, code, status = None, None, 200
    if request.method == "POST":
        values = MoveForm().load(request.form)
        try:
            done = operations.record_move(principal, uuid, values["destination"], values["place"], values["day"])
        except _REFUSED as refused:    # the form again, with why; nothing recorded
            db.session.rollback()
            problem, code, status = error_message(refused), refused.code, refused.status
        else:
            page = url_for("register.person", uuid=uuid)
            flash({"text": _("Move out recorded: %(name)s", name=done.name),
                   "undo": url_for("register.undo", decision_id=done.decision_id), "fields": {"back": page}},
                  "notice")
            commit()
            return redirect(page)
    form = operations.move_form(principal, uuid)
    page = render_template("moves/move.html", form=form, person=form.placed.person, values=values, problem=problem, code=code,
                           outside=operations.OUTSIDE)
    commit()   # the audit record of this read
    return page, status
