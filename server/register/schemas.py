"""Register pages' query arguments at the boundary."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.boundary import BoundarySchema

__all__ = ["InboxFilters", "INBOX_SORTS"]

# The inbox's orders (server.register.queries.INBOX_ORDERS holds their SQL; a test holds the two together).
INBOX_SORTS = ("received", "received_first", "filled", "filled_first", "household", "collector")


class InboxFilters(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    group_id = fields.Integer(load_default=None)
    village_id = fields.Integer(load_default=None)      # a village's visits (the month sign-off's link)
    collector = fields.String(load_default=None, validate=validate.Length(max=64))
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf(("received", "approved", "has_issues", "rejected")))
    sort = fields.String(load_default="received", validate=validate.OneOf(INBOX_SORTS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
