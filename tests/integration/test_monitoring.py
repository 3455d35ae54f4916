"""Collector monitoring over HTTP: a phone's form download recorded with its version and User-Agent (an upsert), and
the monitoring page's figures per collector — last sync, forms on the phone (需更新 when not current), the phone,
submissions per China-time week, visits completed ÷ attempted — only for the collectors of the reader's area."""

from __future__ import annotations

import datetime as dt
import html
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from sqlalchemy import select

from server.areas.operations import ensure_area
from server.areas.queries import by_full_name
from server.database import commit
from server.extensions import db
from server.users.models import CollectorFormDownload, User
from server.users.operations import add_user
from tests.conftest import FIXTURES, REALM, ROOT, merge_all
from tests.register_visits import Member, household_visit
from tests.staffed_town import staffed_town
from tests.web import WebClient
from xlsforms import sheets

XLSFORMS = ROOT / "xlsforms"
PASSWORD = "monitoring-password"
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=UTC)          # Sunday 2026-11-22 11:00 in China
PHONE_UA = ("Dalvik/2.1.0 (Linux; U; Android 13; SM-A135F Build/TP1A.220624.014) "
            "org.odk.collect.android/v2024.3.2")
H1, H2, H9 = (f"44444444-0000-4000-8000-00000000000{n}" for n in (1, 2, 9))
USERS = [("d1", "collector", "青山镇/东村/第一组", "王秀兰"), ("d2", "collector", "青山镇/东村/第二组", "李桂英"),
         ("x1", "collector", "青山镇/西村/第一组", "张丽"),
         ("dongcun_cadre", "village_cadre", "青山镇/东村", "陈红"),
         ("qingshan_officer", "town_officer", "青山镇", "王主任")]

VISIT_VERSION = sheets.version_of((ROOT / "xlsforms" / "text" / "household_visit.md").read_text())


def probe_form(tmp_path, version: str):
    """A small form of its own (id `probe`) in a given version, to be published over the previous one."""
    xml = (FIXTURES / "forms" / "household_visit_placeholder.xml").read_text()
    xml = xml.replace('id="household_visit" version="2026112201"', f'id="probe" version="{version}"')
    xml = xml.replace("<h:title>入户访视（占位）</h:title>", "<h:title>探访表</h:title>")
    path = tmp_path / f"probe-{version}.xml"
    path.write_text(xml)
    return path


@pytest.fixture
def town(server, publish, monkeypatch, tmp_path):
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(probe_form(tmp_path, "1"))
    town = staffed_town(server, monkeypatch, USERS, password=PASSWORD, now=NOW)
    town.phones["d1"].session.headers["User-Agent"] = PHONE_UA
    send = town.send

    a, b, e = Member("王秀瑛", "female", "1975-05-06"), Member("李芳", "female", "1990-01-02"), Member("刘明", "male", "1980-03-03")
    # Before the four weeks: counted nowhere.
    send("d1", household_visit(household=H2, new=("002", "一组2号"), start="2026-10-20T09:00:00.000+08:00", members=[b]),
         dt.datetime(2026, 10, 20, 2, 0, tzinfo=UTC))
    # Week of 11-02: a registration (completed).
    send("d1", household_visit(household=H1, new=("001", "一组1号"), start="2026-11-03T09:00:00.000+08:00", members=[a]),
         dt.datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    # Sunday 11-08 17:00 UTC is Monday 11-09 01:00 in China: the week of 11-09. Nobody was home.
    send("d1", household_visit(household=H1, base_version=1, start="2026-11-08T16:00:00.000+08:00",
                               outcome="nobody_home"), dt.datetime(2026, 11, 8, 17, 0, tzinfo=UTC))
    # Week of 11-16: completed; the last sync.
    send("d1", household_visit(household=H1, base_version=1, start="2026-11-18T10:00:00.000+08:00"),
         dt.datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    # 西村: another village's collector.
    send("x1", household_visit(household=H9, new=("901", "西村1号"), start="2026-11-10T10:00:00.000+08:00", members=[e]),
         dt.datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    merge_all()
    town.tmp_path, town.client = tmp_path, server.client
    return town


def signed_in(town, username: str) -> WebClient:
    return town.signed_in(username)


def download(phone, form_id: str) -> None:
    """What Collect does to get a form: the form list, then the form's download URL."""
    listing = phone.form_list(form_id)
    url = re.search(r"<downloadUrl>(.*?)</downloadUrl>", listing.text).group(1)
    assert phone.get(html.unescape(url)).status_code == 200


def downloads() -> list[tuple[str, str, str, dt.datetime, str]]:
    rows = db.session.execute(
        select(User.username, CollectorFormDownload.version, CollectorFormDownload.user_agent,
               CollectorFormDownload.downloaded_at)
        .join(User, User.id == CollectorFormDownload.user_id).order_by(User.username, CollectorFormDownload.version))
    found = [(name, version, agent, at if at.tzinfo else at.replace(tzinfo=UTC)) for name, version, agent, at in rows]
    db.session.rollback()
    return found


def cells(page: str, username: str) -> dict[str, str]:
    """A collector's row of the monitoring table: its cells' words by class, tags dropped, spaces folded."""
    row = re.search(rf'<tr id="monitor-{username}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    return {name: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", value)).split())
            for name, value in re.findall(r'<td class="([a-z-]+)"[^>]*>(.*?)</td>', row, re.S)}


def test_a_form_download_records_the_version_and_the_phone(town):
    phone = town.phones["d1"]
    download(phone, "probe")
    assert downloads() == [("d1", "1", PHONE_UA, NOW)]
    town.set_now(NOW + dt.timedelta(hours=1))
    download(phone, "probe")          # again: the same row, its time moved on
    assert downloads() == [("d1", "1", PHONE_UA, NOW + dt.timedelta(hours=1))]


def test_downloads_at_once_leave_one_row(town):
    """Collect fetches forms in parallel; so may two phones of the same account: one row per collector and form."""
    phones = [town.client(token=town.tokens["d1"]) for _ in range(6)]
    for phone in phones:
        phone.session.headers["User-Agent"] = PHONE_UA
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda phone: phone.get(f"{phone.base}/forms/probe/versions/1/form.xml"), phones))
    assert [answer.status_code for answer in answers] == [200] * 6
    assert downloads() == [("d1", "1", PHONE_UA, NOW)]


def test_only_collectors_downloads_are_recorded(town, publish):
    path = probe_form(town.tmp_path, "1")
    path.write_text(path.read_text().replace('id="probe"', 'id="office_probe"'))
    publish(path, audience="town_officer")
    officer_phone = town.client("qingshan_officer", PASSWORD)
    assert officer_phone.get(f"{town.url}/forms/office_probe/versions/1/form.xml").status_code == 200
    assert downloads() == []


def test_the_page_shows_each_collectors_sync_phone_forms_weeks_and_visits(town, publish):
    download(town.phones["d1"], "probe")
    download(town.phones["d1"], "household_visit")
    publish(probe_form(town.tmp_path, "2"))          # the phone now holds an old version of it
    page = signed_in(town, "dongcun_cadre").get("/monitoring")
    assert page.status_code == 200
    d1 = cells(page.text, "d1")
    assert d1["name"] == "王秀兰 青山镇 › 东村 › 第一组"
    assert d1["synced"] == "2026-11-20 10:00"
    assert d1["device"] == "ODK Collect v2024.3.2 · Android 13 · SM-A135F 设备编号：collect:TESTDEVICE00001"
    assert d1["forms"] == f"入户访视: {VISIT_VERSION} 当前版本 探访表: 1 需更新 最近下载：2026-11-22 11:00"
    assert d1["weekly"] == "10-26–11-01: 0 11-02–11-08: 1 11-09–11-15: 1 11-16–11-22: 1"
    assert d1["completed"] == "67% (2 / 3) 已完成 2 · 无人在家 1"
    d2 = cells(page.text, "d2")
    assert d2["synced"] == "从未同步 7 天未同步"
    assert d2["device"] == "尚不知道"
    assert d2["forms"] == "尚未下载表单"
    assert d2["weekly"] == "10-26–11-01: 0 11-02–11-08: 0 11-09–11-15: 0 11-16–11-22: 0"
    assert d2["completed"] == "没有访视"
    assert 'id="monitor-x1"' not in page.text          # 西村's collector: another village


def test_the_town_office_sees_every_village_and_the_home_pages_link_here(town):
    officer = signed_in(town, "qingshan_officer")
    page = officer.get("/monitoring").text
    assert re.findall(r'<tr id="monitor-([a-z0-9]+)"', page) == ["d1", "d2", "x1"]
    assert cells(page, "x1")["weekly"] == "10-26–11-01: 0 11-02–11-08: 0 11-09–11-15: 1 11-16–11-22: 0"
    dashboard = officer.get("/home").text
    assert 'href="/monitoring#monitor-d2"' in dashboard and 'id="monitoring-link"' in dashboard
    todo = signed_in(town, "dongcun_cadre").get("/home").text
    assert 'href="/monitoring#monitor-d2"' in todo and 'href="/monitoring#monitor-x1"' not in todo


def town_cells(page: str, town: str) -> dict[str, str]:
    """A town's row of the county's monitoring table: its cells' words by class."""
    row = re.search(rf'<tr id="town-{area_id(town)}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    return {name: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", value)).split())
            for name, value in re.findall(r'<td class="([a-z-]+)"[^>]*>(.*?)</td>', row, re.S)}


def area_id(full_name: str) -> int:
    found = by_full_name(full_name).id
    db.session.rollback()
    return found


def choices(page: str) -> list[tuple[str, str]]:
    """The drill-down's links one step in: (address, words)."""
    nav = page.split('<nav class="drill-down" id="drill-down">', 1)[1].split("</nav>", 1)[0]
    return [(html.unescape(href), words) for href, words in re.findall(r'<a class="area-choice" href="([^"]+)">([^<]+)</a>', nav)]


def test_the_county_sees_its_towns_in_sum_then_picks_a_town_and_a_village(town):
    ensure_area("白沙镇/南村/第一组")
    add_user("nancun1", "collector", "白沙镇/南村/第一组", realm=REALM, display_name="赵敏", with_token=True)
    add_user("county", "county_admin", None, realm=REALM, display_name="县局", password=PASSWORD)
    commit()
    county = signed_in(town, "county")
    page = county.get("/monitoring").text
    assert 'id="monitor-' not in page          # no collector listed until a town is chosen
    assert town_cells(page, "青山镇") == {
        "name": "青山镇", "collectors": "3", "synced": "2 人 7 天未同步",
        "weekly": "10-26–11-01: 0 11-02–11-08: 1 11-09–11-15: 2 11-16–11-22: 1", "completed": "75% (3 / 4)"}
    assert town_cells(page, "白沙镇") == {
        "name": "白沙镇", "collectors": "1", "synced": "1 人 7 天未同步",
        "weekly": "10-26–11-01: 0 11-02–11-08: 0 11-09–11-15: 0 11-16–11-22: 0", "completed": "没有访视"}
    assert f'href="/monitoring?area={quote("青山镇")}"' in page

    qingshan = county.get("/monitoring", params={"area": "青山镇"}).text
    assert re.findall(r'<tr id="monitor-([a-z0-9]+)"', qingshan) == ["d1", "d2", "x1"]
    assert cells(qingshan, "d1")["completed"] == "67% (2 / 3) 已完成 2 · 无人在家 1"
    assert choices(qingshan) == [(f"/monitoring?area={quote('青山镇/东村')}", "东村"),
                                 (f"/monitoring?area={quote('青山镇/西村')}", "西村")]
    assert 'id="area-up" href="/monitoring">' in qingshan

    dongcun = county.get("/monitoring", params={"area": "青山镇/东村"}).text
    assert re.findall(r'<tr id="monitor-([a-z0-9]+)"', dongcun) == ["d1", "d2"]
    assert f'id="area-up" href="/monitoring?area={quote("青山镇")}">' in dongcun
    assert [words for _, words in choices(dongcun)] == ["第一组", "第二组"]
    # The county's home counts the silent collectors of each town, with a link to the town's page.
    home = county.get("/home").text
    assert f'href="/monitoring?area={quote("青山镇")}">青山镇</a>' in home and "#monitor-d2" not in home


def test_an_area_outside_the_readers_or_unknown_is_refused(town):
    officer = signed_in(town, "qingshan_officer")
    assert officer.get("/monitoring", params={"area": "青山镇/东村"}).status_code == 200
    ensure_area("白沙镇/南村")
    commit()
    assert officer.get("/monitoring", params={"area": "白沙镇"}).status_code == 403
    assert officer.get("/monitoring", params={"area": "无此镇"}).status_code == 404
    own = officer.get("/monitoring", params={"area": "青山镇"}).text
    assert 'id="area-up"' not in own and re.findall(r'<tr id="monitor-([a-z0-9]+)"', own) == ["d1", "d2", "x1"]
