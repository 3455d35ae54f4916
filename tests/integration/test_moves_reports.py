"""Reports count moves once (docs/moves.md § Reports), through HTTP on SQLite and PostgreSQL: a woman of 东村 moves to
西村 and a man of 东村 to 北村 of another town (the moves recorded and the arrivals confirmed as decisions); the
monthly change report lists each move out in 东村 with where to and each move in where it arrived with where from;
the town's total counts the move between its villages once (moved within), the county's both moves (between its
towns too); the moves register shows from and to; the events of 东村 stay in 东村 after the people left it."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select

from server import clock
from server.areas.models import Area
from server.database import commit
from server.extensions import db
from server.indicators.queries import sweeps_by_group
from server.register.decisions import record_decision
from server.users.operations import add_user
from server.users.queries import principal_by_username
from sync.decisions import CONFIRM_ARRIVAL, RECORD_MOVE, move_target
from tests.conftest import REALM, ROOT, merge_all
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "officer-password"
EAST, WEST, NORTH = "a1111111-0000-4000-8000-000000000001", "a2222222-0000-4000-8000-000000000002", \
    "a3333333-0000-4000-8000-000000000003"
UTC = dt.timezone.utc


@pytest.fixture
def moved(server, create_collector, publish, monkeypatch):
    """东村: 张伟 and his daughter 张丽 and son 张强 (registered in September, a birth in October); 西村: 王强's
    household; 白马镇北村: 赵刚's. In October 张丽 moves to 西村 (arrives on the 15th) and 张强 to 白马镇北村."""
    publish(ROOT / "xlsforms" / "household_visit.xlsx", media=list((ROOT / "xlsforms" / "fixtures").glob("*.csv")))
    phones = {place: server.client(token=create_collector(f"{place}/第一组").token)
              for place in ("青山镇/东村", "青山镇/西村", "白马镇/北村")}
    create_collector("青山镇", username="qingshan_officer", role="town_officer", password=PASSWORD)
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("白马镇", username="baima_officer", role="town_officer", password=PASSWORD)
    add_user("county", "county_admin", None, realm=REALM, password=PASSWORD)
    commit()
    now = {"at": dt.datetime(2026, 9, 20, 2, 0, tzinfo=UTC)}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    head, daughter = Member("张伟", "male", "1960-03-04"), Member("张丽", "female", "1998-05-06", relationship="child")
    son = Member("张强", "male", "2000-07-08", relationship="child")
    visits = ((EAST, "青山镇/东村", ("001", "东村一组1号"), [head, daughter, son]),
              (WEST, "青山镇/西村", ("007", "西村一组7号"), [Member("王强", "male", "1996-01-02")]),
              (NORTH, "白马镇/北村", ("003", "北村一组3号"), [Member("赵刚", "male", "1970-02-03")]))
    for household, place, new, members in visits:
        assert phones[place].submit(household_visit(household=household, new=new, members=members,
                                                    start="2026-09-10T09:00:00.000+08:00")).status_code == 201
    now["at"] = dt.datetime(2026, 10, 6, 2, 0, tzinfo=UTC)
    baby = Member("张小宝", "female", "2026-10-02", relationship="grandchild", reason="birth")
    assert phones["青山镇/东村"].submit(household_visit(household=EAST, base_version=1, members=[baby],
                                                    start="2026-10-05T09:00:00.000+08:00")).status_code == 201
    merge_all()
    cadre = principal_by_username("dongcun_cadre")
    groups = dict(db.session.execute(select(Area.full_name, Area.path).where(Area.kind == "group")).all())
    now["at"] = dt.datetime(2026, 10, 12, 2, 0, tzinfo=UTC)
    for person, destination, day in ((daughter, "青山镇/西村", dt.date(2026, 10, 11)),
                                     (son, "白马镇/北村", dt.date(2026, 10, 12))):
        record_decision(RECORD_MOVE, person.uuid, move_target(destination, "", day), by=cadre.id, now=now["at"],
                        area_path=groups["青山镇/东村/第一组"])
    now["at"] = dt.datetime(2026, 10, 16, 2, 0, tzinfo=UTC)
    for person, household, group, day, by in ((daughter, WEST, "青山镇/西村/第一组", "2026-10-15", "xicun_cadre"),
                                              (son, NORTH, "白马镇/北村/第一组", "2026-10-16", "baima_officer")):
        record_decision(CONFIRM_ARRIVAL, person.uuid, household, by=principal_by_username(by).id, now=now["at"],
                        area_path=groups[group], field=day)
    commit()
    now["at"] = dt.datetime(2026, 10, 21, 2, 0, tzinfo=UTC)     # 西村's sweep finds her in 王强's household
    assert phones["青山镇/西村"].submit(household_visit(household=WEST, base_version=1,
                                                    start="2026-10-20T09:00:00.000+08:00")).status_code == 201
    merge_all()
    now["at"] = dt.datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    return server


def signed_in(server, username: str) -> WebClient:
    client = WebClient(server.url)
    assert client.sign_in(username, PASSWORD).status_code == 302
    return client


def sheet_rows(content: bytes, sheet: str) -> list[tuple]:
    return [tuple(row) for row in openpyxl.load_workbook(io.BytesIO(content))[sheet].iter_rows(values_only=True)]


def monthly_change(client: WebClient, area: str, month: str = "2026-10") -> bytes:
    response = client.get("/reports/monthly-change.xlsx", params={"area": area, "month": month})
    assert response.status_code == 200, response.text[:300]
    return response.content


def test_a_move_is_listed_where_it_left_and_where_it_arrived_and_counted_once_in_the_towns_total(moved):
    officer = signed_in(moved, "qingshan_officer")
    october = monthly_change(officer, "青山镇")
    # 东村: the birth and the two moves out, where to; entered on the web by the cadre.
    assert [row[2:] for row in sheet_rows(october, "东村 变更名单 Changes")[3:]] == [
        ("张伟", "张小宝", "出生 Birth", None, dt.datetime(2026, 10, 2), "访视 #4", "collector1"),
        ("张伟", "张丽", "迁出 Moved out", "迁往 To: 青山镇西村", dt.datetime(2026, 10, 11),
         "网上登记 Entered on the web", "dongcun_cadre"),
        ("张伟", "张强", "迁出 Moved out", "迁往 To: 白马镇北村", dt.datetime(2026, 10, 12),
         "网上登记 Entered on the web", "dongcun_cadre")]
    assert [row[:2] for row in sheet_rows(october, "东村 变更名单 Changes")[3:]] == [("第一组", "001")] * 3
    # 西村: the move in, in the household she joined, from the village she left.
    assert sheet_rows(october, "西村 变更名单 Changes")[3:] == [
        ("第一组", "007", "王强", "张丽", "迁入 Moved in", "来自 From: 青山镇东村", dt.datetime(2026, 10, 15),
         "网上登记 Entered on the web", "xicun_cadre")]
    # Each village keeps its own move in or out (opening, births, deaths, marriages, in, out, work, back, new, closing).
    assert sheet_rows(october, "东村")[3] == ("第一组", 3, 1, 0, 0, 0, 2, 0, 0, 0, 2)
    assert sheet_rows(october, "西村")[3] == ("第一组", 1, 0, 0, 0, 1, 0, 0, 0, 0, 2)
    # The town: 张丽 moved within it (one person, not one more in and one more out); 张强 left it.
    summary = sheet_rows(october, "镇汇总 Town summary")
    assert summary[2][10:12] == ("期末人数 Closing", "区域内迁移 Moved within the area")
    assert [row[:12] for row in summary[3:6]] == [
        ("东村", 3, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1),
        ("西村", 1, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0),
        ("合计 Total", 4, 1, 0, 0, 0, 1, 0, 0, 0, 4, 1)]
    # 白马镇's report: 张强 moved in from 东村, a move into the town.
    baima = monthly_change(signed_in(moved, "baima_officer"), "白马镇")
    assert [row[3:6] for row in sheet_rows(baima, "北村 变更名单 Changes")[3:]] == [
        ("张强", "迁入 Moved in", "来自 From: 青山镇东村")]
    assert sheet_rows(baima, "镇汇总 Town summary")[4][:12] == ("合计 Total", 1, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0)
    # September's registrations stay in 东村 after the two left it.
    september = monthly_change(officer, "青山镇", "2026-09")
    assert [row[1:5] for row in sheet_rows(september, "东村 变更名单 Changes")[3:]] == [
        ("001", "张伟", "张丽", "新登记 Registered"), ("001", "张伟", "张伟", "新登记 Registered"),
        ("001", "张伟", "张强", "新登记 Registered")]
    assert sheet_rows(september, "西村")[3] == ("第一组", 0, 0, 0, 0, 0, 0, 0, 0, 1, 1)
    # 西村's cadre sees the move in only, and the meeting sheet counts as the report does.
    xicun = signed_in(moved, "xicun_cadre")
    own = monthly_change(xicun, "青山镇/西村")
    assert [row[3:6] for row in sheet_rows(own, "西村 变更名单 Changes")[3:]] == [
        ("张丽", "迁入 Moved in", "来自 From: 青山镇东村")]
    assert xicun.get("/reports/monthly-change.xlsx", params={"area": "青山镇/东村", "month": "2026-10"}
                     ).status_code == 403
    # 录入率: 西村's sweep found two people, 张丽 among them (her move out of 东村 before it does not count here);
    # 东村's of 5 October counts the people of the household now (张伟 and the baby: the two who left since are
    # members of their new households).
    east, west = (db.session.scalar(select(Area.id).where(Area.full_name == f"青山镇/{village}/第一组"))
                  for village in ("东村", "西村"))
    assert sweeps_by_group("/", dt.date(2026, 10, 1), dt.date(2026, 10, 31)) == {east: (2, 2), west: (2, 2)}
    db.session.rollback()


def test_the_moves_register_shows_where_from_and_where_to(moved):
    groups = dict(db.session.execute(select(Area.full_name, Area.id)).all())
    db.session.rollback()
    period = {"since": "2026-10-01", "until": "2026-10-31"}
    officer = signed_in(moved, "qingshan_officer")
    response = officer.get("/registers/moves.xlsx", params={"area": groups["青山镇"], **period})
    assert response.status_code == 200
    (sheet,) = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets
    rows = [tuple(row) for row in sheet.iter_rows(values_only=True)]
    header = rows.index(next(row for row in rows if row and row[0] == "村"))
    assert rows[header] == ("村", "组", "户编号", "姓名", "性别", "出生日期", "迁入/迁出", "从哪里", "到哪里", "日期",
                            "登记日期（访视）")
    assert rows[header + 1:] == [
        ("东村", "第一组", "001", "张丽", "女", dt.datetime(1998, 5, 6), "迁出", "青山镇东村", "青山镇西村",
         dt.datetime(2026, 10, 11), None),
        ("东村", "第一组", "001", "张强", "男", dt.datetime(2000, 7, 8), "迁出", "青山镇东村", "白马镇北村",
         dt.datetime(2026, 10, 12), None),
        ("西村", "第一组", "007", "张丽", "女", dt.datetime(1998, 5, 6), "迁入", "青山镇东村", "青山镇西村",
         dt.datetime(2026, 10, 15), None)]
    # 东村's own register: the two moves out only; the moved-in register of 北村 says where from.
    page = officer.get("/registers/moved-out", params={"area": groups["青山镇/东村"], **period})
    assert page.status_code == 200 and page.text.count("青山镇西村") == 1 and "白马镇北村" in page.text
    baima = signed_in(moved, "baima_officer")
    arrived = baima.get("/registers/moved-in", params={"area": groups["白马镇/北村"], **period})
    assert arrived.status_code == 200 and "青山镇东村" in arrived.text and "张强" in arrived.text
    assert baima.get("/registers/moves", params={"area": groups["青山镇/东村"], **period}).status_code == 403


def test_the_countys_summary_counts_a_move_between_its_towns_as_a_move_within(moved):
    county = signed_in(moved, "county")
    assert "全县（按镇汇总）" in county.get("/reports", headers={"Accept-Language": "zh"}).text
    october = monthly_change(county, "全县")
    assert openpyxl.load_workbook(io.BytesIO(october)).sheetnames == [
        "县汇总 County summary", "迟报更正 Late corrections", "说明 Notes"]
    summary = sheet_rows(october, "县汇总 County summary")
    assert summary[0][0] == "全县 月变更报告单 Monthly change report — 2026年10月 (2026-10)"
    assert summary[2][:2] == ("镇 Town", "期初人数 Opening")
    # 张丽 moved between two villages of 青山镇, 张强 from 青山镇 to 白马镇: both inside the county.
    assert [row[:12] for row in summary[3:6]] == [
        ("白马镇", 1, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0),
        ("青山镇", 4, 1, 0, 0, 1, 2, 0, 0, 0, 4, 2),
        ("合计 Total", 5, 1, 0, 0, 0, 0, 0, 0, 0, 6, 2)]
    # Only a reader of the whole county asks for it.
    officer = signed_in(moved, "qingshan_officer")
    assert "全县（按镇汇总）" not in officer.get("/reports", headers={"Accept-Language": "zh"}).text
    assert officer.get("/reports/monthly-change.xlsx", params={"area": "全县", "month": "2026-10"}).status_code == 403
