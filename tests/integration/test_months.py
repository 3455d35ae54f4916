"""A village's month over HTTP, from visits sent as Collect sends them: the cadre's sign-off page, the submission (the
report archived byte for byte), the town office's return and acceptance, the refusals (nothing changed), a late
correction after sign-off in the next month's report, a late submission counted; the archive's pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import select

from server import clock
from server.archive.models import ArchivedReport
from server.areas.operations import ensure_area
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.months.models import MonthSignoff, MonthSignoffStep
from server.users.operations import add_user
from tests.conftest import REALM, ROOT, merge_all
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "months-password-1"
XLSFORMS = ROOT / "xlsforms"
HOUSEHOLD = "77777777-0000-4000-8000-000000000001"
UTC = dt.timezone.utc
STAFF = (("dongcun_cadre", "village_cadre", "青山镇/东村", "周村干"),
         ("xicun_cadre", "village_cadre", "青山镇/西村", "吴村干"),
         ("qingshan_officer", "town_officer", "青山镇", "王主任"),
         ("baishui_officer", "town_officer", "白水镇", "赵主任"),
         ("county", "county_admin", None, "县管理员"))


@pytest.fixture
def town(server, create_collector, publish, monkeypatch):
    """青山镇 (东村, 西村) and 白水镇 (南村); in 东村第一组 a household registered in September and a birth in October;
    the staff of each level; a settable clock (2026-10-20)."""
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    phone = server.client(token=create_collector("青山镇/东村/第一组").token)
    for area in ("青山镇/西村/第一组", "白水镇/南村/第一组"):
        ensure_area(area)
    for username, role, area, name in STAFF:
        add_user(username, role, area, realm=REALM, display_name=name, password=PASSWORD)
    commit()
    now = {"at": dt.datetime(2026, 10, 20, 2, 0, tzinfo=UTC)}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    head, wife = Member("张伟", "male", "1960-03-04"), Member("李芳", "female", "1962-01-02", relationship="spouse")
    assert phone.submit(household_visit(household=HOUSEHOLD, new=("001", "东村一组1号"), members=[head, wife],
                                        start="2026-09-10T09:00:00.000+08:00")).status_code == 201
    baby = Member("张小宝", "male", "2026-10-05", relationship="grandchild", reason="birth")
    assert phone.submit(household_visit(household=HOUSEHOLD, base_version=1, members=[baby],
                                        start="2026-10-08T09:00:00.000+08:00")).status_code == 201
    merge_all()
    villages = {name: ensure_area(f"青山镇/{name}").id for name in ("东村", "西村")}
    commit()
    return {"server": server, "phone": phone, "now": now, "head": head, "villages": villages}


def at(town, *when: int) -> None:
    """Set the clock to a time in China (year, month, day, hour)."""
    town["now"]["at"] = dt.datetime(*when, tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(UTC)


def signed_in(town, username: str) -> WebClient:
    client = WebClient(town["server"].url)
    assert client.sign_in(username, PASSWORD).status_code == 302
    return client


def month_path(town, month: str, village: str = "东村", action: str = "") -> str:
    return f"/months/{town['villages'][village]}/{month}" + (f"/{action}" if action else "")


def state() -> dict:
    """Everything the month cycle writes: sign-offs, their steps, archived reports (without bytes), audit actions."""
    found = {
        "signoffs": [(row.village_id, f"{row.month:%Y-%m}", row.state, row.version, row.late, row.comment)
                     for row in db.session.scalars(select(MonthSignoff).order_by(MonthSignoff.id))],
        "steps": [(row.step, row.version, row.comment) for row in
                  db.session.scalars(select(MonthSignoffStep).order_by(MonthSignoffStep.id))],
        "archived": [(row.file_name, row.version, row.sha256) for row in
                     db.session.scalars(select(ArchivedReport).order_by(ArchivedReport.id))],
        "actions": list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("month.%"))
                                           .order_by(AuditEvent.id)))}
    db.session.rollback()
    return found


def words(html: str) -> str:
    """A page's text (tags dropped, spaces folded)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def element(html: str, element_id: str) -> str:
    """The text of the element with this id (tags dropped, spaces folded)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:p|dd|li|span|section|table|td)>', html, re.S)
    assert match, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_a_month_from_visits_to_sign_off_return_resubmission_and_acceptance(town):
    at(town, 2026, 11, 2, 9)
    cadre, officer = signed_in(town, "dongcun_cadre"), signed_in(town, "qingshan_officer")
    page = cadre.get(month_path(town, "2026-10"))
    assert page.status_code == 200
    assert element(page.text, "state") == "未提交"
    assert element(page.text, "left-unreviewed") == "本月还有 1 次访视没有审核。 去审核"
    assert ('href="/inbox?state=received&amp;village_id=%d&amp;since=2026-10-01&amp;until=2026-10-31"'
            % town["villages"]["东村"]) in page.text          # this village's visits only (the town office's too)
    assert element(page.text, "left-conflicts") == "待处理的冲突：0 处。"
    figures = re.findall(r"<tr><td>(第一组)</td>((?:<td[^>]*>\d+</td>\s*)+)</tr>", page.text)
    assert [(group, re.findall(r">(\d+)<", cells)) for group, cells in figures] == [
        ("第一组", ["2", "1", "0", "0", "0", "0", "0", "0", "0", "3"])]
    assert "周村干" in element(page.text, "sign-box")
    assert 'id="decide-box"' not in page.text
    # Not ticked: refused with why, nothing kept.
    refused = cadre.post(month_path(town, "2026-10", action="submit"), {})
    assert refused.status_code == 400 and element(refused.text, "problem") == "请先勾选“我已检查本月数据”，再签字提交。"
    assert state() == {"signoffs": [], "steps": [], "archived": [], "actions": []}

    submitted = cadre.post(month_path(town, "2026-10", action="submit"), {"confirm": "yes"}, allow_redirects=False)
    assert submitted.status_code == 302 and submitted.headers["Location"].endswith(month_path(town, "2026-10"))
    dongcun = town["villages"]["东村"]
    after = state()
    assert after["signoffs"] == [(dongcun, "2026-10", "submitted", 1, False, None)]
    assert after["steps"] == [("submitted", 1, None)]
    assert [(name, version) for name, version, _ in after["archived"]] == [("东村_2026-10_月变更报告单.xlsx", 1)]
    assert after["actions"] == ["month.submitted"]
    (archived,) = db.session.scalars(select(ArchivedReport))
    figures = json.loads(archived.figures)
    db.session.rollback()
    assert figures["month"] == "2026-10" and figures["late_corrections"] == []
    assert [(row["group"], row["opening"], row["births"], row["closing"]) for row in figures["groups"]] == [
        ("第一组", 2, 1, 3)]

    # Submitting again while the town office has it: refused, nothing changed.
    again = cadre.post(month_path(town, "2026-10", action="submit"), {"confirm": "yes"})
    assert again.status_code == 409
    assert element(again.text, "problem") == "这个月已经提交，正在等镇计生办审核；镇计生办退回后才能再次提交。"
    assert state() == after

    # The town office returns it: a comment is needed.
    page = officer.get(month_path(town, "2026-10"))
    assert 'id="decide-box"' in page.text and 'id="sign-box"' not in page.text
    empty = officer.post(month_path(town, "2026-10", action="return"), {"comment": "  "})
    assert empty.status_code == 400 and element(empty.text, "problem") == "退回月报时请写明退回的原因。"
    assert state() == after
    at(town, 2026, 11, 2, 15)
    returned = officer.post(month_path(town, "2026-10", action="return"), {"comment": "第一组的出生请补上出生地"},
                            allow_redirects=False)
    assert returned.status_code == 302
    assert state()["signoffs"] == [(dongcun, "2026-10", "returned", 1, False, "第一组的出生请补上出生地")]
    # The cadre sees it on the page and on the home page, and submits again: version 2.
    page = cadre.get(month_path(town, "2026-10"))
    assert element(page.text, "returned-comment") == "镇计生办退回了这个月：第一组的出生请补上出生地"
    home = cadre.get("/home").text
    assert element(home, "last-month-comment") == "镇计生办已退回：第一组的出生请补上出生地"
    assert f'href="{month_path(town, "2026-10")}"' in home
    at(town, 2026, 11, 4, 10)          # (a new day: sessions of two days ago have ended)
    cadre, officer = signed_in(town, "dongcun_cadre"), signed_in(town, "qingshan_officer")
    assert cadre.post(month_path(town, "2026-10", action="submit"), {"confirm": "yes"},
                      allow_redirects=False).headers["Location"].endswith(month_path(town, "2026-10"))
    assert state()["signoffs"] == [(dongcun, "2026-10", "submitted", 2, False, None)]
    accepted = officer.post(month_path(town, "2026-10", action="accept"), {"comment": ""}, allow_redirects=False)
    assert accepted.status_code == 302
    final = state()
    assert final["signoffs"] == [(dongcun, "2026-10", "accepted", 2, False, None)]
    assert final["steps"] == [("submitted", 1, None), ("returned", 1, "第一组的出生请补上出生地"),
                              ("submitted", 2, None), ("accepted", 2, None)]
    assert [(name, version) for name, version, _ in final["archived"]] == [
        ("东村_2026-10_月变更报告单.xlsx", 1), ("东村_2026-10_月变更报告单.xlsx", 2)]
    assert final["actions"] == ["month.submitted", "month.returned", "month.submitted", "month.accepted"]
    # Final: neither side can change it any more.
    assert cadre.post(month_path(town, "2026-10", action="submit"), {"confirm": "yes"}).status_code == 409
    assert officer.post(month_path(town, "2026-10", action="accept"), {"comment": ""}).status_code == 409
    assert officer.post(month_path(town, "2026-10", action="return"), {"comment": "再看看"}).status_code == 409
    assert state() == final
    # The history lists every step with its version's download; both home pages and the months list show it.
    page = cadre.get(month_path(town, "2026-10")).text
    history = re.findall(r'<tr class="step step-(\w+)"><td>([^<]+)</td><td>([^<]+)</td>', page)
    assert history == [("submitted", "2026-11-02 09:00", "周村干"), ("returned", "2026-11-02 15:00", "王主任"),
                       ("submitted", "2026-11-04 10:00", "周村干"), ("accepted", "2026-11-04 10:00", "王主任")]
    assert element(page, "state") == "已接收"
    assert element(cadre.get("/home").text, "last-month-state").startswith("已接收")
    board = officer.get("/home").text
    assert element(board, "last-month-summary").startswith(
        "已提交：2 个村中 1 个，按时 1 个，迟交 0 个；已接收 1 个；退回 0 个。")
    listed = officer.get("/months", params={"month": "2026-10"}).text
    assert re.findall(r'<tr class="month-line" data-state="(\w+)">\s*<td>([^<]+)</td>', listed) == [
        ("accepted", "青山镇 › 东村"), ("open", "青山镇 › 西村")]


def test_refusals_change_nothing(town):
    at(town, 2026, 11, 2, 9)
    cadre, officer = signed_in(town, "dongcun_cadre"), signed_in(town, "qingshan_officer")
    # A month not over yet, and a future one.
    for month in ("2026-11", "2026-12"):
        refused = cadre.post(month_path(town, month, action="submit"), {"confirm": "yes"})
        assert refused.status_code == 400
        assert element(refused.text, "problem") == "这个月还没有结束，不能提交月报：请在下个月1日以后提交。"
    # Accepting a month never submitted.
    assert officer.post(month_path(town, "2026-10", action="accept"), {}).status_code == 409
    # Another village's cadre, the town office and the county cannot sign 东村's month.
    for username in ("xicun_cadre", "qingshan_officer", "county"):
        assert signed_in(town, username).post(month_path(town, "2026-10", action="submit"),
                                              {"confirm": "yes"}).status_code == 403, username
    assert state() == {"signoffs": [], "steps": [], "archived": [], "actions": []}
    assert signed_in(town, "xicun_cadre").get(month_path(town, "2026-10")).status_code == 403
    assert cadre.post(month_path(town, "2026-10", action="submit"), {"confirm": "yes"}).status_code == 200
    submitted = state()
    # Another town's office (and the county) cannot accept or return it, nor read it or its archived report.
    for username in ("baishui_officer", "county"):
        other = signed_in(town, username)
        for action, data in (("accept", {}), ("return", {"comment": "不行"})):
            assert other.post(month_path(town, "2026-10", action=action), data).status_code == 403
    baishui = signed_in(town, "baishui_officer")
    assert baishui.get(month_path(town, "2026-10")).status_code == 403
    (report_id,) = db.session.scalars(select(ArchivedReport.id))
    db.session.rollback()
    assert baishui.get(f"/archive/{report_id}/download").status_code == 403
    assert "archived-" not in baishui.get("/archive").text
    assert state() == submitted
    # A cadre of another village does not see it in the archive either; an unknown village is not found.
    assert f'id="archived-{report_id}"' not in signed_in(town, "xicun_cadre").get("/archive").text
    assert cadre.get("/months/999999/2026-10").status_code == 404
    assert cadre.get(month_path(town, "2026-13")).status_code == 400


def test_a_late_correction_after_sign_off_is_in_the_next_month_and_the_archive_keeps_the_bytes(town):
    at(town, 2026, 11, 2, 9)
    cadre = signed_in(town, "dongcun_cadre")
    assert cadre.post(month_path(town, "2026-10", action="submit"), {"confirm": "yes"},
                      allow_redirects=False).status_code == 302
    (october,) = db.session.scalars(select(ArchivedReport))
    october_id, october_bytes, october_sha = october.id, october.content, october.sha256
    db.session.rollback()
    assert hashlib.sha256(october_bytes).hexdigest() == october_sha
    # Once submitted, the page offers the report as submitted (producing October again would move where November's
    # late corrections start).
    page = cadre.get(month_path(town, "2026-10")).text
    assert f'id="download-submitted" href="/archive/{october_id}/download"' in page and "download-now" not in page
    # A death dated in October reaches the server after the month was signed.
    at(town, 2026, 11, 5, 9)
    assert town["phone"].submit(household_visit(
        household=HOUSEHOLD, base_version=2, start="2026-11-04T09:00:00+08:00",
        updates=[dict(person_uuid=town["head"].uuid, base_version=1, change="died",
                      event_date="2026-10-30")])).status_code == 201
    merge_all()
    # October downloaded again from the reports page after the death arrived: November's late corrections still
    # start where October was signed off (else the death would be in neither report).
    at(town, 2026, 11, 6, 9)
    cadre = signed_in(town, "dongcun_cadre")
    assert cadre.get("/reports/monthly-change.xlsx",
                     params={"area": "青山镇/东村", "month": "2026-10"}).status_code == 200
    at(town, 2026, 12, 1, 10)
    cadre = signed_in(town, "dongcun_cadre")
    page = cadre.get(month_path(town, "2026-11")).text
    assert element(page, "late-corrections") == "以前月份的迟报更正（上月报表之后才到的变更）：1 条。"
    assert cadre.post(month_path(town, "2026-11", action="submit"), {"confirm": "yes"},
                      allow_redirects=False).status_code == 302
    november = db.session.scalar(select(ArchivedReport).where(ArchivedReport.period_start == dt.date(2026, 11, 1)))
    november_bytes, november_figures = november.content, json.loads(november.figures)
    db.session.rollback()
    assert november_figures["late_corrections"] == [
        {"village": "东村", "group": "第一组", "month": "2026-10-01", "kind": "deaths", "count": 1}]
    workbook = openpyxl.load_workbook(io.BytesIO(november_bytes))
    late = [row for row in workbook["迟报更正 Late corrections"].iter_rows(values_only=True)]
    assert any("第一组" in row and 1 in row for row in late), late
    assert [(row["group"], row["opening"], row["closing"]) for row in november_figures["groups"]] == [
        ("第一组", 2, 2)]
    # October's archived workbook is as it was submitted, byte for byte.
    download = cadre.get(f"/archive/{october_id}/download")
    assert download.status_code == 200 and download.content == october_bytes
    assert hashlib.sha256(download.content).hexdigest() == october_sha
    assert download.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert download.headers["Content-Disposition"] == (
        'attachment; filename="dongcun_2026-10_yuebiangengbaogaodan.xlsx"; '
        "filename*=UTF-8''%E4%B8%9C%E6%9D%91_2026-10_%E6%9C%88%E5%8F%98%E6%9B%B4%E6%8A%A5%E5%91%8A%E5%8D%95.xlsx")
    listing = cadre.get("/archive", params={"kind": "monthly_change", "since": "2026-10", "until": "2026-10"}).text
    assert re.findall(r'id="archived-(\d+)"', listing) == [str(october_id)]
    assert "<td>2026年10月</td>" in listing      # the period as people name it
    reads = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "archive.read")))
    db.session.rollback()
    assert reads == ["archive.read"]
    nothing = cadre.get("/archive", params={"since": "2026-12", "until": "2026-12"}).text
    assert element(nothing, "archive-none") == "没有符合条件的存档报表，请换一种报表或其他月份。"


def test_a_submission_after_the_due_day_is_late_and_counted(town, monkeypatch):
    at(town, 2026, 11, 2, 23)        # the due day's last hour: on time
    cadre = signed_in(town, "dongcun_cadre")
    assert "未提交 请检查该月数据，在 2026-11-02 前签字提交给镇计生办。 打开该月签字页" in words(cadre.get("/home").text)
    assert cadre.post(month_path(town, "2026-10", action="submit"), {"confirm": "yes"}).status_code == 200
    at(town, 2026, 11, 3, 0)         # the day after: late
    xicun = signed_in(town, "xicun_cadre")
    home = xicun.get("/home").text
    assert element(home, "last-month-past-due") == "已过截止日（2026-11-02）：请尽快检查该月数据，签字提交给镇计生办。"
    assert "前签字提交" not in words(home)
    assert xicun.post(month_path(town, "2026-10", "西村", "submit"), {"confirm": "yes"}).status_code == 200
    assert [(row[2], row[4]) for row in state()["signoffs"]] == [("submitted", False), ("submitted", True)]
    officer = signed_in(town, "qingshan_officer")
    assert element(officer.get("/home").text, "last-month-summary").startswith(
        "已提交：2 个村中 2 个，按时 1 个，迟交 1 个；")
    page = officer.get(month_path(town, "2026-10", "西村")).text
    assert "迟交：超过了截止日" in element(page, "first-submitted")
    assert '<a href="/months?month=2026-10" id="all-months">全部月份</a>' in page   # back to that month's villages
    # The due day is configurable: with the 5th, the same submission would be on time.
    monkeypatch.setitem(town["server"].app.config, "TAIZHANG_REPORT_DUE_DAY", 5)
    assert "截止到 2026-11-05 结束" in element(officer.get(month_path(town, "2026-10", "西村")).text, "due")
