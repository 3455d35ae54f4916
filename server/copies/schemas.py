"""A person's own copy at the boundary: the request and hand-over forms as text of bounded length (what each value
may be is sync.privacy's rule, checked by the operations)."""

from __future__ import annotations

from marshmallow import EXCLUDE

from server.boundary import BoundarySchema, text_field

__all__ = ["RequestForm", "HandOverForm"]


class RequestForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    requested_by = text_field(300)
    requester = text_field(20)
    format = text_field(10)
    day = text_field(10)


class HandOverForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    handed_to = text_field(300)
