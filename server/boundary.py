"""The boundary of every request: no NUL byte gets in anywhere, numbers and dates stay within what the columns and
the calendar hold, and schemas that do not load are refused as a BadRequest saying what is wrong."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator

from flask import Flask, request
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.routing import IntegerConverter

from sync.errors import BadRequest, NulCharacter, ValueOutOfRange

__all__ = ["MAX_DATE", "MIN_DATE", "BoundarySchema", "BoundedIntegerConverter", "check_date", "check_int", "chunks",
           "init_app", "text_field"]

# Every integer column is at most 64 bits; every date a person, visit or report names lies in these years, and a
# few years of arithmetic around them (due dates, months, time zones) can never leave the calendar.
MAX_INT = 2 ** 63 - 1
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)

# Values bound in one IN (…): below SQLite's limit of bound parameters per statement.
IN_LIST_SIZE = 900


def chunks(keys: Iterable, size: int = IN_LIST_SIZE) -> Iterator[list]:
    """The distinct keys, sorted, in lists short enough for one IN (…)."""
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def text_field(limit: int) -> fields.String:
    """A form's text of at most `limit` characters, empty when not sent (what the value may be is the operations'
    rule)."""
    return fields.String(load_default="", validate=validate.Length(max=limit))


# Views that read the body as a stream (the OpenRosa multipart parser): Werkzeug must not parse it first.
_STREAMED_BODIES = frozenset({"openrosa.submission_post", "openrosa_token.submission_post", "replication.receive"})


class BoundedIntegerConverter(IntegerConverter):
    """`<int:…>` in a URL: digits that fit a 64-bit column, else the route does not match (404)."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=MAX_INT if max is None else max,
                         signed=signed)


def init_app(app: Flask) -> None:
    """Install the bounded `int` converter (before any route is added) and the NUL check on every request."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(refuse_nul_bytes)


def refuse_nul_bytes() -> None:
    """PostgreSQL's text refuses NUL, and no name, number, date or identifier holds one: refuse it wherever it
    comes (path, query string, headers, cookies, form fields, JSON) before any view reads it."""
    for where, value in _request_texts():
        if "\x00" in value:
            raise NulCharacter(where)


def _request_texts() -> Iterator[tuple[str, str]]:
    yield "path", request.path
    if _may_hold_nul(request.environ):   # else none can: not parsed, for every request of Collect's
        for name, value in request.args.items(multi=True):
            yield name, name + value
        for name, value in request.headers.items():
            yield name, name + value
        for name, value in request.cookies.items(multi=True):
            yield name, name + value
    if request.endpoint in _STREAMED_BODIES:
        return
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            yield name, name + value
        for name, upload in request.files.items(multi=True):
            yield name, name + (upload.filename or "")
    elif request.is_json:
        yield from _json_texts("JSON", request.get_json(silent=True))


def _may_hold_nul(environ: dict) -> bool:
    """Whether the query string, the headers or the cookies may hold a NUL once decoded, read from the request's
    raw text: a NUL there, a percent-encoded one in the query string, or any cookie (a quoted cookie value may write
    one as an escape). Parsing them all to look cost 0.05 ms of CPU a request (docs/benchmarks.md § Issue 22
    (round 3), item 6)."""
    query = environ.get("QUERY_STRING", "")
    if "\x00" in query or "%00" in query or "HTTP_COOKIE" in environ:
        return True
    return any("\x00" in key or "\x00" in value for key, value in environ.items()
               if key.startswith(("HTTP_", "CONTENT_")) and isinstance(value, str))


def _json_texts(where: str, value) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key), str(key)
            yield from _json_texts(str(key), item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_texts(where, item)


def check_int(value: int, where: str) -> int:
    if not -MAX_INT - 1 <= value <= MAX_INT:
        raise ValueOutOfRange(f"{where}: {str(value)[:24]}")
    return value


def check_date(value: dt.date, where: str) -> dt.date:
    """A date, or a datetime (converted to UTC, so an offset cannot carry it out of the calendar), within range."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            try:
                value.astimezone(dt.UTC)
            except OverflowError as exc:
                raise ValueOutOfRange(f"{where}: {value.isoformat()}") from exc
        day = value.date()
    else:
        day = value
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueOutOfRange(f"{where}: {value.isoformat()}")
    return value


def _check_loaded(where: str, value) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        check_int(value, where)
    elif isinstance(value, (dt.date, dt.datetime)):
        check_date(value, where)
    elif isinstance(value, str) and "\x00" in value:
        raise NulCharacter(where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_loaded(str(key), item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _check_loaded(where, item)


class BoundarySchema(Schema):
    def load(self, data, **kwargs):
        try:
            loaded = super().load(data, **kwargs)
        except ValidationError as exc:
            raise BadRequest("; ".join(f"{key}: {' '.join(map(str, value))}"
                                       for key, value in exc.messages.items())) from exc
        _check_loaded("", {field.name: getattr(loaded, field.name) for field in dataclasses.fields(loaded)}
                      if dataclasses.is_dataclass(loaded) else loaded)
        return loaded
