"""Register pages for staff: people, households, search, the duplicate queue (merge, not the same), unmerge."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from server.accounts.session import require_staff
from server.database import commit
from server.extensions import csrf
from server.register import browsing
from server.register.decisions import mark_distinct, merge_candidate, resolve_conflict, review_visit, undo_decision
from server.register.schemas import InboxFilters
from sync.errors import BadRequest

bp = Blueprint("register", __name__, template_folder="templates")
bp.before_request(csrf.protect)


@bp.get("/people/<uuid>")
def person(uuid: str):
    page = browsing.person_page(require_staff(), uuid)
    commit()  # the audit record of this read
    return render_template("register/person.html", page=page)


@bp.get("/households/<uuid>")
def household(uuid: str):
    page = browsing.household_page(require_staff(), uuid)
    commit()
    return render_template("register/household.html", page=page)


@bp.get("/search")
def search():
    query = request.args.get("q", "")
    found = browsing.search(require_staff(), query)
    commit()
    return render_template("register/search.html", query=query, found=found)


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
    undo_decision(require_staff(), decision_id)
    commit()
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/") else
                    url_for("register.duplicates"))


@bp.get("/conflicts")
def conflicts():
    found = browsing.conflict_queue(require_staff())
    commit()
    return render_template("register/conflicts.html", conflicts=found)


@bp.post("/conflicts/<int:conflict_id>")
def settle_conflict(conflict_id: int):
    value = request.form.get("value") or ""
    if value == "__other__":
        value = request.form.get("other") or ""
    resolve_conflict(require_staff(), conflict_id, value)
    commit()
    return redirect(url_for("register.conflicts"))


@bp.get("/inbox")
def inbox():
    filters = InboxFilters().load({name: value for name, value in request.args.items() if value})
    found, groups = browsing.inbox(require_staff(), **filters)
    commit()
    return render_template("register/inbox.html", visits=found, groups=groups, filters=request.args)


@bp.get("/visits/<int:submission_id>")
def visit(submission_id: int):
    page = browsing.visit_page(require_staff(), submission_id)
    commit()
    return render_template("register/visit.html", page=page)


@bp.post("/visits/<int:submission_id>/review")
def review(submission_id: int):
    review_visit(require_staff(), submission_id, request.form.get("state", ""), request.form.get("comment"))
    commit()
    return redirect(url_for("register.visit", submission_id=submission_id))
