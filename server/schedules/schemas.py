"""The due-list API's boundary: query arguments in, flags out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.boundary import BoundarySchema
from sync.schedules import STATUSES

__all__ = ["DueQuery", "FlagOut"]


class DueQuery(BoundarySchema):
    area = fields.String(load_default=None, validate=validate.Length(max=400))
    as_of = fields.Date(load_default=None)
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)), load_default=["due", "overdue"])
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))   # the page's (50 a page)


class FlagOut(Schema):
    person = fields.String()
    person_name = fields.String()
    household = fields.String()
    household_no = fields.String()
    group_id = fields.Integer()
    rule = fields.String()
    status = fields.String()
    due_since = fields.Date()
    due_by = fields.Date(allow_none=True)
    overdue_days = fields.Integer()
    anchor_kind = fields.String(allow_none=True)
    anchor_date = fields.Date(allow_none=True)
    last_visit = fields.Date(allow_none=True)
    missed = fields.List(fields.String())
    explanation_zh = fields.String()
    explanation_en = fields.String()
