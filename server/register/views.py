"""Register pages for staff: people, households, search, the duplicate queue (merge, not the same), unmerge."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from server import clock
from server.accounts.session import require_staff
from server.database import commit
from server.extensions import csrf, db
from server.forms.queries import form_labels
from server.register import browsing
from server.register import search as people_search
from server.register.decisions import mark_distinct, merge_candidate, resolve_conflict, review_visit, undo_decision
from server.register.schemas import InboxFilters
from server.services import browsing as service_pages
from server.services.schemas import safe_back
from server.services.views import error_message
from sync.code_labels import CODE_LABELS, code_label
from sync.decisions import CHOICE_FIELDS
from sync.errors import BadRequest, Conflict, FieldValueInvalid

bp = Blueprint("register", __name__, template_folder="templates")
bp.before_request(csrf.protect)


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


@bp.get("/people/<uuid>")
def person(uuid: str):
    page, timeline = service_pages.person_page(require_staff(), uuid, _language())
    commit()  # the audit record of this read
    return render_template("register/person.html", page=page, timeline=timeline)


@bp.get("/households/<uuid>")
def household(uuid: str):
    page, timeline = service_pages.household_page(require_staff(), uuid, _language())
    commit()
    return render_template("register/household.html", page=page, timeline=timeline)


@bp.get("/search")
def search():
    query = request.args.get("q", "")
    page = people_search.search(require_staff(), query)
    commit()  # the audit record of this search
    return render_template("register/search.html", query=query, page=page, limit=people_search.LIMIT,
                           language=_language(), code_label=code_label,
                           household_label=service_pages.household_label)


@bp.get("/duplicates")
def duplicates():
    pairs = browsing.duplicate_queue(require_staff())
    commit()
    return render_template("register/duplicates.html", pairs=pairs)


@bp.post("/duplicates/<int:candidate_id>")
def decide_duplicate(candidate_id: int):
    principal = require_staff()
    action = request.form.get("action")
    if action == "distinct":
        mark_distinct(principal, candidate_id)
    elif action == "merge":
        merge_candidate(principal, candidate_id, request.form.get("keep", ""))
    else:
        raise BadRequest("action must be merge or distinct")
    commit()
    return redirect(url_for("register.duplicates"))


@bp.post("/decisions/<int:decision_id>/undo")
def undo(decision_id: int):
    """Undo a decision and go back to the page it was shown on, which says what happened (the person, household
    and visit pages show messages; another area's decision is refused outright, 403)."""
    back = safe_back(request.form.get("back"))
    try:
        undo_decision(require_staff(), decision_id)
    except Conflict as error:   # undone already
        if back is None:
            raise
        db.session.rollback()
        flash(error_message(error), "error")
    else:
        commit()
        if back is not None:
            flash(_("Undone."), "notice")
    return redirect(back or url_for("register.duplicates"))


@bp.get("/conflicts")
def conflicts():
    found = browsing.conflict_queue(require_staff())
    commit()
    language = _language()
    # A corrected value is chosen from the field's list, or picked as a date: never typed where a list exists.
    choices = {field.partition(":")[2]: [(code, code_label(list_name, code, language))
                                         for code in CODE_LABELS[list_name]]
               for field, list_name in CHOICE_FIELDS.items()}
    return render_template("register/conflicts.html", conflicts=found, choices=choices, date_fields={"birth_date"})


@bp.post("/conflicts/<int:conflict_id>")
def settle_conflict(conflict_id: int):
    value = request.form.get("value") or ""
    if value == "__other__":
        value = request.form.get("other") or ""
    try:
        resolve_conflict(require_staff(), conflict_id, value)
    except FieldValueInvalid as refused:   # a corrected value the field cannot take: said on the page, kept open
        db.session.rollback()
        flash(error_message(refused), "error")
        return redirect(url_for("register.conflicts"))
    flash(_("Conflict settled."), "notice")
    commit()
    return redirect(url_for("register.conflicts"))


@bp.get("/inbox")
def inbox():
    filters = InboxFilters().load({name: value for name, value in request.args.items() if value})
    found, groups = browsing.inbox(require_staff(), **filters)
    commit()
    first = (filters["page"] - 1) * browsing.INBOX_PAGE_SIZE
    return render_template("register/inbox.html", visits=[_inbox_row(row) for row in found.rows], total=found.total,
                           first=first + 1 if found.rows else 0, last=first + len(found.rows),
                           page=filters["page"], collectors=found.collectors, groups=groups, filters=request.args)


_REVIEW_STATES = {"approved": lambda: _("approved"), "has_issues": lambda: _("has issues"),
                  "rejected": lambda: _("rejected")}


def _inbox_row(row) -> dict:
    """A synced visit as the inbox shows it: names, labels and China time, never ids or codes."""
    def at(instant):
        return clock.wall_time(instant).strftime("%Y-%m-%d %H:%M") if instant else ""

    household = ""
    if row.household_no:
        household = (_("Household %(number)s (head: %(head)s)", number=row.household_no, head=row.head_name)
                     if row.head_name else _("Household %(number)s", number=row.household_no))
    outcome = code_label("outcome", row.outcome, _language(), form_labels(row.xml_form_id, None)) or ""
    return {"id": row.id, "filled": at(row.visited_at) or (row.visit_date.isoformat() if row.visit_date else ""),
            "received": at(row.received_at), "collector": row.collector_display_name or row.collector_name or "",
            "group": row.full_name, "household": household, "outcome": outcome, "refusal": row.refusal,
            "state": _REVIEW_STATES[row.state]() if row.state in _REVIEW_STATES else _("not reviewed")}


@bp.get("/visits/<int:submission_id>")
def visit(submission_id: int):
    page = service_pages.visit_page(require_staff(), submission_id, _language())
    commit()
    return render_template("register/visit.html", page=page)


@bp.post("/visits/<int:submission_id>/review")
def review(submission_id: int):
    review_visit(require_staff(), submission_id, request.form.get("state", ""), request.form.get("comment"))
    commit()
    return redirect(url_for("register.visit", submission_id=submission_id))
