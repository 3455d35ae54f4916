"""The base of every boundary schema: input that does not load is refused as a BadRequest saying what is wrong."""

from __future__ import annotations

from marshmallow import Schema, ValidationError

from sync.errors import BadRequest

__all__ = ["BoundarySchema"]


class BoundarySchema(Schema):
    def load(self, data, **kwargs):
        try:
            return super().load(data, **kwargs)
        except ValidationError as exc:
            raise BadRequest("; ".join(f"{key}: {' '.join(map(str, value))}"
                                       for key, value in exc.messages.items())) from exc
