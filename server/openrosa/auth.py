"""Authenticating ODK Collect: token URLs, HTTP Digest (MD5, qop=auth, stateless nonces), Basic only over HTTPS."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import current_app, request
from werkzeug.datastructures import WWWAuthenticate

from server.users import credentials
from server.users.queries import Principal, principal_by_token_hash, principal_by_username
from sync.errors import TokenInvalid, Unauthorized

__all__ = ["authenticate", "challenge_headers"]


def authenticate(token: str | None) -> Principal:
    """The user behind this request, or Unauthorized (401 with a challenge) / TokenInvalid (403)."""
    if token is not None:
        principal = principal_by_token_hash(credentials.token_hash(token))
        if principal is None:
            raise TokenInvalid()
        return principal
    auth = request.authorization
    if auth is None:
        raise Unauthorized()
    realm = current_app.config["TAIZHANG_REALM"]
    if auth.type == "digest":
        return _digest(auth, realm)
    if auth.type == "basic":
        if not request.is_secure:
            raise Unauthorized("Basic authentication is accepted only over HTTPS")
        principal = principal_by_username(auth.username or "")
        # The stored HA1 doubles as a fast verifier of the password: no slow hash on the submission path.
        if (principal is None or principal.digest_realm != realm or not credentials.constant_equal(
                credentials.digest_ha1(auth.username, realm, auth.password or ""), principal.digest_ha1)):
            raise Unauthorized()
        return principal
    raise Unauthorized()


def _digest(auth, realm: str) -> Principal:
    params = auth.parameters
    required = ("username", "realm", "nonce", "uri", "response")
    if any(not params.get(key) for key in required) or params.get("realm") != realm:
        raise Unauthorized()
    qop = params.get("qop")
    if qop not in (None, "auth") or (qop and not (params.get("nc") and params.get("cnonce"))):
        raise Unauthorized()
    if params.get("algorithm", "MD5").upper() != "MD5":
        raise Unauthorized()
    if unquote(urlsplit(params["uri"]).path) != request.path:  # the URI as sent, the path decoded
        raise Unauthorized()
    age = credentials.nonce_age(current_app.config["SECRET_KEY"], params["nonce"])
    if age is None:
        raise Unauthorized()
    principal = principal_by_username(params["username"])
    if principal is None or principal.digest_realm != realm:
        raise Unauthorized()
    expected = credentials.digest_response(principal.digest_ha1, method=request.method, uri=params["uri"],
                                           nonce=params["nonce"], nc=params.get("nc"),
                                           cnonce=params.get("cnonce"), qop=qop)
    if not credentials.constant_equal(expected, params["response"]):
        raise Unauthorized()
    if age > current_app.config["TAIZHANG_NONCE_TTL"] or age < -60:
        raise Unauthorized(stale=True)  # right password, old nonce: Collect retries with the fresh one
    return principal


def challenge_headers(stale: bool = False) -> list[tuple[str, str]]:
    """WWW-Authenticate headers for a 401: Digest always; Basic too, but only over HTTPS."""
    realm = current_app.config["TAIZHANG_REALM"]
    digest = WWWAuthenticate("digest", {
        "realm": realm, "qop": "auth", "algorithm": "MD5",
        "nonce": credentials.make_nonce(current_app.config["SECRET_KEY"]),
        "opaque": credentials.token_hash(realm)[:32],
    })
    if stale:
        digest.parameters["stale"] = "TRUE"
    headers = [("WWW-Authenticate", digest.to_header())]
    if request.is_secure:
        headers.append(("WWW-Authenticate", f'Basic realm="{realm}", charset="UTF-8"'))
    return headers
