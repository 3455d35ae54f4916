"""Sign-in and password forms at the boundary."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

__all__ = ["LoginForm", "PasswordForm"]


class LoginForm(Schema):
    class Meta:
        unknown = EXCLUDE

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PasswordForm(Schema):
    class Meta:
        unknown = EXCLUDE

    current = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new = fields.String(required=True, validate=validate.Length(min=1, max=200))
