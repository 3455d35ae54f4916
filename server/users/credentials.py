"""Credential arithmetic: web password hashes, Digest HA1 and responses, signed nonces, app tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time

from werkzeug.security import check_password_hash, generate_password_hash

__all__ = [
    "check_web_password",
    "constant_equal",
    "digest_ha1",
    "digest_response",
    "hash_web_password",
    "make_nonce",
    "new_password",
    "new_token",
    "nonce_age",
    "nonce_issued",
    "token_hash",
]


PASSWORD_METHOD = "scrypt"
"""How web passwords are hashed (werkzeug's method; its default, scrypt, costs ~100 ms by design). The test suite
makes it cheap (tests/conftest.py): the thousands of accounts its tests create and sign in would otherwise take
minutes; the sign-in timing test uses this one."""


def hash_web_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password made with the method in use: a sign-in by an unknown (or revoked) user is checked
    against it, so it takes as long as a wrong password of a real user (the name's existence does not show)."""
    if PASSWORD_METHOD not in _DUMMY_HASHES:
        _DUMMY_HASHES[PASSWORD_METHOD] = generate_password_hash(secrets.token_urlsafe(), method=PASSWORD_METHOD)
    return _DUMMY_HASHES[PASSWORD_METHOD]


def check_web_password(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no stored hash (no such user) the same work is done and False returned."""
    if stored_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(stored_hash, password)


def digest_ha1(username: str, realm: str, password: str) -> str:
    """RFC 7616 HA1 for algorithm MD5, the form ODK Collect's Digest authenticator uses."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()


def digest_response(ha1: str, *, method: str, uri: str, nonce: str, nc: str | None, cnonce: str | None,
                    qop: str | None) -> str:
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    if qop:
        return hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode()).hexdigest()
    return hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()


def make_nonce(secret: str, now: float | None = None) -> str:
    """A nonce any app server can check without shared state: issue time + 8 random bytes + HMAC over both (two
    challenges in the same millisecond still differ, so their (nonce, nc) uses never collide)."""
    stamp = struct.pack(">Q", int((now if now is not None else time.time()) * 1000)) + secrets.token_bytes(8)
    mac = hmac.new(secret.encode(), b"nonce" + stamp, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(stamp + mac).decode().rstrip("=")


def nonce_issued(secret: str, nonce: str) -> float | None:
    """When (Unix seconds) the nonce was issued by us, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
    except (ValueError, TypeError):
        return None
    if len(raw) != 32:
        return None
    stamp, mac = raw[:16], raw[16:]
    expected = hmac.new(secret.encode(), b"nonce" + stamp, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(mac, expected):
        return None
    return struct.unpack(">Q", stamp[:8])[0] / 1000


def nonce_age(secret: str, nonce: str, now: float | None = None) -> float | None:
    """Seconds since the nonce was issued by us, or None when it is not one of ours."""
    issued = nonce_issued(secret, nonce)
    return None if issued is None else (now if now is not None else time.time()) - issued


def new_token() -> str:
    """64 characters from [A-Za-z0-9], like ODK Central's app-user tokens (URL-safe, QR-friendly)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(64))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A generated collector password: 14 characters, no look-alikes, ~69 bits (typed once on a phone)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(14))


def constant_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
