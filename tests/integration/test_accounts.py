"""Staff sign-in over HTTP: sessions, CSRF, rate limits, password changes, roles, the audit log page, and the town
office revoking and re-activating accounts (only its own collectors and cadres)."""

from __future__ import annotations

import pytest
import requests
from flask import request
from flask_limiter import Limiter
from sqlalchemy import select, update

from server import create_app
from server.areas.operations import find_area
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db, limiter
from server.users.models import User
from server.users.operations import add_user
from tests.conftest import start_live_server
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


def test_the_root_takes_staff_home_and_others_to_sign_in(staff):
    client = web(staff)
    assert client.get("/", allow_redirects=False).headers["Location"] == "/login?next=/"
    client.sign_in("dongcun_cadre", PASSWORD)
    home = client.get("/", allow_redirects=False)
    assert (home.status_code, home.headers["Location"]) == (302, "/home")


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


def test_collects_requests_skip_the_rate_limiters_work(staff, monkeypatch):
    looked_at = []
    identify = Limiter.identify_request
    monkeypatch.setattr(Limiter, "identify_request", lambda self: looked_at.append(request.path) or identify(self))
    client = staff["server"].app.test_client()
    token = staff["collector"].token
    assert client.head(f"/key/{token}/submission").status_code == 204
    assert client.get(f"/key/{token}/formList").status_code == 200
    assert looked_at == []
    assert client.get("/login").status_code == 200   # the web's requests still pass through it
    assert looked_at == ["/login"]


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
    assert client.sign_in("dongcun_cadre", PASSWORD, next="https://evil.example/").headers["Location"] == "/home"
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
    assert log.text.count('<td class="what">查看待访视与逾期</td>') == 1
    assert '<td class="who">dongcun_cadre</td>' in log.text     # no display name given: the user name


# ---- revoking and re-activating accounts (the town office) -------------------------------------------------------

REFUSED_ZH = ('<p class="error" id="error">您只能停用或重新启用本辖区的采集员和村干部，不能停用自己或其他工作人员。'
              "</p>")


def _accounts() -> dict[str, tuple[bool, str | None]]:
    rows = {name: (active, token) for name, active, token in db.session.execute(
        select(User.username, User.active, User.token_hash))}
    db.session.rollback()
    return rows


def _audit() -> list[tuple[str, str | None, str | None]]:
    rows = db.session.execute(select(AuditEvent.action, AuditEvent.subject, User.username)
                              .outerjoin(User, User.id == AuditEvent.user_id).order_by(AuditEvent.id)).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def _basic_over_https(server, username: str, password: str) -> int:
    """Basic authentication as it arrives through a TLS proxy (the only way Basic is accepted)."""
    app = create_app({**server.app.config, "TAIZHANG_PROXY_COUNT": 1})
    url, stop = start_live_server(app)
    try:
        return requests.get(f"{url}/formList", auth=(username, password),
                            headers={"X-OpenRosa-Version": "1.0", "X-Forwarded-Proto": "https"}).status_code
    finally:
        stop()
        with app.app_context():
            db.engine.dispose()


def test_a_town_officer_revokes_and_reactivates_a_cadre_and_a_collector(staff, visit_form):
    server, collector = staff["server"], staff["collector"]
    cadre, officer = web(staff), web(staff)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    officer.sign_in("town_officer", PASSWORD)
    page = officer.get("/collectors").text
    assert 'id="account-dongcun_cadre"' in page and 'id="collector-dongcun1"' in page
    assert 'id="account-town_officer"' not in page  # officers are not on the town's list
    for username in ("dongcun_cadre", "dongcun1"):
        revoked = officer.post(f"/collectors/{username}/revoke", {}, allow_redirects=False)
        assert (revoked.status_code, revoked.headers["Location"]) == (302, "/collectors")
    # Revoked: the open web session ends, and no way in is left.
    assert cadre.get("/due", allow_redirects=False).status_code == 302
    refused = web(staff).sign_in("dongcun_cadre", PASSWORD)
    assert refused.status_code == 401 and "用户名或密码不正确。" in refused.text
    assert server.client(collector.username, collector.password).form_list().status_code == 401
    assert server.client(token=collector.token).form_list().status_code == 403
    assert _basic_over_https(server, collector.username, collector.password) == 401
    page = officer.get("/collectors").text
    assert page.count('class="activate"') == 2 and "已停用" in page
    for username in ("dongcun_cadre", "dongcun1"):
        assert officer.post(f"/collectors/{username}/activate", {}, allow_redirects=False).status_code == 302
    assert web(staff).sign_in("dongcun_cadre", PASSWORD).status_code == 302
    assert server.client(collector.username, collector.password).form_list().status_code == 200
    assert _basic_over_https(server, collector.username, collector.password) == 200
    assert server.client(token=collector.token).form_list().status_code == 403  # the phone needs a new QR code
    assert [event for event in _audit() if event[0] != "due.read"] == [
        ("village_cadre.revoke", "dongcun_cadre", "town_officer"), ("collector.revoke", "dongcun1", "town_officer"),
        ("village_cadre.activate", "dongcun_cadre", "town_officer"),
        ("collector.activate", "dongcun1", "town_officer")]


@pytest.fixture
def others(staff, create_collector):
    """Accounts a 青山镇 officer must not change: another town's, another officer, the county's, their own."""
    create_collector("白沙镇/南村/第一组", username="baisha1")
    create_collector("白沙镇/南村/第一组", username="baisha_revoked")
    create_collector("白沙镇/南村", username="baisha_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇", username="town_officer2", role="town_officer", password=PASSWORD)
    add_user("county", "county_admin", None, realm="taizhang", password=PASSWORD)
    db.session.execute(update(User).where(User.username == "baisha_revoked").values(active=False))
    commit()
    return staff


@pytest.mark.parametrize("target", ["baisha1", "baisha_revoked", "baisha_cadre", "town_officer2", "town_officer",
                                    "county", "nobody"])
@pytest.mark.parametrize("action", ["revoke", "activate", "token"])
def test_account_changes_outside_the_officers_reach_are_refused(others, target, action):
    officer = web(others)
    officer.sign_in("town_officer", PASSWORD)
    before = _accounts()
    refused = officer.post(f"/collectors/{target}/{action}", {}, allow_redirects=False)
    assert refused.status_code == 403 and REFUSED_ZH in refused.text
    assert _accounts() == before
    assert _audit() == []


def test_a_refused_account_change_speaks_the_officers_language(others):
    officer = web(others)
    officer.sign_in("town_officer", PASSWORD)
    officer.get("/language/en")
    refused = officer.post("/collectors/baisha1/revoke", {})
    assert refused.status_code == 403
    assert ('<p class="error" id="error">You may revoke or re-activate only collectors and village cadres of your own '
            "area; never yourself or another officer.</p>") in refused.text


def test_a_cadre_changes_no_accounts_and_the_county_changes_officers(others):
    cadre = web(others)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    assert cadre.post("/collectors/dongcun1/revoke", {}).status_code == 403
    county = web(others)
    county.sign_in("county", PASSWORD)
    assert county.post("/collectors/county/revoke", {}).status_code == 403
    assert county.post("/collectors/town_officer2/revoke", {}, allow_redirects=False).status_code == 302
    assert _accounts()["town_officer2"][0] is False and _accounts()["county"][0] is True


def test_a_collector_for_another_towns_group_is_refused_in_the_officers_language(others):
    officer = web(others)
    officer.sign_in("town_officer", PASSWORD)
    before = _accounts()
    group = str(find_area("白沙镇/南村/第一组").id)   # the menu offers only the officer's groups: a forged choice
    db.session.rollback()
    refused = officer.post("/collectors", {"username": "intruder", "group": group})
    assert refused.status_code == 403
    assert '<p class="error" id="error">您只能为本辖区的小组设置采集员。</p>' in refused.text
    assert _accounts() == before and _audit() == []
