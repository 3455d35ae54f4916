"""Collector onboarding by the town office: the group chosen from a menu of the office's groups, the QR code's
settings work in Collect; a new code after a confirmation; revoking with an undo, re-activating; last syncs."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import select

from server import clock
from server.areas.operations import ensure_area
from server.areas.queries import by_full_name
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.users.operations import add_user
from sync.collect_settings import decode_settings
from tests.conftest import REALM
from tests.submission_xml import plain_submission
from tests.web import WebClient

PASSWORD = "officer-password"


def area_id(full_name: str) -> str:
    found = str(by_full_name(full_name).id)
    db.session.rollback()
    return found


@pytest.fixture
def office(server, create_collector, publish, household_visit_xform):
    publish(household_visit_xform)
    create_collector("青山镇", username="qingshan_officer", role="town_officer", password=PASSWORD)
    create_collector("白沙镇", username="baisha_officer", role="town_officer", password=PASSWORD)
    create_collector("白沙镇/南村/第一组", username="nancun1")
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇/东村/第二组")  # the group exists
    client = WebClient(server.url)
    client.sign_in("qingshan_officer", PASSWORD)
    return {"server": server, "web": client}


def settings_on(page) -> dict:
    payload = html.unescape(re.search(r'<textarea id="payload" hidden>([^<]+)</textarea>', page.text).group(1))
    return decode_settings(payload)


def flashes(page) -> list[str]:
    """The flash messages of a page as their text (buttons included)."""
    return [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", item))).strip()
            for item in re.findall(r'<li class="flash [a-z]+">(.*?)</li>', page.text, re.S)]


def test_the_group_is_chosen_from_a_menu_of_the_offices_groups(office):
    ensure_area("青山镇/西村/第一组")
    commit()
    page = office["web"].get("/collectors").text
    menu = page.split('<select id="group" name="group" required>', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="(\d*)">([^<]+)</option>', menu) == [
        ("", "请选择小组"), (area_id("青山镇/东村/第二组"), "青山镇 › 东村 › 第二组"),
        (area_id("青山镇/西村/第一组"), "青山镇 › 西村 › 第一组")]
    assert 'name="group" placeholder' not in page and "白沙镇" not in page


def test_a_new_collector_scans_the_code_and_collect_works_with_it(office):
    page = office["web"].post("/collectors", {"username": "dongcun2b", "display_name": "李四",
                                              "group": area_id("青山镇/东村/第二组")})
    assert page.status_code == 200 and '<div id="qr"><svg' in page.text
    assert "<h1>设置 李四 的手机</h1>" in page.text and "<p>青山镇 › 东村 › 第二组</p>" in page.text
    settings = settings_on(page)
    url = settings["general"]["server_url"]
    assert re.fullmatch(rf"{re.escape(office['server'].url)}/key/[A-Za-z0-9]{{64}}", url)
    assert settings["project"]["name"] == "台账 青山镇/东村/第二组"
    listed = office["server"].client(token=url.rsplit("/", 1)[1]).form_list()
    assert listed.status_code == 200 and "<formID>household_visit</formID>" in listed.text
    row = office["web"].get("/collectors").text.split('<tr id="collector-dongcun2b">', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td class="(?:name|group|state|synced)">([^<]*)</td>', row) == [
        "李四", "青山镇 › 东村 › 第二组", "已设置", "从未同步"]


def test_a_new_code_is_confirmed_first_and_replaces_the_old(office):
    first = settings_on(office["web"].post("/collectors", {"username": "dongcun2b", "display_name": "李四",
                                                           "group": area_id("青山镇/东村/第二组")}))
    old_token = first["general"]["server_url"].rsplit("/", 1)[1]
    # The list offers a link to a confirmation, never a button that replaces the code at once.
    listing = office["web"].get("/collectors").text
    assert '<a class="new-token" href="/collectors/dongcun2b/token">新二维码</a>' in listing
    assert 'action="/collectors/dongcun2b/token"' not in listing
    confirm = office["web"].get("/collectors/dongcun2b/token")
    assert confirm.status_code == 200 and "<h1>为 李四 生成新二维码？</h1>" in confirm.text
    assert "旧二维码将立即失效，且无法撤销" in confirm.text
    assert 'action="/collectors/dongcun2b/token"' in confirm.text and 'href="/collectors" id="cancel"' in confirm.text
    # Asking is not doing: the old code still works.
    assert office["server"].client(token=old_token).form_list().status_code == 200
    page = office["web"].post("/collectors/dongcun2b/token", {})
    assert flashes(page) == ["已为 李四 生成新二维码，旧二维码已失效。"]
    new_token = settings_on(page)["general"]["server_url"].rsplit("/", 1)[1]
    assert office["server"].client(token=old_token).form_list().status_code == 403
    assert office["server"].client(token=new_token).form_list().status_code == 200
    assert [event.action for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == [
        "collector.create", "collector.token"]
    db.session.rollback()
    # Another town's collector: refused, on the confirmation page as on the action.
    assert office["web"].get("/collectors/nancun1/token").status_code == 403
    assert office["web"].post("/collectors/nancun1/token", {}).status_code == 403


def test_revoking_says_what_happened_and_can_be_undone(office):
    token = settings_on(office["web"].post("/collectors", {"username": "dongcun2b", "display_name": "李四",
                                                           "group": area_id("青山镇/东村/第二组")}))[
        "general"]["server_url"].rsplit("/", 1)[1]
    revoked = office["web"].post("/collectors/dongcun2b/revoke", {}, allow_redirects=False)
    assert (revoked.status_code, revoked.headers["Location"]) == (302, "/collectors")
    assert office["server"].client(token=token).form_list().status_code == 403
    page = office["web"].get("/collectors")
    assert flashes(page) == ["已停用 李四 的账号：其密码和二维码都已失效。 撤销（重新启用）"]
    (undo,) = re.findall(r'<form method="post" action="([^"]+)" class="undo">', page.text)
    assert undo == "/collectors/dongcun2b/activate"
    assert re.search(r'<tr id="collector-dongcun2b">.*?<td class="state">已停用</td>', page.text, re.S)
    assert flashes(office["web"].get("/collectors")) == []    # said once
    undone = office["web"].post(undo, {})
    assert flashes(undone) == ["已重新启用 李四 的账号。其手机需要扫描新的二维码： 新二维码"]
    assert 'href="/collectors/dongcun2b/token">新二维码</a></li>' in undone.text
    assert re.search(r'<tr id="collector-dongcun2b">.*?<td class="state">没有二维码</td>', undone.text, re.S)
    # A village cadre's account: the same, in the cadre's words.
    assert flashes(office["web"].post("/collectors/dongcun_cadre/revoke", {})) == [
        "已停用 dongcun_cadre 的账号：已不能登录。 撤销（重新启用）"]
    assert flashes(office["web"].post("/collectors/dongcun_cadre/activate", {})) == [
        "已重新启用 dongcun_cadre 的账号，可以用原密码登录。"]
    logged = [(event.action, event.subject) for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    db.session.rollback()
    assert logged == [("collector.create", "dongcun2b"), ("collector.revoke", "dongcun2b"),
                      ("collector.activate", "dongcun2b"), ("village_cadre.revoke", "dongcun_cadre"),
                      ("village_cadre.activate", "dongcun_cadre")]


def test_a_revoked_collector_gets_no_new_code_until_re_activated(office):
    office["web"].post("/collectors/collector1/revoke", {})
    office["web"].get("/collectors")
    refused = office["web"].get("/collectors/collector1/token")
    assert flashes(refused) == ["只能为在用的信息员生成新二维码：请先重新启用该账号。"]
    assert refused.url.endswith("/collectors")


def test_the_last_sync_is_shown_in_china_time(office, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 12, 20, 2, 5, tzinfo=dt.timezone.utc))
    office["web"].sign_in("qingshan_officer", PASSWORD)   # a session of that day
    token = settings_on(office["web"].post("/collectors", {"username": "dongcun2b", "display_name": "李四",
                                                           "group": area_id("青山镇/东村/第二组")}))[
        "general"]["server_url"].rsplit("/", 1)[1]
    xml = plain_submission("household_visit", "2026112201", f"uuid:{uuid.uuid4()}", {
        "household_no": "001", "head_name": "王强", "visit_date": "2026-12-20", "outcome": "completed"})
    assert office["server"].client(token=token).submit(xml).status_code == 201
    page = office["web"].get("/collectors").text
    assert re.search(r'<tr id="collector-dongcun2b">.*?<td class="synced">2026-12-20 10:05</td>', page, re.S)


def test_only_the_town_office_of_the_group_sets_up_collectors(office):
    other = WebClient(office["server"].url)
    other.sign_in("baisha_officer", PASSWORD)
    refused = other.post("/collectors", {"username": "x1", "group": area_id("青山镇/东村/第二组")})
    assert refused.status_code == 403 and '<p class="error" id="error">您只能为本辖区的小组设置采集员。</p>' in refused.text
    assert "x1" not in other.get("/collectors").text
    cadre = WebClient(office["server"].url)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    assert cadre.get("/collectors").status_code == 403
    assert cadre.post("/collectors", {"username": "x2", "group": area_id("青山镇/东村/第二组")}).status_code == 403


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"username": "bad name", "group": "青山镇/东村/第二组"}, 400,
     "用户名须为 2–64 个字母、数字、点、连字符或下划线，例如 dongcun2b。"),
    ({"username": "dongcun2c", "group": "青山镇/东村/第二组/"}, 400, "请从列表中选择信息员所在的小组。"),
    ({"username": "dongcun2c", "group": "青山镇/东村"}, 400, "请从列表中选择信息员所在的小组。"),   # a village
    ({"username": "dongcun2c", "group": "999999"}, 400, "请从列表中选择信息员所在的小组。"),
    ({"username": "dongcun2c", "group": ""}, 400, "请从列表中选择信息员所在的小组。"),
    ({"username": "collector1", "group": "青山镇/东村/第二组"}, 409, "用户名 collector1 已被使用，请换一个。"),
], ids=["user-name", "typed-path", "a-village", "unknown-id", "none", "taken"])
def test_a_bad_new_collector_gets_a_message_on_the_page(office, form, status, message):
    sent = {**form, "group": area_id(form["group"].rstrip("/")) if form["group"].startswith("青山镇") and
            not form["group"].endswith("/") else form["group"]}
    page = office["web"].post("/collectors", sent)
    assert page.status_code == status
    assert re.findall(r'<p class="error message">([^<]+)</p>', page.text) == [message]
    assert f'value="{html.escape(form["username"])}"' in page.text    # what was typed is kept
    assert '<div id="qr">' not in page.text


def test_the_county_counts_collectors_by_town_then_lists_a_towns(office):
    add_user("county_admin_x", "county_admin", None, realm=REALM, password=PASSWORD)
    commit()
    county = WebClient(office["server"].url)
    county.sign_in("county_admin_x", PASSWORD)
    page = county.get("/collectors").text
    assert '<tr id="collector-' not in page and '<select id="group"' not in page
    rows = re.findall(r'<tr id="town-(\d+)">\s*<td class="name"><a href="([^"]+)">([^<]+)</a></td>\s*'
                      r'<td class="active">(\d+)</td><td class="revoked">(\d+)</td>\s*<td class="without-code">(\d+)</td>',
                      page)
    assert rows == [(area_id("白沙镇"), f"/collectors?area={quote('白沙镇')}", "白沙镇", "1", "0", "0"),
                    (area_id("青山镇"), f"/collectors?area={quote('青山镇')}", "青山镇", "1", "0", "0")]
    # The whole county lists its town officers; a town's village cadres are listed with the town.
    assert re.findall(r'<tr id="account-([a-z_]+)">', page) == ["baisha_officer", "qingshan_officer"]
    assert '<p id="choose-town">请先在上面选择一个镇，再为它的某个组设置信息员。</p>' in page

    qingshan = county.get("/collectors", params={"area": "青山镇"}).text
    assert re.findall(r'<tr id="collector-([a-z0-9_]+)">', qingshan) == ["collector1"]
    assert re.findall(r'<tr id="account-([a-z_]+)">', qingshan) == ["qingshan_officer", "dongcun_cadre"]
    menu = qingshan.split('<select id="group" name="group" required>', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="(\d*)">([^<]+)</option>', menu) == [
        ("", "请选择小组"), (area_id("青山镇/东村/第二组"), "青山镇 › 东村 › 第二组")]
    assert f'id="monitoring-link" href="/monitoring?area={quote("青山镇")}"' in qingshan
    officer_page = office["web"].get("/collectors", params={"area": "白沙镇"})
    assert officer_page.status_code == 403
