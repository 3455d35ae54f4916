"""Sign-in hardening over HTTP as Collect and a browser do it: single-use Digest nonce counts, the request URI bound
with its query string, failed sign-ins limited per user and per address (429, Retry-After, audited), server-side
sessions and sign-in timing."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import statistics
import time

import pytest
import requests
from sqlalchemy import select

from server import clock, create_app
from server.areas.operations import find_area
from server.audit.models import AuditEvent
from server.extensions import db
from server.lookup_cache import LookupCache
from server.users import credentials
from server.users.credentials import make_nonce
from server.users.models import AuthThrottle, User
from tests.collect import visit_xml
from tests.conftest import command_env, start_live_server, stored_submissions, taizhang
from tests.web import WebClient

OPENROSA = {"X-OpenRosa-Version": "1.0"}
LOCKED_XML = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<OpenRosaResponse xmlns="http://openrosa.org/http/response"><message nature="error">'
    "登录失败次数太多，已暂时锁定，请稍后再试。 / Too many failed sign-ins: locked for a while; try again later."
    "</message></OpenRosaResponse>")


def challenge_nonce(url: str) -> str:
    response = requests.get(url, headers=OPENROSA)
    assert response.status_code == 401
    return re.search(r'nonce="([^"]+)"', response.headers["WWW-Authenticate"]).group(1)


def digest_header(username: str, password: str, method: str, uri: str, nonce: str, nc: str = "00000001") -> str:
    ha1 = hashlib.md5(f"{username}:taizhang:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{nonce}:{nc}:0a4f113b:auth:{ha2}".encode()).hexdigest()
    return (f'Digest username="{username}", realm="taizhang", nonce="{nonce}", uri="{uri}", qop=auth, nc={nc}, '
            f'cnonce="0a4f113b", response="{response}", algorithm=MD5')


def audit_events() -> list[tuple]:
    rows = db.session.execute(select(AuditEvent.action, AuditEvent.subject, AuditEvent.area_path, User.username)
                              .outerjoin(User, User.id == AuditEvent.user_id).order_by(AuditEvent.id)).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


@pytest.fixture
def limits(server, monkeypatch):
    """Three failures lock a user name, five an address, for ten minutes; the clock can be moved."""
    for name, value in (("TAIZHANG_SIGNIN_FAILURES_PER_USER", 3), ("TAIZHANG_SIGNIN_FAILURES_PER_ADDRESS", 5),
                        ("TAIZHANG_SIGNIN_WINDOW", 600), ("TAIZHANG_SIGNIN_LOCKOUT", 600)):
        monkeypatch.setitem(server.app.config, name, value)
    now = {"at": dt.datetime.now(dt.timezone.utc)}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    return now


# ---- Digest: single-use nonce counts, the whole URI ----------------------------------------------------------------

def test_a_captured_header_replayed_with_another_body_is_refused(server, collector):
    phone = server.client(collector.username, collector.password)
    sent = phone.submit(visit_xml("uuid:replay-1"))
    assert sent.status_code == 201
    captured = sent.request.headers["Authorization"]
    assert "nc=00000002" in captured  # HEAD had 00000001: one nonce, counted up
    replayed = requests.post(f"{server.url}/submission", params={"deviceID": phone.device_id}, headers={
        **OPENROSA, "Authorization": captured},
        files=[("xml_submission_file", ("submission.xml", visit_xml("uuid:replay-2"), "text/xml"))])
    assert replayed.status_code == 401
    assert replayed.headers["WWW-Authenticate"].endswith(", stale=TRUE")  # a fresh nonce, as Collect expects
    assert replayed.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert '<message nature="error">' in replayed.text
    assert [row["instance_id"] for row in stored_submissions()] == ["uuid:replay-1"]
    # The phone itself goes on with the next count of the same nonce.
    again = phone.post_submission(visit_xml("uuid:replay-3"))
    assert again.status_code == 201 and "nc=00000003" in again.request.headers["Authorization"]


def test_a_replay_to_another_worker_process_is_refused_too(server, collector):
    """The used counts are in the database: a second app (another gunicorn worker or server) refuses them."""
    nonce = challenge_nonce(f"{server.url}/formList")
    header = digest_header(collector.username, collector.password, "GET", "/formList", nonce)
    first = requests.get(f"{server.url}/formList", headers={**OPENROSA, "Authorization": header})
    assert first.status_code == 200
    other_worker = create_app({**server.app.config})
    url, stop = start_live_server(other_worker)
    try:
        replayed = requests.get(f"{url}/formList", headers={**OPENROSA, "Authorization": header})
        assert replayed.status_code == 401 and replayed.headers["WWW-Authenticate"].endswith(", stale=TRUE")
        higher = digest_header(collector.username, collector.password, "GET", "/formList", nonce, "00000002")
        assert requests.get(f"{url}/formList", headers={**OPENROSA, "Authorization": higher}).status_code == 200
        out_of_order = digest_header(collector.username, collector.password, "GET", "/formList", nonce, "00000007")
        assert requests.get(f"{server.url}/formList",
                            headers={**OPENROSA, "Authorization": out_of_order}).status_code == 200
    finally:
        stop()
        with other_worker.app_context():
            db.engine.dispose()


def test_the_digest_uri_must_be_the_request_with_its_query_string(server, collector):
    nonce = challenge_nonce(f"{server.url}/formList")
    header = digest_header(collector.username, collector.password, "GET", "/formList?formID=household_visit", nonce)
    other_query = requests.get(f"{server.url}/formList?formID=another_form",
                               headers={**OPENROSA, "Authorization": header})
    assert other_query.status_code == 401 and "stale" not in other_query.headers["WWW-Authenticate"]
    no_query = requests.get(f"{server.url}/formList", headers={**OPENROSA, "Authorization": header})
    assert no_query.status_code == 401
    right = requests.get(f"{server.url}/formList?formID=household_visit",
                         headers={**OPENROSA, "Authorization": header})
    assert right.status_code == 200 and "<formID>household_visit</formID>" in right.text


def test_a_nonce_signed_with_another_secret_and_the_right_password_is_stale(server, collector):
    nonce = make_nonce("the-secret-before-a-reinstall", time.time())
    header = digest_header(collector.username, collector.password, "GET", "/formList", nonce)
    answer = requests.get(f"{server.url}/formList", headers={**OPENROSA, "Authorization": header})
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].endswith(", stale=TRUE")


# ---- failed sign-ins: per user, per address, 429 with Retry-After, audited ---------------------------------------

def test_failed_digest_sign_ins_lock_the_user_then_the_lock_expires(server, collector, limits):
    # A fresh phone each time: one challenge (no failure), then one wrong answer (a failure).
    assert [server.client(collector.username, "wrong-password").form_list().status_code
            for _ in range(3)] == [401, 401, 401]
    right = server.client(collector.username, collector.password)
    locked = right.form_list()
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "600"
    assert locked.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert locked.text == LOCKED_XML
    assert audit_events() == [("signin.locked", f"user:{collector.username}", _group_path(collector.area),
                               collector.username)]
    limits["at"] += dt.timedelta(seconds=599)
    assert right.form_list().status_code == 429
    assert right.form_list().headers["Retry-After"] == "1"
    limits["at"] += dt.timedelta(seconds=2)
    assert right.form_list().status_code == 200
    assert len(audit_events()) == 1


def _group_path(full_name: str) -> str:
    path = find_area(full_name).path
    db.session.rollback()
    return path


def test_a_right_password_forgets_earlier_failures_of_the_name(server, collector, limits):
    right = server.client(collector.username, collector.password)
    for _ in range(2):  # 2 + 2 failures of the name, never 3 in a row; 4 of the address (its limit is 5)
        assert server.client(collector.username, "wrong-password").form_list().status_code == 401
        assert server.client(collector.username, "wrong-password").form_list().status_code == 401
        assert right.form_list().status_code == 200
    assert audit_events() == []


def test_failures_from_one_address_lock_it_for_every_name_and_token(server, collector, limits):
    for name in ("nobody1", "nobody2", "nobody3"):
        assert server.client(name, "x").form_list().status_code == 401
    assert server.client(token="made-up-token-" + "x" * 50).form_list().status_code == 403
    basic = requests.get(f"{server.url}/formList", auth=("nobody4", "x"), headers=OPENROSA)  # plain HTTP Basic
    assert basic.status_code == 401
    locked = server.client(token=collector.token).form_list()
    assert (locked.status_code, locked.headers["Retry-After"], locked.text) == (429, "600", LOCKED_XML)
    assert server.client(collector.username, collector.password).form_list().status_code == 429
    assert audit_events() == [("signin.locked", "address:127.0.0.1", None, None)]
    limits["at"] += dt.timedelta(seconds=601)
    assert server.client(token=collector.token).form_list().status_code == 200


def test_a_lock_set_by_another_worker_reaches_token_sign_ins_within_the_lookup_cache_time(server, collector, limits,
                                                                                          monkeypatch):
    """Collect's HEAD and POST by token read the address's counts through the per-process look-up cache (no query
    per request); a sign-in by name reads them every time."""
    ticks = {"now": 0.0}
    monkeypatch.setitem(server.app.extensions, "taizhang_lookup_cache", LookupCache(5, timer=lambda: ticks["now"]))
    phone = server.client(token=collector.token)
    assert phone.form_list().status_code == 200  # the address's counts (none) now cached in this process
    with server.app.app_context():  # another worker locks the address
        db.session.add(AuthThrottle(key="address:127.0.0.1", failures=5, window_started=limits["at"],
                                    locked_until=limits["at"] + dt.timedelta(seconds=600)))
        db.session.commit()
    assert phone.form_list().status_code == 200  # at most the cache's 5 seconds late
    assert server.client(collector.username, collector.password).form_list().status_code == 429  # at once
    ticks["now"] += 6
    assert phone.form_list().status_code == 429
    limits["at"] += dt.timedelta(seconds=601)
    assert phone.form_list().status_code == 200  # the lock's end read from the cached counts


def test_counts_whose_window_has_passed_are_forgotten(server, visit_form, limits):
    assert server.client("nobody1", "x").form_list().status_code == 401
    limits["at"] += dt.timedelta(seconds=601)
    assert server.client("nobody2", "x").form_list().status_code == 401
    rows = db.session.execute(select(AuthThrottle.key, AuthThrottle.failures).order_by(AuthThrottle.key)).all()
    db.session.rollback()
    assert [tuple(row) for row in rows] == [("address:127.0.0.1", 1), ("user:nobody2", 1)]


def test_a_stale_nonce_or_a_first_request_is_no_failure(server, collector, limits):
    old = make_nonce("test-secret", time.time() - 7200)
    header = digest_header(collector.username, collector.password, "GET", "/formList", old)
    for _ in range(6):
        assert requests.get(f"{server.url}/formList", headers=OPENROSA).status_code == 401
        assert requests.get(f"{server.url}/formList",
                            headers={**OPENROSA, "Authorization": header}).status_code == 401
    assert server.client(collector.username, collector.password).form_list().status_code == 200


def test_web_and_digest_failures_count_together(server, create_collector, limits):
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password="cadre-password")
    assert server.client("dongcun_cadre", "wrong").form_list().status_code == 401
    web = WebClient(server.url)
    assert [web.sign_in("dongcun_cadre", "wrong").status_code for _ in range(2)] == [401, 401]
    locked = web.sign_in("dongcun_cadre", "cadre-password")
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "600"
    assert "登录失败次数太多：这个用户名或地址已锁定 10 分钟。" in locked.text
    english = WebClient(server.url)
    english.get("/language/en")
    assert "locked for 10 minutes" in english.sign_in("dongcun_cadre", "cadre-password").text


# ---- sessions on the server ---------------------------------------------------------------------------------------

def test_a_cookie_copied_before_signing_out_no_longer_works(server, create_collector):
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password="cadre-password")
    laptop = WebClient(server.url)
    assert laptop.sign_in("dongcun_cadre", "cadre-password").status_code == 302
    copied = WebClient(server.url)
    copied.session.cookies.update(laptop.session.cookies)
    assert copied.get("/due").status_code == 200
    other_device = WebClient(server.url)
    other_device.sign_in("dongcun_cadre", "cadre-password")
    laptop.post("/logout", {})
    assert copied.get("/due", allow_redirects=False).status_code == 302
    assert laptop.get("/due", allow_redirects=False).status_code == 302
    assert other_device.get("/due").status_code == 200  # signing out ends that session only


def test_sign_in_takes_as_long_for_an_unknown_name(server, create_collector, monkeypatch):
    monkeypatch.setattr(credentials, "PASSWORD_METHOD", "scrypt")   # the method the server uses (the tests' is cheap)
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password="cadre-password")
    web = WebClient(server.url)
    token = web.csrf_token()

    def duration(username: str) -> float:
        started = time.perf_counter()
        answer = web.post("/login", {"csrf_token": token, "username": username, "password": "wrong-password"},
                          token=False)
        assert answer.status_code == 401
        return time.perf_counter() - started

    known, unknown = [], []
    for _ in range(5):
        known.append(duration("dongcun_cadre"))
        unknown.append(duration("nobody-at-all"))
    # Without the dummy hash an unknown name answers in a few ms and a known one after the scrypt hash (~100 ms).
    assert statistics.median(unknown) > 0.6 * statistics.median(known), (known, unknown)


def test_a_password_set_by_the_operator_ends_the_users_sessions(server, create_collector):
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password="cadre-password")
    laptop = WebClient(server.url)
    laptop.sign_in("dongcun_cadre", "cadre-password")
    assert laptop.get("/due").status_code == 200
    done = taizhang(command_env(server.app), "user", "password", "dongcun_cadre", "--password", "another-password")
    assert done.returncode == 0, done.stderr
    assert laptop.get("/due", allow_redirects=False).status_code == 302
    assert WebClient(server.url).sign_in("dongcun_cadre", "another-password").status_code == 302
