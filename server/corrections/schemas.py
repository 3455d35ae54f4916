"""The web forms of corrections, tiers and new members at the boundary: text of bounded length (what a value may be
is the register's rule, checked by the operations)."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.boundary import BoundarySchema
from server.corrections.operations import MAX_NOTE

__all__ = ["CorrectionForm", "TierForm", "NewMemberForm", "ConsentForm"]


def _text(limit: int = 200):
    return fields.String(load_default="", validate=validate.Length(max=limit))


class _Form(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    note = _text(MAX_NOTE)


class CorrectionForm(_Form):
    value = _text()


class TierForm(_Form):
    tier = _text(40)


class NewMemberForm(_Form):
    event = fields.String(load_default="registered", validate=validate.OneOf(("birth", "registered")))
    name, sex, birth_date, id_number = _text(), _text(), _text(), _text()
    relationship, phone, residence, hukou = _text(), _text(), _text(), _text()


class ConsentForm(BoundarySchema):
    """A withdrawal of consent: the day, a note (its length is the operation's rule, refused with a message) and
    the confirmation ticked."""

    class Meta:
        unknown = EXCLUDE

    day = _text(10)
    note = _text(2000)
    confirm = _text(10)
