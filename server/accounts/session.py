"""The signed-in staff member of a web request (the pages' counterpart of OpenRosa's authenticate)."""

from __future__ import annotations

from flask import g, session
from flask.sessions import SecureCookieSessionInterface

from server.accounts import operations
from server.principal import Principal
from sync.errors import LoginRequired

__all__ = ["CookieSessions", "close_session", "current_staff", "open_session", "require_staff", "session_key"]


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the cookie's signer for a request that carries no session
    cookie (every request of Collect's): the same empty session, for a sixth less of the CPU a HEAD /submission costs
    the app (docs/benchmarks.md § Issue 22 (round 2), intake)."""

    def open_session(self, app, request):
        if app.secret_key and ("HTTP_COOKIE" not in request.environ   # no cookie at all: none parsed
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)


def session_key() -> str | None:
    """The server-side session's key, carried in the signed cookie."""
    return session.get("key")


def current_staff() -> Principal | None:
    if "staff" not in g:
        g.staff = operations.session_principal(session_key())
    return g.staff


def require_staff() -> Principal:
    principal = current_staff()
    if principal is None:
        raise LoginRequired()
    return principal


def open_session(principal: Principal) -> None:
    """A fresh session (a new key: one held before signing in is never carried over)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session.permanent = True
    session["key"] = operations.open_session(principal)
    g.staff = principal


def close_session() -> None:
    operations.close_session(session_key())
    session.clear()
    g.staff = None
