"""The town office's reports over HTTP and the command line, from visits sent as Collect sends them: the monthly
change report (late corrections in the next one), the register export; only the requester's area; audited."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select

from server import clock
from server.audit.models import AuditEvent
from server.cli import cli
from server.database import commit
from server.exports.operations import coverage_report
from server.extensions import db
from server.register.decisions import set_tier
from server.users.queries import principal_by_username
from sync.schedules import default_schedule
from tests.conftest import ROOT, merge_all
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "officer-password"
XLSFORMS = ROOT / "xlsforms"
HOUSEHOLD = "88888888-0000-4000-8000-000000000001"
CHINA = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def town(server, create_collector, publish, monkeypatch):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    phone = server.client(token=create_collector("青山镇/东村/第一组").token)
    create_collector("青山镇/西村/第一组")
    create_collector("青山镇", username="qingshan_officer", role="town_officer", password=PASSWORD)
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre", password=PASSWORD)
    now = {"at": dt.datetime(2026, 10, 20, 2, 0, tzinfo=dt.timezone.utc)}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    head, wife = Member("张伟", "male", "1960-03-04"), Member("李芳", "female", "1962-01-02", relationship="spouse")
    assert phone.submit(household_visit(household=HOUSEHOLD, new=("001", "东村一组1号"), members=[head, wife],
                                        start="2026-09-10T09:00:00.000+08:00")).status_code == 201
    baby = Member("张小宝", "male", "2026-10-05", relationship="grandchild", reason="birth")
    assert phone.submit(household_visit(household=HOUSEHOLD, base_version=1, members=[baby],
                                        start="2026-10-08T09:00:00.000+08:00")).status_code == 201
    merge_all()
    return {"server": server, "phone": phone, "now": now, "head": head}


def officer(town) -> WebClient:
    """The town officer, signed in at the clock's time (a session of weeks ago has ended since)."""
    client = WebClient(town["server"].url)
    assert client.sign_in("qingshan_officer", PASSWORD).status_code == 302
    return client


def sheet_rows(content: bytes, sheet: str) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [tuple(row) for row in workbook[sheet].iter_rows(values_only=True)]


def test_the_monthly_change_report_and_a_late_death_in_the_next_one(town):
    town["now"]["at"] = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
    october = officer(town).get("/reports/monthly-change.xlsx", params={"area": "青山镇", "month": "2026-10"})
    assert october.status_code == 200 and october.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    workbook = openpyxl.load_workbook(io.BytesIO(october.content))
    assert workbook.sheetnames[0] == "镇汇总 Town summary"
    values = [cell for row in workbook.worksheets[0].iter_rows(values_only=True) for cell in row if cell is not None]
    assert "东村" in values and "西村" in values
    # A death dated in October reaches the server after the October report was printed.
    town["now"]["at"] = dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.timezone.utc)
    assert town["phone"].submit(household_visit(household=HOUSEHOLD, base_version=2, start="2026-11-04T09:00:00+08:00",
                                                updates=[dict(person_uuid=town["head"].uuid, base_version=1,
                                                              change="died", event_date="2026-10-30")])).status_code == 201
    merge_all()
    town["now"]["at"] = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone.utc)
    november = officer(town).get("/reports/monthly-change.xlsx", params={"area": "青山镇", "month": "2026-11"})
    late = [row for name in openpyxl.load_workbook(io.BytesIO(november.content)).sheetnames if "迟报" in name
            for row in sheet_rows(november.content, name)]
    assert any("青山镇/东村/第一组" in row and 1 in row for row in late), late
    runs = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("export.%")))]
    db.session.rollback()
    assert runs == ["export.monthly_change", "export.monthly_change"]


def test_the_register_export_holds_the_area_and_nothing_else(town):
    export = officer(town).get("/reports/register.xlsx", params={"area": "青山镇/东村"})
    assert export.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(export.content))
    names = [cell for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row]
    assert {"张伟", "李芳", "张小宝"} <= set(names)
    cadre = WebClient(town["server"].url)
    cadre.sign_in("xicun_cadre", PASSWORD)
    assert cadre.get("/reports/register.xlsx", params={"area": "青山镇/东村"}).status_code == 403
    assert cadre.get("/reports/monthly-change.xlsx", params={"area": "青山镇", "month": "2026-10"}).status_code == 403
    assert "青山镇/西村" in cadre.get("/reports").text


def test_reports_from_the_command_line(town, tmp_path):
    runner = town["server"].app.test_cli_runner()
    out = tmp_path / "register.xlsx"
    result = runner.invoke(cli, ["report", "register", "青山镇", "--out", str(out), "--user", "qingshan_officer"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{out}: 3 people\n"
    monthly = tmp_path / "m.xlsx"
    result = runner.invoke(cli, ["report", "monthly-change", "青山镇", "--month", "2026-10", "--out", str(monthly),
                                 "--user", "qingshan_officer"])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(monthly).sheetnames


def test_the_coverage_report_counts_the_months_visits_and_lists_the_overdue(town):
    set_tier(principal_by_username("qingshan_officer"), town["head"].uuid, "key",
             tiers=default_schedule().tier_names, now=dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc))
    commit()
    town["now"]["at"] = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.timezone.utc)

    def report(month: str) -> openpyxl.Workbook:
        answer = officer(town).get("/reports/coverage.xlsx", params={"area": "青山镇", "month": month})
        assert answer.status_code == 200
        return openpyxl.load_workbook(io.BytesIO(answer.content))

    # October: the key-tier head was visited on 8 October, on time.
    october = [row for row in report("2026-10")["分组 By group"].iter_rows(values_only=True)]
    assert ("东村", "青山镇/东村/第一组", 1, 1, 0, 0, 1, 1) in october
    # November: nobody visited; as of 5 December the month is missed and he is on his collector's list.
    november = report("2026-11")
    assert ("东村", "青山镇/东村/第一组", 1, 0, 0, 1, 0, "—") in list(november["分组 By group"].iter_rows(values_only=True))
    (item,) = [row for row in november["逾期名单 Overdue by collector"].iter_rows(values_only=True) if "张伟" in row]
    assert item[0].startswith("collector") and item[5] == "重点服务对象例行访视（每月一次）" and item[7] == 5


def test_the_coverage_report_in_the_first_hours_of_a_china_day_judges_the_towns_date(town):
    """At 01:30 on 1 December in China (still 30 November in UTC) November is over: its missed key visit is
    overdue, and the report is counted up to and produced on 1 December, whether the clock or the caller says when."""
    set_tier(principal_by_username("qingshan_officer"), town["head"].uuid, "key",
             tiers=default_schedule().tier_names, now=dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc))
    commit()
    town["now"]["at"] = dt.datetime(2026, 12, 1, 1, 30, tzinfo=CHINA).astimezone(dt.timezone.utc)
    assert town["now"]["at"].date() == dt.date(2026, 11, 30)
    answer = officer(town).get("/reports/coverage.xlsx", params={"area": "青山镇", "month": "2026-11"})
    assert answer.status_code == 200
    given = coverage_report(principal_by_username("qingshan_officer"), "青山镇", dt.date(2026, 11, 1),
                            now=town["now"]["at"])
    commit()
    for content in (answer.content, given):
        assert ("东村", "青山镇/东村/第一组", 1, 0, 0, 1, 0, "—") in sheet_rows(content, "分组 By group")
        subtitle = sheet_rows(content, "随访汇总 Coverage summary")[1][0]
        assert "Counted up to 2026-12-01" in subtitle and "Produced 2026-12-01 01:30" in subtitle, subtitle
        assert any("张伟" in row for row in sheet_rows(content, "逾期名单 Overdue by collector"))
