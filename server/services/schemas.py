"""The service record's web forms at the boundary: a referral's result, a support request's outcome and payment, a
correction; each message says in the reader's language what to fix."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from marshmallow import EXCLUDE, ValidationError, fields, validate, validates_schema

from server.boundary import BoundarySchema
from sync.services import CORRECTABLE, MAX_QUANTITY, MAX_TEXT, REFERRAL_RESULTS, SUPPORT_FIELDS, SUPPORT_OUTCOMES

__all__ = ["ReferralResultForm", "SupportOutcomeForm", "CorrectionForm", "form_problems", "safe_back"]

_KEY = fields.String(required=True, validate=validate.Length(min=1, max=300))
_COLUMNS = sorted({column for columns in CORRECTABLE.values() for column in columns})
MAX_AMOUNT = Decimal(1_000_000)
_WHOLE = re.compile(r"[0-9]{1,7}")


def safe_back(path: str | None) -> str | None:
    """The page a form came from, when it is a path of this site (never another site's address)."""
    path = path or ""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else None


class _ItemForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    key = _KEY
    back = fields.String(load_default=None, validate=validate.Length(max=500))


class ReferralResultForm(_ItemForm):
    result = fields.String(load_default="")

    @validates_schema
    def _result(self, data, **kwargs):
        if data.get("result") not in REFERRAL_RESULTS:
            raise ValidationError(_("Choose what became of the referral."), "result")


def _is_amount(value: str) -> bool:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return False
    return amount.is_finite() and 0 <= amount <= MAX_AMOUNT and amount.as_tuple().exponent >= -2


class SupportOutcomeForm(_ItemForm):
    """The fields as entered, and as the form showed them (`was_<field>`): only what the officer changed is
    recorded."""

    outcome = fields.String(load_default="")
    decided_on = fields.String(load_default="")
    paid_on = fields.String(load_default="")
    amount = fields.String(load_default="")
    note = fields.String(load_default="")
    was_outcome = fields.String(load_default="")
    was_decided_on = fields.String(load_default="")
    was_paid_on = fields.String(load_default="")
    was_amount = fields.String(load_default="")
    was_note = fields.String(load_default="")

    @validates_schema
    def _values(self, data, **kwargs):
        problems: dict[str, str] = {}
        if data.get("outcome") and data["outcome"] not in SUPPORT_OUTCOMES:
            problems["outcome"] = _("Choose an outcome from the list.")
        for name in ("decided_on", "paid_on"):
            if data.get(name).strip():
                try:
                    fields.Date().deserialize(data[name].strip())
                except ValidationError:
                    problems[name] = _("A date is written YYYY-MM-DD.")
        if data.get("amount").strip() and not _is_amount(data["amount"].strip()):
            problems["amount"] = _("The amount is a number of yuan, e.g. 1200 or 1200.50.")
        if len(data.get("note")) > MAX_TEXT:
            problems["note"] = _("The note is at most %(most)s characters.", most=MAX_TEXT)
        if problems:
            raise ValidationError(problems)

    def changes(self, loaded: dict) -> dict[str, str]:
        """The fields whose value differs from what the form showed (an outcome is never cleared: undo it)."""
        return {name: loaded[name].strip() for name in SUPPORT_FIELDS
                if loaded[name].strip() != loaded[f"was_{name}"].strip() and (loaded[name].strip() or name != "outcome")}


class CorrectionForm(_ItemForm):
    column = fields.String(required=True, validate=validate.OneOf(_COLUMNS))
    value = fields.String(load_default="")

    @validates_schema
    def _value(self, data, **kwargs):
        value = (data.get("value") or "").strip()
        if data.get("column") == "quantity":
            if not _WHOLE.fullmatch(value) or not 1 <= int(value) <= MAX_QUANTITY:
                raise ValidationError(_("A quantity is a whole number from 1 to %(most)s.", most=MAX_QUANTITY),
                                      "value")
        elif data.get("column") in ("code", "detail", "given") and not value:
            raise ValidationError(_("Choose a value from the list."), "value")
        elif len(value) > MAX_TEXT:
            raise ValidationError(_("At most %(most)s characters.", most=MAX_TEXT), "value")


def form_problems(errors: dict) -> list[str]:
    """Validation messages, flattened, in the reader's language."""
    found = []
    for messages in errors.values():
        if isinstance(messages, dict):
            found += form_problems(messages)
        else:
            found += [str(message) for message in (messages if isinstance(messages, list) else [messages])]
    return found
