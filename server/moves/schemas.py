"""The moves forms at the boundary: text of bounded length (what a destination, household or day may be is the
operations' rule)."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.boundary import BoundarySchema
from server.moves.operations import MAX_PLACE

__all__ = ["MoveForm", "ArrivalForm"]


def _text(limit: int):
    return fields.String(load_default="", validate=validate.Length(max=limit))


class MoveForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    destination = _text(200)
    place = _text(MAX_PLACE)
    day = _text(10)


class ArrivalForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    household = _text(64)
    relationship = _text(20)
    day = _text(10)
