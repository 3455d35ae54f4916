"""Register pages' query arguments at the boundary."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from sync.errors import BadRequest

__all__ = ["InboxFilters"]


class InboxFilters(Schema):
    class Meta:
        unknown = EXCLUDE

    group_id = fields.Integer(load_default=None)
    collector = fields.String(load_default=None, validate=validate.Length(max=64))
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf(("received", "approved", "has_issues", "rejected")))

    def load(self, data, **kwargs):
        try:
            return super().load(data, **kwargs)
        except ValidationError as exc:
            raise BadRequest("; ".join(f"{key}: {' '.join(value)}" for key, value in exc.messages.items())) from exc
