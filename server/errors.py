"""Rendering TaizhangErrors per channel: OpenRosa XML for Collect, JSON for the API, text for people."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify, redirect, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from server.database import translate_db_error
from server.extensions import db
from server.openrosa import formats
from server.openrosa.auth import challenge_headers
from sync import errors

__all__ = ["register_error_handlers", "channel"]

log = logging.getLogger(__name__)

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_HTTP_ERRORS: dict[int, type[errors.TaizhangError]] = {
    400: errors.BadRequest, 401: errors.Unauthorized, 403: errors.Forbidden, 404: errors.NotFound,
    405: errors.MethodNotAllowed, 413: errors.PayloadTooLarge, 415: errors.UnsupportedMediaType,
    429: errors.TooManyRequests,
}


def channel() -> str:
    """Which wire format this request speaks: 'openrosa', 'json' or 'text'."""
    if (request.blueprint or "").startswith("openrosa") or "X-OpenRosa-Version" in request.headers \
            or request.path.startswith("/key/"):
        return "openrosa"
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return "json"
    return "text"


def _xml_text(text: str) -> str:
    """A message that may quote what was sent, with the characters XML cannot hold replaced (U+FFFD)."""
    return _NOT_XML.sub("\ufffd", text)


def render(error: errors.TaizhangError) -> Response:
    db.session.rollback()  # nothing of a failed request is kept
    kind = channel()
    if kind == "openrosa":
        response = Response(formats.response_message(_xml_text(error.message()), nature="error"), status=error.status,
                            content_type=formats.XML_CONTENT_TYPE)
    elif kind == "json":
        response = jsonify(code=error.code, message=error.message(), message_zh=error.message_zh,
                           message_en=error.message_en, detail=error.detail)
        response.status_code = error.status
    elif isinstance(error, errors.LoginRequired):
        return redirect(url_for("accounts.login_form", next=request.full_path.rstrip("?")))
    else:
        response = Response(error.message() + "\n", status=error.status, content_type="text/plain; charset=utf-8")
    if error.context.get("retry_after"):
        response.headers["Retry-After"] = str(error.context["retry_after"])
    if isinstance(error, errors.Unauthorized) and not isinstance(error, (errors.LoginRequired, errors.LoginFailed)):
        for name, value in challenge_headers(stale=bool(error.context.get("stale"))):
            response.headers.add(name, value)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.TaizhangError)
    def _taizhang_error(error: errors.TaizhangError):
        return render(error)

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError):
        return render(translate_db_error(error))

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return render(errors.FormTokenInvalid(error.description))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        mapped = _HTTP_ERRORS.get(error.code or 500, errors.TaizhangError)
        return render(mapped())

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # Log the type and place only: request bodies and arguments may hold personal data.
        log.error("unexpected %s on %s %s", type(error).__name__, request.method, request.url_rule,
                  exc_info=(type(error), error, None))
        return render(errors.TaizhangError())
