"""A register's filters at the boundary: the area, the period, the page, open referrals only."""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import EXCLUDE, fields, validate

from server.boundary import MAX_DATE, MAX_INT, MIN_DATE, BoundarySchema

__all__ = ["RegisterQuery", "read_filters"]

MAX_PAGE = 1_000_000


class RegisterQuery(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    area = fields.Integer(load_default=None, strict=False, validate=validate.Range(min=1, max=MAX_INT))
    since = fields.Date(load_default=None, validate=validate.Range(min=MIN_DATE, max=MAX_DATE))
    until = fields.Date(load_default=None, validate=validate.Range(min=MIN_DATE, max=MAX_DATE))
    page = fields.Integer(load_default=1, strict=False, validate=validate.Range(min=1, max=MAX_PAGE))
    open = fields.Boolean(load_default=False)


def read_filters(arguments: Mapping[str, str]) -> tuple[dict, set[str]]:
    """The filters asked for (empty ones left out), and the names of those that cannot be read (a date not written
    YYYY-MM-DD, a page that is not a number…) — left out too —, with "order" when the period ends before it starts."""
    given = {name: value for name, value in arguments.items() if value != ""}
    problems = set(RegisterQuery().validate(given))
    loaded = RegisterQuery().load({name: value for name, value in given.items() if name not in problems})
    if loaded["since"] and loaded["until"] and loaded["since"] > loaded["until"]:
        problems.add("order")
    return loaded, problems
