"""Signing staff in and out: passwords checked against the web hash (a dummy hash for unknown names), failed
attempts limited, sessions held on the server so that signing out, a new password or revocation ends them."""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app

from server import clock
from server.principal import Principal
from server.users import credentials
from server.users import queries as user_queries
from server.users.guard import SignInAttempt, valid_username
from server.users.operations import set_password
from sync.access import STAFF_ROLES
from sync.errors import Forbidden, LoginFailed, PasswordRejected

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "change_password",
    "close_session",
    "log_in",
    "open_session",
    "session_principal",
]

MIN_PASSWORD_LENGTH = 10


def _key_hash(key: str) -> str:
    """Only a hash of the session key is stored: the table alone opens no session."""
    return hashlib.sha256(key.encode()).hexdigest()


def log_in(username: str, password: str, address: str | None) -> Principal:
    """The staff member with this name and password; LoginFailed otherwise (the same answer, after the same work,
    for an unknown name, a revoked account and a wrong password), SignInLocked after too many failures."""
    attempt = SignInAttempt(username, address)
    attempt.check()
    found = user_queries.password_check_row(username) if valid_username(username) else None
    right = credentials.check_web_password(found.password_hash if found else None, password)
    if found is None or not found.active or not right:
        attempt.failed()
        raise LoginFailed()
    attempt.succeeded()
    if found.role not in STAFF_ROLES:
        raise Forbidden("collectors use ODK Collect, not the web pages")
    return user_queries.principal_by_username(username)


def open_session(principal: Principal) -> str:
    """A new server-side session for the staff member; returns the key the session cookie carries."""
    now = clock.now()
    key = secrets.token_urlsafe(32)
    user_queries.forget_expired_sessions(now)
    user_queries.add_session(principal.id, _key_hash(key), now, now + current_app.permanent_session_lifetime)
    return key


def session_principal(key: str | None) -> Principal | None:
    """The staff member a session key belongs to, while the session is open and the account active."""
    if not key:
        return None
    username = user_queries.session_user(_key_hash(key), clock.now())
    principal = user_queries.principal_by_username(username) if username else None
    return principal if principal is not None and principal.role in STAFF_ROLES else None


def close_session(key: str | None) -> None:
    """Signing out: the session ends on the server, so a copy of the cookie no longer opens it."""
    if key:
        user_queries.end_session(_key_hash(key))


def change_password(principal: Principal, current: str, new: str, session_key: str) -> None:
    """Change one's own password (the Digest HA1 with it); every other session of the user ends."""
    user = user_queries.by_username(principal.username)
    if not credentials.check_web_password(user.password_hash, current):
        raise LoginFailed()
    if len(new) < MIN_PASSWORD_LENGTH or new.lower() == principal.username.lower():
        raise PasswordRejected()
    set_password(principal.username, new, realm=current_app.config["TAIZHANG_REALM"],
                 keep_session_key_hash=_key_hash(session_key))
