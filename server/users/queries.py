"""User look-ups: the authenticated principal for OpenRosa requests, and admin listings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from server.areas.models import Area
from server.database import lookup_connection
from server.extensions import db
from server.lookup_cache import lookup_cache
from server.users.models import User


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request, with what they need for scoping; detached from the session."""

    id: int
    username: str
    role: str
    area_path: str | None
    digest_ha1: str
    digest_realm: str
    area_id: int | None = None


_PRINCIPAL = (select(User.id, User.username, User.role, Area.path, User.digest_ha1, User.digest_realm, User.area_id)
              .outerjoin(Area, Area.id == User.area_id).where(User.active.is_(True)))
# Built once: these run on every OpenRosa request.
_PRINCIPAL_BY_USERNAME = _PRINCIPAL.where(User.username == bindparam("key"))
_PRINCIPAL_BY_TOKEN_HASH = _PRINCIPAL.where(User.token_hash == bindparam("key"))


def _principal(statement, key: str) -> Principal | None:
    with lookup_connection() as connection:
        row = connection.execute(statement, {"key": key}).first()
    return Principal(*row) if row else None


def principal_by_username(username: str) -> Principal | None:
    return lookup_cache().get(("username", username), lambda: _principal(_PRINCIPAL_BY_USERNAME, username))


def principal_by_token_hash(token_hash: str) -> Principal | None:
    return lookup_cache().get(("token", token_hash), lambda: _principal(_PRINCIPAL_BY_TOKEN_HASH, token_hash))


def by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def all_users() -> list[tuple[User, str | None]]:
    return list(db.session.execute(
        select(User, Area.full_name).outerjoin(Area, Area.id == User.area_id).order_by(User.username)))


def collectors_in(area_path: str | None) -> list[tuple[User, str]]:
    """Collectors whose group lies in an area (all of them for the county), with the group's full name."""
    query = (select(User, Area.full_name).join(Area, Area.id == User.area_id)
             .where(User.role == "collector").order_by(Area.full_name, User.username))
    if area_path is not None:
        query = query.where(Area.path.startswith(area_path))
    return list(db.session.execute(query))


def user_area_path(username: str) -> str | None:
    return db.session.scalar(select(Area.path).join(User, User.area_id == Area.id).where(User.username == username))
