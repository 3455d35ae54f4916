"""The town office's re-check pages: the month's villages (drawn, re-checked, accuracy), a village's sample with its
disagreements (each with a link to correct it), drawing and the confirmed re-draw, and a sampled household's re-check
form. A refused request gets the error page saying why; a refused value shows the form again (nothing recorded)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from server import clock
from server.accounts.session import require_staff
from server.corrections.views import FIELD_WORDS, shown
from server.database import commit
from server.extensions import csrf, db
from server.rechecks import operations
from server.rechecks.schemas import DrawForm, RecheckForm, newcomers, observations
from sync.code_labels import CODE_LABELS, code_label
from sync.errors import FieldValueInvalid
from sync.periods import parse_month
from sync.privacy import MASKED_FIELDS, mask_value
from sync.rechecks import AWAY, COMPARED_FIELDS, PRESENT, accuracy

bp = Blueprint("rechecks", __name__, template_folder="templates")
bp.before_request(csrf.protect)


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"




def _share(counts) -> str:
    """Accuracy as people read it: "5/8（62.5%）", or "—" before any re-check."""
    share = accuracy(counts)
    return "—" if share is None else _("%(correct)s of %(rechecked)s (%(share)s)", correct=counts.correct,
                                       rechecked=counts.rechecked, share=f"{share:.1%}")


def _household_words(number: str | None, head: str | None) -> str:
    return (_("Household %(number)s (head: %(head)s)", number=number or "", head=head) if head
            else _("Household %(number)s", number=number or ""))


def _found_words(value: str | None) -> str:
    return _("At the household") if value == "1" else _("Not at the household")


def _newcomer_words(rows) -> dict[tuple[int, str], str]:
    """What was noted of each person found not on the register (by re-check and name): sex and birth date."""
    noted: dict[tuple[int, str], list[str]] = {}
    for row in rows:
        if row.person_uuid is None and row.field != PRESENT:
            noted.setdefault((row.recheck_id, row.person_name), []).append(shown(row.field, row.observed_value))
    return {key: " · ".join(words) for key, words in noted.items()}


def _corrected(row, now: dict[str, dict]) -> bool:
    """Whether the register holds now what the re-check found (the disagreement was corrected since)."""
    held = now.get(row.person_uuid)
    if held is None:
        return False
    if row.field == PRESENT:
        return (held["residence"] not in AWAY) == (row.observed_value == "1")
    return held.get(row.field) == row.observed_value


def _disagreement(row, households: dict[str, str], newcomers_noted: dict[tuple[int, str], str],
                  now: dict[str, dict]) -> dict:
    """A disagreement as the page lists it: who, what, the register's value → the value found, where to fix it (the
    correction offers the value found, and comes back here)."""
    if row.person_uuid is None:
        return {"who": row.person_name, "household": households.get(row.household_uuid, ""),
                "what": _("Not on the register"), "before": "—",
                "after": " · ".join(filter(None, (_found_words("1"), newcomers_noted.get((row.recheck_id,
                                                                                            row.person_name))))),
                "link": url_for("corrections.new_member", uuid=row.household_uuid), "action": _("Add to the register")}
    if row.field == PRESENT:
        what, before, after = _("Found at the household"), _found_words(row.register_value), _found_words(
            row.observed_value)
        link = url_for("corrections.correct_field", uuid=row.person_uuid, field="residence", recheck=request.path,
                       value="here" if row.observed_value == "1" else None)
    else:
        # An ID number or phone is shown masked, and the correction reads the value found itself (not in the link).
        what, before, after = FIELD_WORDS[row.field], shown(row.field, mask_value(row.field, row.register_value)), \
            shown(row.field, mask_value(row.field, row.observed_value))
        masked = row.field in MASKED_FIELDS
        link = url_for("corrections.correct_field", uuid=row.person_uuid, field=row.field, recheck=request.path,
                       value=None if masked else row.observed_value, found=row.recheck_id if masked else None)
    return {"who": row.person_name, "household": households.get(row.household_uuid, ""), "what": what,
            "before": before, "after": after, "link": link, "action": _("Correct"),
            "corrected": _corrected(row, now)}


def _months_back(month: dt.date, count: int = 12) -> list[dt.date]:
    months, day = [], month
    for _step in range(count):
        months.append(day)
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return months


@bp.get("/rechecks")
def overview():
    principal = require_staff()
    this_month = clock.today().replace(day=1)
    month = parse_month(request.args["month"]) if request.args.get("month") else this_month
    rows = operations.month_overview(principal, month)
    page = render_template("rechecks/overview.html", month=month, rows=rows, share=_share,
                           months=_months_back(this_month))
    commit()
    return page


def _sample_page(village_id: int, month: str):
    """The village's sample of the month, and its households in words (uuid → "001号户（户主 …）")."""
    found = operations.sample_page(require_staff(), village_id, parse_month(month))
    return found, {row.uuid: _household_words(row.household_no, row.head) for row in found.households}


@bp.get("/rechecks/<int:village_id>/<month>")
def sample(village_id: int, month: str):
    found, households = _sample_page(village_id, month)
    noted = _newcomer_words(found.disagreements)
    page = render_template("rechecks/sample.html", found=found, households=households, share=_share(found.counts),
                           disagreements=[_disagreement(row, households, noted, found.now) for row in found.disagreements
                                          if row.person_uuid is not None or row.field == PRESENT],
                           percent=current_app.config["TAIZHANG_RECHECK_PERCENT"])
    commit()
    return page


@bp.get("/rechecks/<int:village_id>/<month>/redraw")
def confirm_redraw(village_id: int, month: str):
    """The explicit re-draw: the sample as it stands, and a button that draws it anew."""
    found, households = _sample_page(village_id, month)
    page = render_template("rechecks/redraw.html", found=found, households=households)
    commit()
    return page


@bp.post("/rechecks/<int:village_id>/<month>/draw")
def draw(village_id: int, month: str):
    principal = require_staff()
    form = DrawForm().load(request.form)
    drawn = operations.draw_sample(principal, village_id, parse_month(month), form["percent"], again=form["again"])
    size = drawn.size
    commit()
    flash(_("Drawn again: %(size)s households.", size=size) if form["again"]
          else _("Drawn: %(size)s households.", size=size), "notice")
    return redirect(url_for("rechecks.sample", village_id=village_id, month=month))


def _choices(field: str) -> list[tuple[str, str]] | None:
    list_name = operations.CHOICE_LISTS.get(field)
    if list_name is None:
        return None
    return [(code, code_label(list_name, code, _language())) for code in CODE_LABELS[list_name]]


@bp.route("/rechecks/<int:village_id>/<month>/households/<uuid>", methods=["GET", "POST"])
def household(village_id: int, month: str, uuid: str):
    principal = require_staff()
    found = operations.household_page(principal, village_id, parse_month(month), uuid)
    problem, form = None, request.form if request.method == "POST" else {}
    if request.method == "POST":
        day = RecheckForm().load(request.form)["checked_on"]
        try:
            operations.record_recheck(principal, village_id, found.month, uuid, checked_on=day,
                                      observed=observations(request.form, [person.uuid for person in found.people]),
                                      newcomers=newcomers(request.form, operations.MAX_NEWCOMERS))
        except FieldValueInvalid as refused:   # the form again, with why; nothing recorded
            db.session.rollback()
            why = refused.message_zh if _language() == "zh" else refused.message_en
            where = [refused.context.get("person"), refused.context.get("field")]
            where[1] = str(FIELD_WORDS.get(where[1], _("Re-checked on"))) if where[1] else None
            problem = " · ".join(part for part in where if part) + ("：" if any(where) else "") + why
        else:
            commit()
            flash(_("Re-check recorded."), "notice")
            return redirect(url_for("rechecks.sample", village_id=village_id, month=month))
    # The household's values as the register holds them, ID numbers and phones masked (a re-check writes what it
    # finds; the person page has the full values).
    rows = [(person, [(field, FIELD_WORDS[field], shown(field, mask_value(field, getattr(person, field))),
                       mask_value(field, getattr(person, field)) or "", _choices(field)) for field in COMPARED_FIELDS])
            for person in found.people]
    page = render_template("rechecks/household.html", found=found, rows=rows, form=form, problem=problem,
                           household_words=_household_words(found.placed.household.household_no, next(
                               (person.name for person in found.people if person.relationship == "head"), None)),
                           newcomer_rows=range(operations.MAX_NEWCOMERS), sexes=_choices("sex"), away=AWAY,
                           today=clock.today()), 400 if problem else 200
    commit()
    return page
