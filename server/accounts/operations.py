"""Signing staff in: passwords checked against the web hash, sessions bound to the password they were opened with."""

from __future__ import annotations

import hashlib

from flask import current_app

from server.users import credentials
from server.users import queries as user_queries
from server.users.operations import set_password
from server.users.queries import Principal
from sync.access import STAFF_ROLES
from sync.errors import Forbidden, LoginFailed, PasswordRejected

__all__ = ["log_in", "session_principal", "change_password", "MIN_PASSWORD_LENGTH"]

MIN_PASSWORD_LENGTH = 10


def _fingerprint(password_hash: str) -> str:
    """Ties a session to the password it was opened with: changing the password ends every other session."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def log_in(username: str, password: str) -> tuple[Principal, str]:
    """The staff member with this name and password, and the session fingerprint; LoginFailed otherwise (the
    same answer for an unknown name and a wrong password)."""
    user = user_queries.by_username(username)
    if user is None or not user.active or not credentials.check_web_password(user.password_hash, password):
        raise LoginFailed()
    if user.role not in STAFF_ROLES:
        raise Forbidden("collectors use ODK Collect, not the web pages")
    return user_queries.principal_by_username(username), _fingerprint(user.password_hash)


def session_principal(username: str | None, fingerprint: str | None) -> Principal | None:
    """The staff member a session belongs to, if the session is still valid."""
    user = user_queries.by_username(username) if username else None
    if user is None or not user.active or user.role not in STAFF_ROLES or fingerprint != _fingerprint(
            user.password_hash):
        return None
    return user_queries.principal_by_username(username)


def change_password(principal: Principal, current: str, new: str) -> str:
    """Change one's own password (the Digest HA1 with it); returns the new session fingerprint."""
    user = user_queries.by_username(principal.username)
    if not credentials.check_web_password(user.password_hash, current):
        raise LoginFailed()
    if len(new) < MIN_PASSWORD_LENGTH or new.lower() == principal.username.lower():
        raise PasswordRejected()
    set_password(principal.username, new, realm=current_app.config["TAIZHANG_REALM"])
    return _fingerprint(user.password_hash)
