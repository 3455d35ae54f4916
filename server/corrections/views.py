"""Pages where a village cadre or the town office corrects a person's details, sets their service tier, or registers
a birth or a new member into a household. A refused value shows the form again with why (nothing recorded);
a recorded one comes back with what changed and a button to undo it. Another area's record is refused (403)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _

from server import clock
from server.accounts.session import require_staff
from server.audit import queries as audit
from server.corrections import operations
from server.corrections.schemas import ConsentForm, CorrectionForm, NewMemberForm, TierForm
from server.database import commit
from server.extensions import csrf, db
from server.privacy import consent
from server.rechecks import queries as recheck_queries
from server.register import queries
from server.schedules.current import current_schedule
from server.services.schemas import safe_back
from server.services.views import error_message
from sync.code_labels import CODE_LABELS, code_label
from sync.decisions import CHOICE_FIELDS, NEW_PERSON_REQUIRED, WITHDRAW_CONSENT
from sync.errors import (
    ConsentDayInvalid,
    ConsentNotConfirmed,
    ConsentNoteTooLong,
    ConsentNothingRecorded,
    FieldValueInvalid,
    NotFound,
)

bp = Blueprint("corrections", __name__, template_folder="templates")
bp.before_request(csrf.protect)

# A person's fields in the words of the person page.
FIELD_WORDS = {"name": lazy_gettext("Name"), "sex": lazy_gettext("Sex"), "birth_date": lazy_gettext("Birth date"),
               "id_number": lazy_gettext("ID number"), "relationship": lazy_gettext("Relationship"),
               "phone": lazy_gettext("Phone"), "residence": lazy_gettext("Lives"),
               "hukou": lazy_gettext("Household registration"), "status": lazy_gettext("Status"),
               "tier": lazy_gettext("Tier")}
DATE_FIELDS = frozenset({"birth_date"})
_UNDO = "corrections_undo"   # the session's note of the decision just made, for the undo button of the next page


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


def _why(refused: FieldValueInvalid) -> str:
    """Why a value was refused, in the reader's language (the value itself is still in the form)."""
    return refused.message_zh if _language() == "zh" else refused.message_en


def _choices(field: str) -> list[tuple[str, str]] | None:
    """(code, words) of a field's list, or None for a field typed in."""
    list_name = CHOICE_FIELDS.get(f"person:{field}")
    if list_name is None:
        return None
    return [(code, code_label(list_name, code, _language())) for code in CODE_LABELS[list_name]]


def _tier_words(tier: str | None) -> str:
    if not tier:
        return _("No tier")
    rule = next((rule for rule in current_schedule().tiers if rule.tier == tier), None)
    return code_label("tier", tier, _language()) or (
        (rule.label_zh if _language() == "zh" else rule.label_en) if rule else _("Unknown tier"))


def shown(field: str, value: str | None) -> str:
    """A value as people read it: a list's words, a tier's name, the text itself ("—" for none)."""
    if field == "tier":
        return _tier_words(value)
    if not value:
        return "—"
    list_name = CHOICE_FIELDS.get(f"person:{field}")
    return (code_label(list_name, value, _language()) if list_name else None) or value


def _household_words(household, members) -> str:
    head = next((member.name for member in members if member.relationship == "head" and member.name), None)
    number = household.household_no or ""
    return (_("Household %(number)s (head: %(head)s)", number=number, head=head) if head
            else _("Household %(number)s", number=number))


def _read_person(uuid: str, kind=None):
    """The person, when the signed-in staff member may decide about them (the read audited)."""
    principal = require_staff()
    placed = operations.person_in_area(principal, uuid, *([kind] if kind else []))
    audit.record(principal.id, "person.read", area_path=placed.group.path, subject=uuid, records=1)
    return principal, placed


def _page(template: str, placed, status: int = 200, **context):
    members = queries.members(placed.household.uuid)
    noted = session.pop(_UNDO, None)
    undo = noted["decision"] if noted and noted.get("page") == request.path else None
    return render_template(template, placed=placed, household_words=_household_words(placed.household, members),
                           members=members, undo=undo, **context), status


def _done(decision_id: int | None, message: str, nothing: str, page: str, query: dict | None = None):
    """Commit, say what happened and go to the page that offers to undo it (that page only, once)."""
    commit()
    if decision_id is None:
        flash(nothing, "notice")
    else:
        flash(message, "notice")
        session[_UNDO] = {"decision": decision_id, "page": page}
    return redirect(page + ("?" + urlencode(query) if query else ""))


def _recheck() -> str | None:
    """The re-check sample a correction was opened from (its list of disagreements): the page to go back to."""
    back = safe_back(request.values.get("recheck"))
    return back if back and back.startswith("/rechecks/") else None


@bp.get("/people/<uuid>/correct")
def correct_person(uuid: str):
    _, placed = _read_person(uuid)
    rows = [(field, FIELD_WORDS[field], shown(field, getattr(placed.person, field)))
            for field in operations.CORRECTABLE_FIELDS]
    page = _page("corrections/correct.html", placed, rows=rows, field=None, recheck=_recheck())
    commit()
    return page


@bp.route("/people/<uuid>/correct/<field>", methods=["GET", "POST"])
def correct_field(uuid: str, field: str):
    if field not in operations.CORRECTABLE_FIELDS:
        raise NotFound(field)
    principal, placed = _read_person(uuid)
    before, recheck = getattr(placed.person, field), _recheck()
    # Opened from a re-check's disagreement: the value the re-check found, to confirm (an ID number or phone is not
    # in the link, which a list shows: the re-check's finding about this person and field is read here).
    found = request.args.get("found", type=int)
    offered = request.args.get("value") or (recheck_queries.observed_value(found, uuid, field) if found else None)
    form, problem = {"value": offered or before or "", "note": ""}, None
    if request.method == "POST":
        form = CorrectionForm().load(request.form)
        try:
            done = operations.correct_person(principal, uuid, field, form["value"], note=form["note"])
        except FieldValueInvalid as refused:   # the form again, with why; nothing recorded
            db.session.rollback()
            problem = _why(refused)
        else:
            return _done(done.decision_id, _("Corrected: %(field)s %(before)s → %(after)s", field=FIELD_WORDS[field],
                                             before=shown(field, done.before), after=shown(field, done.after)),
                         _("Nothing changed: %(field)s is %(value)s already.", field=FIELD_WORDS[field],
                           value=shown(field, done.after)), url_for("corrections.correct_person", uuid=uuid),
                         {"recheck": recheck} if recheck else None)
    page = _page("corrections/correct.html", placed, 400 if problem else 200, field=field, recheck=recheck,
                 field_words=FIELD_WORDS[field], before=shown(field, before), choices=_choices(field),
                 is_date=field in DATE_FIELDS, form=form, problem=problem)
    commit()
    return page


@bp.route("/people/<uuid>/tier", methods=["GET", "POST"])
def set_tier(uuid: str):
    principal, placed = _read_person(uuid, operations.SET_TIER)
    if request.method == "POST":
        form = TierForm().load(request.form)
        done = operations.set_person_tier(principal, uuid, form["tier"], note=form["note"])
        return _done(done.decision_id, _("Tier set: %(before)s → %(after)s", before=shown("tier", done.before),
                                         after=shown("tier", done.after)),
                     _("Nothing changed: the tier is %(value)s already.", value=shown("tier", done.after)),
                     url_for("corrections.set_tier", uuid=uuid))
    tiers = [("", _tier_words(None))] + [(tier, _tier_words(tier)) for tier in current_schedule().tier_names]
    page = _page("corrections/tier.html", placed, tiers=tiers, current=placed.person.tier or "",
                 current_words=shown("tier", placed.person.tier))
    commit()
    return page


@bp.route("/households/<uuid>/members/new", methods=["GET", "POST"])
def new_member(uuid: str):
    principal = require_staff()
    placed = operations.household_in_area(principal, uuid)
    form = {"event": request.args.get("event", "registered"), "residence": "here", "hukou": "here"}
    problem = None
    if request.method == "POST":
        form = NewMemberForm().load(request.form)
        missing = [str(FIELD_WORDS[name]) for name in ("name", "sex", "birth_date", "relationship")
                   if name in NEW_PERSON_REQUIRED and not form[name].strip()]
        if missing:
            problem = _("Please fill in: %(fields)s", fields=("、" if _language() == "zh" else ", ").join(missing))
        else:
            try:
                decision_id, _person = operations.register_person(principal, uuid, form, form["event"],
                                                                  note=form["note"])
            except FieldValueInvalid as refused:
                db.session.rollback()
                problem = _why(refused)
            else:
                name = form["name"].strip()
                return _done(decision_id, _("Birth registered: %(name)s", name=name) if form["event"] == "birth"
                             else _("New member registered: %(name)s", name=name), "",
                             url_for("corrections.new_member", uuid=uuid))
    audit.record(principal.id, "household.read", area_path=placed.group.path, subject=uuid)
    page = _page("corrections/new_member.html", placed, 400 if problem else 200, form=form, problem=problem,
                 choices={name: _choices(name) for name in ("sex", "relationship", "residence", "hukou")},
                 events=[("birth", _("A birth")), ("registered", _("A new member (moved in, or not registered yet)"))])
    commit()
    return page


_CONSENT_REFUSED = (ConsentDayInvalid, ConsentNoteTooLong, ConsentNotConfirmed, ConsentNothingRecorded)


@bp.route("/people/<uuid>/consent", methods=["GET", "POST"])
def withdraw_consent(uuid: str):
    """The person withdrew their consent: the day and a note, confirmed; what was recorded with it is hidden from
    then on (and purged on the next run). A refusal shows the form again with why, nothing recorded."""
    principal, placed = _read_person(uuid, WITHDRAW_CONSENT)
    form, problem, code, status = {"day": clock.today().isoformat(), "note": ""}, None, None, 200
    if request.method == "POST":
        form = ConsentForm().load(request.form)
        try:
            done = consent.withdraw_consent(principal, uuid, form["day"], form["note"],
                                            confirmed=form["confirm"] == "yes")
        except _CONSENT_REFUSED as refused:   # the form again, with why; nothing recorded
            db.session.rollback()
            problem, code, status = error_message(refused), refused.code, refused.status
            principal, placed = _read_person(uuid, WITHDRAW_CONSENT)   # the read audited again
        else:
            return _done(done.decision_id, _("Consent withdrawn: %(name)s", name=done.name), "",
                         url_for("corrections.withdraw_consent", uuid=uuid))
    page = _page("corrections/consent.html", placed, status, form=form, problem=problem, code=code,
                 today=clock.today().isoformat(), withdrawals=consent.withdrawals_of(uuid))
    commit()
    return page
