"""Staff sign-in over HTTP: sessions, CSRF, rate limits, password changes, roles and the audit log page."""

from __future__ import annotations

import pytest

from server.extensions import limiter
from tests.web import WebClient

PASSWORD = "cadre-password"


@pytest.fixture
def staff(server, create_collector):
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇", username="town_officer", role="town_officer", password=PASSWORD)
    collector = create_collector("青山镇/东村/第一组", username="dongcun1")
    limiter.reset()
    yield {"server": server, "collector": collector}
    limiter.reset()


def web(staff) -> WebClient:
    return WebClient(staff["server"].url)


def test_pages_ask_to_sign_in_and_come_back_after(staff):
    client = web(staff)
    assert client.get("/due", allow_redirects=False).headers["Location"] == "/login?next=/due"
    signed = client.sign_in("dongcun_cadre", PASSWORD, next="/due")
    assert (signed.status_code, signed.headers["Location"]) == (302, "/due")
    page = client.get("/due")
    assert page.status_code == 200 and "<h1>待访视与逾期</h1>" in page.text


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(staff):
    for username, password in (("dongcun_cadre", "wrong-password"), ("nobody", PASSWORD)):
        answer = web(staff).sign_in(username, password)
        assert answer.status_code == 401 and '<p class="error" id="error">用户名或密码不正确。</p>' in answer.text


def test_collectors_use_collect_not_the_pages(staff):
    collector = staff["collector"]
    answer = web(staff).sign_in(collector.username, collector.password)
    assert answer.status_code == 401 and "collectors use ODK Collect" in answer.text


def test_a_form_without_its_csrf_token_is_refused(staff):
    client = web(staff)
    forged = client.post("/login", {"username": "dongcun_cadre", "password": PASSWORD}, token=False)
    assert forged.status_code == 400 and forged.text.startswith("表单已过期或来源不明")
    client.sign_in("dongcun_cadre", PASSWORD)
    forged = client.post("/account/password", {"current": PASSWORD, "new": "another-password"}, token=False)
    assert forged.status_code == 400
    assert client.sign_in("dongcun_cadre", PASSWORD).status_code == 302  # the password did not change


def test_sign_in_attempts_are_rate_limited(staff, monkeypatch):
    monkeypatch.setitem(staff["server"].app.config, "TAIZHANG_LOGIN_LIMIT", "10 per minute")
    client = web(staff)
    answers = [client.sign_in("dongcun_cadre", "wrong-password").status_code for _ in range(11)]
    assert answers == [401] * 10 + [429]
    assert client.sign_in("dongcun_cadre", PASSWORD).status_code == 429


def test_changing_the_password_ends_other_sessions(staff):
    laptop, phone = web(staff), web(staff)
    laptop.sign_in("dongcun_cadre", PASSWORD)
    phone.sign_in("dongcun_cadre", PASSWORD)
    too_short = laptop.post("/account/password", {"current": PASSWORD, "new": "short"})
    assert too_short.status_code == 400 and "新密码至少 10 个字符" in too_short.text
    changed = laptop.post("/account/password", {"current": PASSWORD, "new": "a-new-password-1"})
    assert changed.status_code == 200 and 'id="done"' in changed.text
    assert laptop.get("/due").status_code == 200
    assert phone.get("/due", allow_redirects=False).status_code == 302
    assert web(staff).sign_in("dongcun_cadre", "a-new-password-1").status_code == 302


def test_signing_out_and_an_outside_next_address(staff):
    client = web(staff)
    assert client.sign_in("dongcun_cadre", PASSWORD, next="https://evil.example/").headers["Location"] == "/due"
    assert client.post("/logout", {}, allow_redirects=False).headers["Location"] == "/login"
    assert client.get("/due", allow_redirects=False).status_code == 302


def test_english_pages(staff):
    client = web(staff)
    client.sign_in("dongcun_cadre", PASSWORD)
    client.get("/language/en?next=/due")
    assert "<h1>Due and overdue</h1>" in client.get("/due").text


def test_the_audit_log_is_for_the_town_office(staff):
    cadre, officer = web(staff), web(staff)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    assert cadre.get("/due").status_code == 200
    assert cadre.get("/audit").status_code == 403
    officer.sign_in("town_officer", PASSWORD)
    log = officer.get("/audit")
    assert log.status_code == 200
    assert log.text.count("<td>due.read</td>") == 1 and "<td>dongcun_cadre</td>" in log.text
