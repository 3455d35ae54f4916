"""Web entry of what the phone did not bring: a referral's result, a support request's outcome and payment, a
correction of a service item. Each post is one decision (or one per field changed), then back to the page it came
from with a message saying what happened; a refused value is a message too, never an error page. Another area's
item is refused outright (403/404)."""

from __future__ import annotations

import functools

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from server.accounts.session import require_staff
from server.database import commit
from server.extensions import csrf, db
from server.services import operations
from server.services.schemas import CorrectionForm, ReferralResultForm, SupportOutcomeForm, form_problems, safe_back
from sync.code_labels import code_label
from sync.errors import BadRequest, Conflict, TaizhangError

bp = Blueprint("services", __name__, template_folder="templates", url_prefix="/services")
bp.before_request(csrf.protect)


class _Refused(Exception):
    """A form whose values cannot be recorded: the messages to show."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _back():
    return redirect(safe_back(request.form.get("back")) or url_for("register.inbox"))


def _language() -> str:
    return "zh" if str(get_locale()) == "zh" else "en"


def error_message(error: TaizhangError) -> str:
    """A refusal in the reader's language, with its specifics."""
    text = error.message_zh if _language() == "zh" else error.message_en
    return f"{text}（{error.detail}）" if error.detail and _language() == "zh" else (
        f"{text} ({error.detail})" if error.detail else text)


def answered(view):
    """Back to the page the form came from: with the view's message, or with why nothing was recorded. Another
    area's item or a kind of decision the reader may not take is refused outright (403/404)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            message = view(*args, **kwargs)
        except _Refused as refused:
            db.session.rollback()
            for text in refused.messages:
                flash(text, "error")
        except (BadRequest, Conflict) as error:
            db.session.rollback()
            flash(error_message(error), "error")
        else:
            flash(message, "notice")
        return _back()
    return wrapper


def _load(schema):
    errors = schema.validate(request.form)
    if errors:
        raise _Refused(form_problems(errors))
    return schema.load(request.form)


def _label(list_name: str, code: str) -> str:
    return code_label(list_name, code, _language()) or code


@bp.post("/referral-result")
@answered
def referral_result():
    principal = require_staff()
    form = _load(ReferralResultForm())
    operations.record_referral_result(principal, form["key"], form["result"])
    commit()
    return _("Referral result recorded: %(result)s.", result=_label("referral_result", form["result"]))


_FIELD_NAMES = {"outcome": ("结果", "outcome"), "decided_on": ("决定日期", "decision date"),
                "paid_on": ("发放日期", "payment date"), "amount": ("金额", "amount"), "note": ("备注", "note")}


@bp.post("/support-outcome")
@answered
def support_outcome():
    principal = require_staff()
    schema = SupportOutcomeForm()
    form = _load(schema)
    changes = schema.changes(form)
    if not changes:
        return _("Nothing to record: the values are as they were.")
    for name, value in changes.items():
        operations.record_support_outcome(principal, form["key"], name, value)
    commit()
    names = [pair[0] if _language() == "zh" else pair[1] for name, pair in _FIELD_NAMES.items() if name in changes]
    return _("Support request: %(fields)s recorded.", fields=("、" if _language() == "zh" else ", ").join(names))


@bp.post("/correction")
@answered
def correction():
    principal = require_staff()
    form = _load(CorrectionForm())
    operations.correct_service_item(principal, form["key"], form["column"], form["value"])
    commit()
    return _("Correction recorded.")
