"""Adding users, setting passwords and rotating app tokens."""

from __future__ import annotations

from dataclasses import dataclass

from server.areas import queries as area_queries
from server.areas.operations import find_area
from server.audit import queries as audit
from server.extensions import db
from server.lookup_cache import lookup_cache
from server.users import credentials, queries
from server.users.models import ROLES, User
from sync.access import TOWN_OFFICE_ROLES, area_contains
from sync.errors import BadRequest, Conflict, Forbidden

__all__ = [
    "MANAGED_ROLES",
    "CollectorCode",
    "NewCredentials",
    "accounts_for",
    "activate_account",
    "add_user",
    "collector_groups",
    "collectors_by_town",
    "collectors_for",
    "managed_collector",
    "may_manage",
    "onboard_collector",
    "reissue_collector_token",
    "revoke_account",
    "revoke_token",
    "rotate_token",
    "set_password",
]

# The area kind each role is tied to.
ROLE_AREA_KIND = {"collector": "group", "village_cadre": "village", "town_officer": "town", "county_admin": None}


@dataclass(frozen=True, slots=True)
class NewCredentials:
    username: str
    password: str | None
    token: str | None


@dataclass(frozen=True, slots=True)
class CollectorCode:
    """What a collector's QR page shows: who, their group, and the new app token (shown this once)."""

    username: str
    display_name: str
    group_full_name: str
    token: str


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


def set_password(username: str, password: str | None, *, realm: str,
                 keep_session_key_hash: str | None = None) -> NewCredentials:
    """Set (or generate) a password: updates the web hash and the Digest HA1 together and ends the user's web
    sessions (but the one kept: the session that changed its own password)."""
    user = _user(username)
    password = password or credentials.new_password()
    user.password_hash = credentials.hash_web_password(password)
    user.digest_ha1 = credentials.digest_ha1(username, realm, password)
    user.digest_realm = realm
    queries.end_sessions(user.id, keep_key_hash=keep_session_key_hash)
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


# ---- collector onboarding and accounts by the town office -------------------------------------------------------

# Whose accounts a role may revoke and re-activate: a town officer the collectors and village cadres of the own town,
# the county administrator those and the town officers; nobody other administrators or themselves.
MANAGED_ROLES = {"town_officer": ("collector", "village_cadre"),
                 "county_admin": ("collector", "village_cadre", "town_officer")}


def _may_onboard(principal, area_path: str | None) -> None:
    if principal.role not in TOWN_OFFICE_ROLES or not area_contains(principal.area_path, area_path):
        raise Forbidden("collectors are set up by the town office of their group")


def may_manage(principal, role: str, area_path: str | None, user_id: int) -> bool:
    """Whether the principal may revoke or re-activate an account of this role and area."""
    return (role in MANAGED_ROLES.get(principal.role, ()) and user_id != principal.id
            and area_path is not None and area_contains(principal.area_path, area_path))


def collectors_for(principal, path: str | None = None) -> list[queries.UserInArea]:
    """The collectors of an area of the officer's (by default their own), with their groups."""
    path = principal.area_path if path is None else path
    _may_onboard(principal, path)
    return queries.collectors_in(path)


def collectors_by_town(principal) -> dict[int, queries.TownCollectors]:
    """The county's collectors counted by town (town id → counts): what its page shows before a town is chosen."""
    _may_onboard(principal, None)
    return queries.collectors_by_town()


def accounts_for(principal, path: str | None = None) -> list[queries.UserInArea]:
    """The other accounts the officer manages in an area of theirs (by default their own): village cadres, and for
    the county also town officers (only those for the whole county: its cadres are listed town by town)."""
    path = principal.area_path if path is None else path
    _may_onboard(principal, path)
    roles = tuple(role for role in MANAGED_ROLES[principal.role] if role != "collector"
                  and (path is not None or role != "village_cadre"))
    return queries.managed_accounts_in(path, roles)


def collector_groups(principal, path: str | None = None) -> list[queries.GroupChoice]:
    """The groups a new collector of the officer's may belong to: those of an area of theirs (by default their
    own), by name."""
    path = principal.area_path if path is None else path
    _may_onboard(principal, path)
    return queries.groups_within(path)


def onboard_collector(principal, username: str, display_name: str, group_id: int, *, realm: str) -> CollectorCode:
    """Create a collector of a group in the officer's area (the group's id is a claim: a group of another area is
    Forbidden), with a token for the QR code (the audit log says who)."""
    group = area_queries.by_id(group_id)
    if group is None or group.kind != "group":
        raise BadRequest("choose a group from the list")
    _may_onboard(principal, group.path)
    created = add_user(username, "collector", group.full_name, realm=realm, display_name=display_name or username,
                       with_token=True)
    audit.record(principal.id, "collector.create", area_path=group.path, subject=username)
    return CollectorCode(username, display_name or username, group.full_name, created.token)


def _managed(principal, username: str) -> tuple[User, str]:
    """The account named in a request, if the principal may manage it (the name is a claim: Forbidden otherwise,
    the same answer whether or not such a user exists)."""
    user = queries.by_username(username) if len(username) <= 64 and "\x00" not in username else None
    path = queries.area_path_of(user) if user is not None else None
    if user is None or not may_manage(principal, user.role, path, user.id):
        raise Forbidden("you may revoke or re-activate only collectors and village cadres of your own area, "
                        "never yourself or another officer")
    return user, path


def managed_collector(principal, username: str) -> queries.UserInArea:
    """An active collector the principal may give a new QR code, with their group (Forbidden otherwise, as for
    any account the principal may not manage; BadRequest for another role; Conflict when revoked)."""
    user, _path = _managed(principal, username)
    if user.role != "collector":
        raise BadRequest(f"{username!r} is not a collector")
    if not user.active:
        raise Conflict("the account is revoked: re-activate it first")
    return queries.UserInArea(user, area_queries.by_id(user.area_id).full_name)


def reissue_collector_token(principal, username: str) -> CollectorCode:
    """A new QR code for an active collector (a new phone): the old token stops working."""
    collector = managed_collector(principal, username)
    created = rotate_token(username)
    audit.record(principal.id, "collector.token", area_path=queries.area_path_of(collector.user), subject=username)
    return CollectorCode(username, collector.user.display_name, collector.area_full_name, created.token)


def revoke_account(principal, username: str) -> User:
    """Stop an account at once: web sessions end, its password, Digest and app token stop working (a lost phone, a
    collector or cadre who left). Other workers' look-up caches keep it for TAIZHANG_LOOKUP_CACHE_SECONDS."""
    user, path = _managed(principal, username)
    if not user.active:
        return user
    user.token_hash, user.active = None, False
    queries.end_sessions(user.id)
    lookup_cache().clear()
    audit.record(principal.id, f"{user.role}.revoke", area_path=path, subject=username)
    return user


def activate_account(principal, username: str) -> User:
    """Let a revoked account sign in again with its password (a collector's phone needs a new QR code)."""
    user, path = _managed(principal, username)
    if user.active:
        return user
    user.active = True
    lookup_cache().clear()
    audit.record(principal.id, f"{user.role}.activate", area_path=path, subject=username)
    return user
