"""The signed-in staff member of a web request (the pages' counterpart of OpenRosa's authenticate)."""

from __future__ import annotations

from flask import g, session

from server.accounts.operations import session_principal
from server.users.queries import Principal
from sync.errors import LoginRequired

__all__ = ["current_staff", "require_staff", "open_session", "close_session"]


def current_staff() -> Principal | None:
    if "staff" not in g:
        g.staff = session_principal(session.get("username"), session.get("fingerprint"))
    return g.staff


def require_staff() -> Principal:
    principal = current_staff()
    if principal is None:
        raise LoginRequired()
    return principal


def open_session(principal: Principal, fingerprint: str) -> None:
    session.clear()
    session.permanent = True
    session["username"], session["fingerprint"] = principal.username, fingerprint
    g.staff = principal


def close_session() -> None:
    session.clear()
    g.staff = None
