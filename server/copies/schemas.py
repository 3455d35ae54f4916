"""A person's own copy at the boundary: the request and hand-over forms as text of bounded length (what each value
may be is sync.privacy's rule, checked by the operations)."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.boundary import BoundarySchema

__all__ = ["RequestForm", "HandOverForm"]


def _text(limit: int):
    return fields.String(load_default="", validate=validate.Length(max=limit))


class RequestForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    requested_by = _text(300)
    requester = _text(20)
    format = _text(10)
    day = _text(10)


class HandOverForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    handed_to = _text(300)
