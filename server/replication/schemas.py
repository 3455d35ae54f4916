"""The replication API's boundary: cursor and origin arguments in, raw submissions out; decisions both ways."""

from __future__ import annotations

import base64

from marshmallow import Schema, fields, post_load, validate

from server.boundary import BoundarySchema
from server.replication.decisions import REPLICATED_KINDS
from server.replication.operations import PortableDecision

__all__ = ["PageQuery", "ReplicatedArgs", "PageOut", "RawSubmissionOut", "IntakeOut", "DecisionPageQuery",
           "DecisionIn", "DecisionPageOut", "DecisionIntakeOut"]

MAX_PAGE = 500


class PageQuery(BoundarySchema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE))


class ReplicatedArgs(BoundarySchema):
    """Query arguments of a replicated submission's POST (the body is the OpenRosa multipart as stored)."""

    area = fields.String(required=True, validate=validate.Length(min=1, max=400))
    collector = fields.String(required=True, validate=validate.Length(min=1, max=64))
    received_at = fields.AwareDateTime(required=True)
    device_id = fields.String(load_default=None, validate=validate.Length(max=255))


class AttachmentOut(Schema):
    name = fields.String()
    sha256 = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    content_type = fields.String(allow_none=True)


class RawSubmissionOut(Schema):
    cursor = fields.Integer()
    instance_id = fields.String()
    xml = fields.Function(lambda raw: base64.b64encode(raw.xml).decode("ascii"))   # the exact bytes stored
    area = fields.String()
    collector = fields.String()
    device_id = fields.String(allow_none=True)
    received_at = fields.AwareDateTime()
    attachments = fields.List(fields.Nested(AttachmentOut))


class PageOut(Schema):
    submissions = fields.List(fields.Nested(RawSubmissionOut))
    cursor = fields.Integer()
    more = fields.Boolean()


class IntakeOut(Schema):
    instance_id = fields.String()
    created = fields.Boolean()
    attachments_added = fields.Integer()
    attachments_missing = fields.Integer()


class DecisionPageQuery(PageQuery):
    undone_since = fields.AwareDateTime(load_default=None)


class DecisionIn(BoundarySchema):
    """A decision as a town server hands it out and the county takes it in (PortableDecision)."""

    uuid = fields.UUID(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(REPLICATED_KINDS))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=255))
    target = fields.String(required=True, validate=validate.Length(max=600))
    field = fields.String(load_default=None, validate=validate.Length(max=40))
    after_instance_id = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    decided_at = fields.AwareDateTime(required=True)
    undone_at = fields.AwareDateTime(load_default=None)
    automatic = fields.Boolean(load_default=False)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @post_load
    def portable(self, data, **_):
        return PortableDecision(**{**data, "uuid": str(data["uuid"])})


class DecisionOut(Schema):
    uuid = fields.String()
    kind = fields.String()
    subject = fields.String()
    target = fields.String()
    field = fields.String(allow_none=True)
    after_instance_id = fields.String(allow_none=True)
    decided_at = fields.AwareDateTime()
    undone_at = fields.AwareDateTime(allow_none=True)
    automatic = fields.Boolean()
    note = fields.String(allow_none=True)


class DecisionPageOut(Schema):
    decisions = fields.List(fields.Nested(DecisionOut))
    cursor = fields.Integer()
    last = fields.Integer()
    more = fields.Boolean()
    undone = fields.List(fields.Nested(DecisionOut))
    undone_cursor = fields.AwareDateTime()


class DecisionIntakeOut(Schema):
    uuid = fields.String()
    changed = fields.Boolean()
