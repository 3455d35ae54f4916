"""Adding users, setting passwords and rotating app tokens."""

from __future__ import annotations

from dataclasses import dataclass

from server.areas.operations import find_area
from server.extensions import db
from server.lookup_cache import lookup_cache
from server.users import credentials, queries
from server.users.models import ROLES, User
from sync.errors import BadRequest, Conflict

__all__ = ["NewCredentials", "add_user", "set_password", "rotate_token", "revoke_token"]

# The area kind each role is tied to.
ROLE_AREA_KIND = {"collector": "group", "village_cadre": "village", "town_officer": "town", "county_admin": None}


@dataclass(frozen=True, slots=True)
class NewCredentials:
    username: str
    password: str | None
    token: str | None


def add_user(username: str, role: str, area_full_name: str | None, *, realm: str, display_name: str | None = None,
             password: str | None = None, with_token: bool | None = None) -> NewCredentials:
    """Create a user; a collector gets a generated password and an app token unless told otherwise."""
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 64 or ":" in username or username != username.strip():
        raise BadRequest("user name: 1–64 characters, no colon, no surrounding spaces")
    if queries.by_username(username) is not None:
        raise Conflict(f"user {username!r} exists")
    kind = ROLE_AREA_KIND[role]
    area = None
    if kind is not None:
        if not area_full_name:
            raise BadRequest(f"a {role} needs --area (a {kind})")
        area = find_area(area_full_name)
        if area.kind != kind:
            raise BadRequest(f"a {role} belongs to a {kind}, but {area_full_name!r} is a {area.kind}")
    elif area_full_name:
        raise BadRequest("a county admin has no area")
    password = password or credentials.new_password()
    user = User(username=username, display_name=display_name or username, role=role,
                area_id=area.id if area else None, password_hash=credentials.hash_web_password(password),
                digest_ha1=credentials.digest_ha1(username, realm, password), digest_realm=realm)
    token = None
    if with_token if with_token is not None else role == "collector":
        token = credentials.new_token()
        user.token_hash = credentials.token_hash(token)
    db.session.add(user)
    db.session.flush()
    lookup_cache().clear()
    return NewCredentials(username=username, password=password, token=token)


def _user(username: str) -> User:
    user = queries.by_username(username)
    if user is None:
        raise BadRequest(f"no user {username!r}")
    return user


def set_password(username: str, password: str | None, *, realm: str) -> NewCredentials:
    """Set (or generate) a password: updates the web hash and the Digest HA1 together."""
    user = _user(username)
    password = password or credentials.new_password()
    user.password_hash = credentials.hash_web_password(password)
    user.digest_ha1 = credentials.digest_ha1(username, realm, password)
    user.digest_realm = realm
    lookup_cache().clear()
    return NewCredentials(username=username, password=password, token=None)


def rotate_token(username: str) -> NewCredentials:
    """Issue a new app token; the old token URL stops working at once."""
    user = _user(username)
    token = credentials.new_token()
    user.token_hash = credentials.token_hash(token)
    lookup_cache().clear()
    return NewCredentials(username=username, password=None, token=token)


def revoke_token(username: str) -> None:
    _user(username).token_hash = None
    lookup_cache().clear()


# ---- collector onboarding by the town office --------------------------------------------------------------------

def _may_onboard(principal, area_path: str | None) -> None:
    from sync.access import TOWN_OFFICE_ROLES, area_contains
    from sync.errors import Forbidden

    if principal.role not in TOWN_OFFICE_ROLES or not area_contains(principal.area_path, area_path):
        raise Forbidden("collectors are set up by the town office of their group")


def collectors_for(principal) -> list[tuple[User, str]]:
    """The collectors of the officer's area, with their groups."""
    _may_onboard(principal, principal.area_path)
    return queries.collectors_in(principal.area_path)


def onboard_collector(principal, username: str, display_name: str, group_full_name: str, *,
                      realm: str) -> NewCredentials:
    """Create a collector of a group in the officer's area, with a token for the QR code (the audit log says who)."""
    from server.audit import queries as audit

    group = find_area(group_full_name)
    _may_onboard(principal, group.path)
    created = add_user(username, "collector", group_full_name, realm=realm, display_name=display_name or username,
                       with_token=True)
    audit.record(principal.id, "collector.create", area_path=group.path, subject=username)
    return created


def reissue_collector_token(principal, username: str) -> NewCredentials:
    """A new QR code for a collector (a new phone): the old token stops working."""
    from server.audit import queries as audit

    path = queries.user_area_path(username)
    _may_onboard(principal, path)
    if _user(username).role != "collector":
        raise BadRequest(f"{username!r} is not a collector")
    _user(username).active = True
    created = rotate_token(username)
    audit.record(principal.id, "collector.token", area_path=path, subject=username)
    return created


def revoke_collector(principal, username: str) -> None:
    """Stop a collector's phone and password from working (a lost phone, a collector who left)."""
    from server.audit import queries as audit

    path = queries.user_area_path(username)
    _may_onboard(principal, path)
    user = _user(username)
    user.token_hash, user.active = None, False
    lookup_cache().clear()
    audit.record(principal.id, "collector.revoke", area_path=path, subject=username)
