"""Service notices at the boundary: the list's filter, the new notice and answer forms, a file uploaded to import,
and the replication API's cursor; what a value may be is sync.notices' rule, checked by the operations."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields, validate

from server.boundary import BoundarySchema
from sync.notices import FILTERS, RESULTS, SERVICES

__all__ = ["ListQuery", "NoticeForm", "AnswerForm", "PageQuery", "MAX_PAGE", "MAX_FILE_BYTES"]

MAX_PAGE = 500
MAX_FILE_BYTES = 5 * 1024 * 1024


class ListQuery(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    state = fields.String(load_default=None, validate=validate.OneOf(FILTERS))


class NoticeForm(BoundarySchema):
    """`to`: a town of the county, or "outside" with the place named in `outside_place`."""

    class Meta:
        unknown = EXCLUDE

    person = fields.String(required=True, validate=validate.Length(min=1, max=64))
    to = fields.String(required=True, validate=validate.Length(min=1, max=100))
    outside_place = fields.String(load_default="", validate=validate.Length(max=200))
    address = fields.String(required=True, validate=validate.Length(max=200))
    phone = fields.String(load_default="", validate=validate.Length(max=20))
    service = fields.String(required=True, validate=validate.OneOf(SERVICES))
    service_note = fields.String(load_default="", validate=validate.Length(max=300))
    reply_by = fields.Date(required=True)


class AnswerForm(BoundarySchema):
    class Meta:
        unknown = EXCLUDE

    done = fields.String(required=True, validate=validate.Length(min=1, max=500))
    result = fields.String(required=True, validate=validate.OneOf(RESULTS))
    day = fields.Date(required=True)


class PageQuery(BoundarySchema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))
