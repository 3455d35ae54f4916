"""Failed sign-in limits per user name and per client address, and single-use Digest nonce counts, kept in the
database so that every worker process and app server shares them."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from flask import current_app

from server import clock
from server.database import lookup_connection
from server.extensions import db
from server.lookup_cache import lookup_cache
from server.users import queries
from sync.errors import SignInLocked

__all__ = ["LOCK_ACTION", "SignInAttempt", "use_nonce_count", "valid_username"]

LOCK_ACTION = "signin.locked"  # audit action: a user name or address reached its limit and is locked


def valid_username(username: str | None) -> bool:
    """A name that can be a user's (what add_user allows); anything else is looked up nowhere."""
    return bool(username) and len(username) <= 64 and "\x00" not in username and ":" not in username


@dataclass
class SignInAttempt:
    """One sign-in by name (web, Digest, Basic) or by token (address only) from one client address.

    Call `check()` before looking at the credentials, then `failed()` or `succeeded()`; on SQLite no transaction of
    the request's session may be open (the counts commit in their own transaction: a refused request keeps them).
    """

    username: str | None
    address: str | None
    _failures_on_record: bool = field(default=False, init=False)

    def _limits(self) -> dict[str, int]:
        config = current_app.config
        limits = {}
        if valid_username(self.username):
            limits[f"user:{self.username}"] = config["TAIZHANG_SIGNIN_FAILURES_PER_USER"]
        if self.address and "\x00" not in self.address:
            limits[f"address:{self.address[:100]}"] = config["TAIZHANG_SIGNIN_FAILURES_PER_ADDRESS"]
        return limits

    def check(self) -> None:
        """SignInLocked (429, with the seconds to wait) while the user name or the address is locked.

        A sign-in by token (no user name) reads the address's counts through the per-process look-up cache: a token
        cannot be guessed, so a lock set by another worker may reach this one within TAIZHANG_LOOKUP_CACHE_SECONDS
        (this worker's own failures forget its copy at once, and every failure is counted in the database at once),
        and Collect's HEAD and POST cost no query here. A sign-in by name (a password that could be guessed) reads
        the counts every time."""
        limits = self._limits()
        if not limits:
            return
        now = clock.now()
        if self.username is None:
            rows = lookup_cache().get(self._cache_key(limits), lambda: self._read(limits))
        else:
            rows = self._read(limits)
        self._failures_on_record = any(row.key.startswith("user:") and row.failures for row in rows)
        until = max((row.locked_until for row in rows if row.locked_until is not None and row.locked_until > now),
                    default=None)
        if until is not None:
            raise SignInLocked(retry_after=max(1, math.ceil((until - now).total_seconds())))

    @staticmethod
    def _read(limits: dict[str, int]) -> tuple[queries.ThrottleCount, ...]:
        with lookup_connection() as connection:
            return tuple(queries.throttle_rows(connection, list(limits)))

    @staticmethod
    def _cache_key(limits: dict[str, int]) -> tuple:
        return ("throttle", *limits)

    def failed(self) -> None:
        """Count a failure for the name and the address; the one that reaches a limit locks it (audited)."""
        limits = self._limits()
        if not limits:
            return
        lookup_cache().discard(self._cache_key({key: 0 for key in limits if key.startswith("address:")}))
        config = current_app.config
        now = clock.now()
        window = dt.timedelta(seconds=config["TAIZHANG_SIGNIN_WINDOW"])
        until = now + dt.timedelta(seconds=config["TAIZHANG_SIGNIN_LOCKOUT"])
        with db.engine.begin() as connection:
            queries.forget_old_failures(connection, now - window, now)
            for key, limit in limits.items():
                failures = queries.count_failure(connection, key, now, now - window)
                if failures >= limit and queries.lock(connection, key, limit, now, until):
                    user = queries.user_for_audit(connection, self.username) if key.startswith("user:") else None
                    queries.record_event(connection, LOCK_ACTION, at=now, user_id=user.user_id if user else None,
                                         area_path=user.area_path if user else None, subject=key[:100])

    def succeeded(self) -> None:
        """A right password forgets the name's earlier failures (never the address's)."""
        if self._failures_on_record:
            with db.engine.begin() as connection:
                queries.clear_failures(connection, f"user:{self.username}", clock.now())


def use_nonce_count(nonce: str, nc: str, issued_at: dt.datetime) -> bool:
    """Record a Digest (nonce, nc) as used; False if it was used before. A nonce's first use forgets the uses of
    nonces old enough to be stale anyway (they are refused before this check)."""
    with lookup_connection() as connection:
        fresh = queries.use_nonce_count(connection, nonce, nc, issued_at)
        if fresh and nc in ("", "00000001"):
            ttl = current_app.config["TAIZHANG_NONCE_TTL"]
            queries.forget_nonces(connection, clock.now() - dt.timedelta(seconds=ttl + 120))
    return fresh
