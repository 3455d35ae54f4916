"""Due and overdue lists over HTTP: JSON for programs, a page for people (the review UI makes it pleasant)."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from server.accounts.session import current_staff, require_staff
from server.database import commit
from server.extensions import csrf, db
from server.openrosa.auth import authenticate
from server.registers.operations import area_choices
from server.schedules.operations import AreaFlags, flags_in_area
from server.schedules.schemas import DueQuery, FlagOut
from server.services.browsing import household_label
from server.services.queries import household_labels
from sync.errors import Forbidden, NotFound
from sync.schedules import most_overdue_first

bp = Blueprint("schedules", __name__, template_folder="templates")


def _arguments() -> dict:
    arguments = {name: request.args.get(name) for name in ("area", "as_of", "page") if request.args.get(name)}
    if request.args.getlist("status"):
        arguments["status"] = request.args.getlist("status")
    return arguments


def _area_flags(principal, *, kept: bool = False) -> AreaFlags:
    query = DueQuery().load(_arguments())
    found = flags_in_area(principal, query["area"], query["as_of"], statuses=frozenset(query["status"]), kept=kept)
    commit()  # the audit record of this read
    return found


def _rows(found: AreaFlags) -> list[dict]:
    rows = []
    for flag in most_overdue_first(found.flags):
        person = found.people[flag.person]
        rows.append(dict(
            person=flag.person, person_name=person.name or "", household=person.household_uuid,
            household_no=person.household_no or "", group_id=person.group_id, rule=flag.rule, status=flag.status,
            due_since=flag.due_since, due_by=flag.due_by, overdue_days=flag.overdue_days,
            anchor_kind=flag.anchor.kind if flag.anchor else None, anchor_date=flag.anchor.day if flag.anchor else None,
            last_visit=flag.last_visit, missed=[period.label("en") for period in flag.missed],
            explanation_zh=flag.explain(found.schedule, "zh"), explanation_en=flag.explain(found.schedule, "en")))
    return rows


@bp.get("/api/v1/due")
def due_json():
    """For a signed-in browser session, or a program with Digest credentials."""
    found = _area_flags(current_staff() or authenticate(None))
    return jsonify(as_of=found.as_of.isoformat(), timezone=found.schedule.timezone,
                   flags=FlagOut(many=True).dump(_rows(found)))


_PROBLEMS = {
    "area": lambda: _("Choose an area from the list."),
    "as_of": lambda: _("“As of” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-01."),
    "status": lambda: _("Choose a status from the list."),
}


@bp.get("/due")
def due_page():
    """The due list of an area the reader chooses from a menu of theirs (villages and groups by name); an area
    outside theirs, or none such, is refused on the page itself."""
    csrf.protect()
    principal = require_staff()
    choices = area_choices(principal, request.args.get("area", ""))
    asked = request.args.get("area", "")
    page = dict(choices=choices, own_path=principal.area_path, everywhere=principal.area_path is None,
                selected="" if any(area.full_name == asked and area.path == principal.area_path for area in choices)
                else asked)
    problems = DueQuery().validate(_arguments())
    if problems:
        return render_template("schedules/due.html", found=None, rows=[], messages=[
            message() for name, message in _PROBLEMS.items() if name in problems], **page), 400
    try:
        found = _area_flags(principal, kept=True)
    except Forbidden:
        db.session.rollback()
        return render_template("schedules/due.html", found=None, rows=[], messages=[
            _("That area is outside yours: choose one from the list.")], **page), 403
    except NotFound:
        db.session.rollback()
        return render_template("schedules/due.html", found=None, rows=[], messages=[
            _("There is no such area: choose one from the list.")], **page), 404
    number = DueQuery().load(_arguments())["page"]
    flags = found.flags
    shown = flags[(number - 1) * DUE_PAGE_SIZE:number * DUE_PAGE_SIZE]   # kept most overdue first: a page is a slice
    language = "zh" if str(get_locale()) == "zh" else "en"
    households = household_labels({found.people[flag.person].household_uuid for flag in shown})
    rows = [_page_row(found, flag, households, language) for flag in shown]
    arguments = {name: value for name, value in request.args.items() if name != "page"}
    first = (number - 1) * DUE_PAGE_SIZE + 1 if shown else 0
    return render_template("schedules/due.html", found=found, rows=rows, messages=[], total=len(flags),
                           first=first, last=first + len(shown) - 1 if shown else 0, number=number,
                           counts=Counter(flag.status for flag in flags), arguments=arguments, **page)


DUE_PAGE_SIZE = 50


def _page_row(found: AreaFlags, flag, households: dict, language: str) -> dict:
    """A flag as the due page shows it: the person by name (linked), the household by number and head, the status
    in words, why in the reader's language."""
    person = found.people[flag.person]
    return dict(person=flag.person, name=person.name or "", status=flag.status,
                household=household_label(households[person.household_uuid].household_no,
                                          households[person.household_uuid].head_name, language)
                if person.household_uuid in households else "",
                why=flag.explain(found.schedule, language))
