"""User look-ups: the authenticated principal for OpenRosa requests, and admin listings."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from server.areas.models import Area
from server.audit.models import AuditEvent
from server.database import lookup_connection
from server.extensions import db
from server.lookup_cache import lookup_cache
from server.principal import Principal
from server.users.models import AuthThrottle, DigestNonceUse, StaffSession, User
from sync.periods import as_utc


class UserInArea(NamedTuple):
    """An account with the full name of its area (None for a county account)."""

    user: User
    area_full_name: str | None


class GroupChoice(NamedTuple):
    """A group as a menu offers it: its id (the value sent) and its full name (shown by its names)."""

    id: int
    full_name: str


class PasswordCheck(NamedTuple):
    """What signing in with a password needs to know of a user name."""

    user_id: int
    password_hash: str
    active: bool
    role: str


class ThrottleCount(NamedTuple):
    """A sign-in throttle key's failures in its window, and until when it is locked."""

    key: str
    failures: int
    locked_until: dt.datetime | None


class AuditSubject(NamedTuple):
    """Whom an audit event written outside a request is about."""

    user_id: int
    area_path: str | None


_PRINCIPAL = (select(User.id, User.username, User.role, Area.path.label("area_path"), User.digest_ha1,
                     User.digest_realm, User.area_id)
              .outerjoin(Area, Area.id == User.area_id).where(User.active.is_(True)))
# Built once: these run on every OpenRosa request.
_PRINCIPAL_BY_USERNAME = _PRINCIPAL.where(User.username == bindparam("key"))
_PRINCIPAL_BY_TOKEN_HASH = _PRINCIPAL.where(User.token_hash == bindparam("key"))


def _principal(statement, key: str) -> Principal | None:
    with lookup_connection() as connection:
        row = connection.execute(statement, {"key": key}).first()
    return Principal(**row._mapping) if row else None


def principal_by_username(username: str) -> Principal | None:
    return lookup_cache().get(("username", username), lambda: _principal(_PRINCIPAL_BY_USERNAME, username))


def principal_by_token_hash(token_hash: str) -> Principal | None:
    return lookup_cache().get(("token", token_hash), lambda: _principal(_PRINCIPAL_BY_TOKEN_HASH, token_hash))


def by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def _users_in_areas(query) -> list[UserInArea]:
    return [UserInArea(row.User, row.full_name) for row in db.session.execute(query)]


def all_users() -> list[UserInArea]:
    return _users_in_areas(
        select(User, Area.full_name).outerjoin(Area, Area.id == User.area_id).order_by(User.username))


def collectors_in(area_path: str | None) -> list[UserInArea]:
    """Collectors whose group lies in an area (all of them for the county), with the group's full name."""
    query = (select(User, Area.full_name).join(Area, Area.id == User.area_id)
             .where(User.role == "collector").order_by(Area.full_name, User.display_name, User.username))
    if area_path is not None:
        query = query.where(Area.path.startswith(area_path))
    return _users_in_areas(query)


class TownCollectors(NamedTuple):
    """A town's collectors counted: active, revoked, and active without a QR code yet."""

    active: int
    revoked: int
    without_code: int


def collectors_by_town() -> dict[int, TownCollectors]:
    """Every collector of the county counted by the town of their group (town id → counts)."""
    counts: dict[int, list[int]] = {}
    query = select(User.active, User.token_hash.is_not(None).label("has_code"), Area.path).join(
        Area, Area.id == User.area_id).where(User.role == "collector")
    for row in db.session.execute(query):
        town = counts.setdefault(int(row.path.strip("/").split("/")[0]), [0, 0, 0])
        town[0 if row.active else 1] += 1
        town[2] += row.active and not row.has_code
    return {town: TownCollectors(*figures) for town, figures in counts.items()}


def groups_within(area_path: str | None) -> list[GroupChoice]:
    """The groups inside an area (all of them for the county), by full name."""
    query = select(Area.id, Area.full_name).where(Area.kind == "group").order_by(Area.full_name)
    if area_path is not None:
        query = query.where(Area.path.startswith(area_path))
    return [GroupChoice(row.id, row.full_name) for row in db.session.execute(query)]


def user_area_path(username: str) -> str | None:
    return db.session.scalar(select(Area.path).join(User, User.area_id == Area.id).where(User.username == username))


def managed_accounts_in(area_path: str | None, roles: tuple[str, ...]) -> list[UserInArea]:
    """Accounts of these roles whose area lies in an area (all of them for the county), with the area's name."""
    query = (select(User, Area.full_name).outerjoin(Area, Area.id == User.area_id)
             .where(User.role.in_(roles)).order_by(User.role, Area.full_name, User.username))
    if area_path is not None:
        query = query.where(Area.path.startswith(area_path))
    return _users_in_areas(query)


def by_id(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def area_path_of(user: User) -> str | None:
    return db.session.scalar(select(Area.path).where(Area.id == user.area_id)) if user.area_id else None


def password_check_row(username: str) -> PasswordCheck | None:
    """The id, password hash, state and role of a user name, outside the request's transaction."""
    with lookup_connection() as connection:
        row = connection.execute(select(User.id, User.password_hash, User.active, User.role)
                                 .where(User.username == username)).first()
    return PasswordCheck(row.id, row.password_hash, row.active, row.role) if row else None


# ---- server-side staff sessions --------------------------------------------------------------------------------

def add_session(user_id: int, key_hash: str, created: dt.datetime, expires: dt.datetime) -> None:
    db.session.add(StaffSession(key_hash=key_hash, user_id=user_id, created_at=created, expires_at=expires))


def session_user(key_hash: str, now: dt.datetime) -> str | None:
    """The user name of a live session of an active user; one autocommit query (no transaction, no lock)."""
    with lookup_connection() as connection:
        return connection.execute(
            select(User.username).join(StaffSession, StaffSession.user_id == User.id)
            .where(StaffSession.key_hash == key_hash, StaffSession.expires_at > now, User.active.is_(True))).scalar()


def end_session(key_hash: str) -> None:
    db.session.execute(delete(StaffSession).where(StaffSession.key_hash == key_hash))


def end_sessions(user_id: int, *, keep_key_hash: str | None = None) -> None:
    """End every session of a user (but the one kept: the session that changed the password)."""
    query = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep_key_hash is not None:
        query = query.where(StaffSession.key_hash != keep_key_hash)
    db.session.execute(query)


def forget_expired_sessions(now: dt.datetime) -> None:
    db.session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))


# ---- failed sign-ins and used Digest nonce counts (own transactions: they outlive a refused request) ------------

_THROTTLE = AuthThrottle.__table__


def throttle_rows(connection: Connection, keys: list[str]) -> list[ThrottleCount]:
    rows = connection.execute(select(_THROTTLE.c.key, _THROTTLE.c.failures, _THROTTLE.c.locked_until)
                              .where(_THROTTLE.c.key.in_(keys))).all()
    return [ThrottleCount(row.key, row.failures, as_utc(row.locked_until) if row.locked_until else None)
            for row in rows]


def _upsert(connection: Connection):
    return (postgresql if connection.dialect.name == "postgresql" else sqlite).insert


def count_failure(connection: Connection, key: str, now: dt.datetime, window_started_after: dt.datetime) -> int:
    """One more failure for a key (a new window once the old one has passed); the failures in the window."""
    table = _THROTTLE
    expired = table.c.window_started <= window_started_after
    statement = _upsert(connection)(table).values(key=key, failures=1, window_started=now, locked_until=None)
    statement = statement.on_conflict_do_update(index_elements=[table.c.key], set_={
        "failures": case((expired, 1), else_=table.c.failures + 1),
        "window_started": case((expired, now), else_=table.c.window_started),
    }).returning(table.c.failures)
    return connection.execute(statement).scalar_one()


def forget_old_failures(connection: Connection, window_started_before: dt.datetime, now: dt.datetime) -> None:
    """Counts whose window has passed and that lock nothing (names tried once, addresses gone quiet)."""
    connection.execute(delete(_THROTTLE).where(_THROTTLE.c.window_started <= window_started_before).where(
        (_THROTTLE.c.locked_until.is_(None)) | (_THROTTLE.c.locked_until <= now)))


def lock(connection: Connection, key: str, limit: int, now: dt.datetime, until: dt.datetime) -> bool:
    """Lock a key that has reached its limit; True for the one request that set the lock."""
    result = connection.execute(update(_THROTTLE).where(_THROTTLE.c.key == key, _THROTTLE.c.failures >= limit)
                                .values(failures=0, window_started=now, locked_until=until))
    return result.rowcount == 1


def clear_failures(connection: Connection, key: str, now: dt.datetime) -> None:
    connection.execute(delete(_THROTTLE).where(_THROTTLE.c.key == key).where(
        (_THROTTLE.c.locked_until.is_(None)) | (_THROTTLE.c.locked_until <= now)))


def record_event(connection: Connection, action: str, *, at: dt.datetime, user_id: int | None,
                 area_path: str | None, subject: str) -> None:
    """An audit event written in this connection's own transaction (the refused request's is rolled back)."""
    connection.execute(AuditEvent.__table__.insert().values(at=at, user_id=user_id, action=action,
                                                            area_path=area_path, subject=subject, records=0))


def user_for_audit(connection: Connection, username: str) -> AuditSubject | None:
    row = connection.execute(select(User.id, Area.path).outerjoin(Area, Area.id == User.area_id)
                             .where(User.username == username)).first()
    return AuditSubject(row.id, row.path) if row else None


def use_nonce_count(connection: Connection, nonce: str, nc: str, issued_at: dt.datetime) -> bool:
    """Record that a Digest nonce was used with this count; False when it was used with it before (a replay)."""
    table = DigestNonceUse.__table__
    statement = (_upsert(connection)(table).values(nonce=nonce, nc=nc, issued_at=issued_at)
                 .on_conflict_do_nothing(index_elements=[table.c.nonce, table.c.nc]).returning(table.c.nonce))
    return connection.execute(statement).first() is not None


def forget_nonces(connection: Connection, issued_before: dt.datetime) -> None:
    connection.execute(delete(DigestNonceUse).where(DigestNonceUse.issued_at < issued_before))
