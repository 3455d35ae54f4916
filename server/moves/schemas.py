"""The moves forms at the boundary: text of bounded length (what a destination, household or day may be is the
operations' rule)."""

from __future__ import annotations

from marshmallow import EXCLUDE

from server.boundary import BoundarySchema, text_field
from server.moves.operations import MAX_PLACE

__all__ = ["MoveForm", "ArrivalForm"]


class MoveForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    destination = text_field(200)
    place = text_field(MAX_PLACE)
    day = text_field(10)


class ArrivalForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    household = text_field(64)
    relationship = text_field(20)
    day = text_field(10)
