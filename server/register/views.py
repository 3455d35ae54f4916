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
from server.register.decisions import (
    REVIEW_STATES,
    mark_distinct,
    merge_candidate,
    resolve_conflict,
    review_visit,
    undo_decision,
    undo_distinct,
    undo_review,
)
from server.register.schemas import InboxFilters
from server.services import browsing as service_pages
from server.services.schemas import safe_back
from server.services.views import error_message
from sync.code_labels import CODE_LABELS, code_label
from sync.decisions import CHOICE_FIELDS
from sync.errors import BadRequest, Conflict, DecisionNotPossible, FieldValueInvalid

bp = Blueprint("register", __name__, template_folder="templates")
bp.before_request(csrf.protect)


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


@bp.get("/people/<uuid>")
def person(uuid: str):
    view = service_pages.person_page(require_staff(), uuid, _language())
    commit()  # the audit record of this read
    return render_template("register/person.html", view=view, page=view.page, timeline=view.timeline)


@bp.get("/households/<uuid>")
def household(uuid: str):
    view = service_pages.household_page(require_staff(), uuid, _language())
    commit()
    return render_template("register/household.html", view=view, page=view.page, timeline=view.timeline)


def _page_number() -> int:
    page = request.args.get("page", "1")
    if not page.isdigit() or not 0 < int(page) < 100_000:
        raise BadRequest("page must be a whole number from 1")
    return int(page)


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
    page = _page_number()
    pairs, total = service_pages.duplicate_page(require_staff(), page, _language())
    commit()
    first = (page - 1) * service_pages.DUPLICATES_PAGE_SIZE
    return render_template("register/duplicates.html", pairs=pairs, total=total, page=page,
                           first=first + 1 if pairs else 0, last=first + len(pairs))


@bp.post("/duplicates/<int:candidate_id>")
def decide_duplicate(candidate_id: int):
    """Merge a pair (keeping one record) or say they are not the same; the message says what happened and offers
    to undo it."""
    principal = require_staff()
    action = request.form.get("action")
    back = safe_back(request.form.get("back")) or url_for("register.duplicates")
    if action == "distinct":
        mark_distinct(principal, candidate_id)
        names = service_pages.pair_names(candidate_id, _language())
        flash({"text": _("Marked as not the same: %(names)s.", names="、".join(sorted(names.values()))),
               "undo": url_for("register.undo_distinct_view", candidate_id=candidate_id),
               "fields": {"back": back}}, "notice")
    elif action == "merge":
        keep = request.form.get("keep", "")
        decision_id = merge_candidate(principal, candidate_id, keep)
        names = service_pages.pair_names(candidate_id, _language())
        merged = next((name for uuid, name in names.items() if uuid != keep), "")
        flash({"text": _("Merged: %(merged)s into %(kept)s (the record kept).", merged=merged, kept=names.get(keep, "")),
               "undo": url_for("register.undo", decision_id=decision_id), "fields": {"back": back}}, "notice")
    else:
        raise BadRequest("action must be merge or distinct")
    commit()
    return redirect(back)


@bp.post("/duplicates/<int:candidate_id>/reopen")
def undo_distinct_view(candidate_id: int):
    """Undo "not the same": the pair is back in the queue."""
    back = safe_back(request.form.get("back")) or url_for("register.duplicates")
    try:
        undo_distinct(require_staff(), candidate_id)
    except Conflict as error:   # undone already, or merged since
        db.session.rollback()
        flash(error_message(error), "error")
    else:
        commit()
        flash(_("Undone."), "notice")
    return redirect(back)


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
    number = request.args.get("page", "1")
    if not number.isdigit() or not 0 < int(number) < 1_000_000:
        raise BadRequest("page must be a whole number from 1")
    page = int(number)
    found, total = service_pages.conflict_page(require_staff(), _language(), page)
    commit()
    first = (page - 1) * service_pages.CONFLICTS_PAGE_SIZE
    language = _language()
    # A corrected value is chosen from the field's list, or picked as a date: never typed where a list exists.
    choices = {field.partition(":")[2]: [(code, code_label(list_name, code, language))
                                         for code in CODE_LABELS[list_name]]
               for field, list_name in CHOICE_FIELDS.items()}
    return render_template("register/conflicts.html", conflicts=found, choices=choices, date_fields={"birth_date"},
                           total=total, page=page, first=first + 1 if found else 0, last=first + len(found))


@bp.post("/conflicts/<int:conflict_id>")
def settle_conflict(conflict_id: int):
    value = request.form.get("value") or ""
    if value == "__other__":
        value = request.form.get("other") or ""
    if not value.strip():
        flash(_("Choose one of the two values, or give a corrected one."), "error")
        return redirect(url_for("register.conflicts"))
    try:
        decision_id = resolve_conflict(require_staff(), conflict_id, value)
    except FieldValueInvalid as refused:   # said on the page with the value, the conflict kept open
        db.session.rollback()
        flash(error_message(refused), "error")
        return redirect(url_for("register.conflicts"))
    except DecisionNotPossible as refused:   # e.g. a household not in the register: said without the value typed
        db.session.rollback()
        flash(refused.message_zh if _language() == "zh" else refused.message_en, "error")
        return redirect(url_for("register.conflicts"))
    commit()
    flash({"text": _("Conflict settled."), "undo": url_for("register.undo", decision_id=decision_id),
           "fields": {"back": url_for("register.conflicts")}}, "notice")
    return redirect(url_for("register.conflicts"))


@bp.get("/inbox")
def inbox():
    filters = InboxFilters().load({name: value for name, value in request.args.items() if value})
    found, menus = browsing.inbox(require_staff(), **filters)
    commit()
    first = (filters["page"] - 1) * browsing.INBOX_PAGE_SIZE
    rows = [_inbox_row(row, found.people.get(row.id, [])) for row in found.rows]
    return render_template("register/inbox.html", visits=rows, total=found.total, more=found.more,
                           sorts=_INBOX_SORT_WORDS,
                           first=first + 1 if found.rows else 0, last=first + len(found.rows),
                           page=filters["page"], collectors=found.collectors, groups=menus.groups,
                           villages=menus.villages, filters=request.args)


_INBOX_SORT_WORDS = {"received": lambda: _("Newest received first"), "received_first": lambda: _("Oldest received first"),
                     "filled": lambda: _("Newest filled in first"), "filled_first": lambda: _("Oldest filled in first"),
                     "household": lambda: _("By group and household"), "collector": lambda: _("By collector")}
INBOX_PEOPLE_SHOWN = 3


def _inbox_row(row, people: list[str]) -> dict:
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
            "people": "、".join(people[:INBOX_PEOPLE_SHOWN]) + (
                _(" and %(count)s more", count=len(people) - INBOX_PEOPLE_SHOWN) if len(people) > INBOX_PEOPLE_SHOWN
                else ""),
            "state": code_label("review_state", row.state or "received", _language()) or ""}


@bp.get("/visits/<int:submission_id>")
def visit(submission_id: int):
    page = service_pages.visit_page(require_staff(), submission_id, _language())
    commit()
    return render_template("register/visit.html", page=page, review_states=_review_states())


def _review_states() -> list[tuple[str, str]]:
    return [(state, code_label("review_state", state, _language()) or "") for state in REVIEW_STATES]


_REVIEWED = {"approved": lambda: _("Approved."), "has_issues": lambda: _("Marked as having issues."),
             "rejected": lambda: _("Rejected: taken out of the register. Undo puts it back.")}


@bp.post("/visits/<int:submission_id>/review")
def review(submission_id: int):
    """Review a visit; the message says what happened and offers to put the review back as it was."""
    state = request.form.get("state", "")
    back = url_for("register.visit", submission_id=submission_id)
    if state not in REVIEW_STATES:
        flash(_("Choose approved, has issues or rejected."), "error")
        return redirect(back)
    before = review_visit(require_staff(), submission_id, state, request.form.get("comment"))
    commit()
    flash({"text": _REVIEWED[state](), "undo": url_for("register.undo_review_view", submission_id=submission_id),
           "fields": {"state": before.state, "comment": before.comment or ""}}, "notice")
    return redirect(back)


@bp.post("/visits/<int:submission_id>/review/undo")
def undo_review_view(submission_id: int):
    """Put a visit's review back as it was (not reviewed, or the earlier state and comment)."""
    state = request.form.get("state", "")
    if state and state not in REVIEW_STATES:
        raise BadRequest("state must be empty or one of approved, has_issues, rejected")
    undo_review(require_staff(), submission_id, state, request.form.get("comment"))
    commit()
    flash(_("Undone."), "notice")
    return redirect(url_for("register.visit", submission_id=submission_id))
