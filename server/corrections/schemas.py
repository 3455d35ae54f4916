"""The web forms of corrections, tiers and new members at the boundary: text of bounded length (what a value may be
is the register's rule, checked by the operations)."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.boundary import BoundarySchema, text_field
from server.corrections.operations import MAX_NOTE

__all__ = ["CorrectionForm", "TierForm", "NewMemberForm", "ConsentForm"]


class _Form(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    note = text_field(MAX_NOTE)


class CorrectionForm(_Form):
    value = text_field(200)


class TierForm(_Form):
    tier = text_field(40)


class NewMemberForm(_Form):
    event = fields.String(load_default="registered", validate=validate.OneOf(("birth", "registered")))
    name, sex, birth_date, id_number = text_field(200), text_field(200), text_field(200), text_field(200)
    relationship, phone, residence, hukou = text_field(200), text_field(200), text_field(200), text_field(200)


class ConsentForm(BoundarySchema):
    """A withdrawal of consent: the day, a note (its length is the operation's rule, refused with a message) and
    the confirmation ticked."""

    class Meta:
        unknown = EXCLUDE

    day = text_field(10)
    note = text_field(2000)
    confirm = text_field(10)
