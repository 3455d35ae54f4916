"""The new-collector form at the boundary."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.boundary import MAX_INT, BoundarySchema

__all__ = ["NewCollectorForm"]


class NewCollectorForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    username = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{2,64}$"))
    display_name = fields.String(load_default="", validate=validate.Length(max=100))
    group = fields.Integer(required=True, strict=False, validate=validate.Range(min=1, max=MAX_INT))  # from the menu
