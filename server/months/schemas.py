"""The month sign-off's input at the boundary: a month as YYYY-MM, the sign box (the confirmation ticked) and the
town office's comment."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.boundary import BoundarySchema
from server.months.operations import MAX_COMMENT
from sync.periods import parse_month

__all__ = ["parse_month", "SignForm", "DecisionForm", "MonthQuery"]


class SignForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    confirm = fields.String(load_default="", validate=validate.Length(max=10))


class DecisionForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    comment = fields.String(load_default="", validate=validate.Length(max=MAX_COMMENT))


class MonthQuery(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    month = fields.String(load_default=None, validate=validate.Regexp(r"^\d{4}-\d{2}$"))
