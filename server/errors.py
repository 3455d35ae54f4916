"""Rendering TaizhangErrors per channel: OpenRosa XML for Collect, JSON for the API, for people a page in the site's
layout (or plain text for a client that does not ask for HTML)."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
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


def _wants_html() -> bool:
    """Whether the client asks for HTML rather than text (a browser does; curl and programs sending */* do not)."""
    return request.accept_mimetypes.best_match(("text/plain", "text/html")) == "text/html"


def _way_back() -> str | None:
    """The page the person came from, when it is on this site (its path and query only), else None."""
    try:
        referrer, own = urlsplit(request.referrer or ""), urlsplit(request.host_url)
    except ValueError:  # not a URL (e.g. a broken IPv6 address)
        return None
    if (referrer.scheme, referrer.netloc) != (own.scheme, own.netloc) or not referrer.path.startswith("/") \
            or referrer.path.startswith("//") or "\\" in referrer.path:
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def _page_words(error: errors.TaizhangError) -> tuple[str, str, str]:
    """The heading, the message and what to do, in the reader's language."""
    zh = str(get_locale()) == "zh"
    message = error.message_zh if zh else error.message_en
    if isinstance(error, errors.FormTokenInvalid):
        return (_("This page has expired"),
                _("This page has expired (it was open too long, or you signed out elsewhere), or the form did not "
                  "come from this site."),
                _("Go back, reload the page and submit it again."))
    if isinstance(error, errors.ServiceUnavailable):  # its message speaks to a phone
        message = _("The server is busy, or its database is away for a moment.")
    if error.status >= 500:
        return (_("Something went wrong on the server"), message,
                _("Try again in a few minutes. If it keeps happening, tell the person who looks after this server "
                  "what you were doing and when."))
    words = {
        400: (_("The request could not be used"), _("Check what you entered and try again.")),
        403: (_("Not allowed"), _("This is outside your area or your role. If you need it, ask the town office.")),
        404: (_("Page not found"),
              _("The address may be mistyped, or the record may have been merged or removed. Start again from "
                "your home page.")),
        405: (_("This address cannot be used this way"),
              _("Use the buttons and links on the pages rather than typing the address.")),
        409: (_("Not done"), _("Reload the page to see how things stand now, then try again.")),
        413: (_("Too large"), _("Send a smaller file.")),
        415: (_("The request could not be used"), _("Check what you entered and try again.")),
        429: (_("Too many attempts"), _("Wait a few minutes, then try again.")),
    }
    heading, advice = words.get(error.status, words[400])
    return heading, message, advice


def _page(error: errors.TaizhangError) -> Response:
    """The error as a page in the site's layout, with the HTTP status kept; a server error shows no details."""
    heading, message, advice = _page_words(error)
    back = _way_back()
    body = render_template("error.html", heading=heading, message=message, advice=advice,
                           back=back or url_for("accounts.home"), back_to_previous=back is not None,
                           code=error.code, detail=error.detail if error.status < 500 else None)
    return Response(body, status=error.status, content_type="text/html; charset=utf-8")


def _text(error: errors.TaizhangError) -> Response:
    return Response(error.message() + "\n", status=error.status, content_type="text/plain; charset=utf-8")


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
    elif _wants_html() and not isinstance(error, errors.Unauthorized):
        try:
            response = _page(error)
        except Exception as failure:  # the page needs the database (who is signed in): say it in plain text
            log.error("error page for %s not rendered: %s", error.code, type(failure).__name__)
            db.session.rollback()
            response = _text(error)
    else:
        response = _text(error)
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
