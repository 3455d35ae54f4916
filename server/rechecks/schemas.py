"""The re-checks' web forms at the boundary: a sample's share and its confirmation, and a household's re-check (the
day, per member found or not and each field "agrees" or the value found, and the people found not on the register),
read into sync.rechecks' observations. What a value may be is the register's rule, checked by the operations."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields

from server.boundary import BoundarySchema
from sync.errors import BadRequest
from sync.rechecks import COMPARED_FIELDS, Newcomer, Observed

__all__ = ["DrawForm", "RecheckForm", "observations", "newcomers"]


class DrawForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    percent = fields.Float(required=True, allow_nan=False)
    again = fields.Boolean(load_default=False)      # the explicit re-draw, confirmed


class RecheckForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    checked_on = fields.Date(required=True)


def _text(form, name: str) -> str:
    value = form.get(name, "")
    if len(value) > 200:
        raise BadRequest(f"{name}: too long")
    return value.strip()


def observations(form, person_uuids: list[str]) -> dict[str, Observed]:
    """Per member: `found-<uuid>` "1" or "0"; for one found, per compared field `agree-<uuid>-<field>` "1", or "0"
    with the value found in `value-<uuid>-<field>`. A member without an answer is refused."""
    observed = {}
    for uuid in person_uuids:
        found = form.get(f"found-{uuid}")
        if found not in ("1", "0"):
            raise BadRequest("found: every member of the household, found or not")
        values = {}
        if found == "1":
            for field in COMPARED_FIELDS:
                agrees = form.get(f"agree-{uuid}-{field}", "1")
                if agrees not in ("1", "0"):
                    raise BadRequest(f"agree: {field}")
                if agrees == "0":
                    values[field] = _text(form, f"value-{uuid}-{field}")
        observed[uuid] = Observed(found == "1", values)
    return observed


def newcomers(form, rows: int) -> list[Newcomer]:
    """The people found who are not on the register: rows `new-<n>-name`, `-sex`, `-birth_date` with a name."""
    found = []
    for row in range(rows):
        name = _text(form, f"new-{row}-name")
        sex, birth_date = _text(form, f"new-{row}-sex"), _text(form, f"new-{row}-birth_date")
        if name or sex or birth_date:
            found.append(Newcomer(name, sex or None, birth_date or None))
    return found
