"""The town office's reports over HTTP and the command line, from visits sent as Collect sends them: the monthly
change report (late corrections in the next one, each change person by person, the month's service counts), the
register export; only the requester's area; audited."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from lxml import etree
from sqlalchemy import select, update

from server import clock
from server.audit.models import AuditEvent
from server.cli import cli
from server.database import commit
from server.exports.operations import coverage_report
from server.extensions import db
from server.register.decisions import set_tier
from server.services.operations import record_referral_result
from server.services.queries import items_in
from server.submissions.models import Submission
from server.users.models import User
from server.users.operations import add_user
from server.users.queries import principal_by_username
from sync.schedules import default_schedule
from sync.services import layout_for
from tests.conftest import ROOT, merge_all
from tests.register_visits import FORM_VERSIONS, Member, followup_visit, household_visit
from tests.submission_xml import JAVAROSA_DECLARATION, E, submission_bytes
from tests.unit.test_workbook_words import unreadable_cells
from tests.web import WebClient

PASSWORD = "officer-password"
XLSFORMS = ROOT / "xlsforms"
HOUSEHOLD = "88888888-0000-4000-8000-000000000001"
CHINA = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def town(server, create_collector, publish, monkeypatch):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    collector = create_collector("青山镇/东村/第一组")
    db.session.execute(update(User).where(User.username == collector.username).values(display_name="王小红"))
    commit()
    phone = server.client(token=collector.token)
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
    return {"server": server, "phone": phone, "now": now, "head": head, "wife": wife}


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
    assert any("第一组" in row and 1 in row for row in late), late
    runs = [e.action for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("export.%")))]
    db.session.rollback()
    assert runs == ["export.monthly_change", "export.monthly_change"]


def submission_ids() -> list[int]:
    ids = list(db.session.scalars(select(Submission.id).order_by(Submission.id)))
    db.session.rollback()
    return ids


def test_the_monthly_change_report_lists_each_change_person_by_person(town):
    """Each village's changes of the month: who, which household (number and head), what (with where to), when, and
    the visit that told it with its collector's name; the moves of September are not October's."""
    assert town["phone"].submit(household_visit(
        household=HOUSEHOLD, base_version=2, start="2026-10-20T10:00:00.000+08:00",
        updates=[dict(person_uuid=town["wife"].uuid, base_version=1, change="left_for_work", event_date="2026-10-18",
                      place="广东省深圳市")])).status_code == 201
    merge_all()
    registration, birth, departure = submission_ids()
    town["now"]["at"] = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
    october = officer(town).get("/reports/monthly-change.xlsx", params={"area": "青山镇", "month": "2026-10"})
    assert october.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(october.content)).sheetnames == [
        "镇汇总 Town summary", "服务情况 Services", "东村", "东村 变更名单 Changes", "西村", "西村 变更名单 Changes",
        "迟报更正 Late corrections", "说明 Notes"]
    rows = sheet_rows(october.content, "东村 变更名单 Changes")
    assert rows[3:] == [
        ("第一组", "001", "张伟", "张小宝", "出生 Birth", None, dt.datetime(2026, 10, 5), f"访视 #{birth}",
         "王小红"),
        ("第一组", "001", "张伟", "李芳", "外出务工 Left to work away", "去向 To: 广东省深圳市",
         dt.datetime(2026, 10, 18), f"访视 #{departure}", "王小红")]
    assert sheet_rows(october.content, "西村 变更名单 Changes")[3][0] == "本月没有变更 No changes this month"
    # The counts above the list agree with it.
    assert sheet_rows(october.content, "东村")[3] == ("第一组", 2, 1, 0, 0, 0, 0, 1, 0, 0, 2)
    september = officer(town).get("/reports/monthly-change.xlsx", params={"area": "青山镇", "month": "2026-09"})
    assert [row[3:5] for row in sheet_rows(september.content, "东村 变更名单 Changes")[3:]] == [
        ("张伟", "新登记 Registered"), ("李芳", "新登记 Registered")]
    assert {row[7] for row in sheet_rows(september.content, "东村 变更名单 Changes")[3:]} == {f"访视 #{registration}"}
    audit = db.session.scalars(select(AuditEvent.records).where(AuditEvent.action == "export.monthly_change")
                               .order_by(AuditEvent.id)).all()
    db.session.rollback()
    assert audit == [2, 2]


def test_a_village_cadres_report_lists_only_the_villages_changes(town):
    town["now"]["at"] = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
    cadre = WebClient(town["server"].url)
    assert cadre.sign_in("xicun_cadre", PASSWORD).status_code == 302
    report = cadre.get("/reports/monthly-change.xlsx", params={"area": "青山镇/西村", "month": "2026-10"})
    assert report.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(report.content))
    assert workbook.sheetnames == ["镇汇总 Town summary", "服务情况 Services", "西村", "西村 变更名单 Changes",
                                   "迟报更正 Late corrections", "说明 Notes"]
    everything = {cell for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert not {"张伟", "李芳", "张小宝", "东村"} & everything


def with_answers(xml: bytes, answers: dict[str, str], *repeats) -> bytes:
    """A visit with more answers, each at its path (groups made as needed), and repeat instances added."""
    root = etree.fromstring(xml.removeprefix(JAVAROSA_DECLARATION))
    for path, value in answers.items():
        node = root
        for name in path.split("/"):
            found = node.find(name)
            node = found if found is not None else etree.SubElement(node, name)
        node.text = value
    meta = root.find("meta")
    for repeat in repeats:
        meta.addprevious(repeat)
    return submission_bytes(root, JAVAROSA_DECLARATION)


def supply(item: str, quantity: str, given: str):
    return E.supplies(E.supply(E.item(item), E.quantity(quantity), E.given(given)))


def test_the_towns_summary_counts_the_months_services(town, publish):
    """November in 东村: a household visit handing out folic acid (and asked for condoms not given yet, and elderly
    support), a completed follow-up with a health service and a referral, a follow-up finding nobody home; the
    referral closed by the town office's recorded result in the same month."""
    publish(XLSFORMS / "followup.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    visit_paths, followup_paths = (layout_for(form, FORM_VERSIONS[form]) for form in ("household_visit", "followup"))
    phone, wife, head = town["phone"], town["wife"].uuid, town["head"].uuid
    household = with_answers(
        household_visit(household=HOUSEHOLD, base_version=2, start="2026-11-03T09:00:00.000+08:00"),
        {visit_paths["service_needs"]: "supplies elderly_support", visit_paths["support_details"]: "父母年老，需要照料"},
        supply("folic_acid", "3", "yes"), supply("condoms", "10", "no"))
    referral = {followup_paths["referral"]: "yes", followup_paths["referral_place"]: "青山镇卫生院",
                followup_paths["referral_reason"]: "产后复查"}
    if followup_paths["referral_purpose"]:
        referral[followup_paths["referral_purpose"]] = "health_centre"
    completed = with_answers(followup_visit(person=wife, household=HOUSEHOLD, followup_type="tier_general",
                                            start="2026-11-10T09:00:00.000+08:00"), referral)
    nobody_home = followup_visit(person=head, household=HOUSEHOLD, followup_type="tier_general",
                                 start="2026-11-12T09:00:00.000+08:00", outcome="nobody_home")
    october_visit = followup_visit(person=head, household=HOUSEHOLD, followup_type="tier_general",
                                   start="2026-10-30T09:00:00.000+08:00")
    for xml in (household, completed, nobody_home, october_visit):
        assert phone.submit(xml).status_code == 201
    merge_all()
    (made,) = items_in(None, ("referral",))
    db.session.rollback()
    record_referral_result(principal_by_username("qingshan_officer"), made.key, "attended",
                           now=dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc))
    commit()
    town["now"]["at"] = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.timezone.utc)
    report = officer(town).get("/reports/monthly-change.xlsx", params={"area": "青山镇", "month": "2026-11"})
    assert report.status_code == 200
    rows = sheet_rows(report.content, "服务情况 Services")
    assert rows[0][0] == "青山镇 服务情况 Services — 2026年11月 (2026-11)"
    sections = {}
    for number, row in enumerate(rows):
        if row[0] and row[1] is None and number > 1:
            sections[row[0]] = [tuple(cell for cell in line if cell is not None) for line in rows[number + 1:number + 5]]
    assert sections == {
        "访视 Visits (by outcome)": [
            ("村 Village", "完成 Completed", "无人在家 Nobody home", "拒绝 Refused", "已搬走 Moved away",
             "未完成合计 Attempted, not completed", "访视合计 All visits"),
            ("东村", 2, 1, 0, 0, 1, 3), ("西村", 0, 0, 0, 0, 0, 0), ("合计 Total", 2, 1, 0, 0, 1, 3)],
        "服务 Services given (times)": [
            ("村 Village", "健康指导 Health guidance", "产后保健指导 Postpartum care guidance",
             "术后恢复情况了解 Recovery after the operation", "孕期保健指导 Antenatal guidance",
             "扶助政策咨询 Benefit information", "其他 Other", "合计 Total"),
            ("东村", 1, 0, 0, 0, 0, 0, 1), ("西村", 0, 0, 0, 0, 0, 0, 0), ("合计 Total", 1, 0, 0, 0, 0, 0, 1)],
        "药具发放数量（应本人要求）Supplies given on request (quantity)": [
            ("村 Village", "叶酸 Folic acid", "避孕套 Condoms", "口服避孕药 Oral contraceptive pills",
             "紧急避孕药 Emergency contraceptive pills", "外用避孕药具 Topical contraceptives", "其他 Other",
             "合计 Total", "数量待更正（次）Quantities to correct (times)"),
            ("东村", 3, 0, 0, 0, 0, 0, 3, 0), ("西村", 0, 0, 0, 0, 0, 0, 0, 0), ("合计 Total", 3, 0, 0, 0, 0, 0, 3, 0)],
        "已申请、未发放药具（次）Supplies requested, not given yet (times)": [
            ("村 Village", "叶酸 Folic acid", "避孕套 Condoms", "口服避孕药 Oral contraceptive pills",
             "紧急避孕药 Emergency contraceptive pills", "外用避孕药具 Topical contraceptives", "其他 Other",
             "合计 Total"),
            ("东村", 0, 1, 0, 0, 0, 0, 1), ("西村", 0, 0, 0, 0, 0, 0, 0), ("合计 Total", 0, 1, 0, 0, 0, 0, 1)],
        "转介 Referrals": [
            ("村 Village", "本月转介 Made this month", "本月结案：已就诊 Closed this month: attended",
             "本月结案：拒绝 Closed this month: declined", "月末未结案 Open at the month's end"),
            ("东村", 1, 1, 0, 0), ("西村", 0, 0, 0, 0), ("合计 Total", 1, 1, 0, 0)],
        "扶助与关爱需求（次）Support requested (times)": [
            ("村 Village", "计生家庭奖励扶助 Family benefit", "养老关爱 Elderly support", "困难家庭帮扶 Hardship support",
             "其他需求 Other needs", "合计 Total"),
            ("东村", 0, 1, 0, 0, 1), ("西村", 0, 0, 0, 0, 0), ("合计 Total", 0, 1, 0, 0, 1)],
    }
    # October's report: the one October follow-up (completed with a health service), nothing else.
    october = officer(town).get("/reports/monthly-change.xlsx", params={"area": "青山镇", "month": "2026-10"})
    october_rows = sheet_rows(october.content, "服务情况 Services")
    assert october_rows[5][:7] == ("东村", 2, 0, 0, 0, 0, 2)     # the 8 October household visit too


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


def test_the_countys_register_export_has_a_sheet_per_town(town, create_collector, tmp_path):
    """A county user exports the whole county (全县): one sheet per town (6,000 group sheets would be unusable), the
    people of every town with their village and group in the first columns, ID numbers and phones masked; the index
    lists every group, linked to its first row; audited as the county's. A town's export keeps its group sheets; a
    town officer may not export the county."""
    baima = town["server"].client(token=create_collector("白马镇/南村/第二组").token)
    assert baima.submit(household_visit(
        household="88888888-0000-4000-8000-000000000003", new=("201", "南村二组1号"),
        members=[Member("陈静", "female", "1970-01-01", id_number="510722197001010023", phone="13912345678")],
        start="2026-10-10T09:00:00.000+08:00")).status_code == 201
    merge_all()
    add_user("county", "county_admin", None, realm="taizhang", password=PASSWORD)
    commit()
    out = tmp_path / "county.xlsx"
    runner = town["server"].app.test_cli_runner()
    result = runner.invoke(cli, ["report", "register", "全县", "--out", str(out), "--user", "county"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{out}: 4 people\n"
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["目录 Index", "白马镇", "青山镇"]
    content = out.read_bytes()
    qingshan = sheet_rows(content, "青山镇")
    assert qingshan[0][0] == "青山镇 台账 Register"
    assert qingshan[2][:4] == ("村 Village", "小组 Group", "户号 Household no.", "地址 Address")
    assert [row[:5] for row in qingshan[3:]] == [("东村", "第一组", "001", "东村一组1号", "张伟"),
                                                 ("东村", "第一组", "001", "东村一组1号", "李芳"),
                                                 ("东村", "第一组", "001", "东村一组1号", "张小宝")]
    [chen] = sheet_rows(content, "白马镇")[3:]
    assert chen[:5] == ("南村", "第二组", "201", "南村二组1号", "陈静") and chen[6] == dt.datetime(1970, 1, 1)
    assert (chen[7], chen[9]) == ("5107**********0023", "139****5678")         # masked
    assert workbook["青山镇"]["G4"].number_format == workbook["青山镇"]["G5"].number_format == "yyyy-mm-dd"
    assert workbook["青山镇"].auto_filter.ref == "A3:N6"
    index = workbook["目录 Index"]
    assert [row[:6] for row in sheet_rows(content, "目录 Index")[3:]] == [
        ("白马镇", "南村", "第二组", "白马镇", 1, 1), ("青山镇", "东村", "第一组", "青山镇", 3, 1)]
    assert index["D4"].hyperlink.location == "'白马镇'!A4"
    assert unreadable_cells(content) == []
    events = [(event.action, event.area_path, event.records) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("export.register%")))]
    db.session.rollback()
    assert events == [("export.register", None, 4)]
    # On the web likewise, offered to the county user; in full only posted with a reason.
    county = WebClient(town["server"].url)
    assert county.sign_in("county", PASSWORD).status_code == 302
    assert 'value="全县">全县（每镇一个工作表）' in county.get("/reports").text
    answer = county.get("/reports/register.xlsx", params={"area": "全县"})
    assert answer.status_code == 200 and int(answer.headers["Content-Length"]) == len(answer.content)
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=\"quanxian_")
    assert openpyxl.load_workbook(io.BytesIO(answer.content)).sheetnames == ["目录 Index", "白马镇", "青山镇"]
    assert sheet_rows(answer.content, "白马镇")[3][7] == "5107**********0023"
    full = county.post("/reports/register.xlsx", {"area": "全县", "full": "1", "reason": "县里核对身份证号"})
    assert full.status_code == 200 and sheet_rows(full.content, "白马镇")[3][7:10] == (
        "510722197001010023", "户主", "13912345678")
    assert 'value="全县"' not in officer(town).get("/reports").text.split('id="register-export"')[1].split("</form>")[0]
    events = [(event.action, event.area_path, event.reason) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("export.register%")).order_by(AuditEvent.id))]
    db.session.rollback()
    assert events[1:] == [("export.register", None, None), ("export.register.full", None, "县里核对身份证号")]
    # A town's export (by the county user too) keeps a sheet per group; the county is not a town officer's.
    result = runner.invoke(cli, ["report", "register", "青山镇", "--out", str(out), "--user", "county"])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames == ["目录 Index", "第一组"]
    result = runner.invoke(cli, ["report", "register", "全县", "--out", str(out), "--user", "qingshan_officer"])
    assert result.exit_code != 0


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
    assert ("东村", "第一组", 1, 1, 0, 0, 1, 1) in october
    # November: nobody visited; as of 5 December the month is missed and he is on his collector's list.
    november = report("2026-11")
    assert ("东村", "第一组", 1, 0, 0, 1, 0, "—") in list(november["分组 By group"].iter_rows(values_only=True))
    (item,) = [row for row in november["逾期名单 Overdue by collector"].iter_rows(values_only=True) if "张伟" in row]
    assert item[0] == "王小红" and item[5] == "重点服务对象例行访视（每月一次）" and item[7] == 5


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
        assert ("东村", "第一组", 1, 0, 0, 1, 0, "—") in sheet_rows(content, "分组 By group")
        subtitle = sheet_rows(content, "随访汇总 Coverage summary")[1][0]
        assert "Counted up to 2026-12-01" in subtitle and "Produced 2026-12-01 01:30" in subtitle, subtitle
        assert any("张伟" in row for row in sheet_rows(content, "逾期名单 Overdue by collector"))


def test_every_workbook_reads_in_words_and_is_named_by_area_and_period(town, create_collector):
    """The town officer's downloads: named 东村_2026-11_月变更报告单.xlsx (RFC 6266, with an ASCII name in pinyin),
    groups' sheets by their own names, codes in words (zh, or en for an English reader), no UUID anywhere."""
    xicun = town["server"].client(token=create_collector("青山镇/西村/第一组").token)
    assert xicun.submit(household_visit(household="88888888-0000-4000-8000-000000000002", new=("101", "西村一组1号"),
                                        members=[Member("陈静", "female", "1970-01-01")],
                                        start="2026-10-10T09:00:00.000+08:00")).status_code == 201
    merge_all()
    set_tier(principal_by_username("qingshan_officer"), town["head"].uuid, "key",
             tiers=default_schedule().tier_names, now=dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc))
    commit()
    town["now"]["at"] = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.timezone.utc)
    client = officer(town)
    expected = {
        ("/reports/monthly-change.xlsx", "青山镇/东村"): (
            "attachment; filename=\"dongcun_2026-10_monthly-change.xlsx\"; filename*=UTF-8''%E4%B8%9C%E6%9D%91_2026-10_"
            "%E6%9C%88%E5%8F%98%E6%9B%B4%E6%8A%A5%E5%91%8A%E5%8D%95.xlsx"),           # 东村_2026-10_月变更报告单.xlsx
        ("/reports/coverage.xlsx", "青山镇"): (
            "attachment; filename=\"qingshanzhen_2026-10_coverage.xlsx\"; filename*=UTF-8''%E9%9D%92%E5%B1%B1%E9%95%87_"
            "2026-10_%E9%9A%8F%E8%AE%BF%E6%83%85%E5%86%B5.xlsx"),                    # 青山镇_2026-10_随访情况.xlsx
        ("/reports/register.xlsx", "青山镇"): (
            "attachment; filename=\"qingshanzhen_2026-11_register.xlsx\"; filename*=UTF-8''%E9%9D%92%E5%B1%B1%E9%95%87_"
            "2026-11_%E5%8F%B0%E8%B4%A6.xlsx"),                                       # 青山镇_2026-11_台账.xlsx
    }
    for (path, area), disposition in expected.items():
        answer = client.get(path, params={"area": area, "month": "2026-10"})
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Disposition"] == disposition
        assert unreadable_cells(answer.content) == []
    export = client.get("/reports/register.xlsx", params={"area": "青山镇"}).content
    workbook = openpyxl.load_workbook(io.BytesIO(export))
    assert workbook.sheetnames == ["目录 Index", "东村第一组", "西村第一组"]       # two villages' 第一组
    assert openpyxl.load_workbook(io.BytesIO(client.get("/reports/register.xlsx", params={"area": "青山镇/东村"})
                                             .content)).sheetnames == ["目录 Index", "第一组"]
    rows = sheet_rows(export, "东村第一组")
    assert [row[2:4] + row[6:7] + row[8:12] for row in rows[3:]] == [
        ("张伟", "男", "户主", "在本地居住", "本地户籍", "健在", "重点服务对象"),
        ("李芳", "女", "配偶", "在本地居住", "本地户籍", "健在", None),
        ("张小宝", "男", "孙子女/外孙子女", "在本地居住", "本地户籍", "健在", None)]
    english = WebClient(town["server"].url)
    assert english.sign_in("qingshan_officer", PASSWORD).status_code == 302
    english.get("/language/en")
    export = english.get("/reports/register.xlsx", params={"area": "青山镇/东村"}).content
    assert [row[3] for row in sheet_rows(export, "第一组")[3:]] == ["Male", "Female", "Male"]
    assert unreadable_cells(export) == []
