"""Authenticating ODK Collect: token URLs, HTTP Digest (MD5, qop=auth, signed nonces whose counts are single-use),
Basic only over HTTPS; failed attempts limited per user name and per client address."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote, urlsplit

from flask import current_app, request
from werkzeug.datastructures import WWWAuthenticate

from server import clock
from server.principal import Principal
from server.users import credentials
from server.users.guard import SignInAttempt, use_nonce_count, valid_username
from server.users.queries import principal_by_token_hash, principal_by_username
from sync.errors import TokenInvalid, Unauthorized

__all__ = ["authenticate", "challenge_headers"]

_NONCE_COUNT = re.compile(r"[0-9a-fA-F]{8}")


def authenticate(token: str | None) -> Principal:
    """The user behind this request, or Unauthorized (401 with a challenge) / TokenInvalid (403) / SignInLocked
    (429 with Retry-After, while the user name or the client address has too many recent failures)."""
    if token is not None:
        attempt = SignInAttempt(None, request.remote_addr)
        attempt.check()
        principal = principal_by_token_hash(credentials.token_hash(token))
        if principal is None:
            attempt.failed()
            raise TokenInvalid()
        return principal
    auth = request.authorization
    if auth is None or auth.type not in ("digest", "basic"):
        raise Unauthorized()  # the first request of a conversation: a challenge, not a failed attempt
    username = auth.username if auth.type == "basic" else auth.parameters.get("username")
    attempt = SignInAttempt(username, request.remote_addr)
    attempt.check()
    try:
        principal = _digest(auth) if auth.type == "digest" else _basic(auth)
    except Unauthorized as refused:
        if not refused.context.get("stale"):  # the right password with an old or used nonce is no failure
            attempt.failed()
        raise
    attempt.succeeded()
    return principal


def _known(username: str | None) -> Principal | None:
    """The active user of this realm with this name (no look-up at all for a name no user can have)."""
    principal = principal_by_username(username) if valid_username(username) else None
    return principal if principal is not None and principal.digest_realm == current_app.config[
        "TAIZHANG_REALM"] else None


def _basic(auth) -> Principal:
    if not request.is_secure:
        raise Unauthorized("Basic authentication is accepted only over HTTPS")
    principal = _known(auth.username)
    # The stored HA1 doubles as a fast verifier of the password: no slow hash on the submission path.
    if principal is None or not credentials.constant_equal(credentials.digest_ha1(
            auth.username, principal.digest_realm, auth.password or ""), principal.digest_ha1):
        raise Unauthorized()
    return principal


def _uri_is_this_request(uri: str) -> bool:
    """The Digest `uri` names exactly this request: its path and its query string as sent."""
    parts = urlsplit(uri)
    return (unquote(parts.path) == request.script_root + request.path and not parts.fragment
            and parts.query == request.query_string.decode("latin-1"))


def _digest(auth) -> Principal:
    params = auth.parameters
    required = ("username", "realm", "nonce", "uri", "response")
    if any(not params.get(key) for key in required) or params.get("realm") != current_app.config["TAIZHANG_REALM"]:
        raise Unauthorized()
    qop, nc = params.get("qop"), params.get("nc") or ""
    if qop not in (None, "auth") or (qop and not (_NONCE_COUNT.fullmatch(nc) and params.get("cnonce"))):
        raise Unauthorized()
    if params.get("algorithm", "MD5").upper() != "MD5" or not _uri_is_this_request(params["uri"]):
        raise Unauthorized()
    principal = _known(params["username"])
    if principal is None:
        raise Unauthorized()
    expected = credentials.digest_response(principal.digest_ha1, method=request.method, uri=params["uri"],
                                           nonce=params["nonce"], nc=nc if qop else None,
                                           cnonce=params.get("cnonce"), qop=qop)
    if not credentials.constant_equal(expected, params["response"]):
        raise Unauthorized()
    # The right password. A nonce that is not ours (another secret), too old, or already used with this count (a
    # replayed header) gets a fresh challenge marked stale, so Collect answers it again without asking anyone.
    issued = credentials.nonce_issued(current_app.config["SECRET_KEY"], params["nonce"])
    if issued is None:
        raise Unauthorized(stale=True)
    age = clock.now().timestamp() - issued
    if age > current_app.config["TAIZHANG_NONCE_TTL"] or age < -60:
        raise Unauthorized(stale=True)
    if not use_nonce_count(params["nonce"], nc if qop else "", dt.datetime.fromtimestamp(issued, dt.UTC)):
        raise Unauthorized(stale=True)
    return principal


def challenge_headers(stale: bool = False) -> list[tuple[str, str]]:
    """WWW-Authenticate headers for a 401: Digest always; Basic too, but only over HTTPS."""
    realm = current_app.config["TAIZHANG_REALM"]
    digest = WWWAuthenticate("digest", {
        "realm": realm, "qop": "auth", "algorithm": "MD5",
        "nonce": credentials.make_nonce(current_app.config["SECRET_KEY"], clock.now().timestamp()),
        "opaque": credentials.token_hash(realm)[:32],
    })
    if stale:
        digest.parameters["stale"] = "TRUE"
    headers = [("WWW-Authenticate", digest.to_header())]
    if request.is_secure:
        headers.append(("WWW-Authenticate", f'Basic realm="{realm}", charset="UTF-8"'))
    return headers
