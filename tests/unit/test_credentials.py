"""Unit tests for server.users.credentials: Digest arithmetic, stateless nonces, tokens and passwords."""

from __future__ import annotations

import hashlib
import re
import string

import pytest
from werkzeug.security import check_password_hash

from server.users import credentials
from server.users.credentials import (
    check_web_password,
    constant_equal,
    digest_ha1,
    digest_response,
    hash_web_password,
    make_nonce,
    new_password,
    new_token,
    nonce_age,
    nonce_issued,
    token_hash,
)

# RFC 2617 §3.5 worked example.
RFC_USER, RFC_REALM, RFC_PASSWORD = "Mufasa", "testrealm@host.com", "Circle Of Life"
RFC_NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"
RFC_URI = "/dir/index.html"
RFC_HA1 = "939e7578ed9e3c518a452acee763bce9"
RFC_RESPONSE = "6629fae49393a05397450978507c4ef1"

SECRET = "unit-test-secret"


# --- Digest ----------------------------------------------------------------------------------------------------


def test_digest_ha1_matches_rfc_2617_example():
    assert digest_ha1(RFC_USER, RFC_REALM, RFC_PASSWORD) == RFC_HA1


def test_digest_response_with_qop_auth_matches_rfc_2617_example():
    response = digest_response(RFC_HA1, method="GET", uri=RFC_URI, nonce=RFC_NONCE, nc="00000001",
                               cnonce="0a4f113b", qop="auth")
    assert response == RFC_RESPONSE


def test_digest_response_without_qop_uses_rfc_2069_formula():
    ha2 = hashlib.md5(f"GET:{RFC_URI}".encode()).hexdigest()
    expected = hashlib.md5(f"{RFC_HA1}:{RFC_NONCE}:{ha2}".encode()).hexdigest()
    assert digest_response(RFC_HA1, method="GET", uri=RFC_URI, nonce=RFC_NONCE, nc=None, cnonce=None,
                           qop=None) == expected


def test_digest_response_depends_on_method():
    common = dict(uri=RFC_URI, nonce=RFC_NONCE, nc="00000001", cnonce="0a4f113b", qop="auth")
    assert digest_response(RFC_HA1, method="POST", **common) != RFC_RESPONSE


def test_digest_ha1_encodes_non_ascii_as_utf8():
    assert digest_ha1("张三", "taizhang", "密码") == hashlib.md5("张三:taizhang:密码".encode("utf-8")).hexdigest()


# --- nonces ----------------------------------------------------------------------------------------------------


def test_nonce_age_round_trip_with_injected_clock():
    nonce = make_nonce(SECRET, now=1_700_000_000.0)
    assert nonce_age(SECRET, nonce, now=1_700_000_030.5) == 30.5


def test_nonce_age_is_zero_at_issue_time():
    assert nonce_age(SECRET, make_nonce(SECRET, now=1000.0), now=1000.0) == 0.0


def test_nonce_keeps_millisecond_resolution():
    assert nonce_age(SECRET, make_nonce(SECRET, now=1000.25), now=1001.0) == 0.75


def test_make_nonce_differs_for_the_same_secret_and_time():
    """Each (nonce, nc) is accepted once: two challenges in one millisecond must not share a nonce."""
    assert make_nonce(SECRET, now=1000.0) != make_nonce(SECRET, now=1000.0)


def test_make_nonce_is_43_url_safe_characters_without_padding():
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", make_nonce(SECRET, now=1_700_000_000.0))


def test_make_nonce_differs_for_different_times():
    assert make_nonce(SECRET, now=1000.0) != make_nonce(SECRET, now=1000.001)


def test_nonce_issued_is_the_issue_time_in_milliseconds():
    assert nonce_issued(SECRET, make_nonce(SECRET, now=1_700_000_000.1234)) == 1_700_000_000.123
    assert nonce_issued("another-secret", make_nonce(SECRET, now=1000.0)) is None


def test_nonce_from_another_secret_is_refused():
    assert nonce_age("another-secret", make_nonce(SECRET, now=1000.0), now=1001.0) is None


def _replace_char(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1:]


@pytest.mark.parametrize("index", [0, 5, 10, 11, 20, 31, 41], ids=lambda i: f"char_{i}")
def test_tampered_nonce_is_refused(index):
    nonce = make_nonce(SECRET, now=1000.0)
    assert nonce_age(SECRET, _replace_char(nonce, index), now=1001.0) is None


@pytest.mark.parametrize("garbage", ["", "x", "not a nonce", "!!!!", "ü" * 32, "A" * 43, "A" * 44,
                                     "dcd98b7102dd2f0e8b11d0f600bfb0c093"],
                         ids=["empty", "one_char", "words", "punctuation", "non_ascii", "zeros_right_length",
                              "too_long", "rfc_nonce"])
def test_garbage_nonce_is_refused(garbage):
    assert nonce_age(SECRET, garbage, now=1001.0) is None


# --- tokens ----------------------------------------------------------------------------------------------------


def test_new_token_is_64_alphanumeric_characters():
    assert re.fullmatch(r"[A-Za-z0-9]{64}", new_token())


def test_new_tokens_differ():
    assert len({new_token() for _ in range(20)}) == 20


def test_token_hash_is_sha256_hex_of_token():
    token = "A" * 64
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()


def test_token_hash_is_64_lowercase_hex_characters():
    assert re.fullmatch(r"[0-9a-f]{64}", token_hash(new_token()))


# --- generated passwords ---------------------------------------------------------------------------------------

PASSWORD_ALPHABET = set("abcdefghjkmnpqrstuvwxyz23456789")


def test_new_password_is_14_characters():
    assert len(new_password()) == 14


def test_new_password_uses_only_unambiguous_lowercase_letters_and_digits():
    used = set("".join(new_password() for _ in range(200)))
    assert used <= PASSWORD_ALPHABET


def test_new_password_alphabet_excludes_look_alikes():
    assert PASSWORD_ALPHABET.isdisjoint(set("il1o0") | set(string.ascii_uppercase))


def test_new_passwords_differ():
    assert len({new_password() for _ in range(20)}) == 20


# --- web passwords ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored_hash() -> str:
    return hash_web_password("正确的密码 correct horse")


def test_check_web_password_without_a_stored_hash_does_the_same_work_and_refuses(stored_hash, monkeypatch):
    """An unknown user name is checked against a dummy hash of the default kind: as slow as a wrong password."""
    checked = []

    def check_and_note(hashed: str, password: str) -> bool:
        checked.append(hashed)
        return check_password_hash(hashed, password)

    monkeypatch.setattr(credentials, "check_password_hash", check_and_note)
    assert check_web_password(None, "正确的密码 correct horse") is False
    (dummy_hash,) = checked
    assert stored_hash.split("$")[0] == dummy_hash.split("$")[0]


def test_check_web_password_accepts_the_right_password(stored_hash):
    assert check_web_password(stored_hash, "正确的密码 correct horse") is True


def test_check_web_password_refuses_a_wrong_password(stored_hash):
    assert check_web_password(stored_hash, "正确的密码 correct horsE") is False


def test_hash_web_password_does_not_contain_the_password(stored_hash):
    assert "correct horse" not in stored_hash


def test_hash_web_password_is_salted():
    assert hash_web_password("same") != hash_web_password("same")


# --- constant_equal --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "expected"), [("abc", "abc", True), ("abc", "abd", False),
                                                  ("abc", "abcd", False), ("", "", True), ("密", "密", True)])
def test_constant_equal(a, b, expected):
    assert constant_equal(a, b) is expected
