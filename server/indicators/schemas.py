"""The indicators' boundary: the area and period asked for (page and JSON), and a table as JSON."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.boundary import BoundarySchema

__all__ = ["IndicatorQuery", "IndicatorTableOut"]


class IndicatorQuery(BoundarySchema):
    area = fields.String(load_default=None, validate=validate.Length(max=400))
    period = fields.String(load_default=None, validate=validate.Length(max=20))   # 2026-11, 2026-Q4, 2026


class ValueOut(Schema):
    applies = fields.Boolean()
    value = fields.Float(allow_none=True)          # a rate (0–1) or a count; None: no data or not applicable
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)  # None for a count


class RowOut(Schema):
    area = fields.String(allow_none=True)          # the area's full name (None: the county)
    level = fields.String()
    indicators = fields.Dict(keys=fields.String(), values=fields.Nested(ValueOut))
    supplies = fields.Dict(keys=fields.String(), values=fields.Integer())


class IndicatorOut(Schema):
    code = fields.String()
    label_zh = fields.String()
    label_en = fields.String()
    unit = fields.String()
    formula_zh = fields.String()
    formula_en = fields.String()
    levels = fields.List(fields.String())


class SupplyOut(Schema):
    code = fields.String()
    label_zh = fields.String()
    label_en = fields.String()


class PeriodOut(Schema):
    code = fields.String()
    kind = fields.String()
    start = fields.Date()
    end = fields.Date()


class IndicatorTableOut(Schema):
    area = fields.String(allow_none=True)
    level = fields.String()
    unit_level = fields.String(allow_none=True)
    period = fields.Nested(PeriodOut)
    as_of = fields.Date()
    counted_at = fields.DateTime()
    fresh = fields.Boolean()
    indicators = fields.List(fields.Nested(IndicatorOut))
    supply_items = fields.List(fields.Nested(SupplyOut))
    rows = fields.List(fields.Nested(RowOut))
    total = fields.Nested(RowOut)
