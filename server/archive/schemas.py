"""The archive's filters at the boundary: a kind of report, and a period as months (YYYY-MM)."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.archive.models import ARCHIVED_KINDS
from server.boundary import BoundarySchema

__all__ = ["ArchiveQuery"]

_MONTH = validate.Regexp(r"^\d{4}-\d{2}$")




class ArchiveQuery(BoundarySchema):
    """Reports of one kind (all when empty) whose period starts from month `since` to month `until`."""

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(load_default=None, validate=validate.OneOf(ARCHIVED_KINDS))
    since = fields.String(load_default=None, validate=_MONTH)
    until = fields.String(load_default=None, validate=_MONTH)
