"""Register pages' query arguments at the boundary."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.boundary import BoundarySchema

__all__ = ["InboxFilters"]


class InboxFilters(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    group_id = fields.Integer(load_default=None)
    collector = fields.String(load_default=None, validate=validate.Length(max=64))
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf(("received", "approved", "has_issues", "rejected")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
