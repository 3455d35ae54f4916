"""Unusual reading and exports of personal data on the dashboards, through HTTP on SQLite and PostgreSQL: 东村's
cadre opens 5 people's records within an hour (the limit set to 5: not listed), then a 6th (listed on 青山镇's and
the county's dashboards with the 6 names linked to their pages, not on 白水镇's); the county's own reading is the
county's, not the town's; exports made through the report endpoints are listed with who, what, masked or full and
the reason, each town seeing its own staff's."""

# ruff: noqa: F811 - the fixtures imported from the tests that define them are the tests' arguments
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from server import clock
from server.audit import queries as audit
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.users.operations import add_user
from server.users.queries import principal_by_username
from tests.conftest import REALM, merge_all
from tests.integration.test_write_scope import (  # noqa: F401 - the fixture world
    NOW,
    PASSWORD,
    place_uuid,
    send,
    signed_in,
    world,
)
from tests.register_visits import Member, household_visit

READING = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.timezone.utc)      # 2026-11-23 09:00 in China
ZHAO = [Member(name, "female", f"1980-0{number}-01", relationship="head" if number == 1 else "child")
        for number, name in enumerate(["赵一", "赵二", "赵三", "赵四", "赵五", "赵六"], start=1)]


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html)).strip()


def table_rows(html: str, table: str) -> list[tuple[str, list[str], str]]:
    """(the row's data attribute, its cells as read, its raw HTML) of a table by id ([] when it is not there)."""
    found = re.search(rf'<table id="{table}">(.*?)</table>', html, flags=re.S)
    if found is None:
        return []
    return [(key, [visible(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, flags=re.S)], body)
            for key, body in re.findall(r'<tr data-[a-z]+="([^"]*)">(.*?)</tr>', found.group(1), flags=re.S)]


def audited(action: str) -> list[tuple[str | None, int]]:
    rows = [(row.area_path, row.records) for row in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]
    db.session.rollback()
    return rows


def test_a_cadre_reading_more_people_than_the_limit_within_an_hour_is_listed_for_the_town_office(server, world,
                                                                                              monkeypatch):
    monkeypatch.setitem(server.app.config, "TAIZHANG_UNUSUAL_READS_PER_HOUR", 5)
    send(world["own"], household_visit(household=place_uuid("own", "zhao"), new=("099", "东村一组99号"),
                                       start="2026-11-20T09:00:00.000+08:00", members=ZHAO))
    merge_all(NOW)
    add_user("county", "county_admin", None, realm=REALM, password=PASSWORD)
    commit()
    at = {"now": READING}
    monkeypatch.setattr(clock, "now", lambda: at["now"])
    cadre, county = signed_in(server, "dongcun_cadre"), signed_in(server, "county")
    qingshan, baishui = signed_in(server, "qingshan_officer"), signed_in(server, "baishui_officer")

    def read(client, minutes: float, person: Member) -> None:
        at["now"] = READING + dt.timedelta(minutes=minutes)
        assert client.get(f"/people/{person.uuid}").status_code == 200

    for minute, person in zip((0, 10, 20, 30, 40), ZHAO[:5]):
        read(cadre, minute, person)
    read(cadre, 45, ZHAO[0])                       # the same person again counts once
    at["now"] = READING + dt.timedelta(minutes=55)
    for client in (qingshan, county, baishui):
        page = client.get("/home")
        assert page.status_code == 200
        assert 'id="no-unusual-reading"' in page.text and table_rows(page.text, "unusual-reading") == []
    assert audited("reading.unusual") == []

    read(cadre, 50, ZHAO[5])                        # 6 different people within 60 minutes
    at["now"] = READING + dt.timedelta(minutes=55)
    page = qingshan.get("/home").text
    assert '<h2>异常查阅</h2>' in page
    rows = table_rows(page, "unusual-reading")
    assert [(key, cells[:3]) for key, cells, _ in rows] == [
        ("dongcun_cadre", ["dongcun_cadre (dongcun_cadre, 青山镇 › 东村)", "2026-11-23 09:00 – 09:50", "6"])]
    assert re.findall(r'<a href="/people/([^"]+)">([^<]+)</a>', rows[0][2]) == [(p.uuid, p.name) for p in ZHAO]
    assert rows[0][1][3] == " 、 ".join(person.name for person in ZHAO)
    assert 'id="no-unusual-reading"' not in page
    assert table_rows(baishui.get("/home").text, "unusual-reading") == []      # not 白水镇's staff
    assert [key for key, _, _ in table_rows(county.get("/home").text, "unusual-reading")] == ["dongcun_cadre"]
    assert "unusual-reading" not in cadre.get("/home").text                    # a cadre's own page: no such list
    # Naming the people is a read of them, audited for the reader.
    town_path = principal_by_username("qingshan_officer").area_path
    db.session.rollback()
    assert audited("reading.unusual") == [(town_path, 6), (None, 6)]

    # The county's own reading of 青山镇's people is the county's to see, not the town's.
    for minute, person in zip((120, 121, 122, 123, 124, 125), ZHAO):
        read(county, minute, person)
    at["now"] = READING + dt.timedelta(minutes=130)
    assert [(key, cells[1]) for key, cells, _ in table_rows(county.get("/home").text, "unusual-reading")] == [
        ("county", "2026-11-23 11:00 – 11:05"), ("dongcun_cadre", "2026-11-23 09:00 – 09:50")]
    assert [key for key, _, _ in table_rows(qingshan.get("/home").text, "unusual-reading")] == ["dongcun_cadre"]

    # Eight days later the reading is out of the dashboard's 7 days.
    at["now"] = READING + dt.timedelta(days=8)
    page = signed_in(server, "qingshan_officer").get("/home").text      # signed in again: sessions last 8 hours
    assert 'id="no-unusual-reading"' in page and '<h2>异常查阅</h2>' in page


def test_exports_of_personal_data_are_listed_with_who_what_and_the_reason(server, world, monkeypatch):
    add_user("county", "county_admin", None, realm=REALM, password=PASSWORD)
    commit()
    at = {"now": READING}
    monkeypatch.setattr(clock, "now", lambda: at["now"])
    cadre, county = signed_in(server, "dongcun_cadre"), signed_in(server, "county")
    qingshan, baishui = signed_in(server, "qingshan_officer"), signed_in(server, "baishui_officer")
    assert 'id="no-exports"' in qingshan.get("/home").text

    assert cadre.get("/reports/monthly-change.xlsx", params={"area": "青山镇/东村", "month": "2026-11"}).status_code == 200
    at["now"] = READING + dt.timedelta(minutes=5)
    assert cadre.get("/reports/register.xlsx", params={"area": "青山镇/东村"}).status_code == 200
    at["now"] = READING + dt.timedelta(minutes=10)
    assert baishui.get("/reports/register.xlsx", params={"area": "白水镇"}).status_code == 200
    # A full export (ID numbers and phones unmasked) is audited with the reason the user gave.
    at["now"] = READING + dt.timedelta(minutes=15)
    officer = principal_by_username("qingshan_officer")
    audit.record(officer.id, "export.register", area_path=officer.area_path, records=4, reason="县卫健委核对名单")
    commit()

    rows = table_rows(qingshan.get("/home").text, "exports")
    assert [(key, cells) for key, cells, _ in rows] == [
        ("export.register", ["2026-11-23 09:15", "qingshan_officer (qingshan_officer, 青山镇)", "台账", "青山镇", "4",
                             "完整显示", "县卫健委核对名单"]),
        ("export.register", ["2026-11-23 09:05", "dongcun_cadre (dongcun_cadre, 青山镇 › 东村)", "台账",
                             "青山镇 › 东村", "4", "已遮盖", ""]),
        ("export.monthly_change", ["2026-11-23 09:00", "dongcun_cadre (dongcun_cadre, 青山镇 › 东村)",
                                   "月变更报告单 2026-11", "青山镇 › 东村", "—", "已遮盖", ""])]
    assert [key for key, _, _ in table_rows(baishui.get("/home").text, "exports")] == ["export.register"]
    county_rows = table_rows(county.get("/home").text, "exports")
    assert [(key, cells[1]) for key, cells, _ in county_rows] == [
        ("export.register", "qingshan_officer (qingshan_officer, 青山镇)"),
        ("export.register", "baishui_officer (baishui_officer, 白水镇)"),
        ("export.register", "dongcun_cadre (dongcun_cadre, 青山镇 › 东村)"),
        ("export.monthly_change", "dongcun_cadre (dongcun_cadre, 青山镇 › 东村)")]
