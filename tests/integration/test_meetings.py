"""The monthly meeting sheet (月例会) over HTTP: a village's last month (indicators as server.indicators counts them,
register changes per group, services) and this month's plan (people due per group, open referrals, open support
requests), each figure exact; a village cadre's own village, the town office's any of its villages; another village,
another town, a future month or a group refused."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from server.archive.models import ArchivedReport
from server.areas.models import Area
from server.database import commit
from server.extensions import db
from server.indicators.operations import area_indicators
from server.register.decisions import set_tier
from server.schedules.counted import wait_for_counts
from server.users.queries import principal_by_username
from sync.periods import month_of
from sync.schedules import default_schedule
from tests.conftest import ROOT, merge_all
from tests.register_visits import Member, followup_visit, household_visit
from tests.staffed_town import staffed_town
from tests.web import WebClient

XLSFORMS = ROOT / "xlsforms"
PASSWORD = "meetings-password"
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 3, 3, 0, tzinfo=UTC)          # 2026-12-03 11:00 in China
H1, H2, H3, H9 = (f"55555555-0000-4000-8000-00000000000{n}" for n in (1, 2, 3, 9))
USERS = [("d1", "collector", "青山镇/东村/第一组", "王秀兰"), ("d2", "collector", "青山镇/东村/第二组", "李桂英"),
         ("x1", "collector", "青山镇/西村/第一组", "张丽"),
         ("dongcun_cadre", "village_cadre", "青山镇/东村", "陈红"),
         ("xicun_cadre", "village_cadre", "青山镇/西村", "周敏"),
         ("qingshan_officer", "town_officer", "青山镇", "王主任"),
         ("baishui_officer", "town_officer", "白水镇", "赵主任")]
A, B, C = (Member("王秀瑛", "female", "1975-05-06"), Member("李芳", "female", "1990-01-02"),
           Member("何芳", "female", "1992-12-01"))
BABY = Member("何小宝", "male", "2026-11-01", relationship="child", reason="birth")


@pytest.fixture
def town(server, publish, monkeypatch):
    """东村 (two groups) with visits from August to November 2026, as of 2026-12-03: 王秀瑛 and 李芳 of the key tier
    (李芳 visited in November, 王秀瑛 not since August), a birth in 第二组 in November, a referral and a family
    benefit request still open; 西村 with a key-tier person of its own."""
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    town = staffed_town(server, monkeypatch, USERS, password=PASSWORD, now=NOW)
    send = town.send
    aug = "2026-08-03T09:00:00.000+08:00"
    e = Member("刘明", "male", "1980-03-03")
    send("d1", household_visit(household=H1, new=("001", "一组1号"), start=aug, members=[A]), dt.datetime(2026, 8, 3, tzinfo=UTC))
    send("d1", household_visit(household=H2, new=("002", "一组2号"), start=aug, members=[B]), dt.datetime(2026, 8, 3, tzinfo=UTC))
    # November: 李芳's household visited (completed), then once more with nobody home.
    send("d1", household_visit(household=H2, base_version=1, start="2026-11-10T10:00:00.000+08:00"),
         dt.datetime(2026, 11, 10, 4, tzinfo=UTC))
    send("d1", household_visit(household=H2, base_version=1, start="2026-11-20T10:00:00.000+08:00",
                               outcome="nobody_home"), dt.datetime(2026, 11, 20, 4, tzinfo=UTC))
    # 第二组: a household registered in November with a birth and a family benefit request; a follow-up referring
    # 何芳 to the health centre.
    send("d2", household_visit(household=H3, new=("003", "二组3号"), start="2026-11-03T09:00:00.000+08:00",
                               members=[C, BABY], support={"needs": ["family_benefit"], "benefit_kind": "reward",
                                                           "person": C.uuid, "details": "奖励扶助"}),
         dt.datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    send("d2", followup_visit(person=C.uuid, household=H3, followup_type="tier_general",
                              start="2026-11-15T15:00:00.000+08:00",
                              referral=("health_centre", "青山镇卫生院", "血压偏高")),
         dt.datetime(2026, 11, 15, 8, 0, tzinfo=UTC))
    send("x1", household_visit(household=H9, new=("901", "西村1号"), start=aug, members=[e]), dt.datetime(2026, 8, 3, tzinfo=UTC))
    merge_all()
    tiers = default_schedule().tier_names
    set_at = dt.datetime(2026, 8, 20, 2, 0, tzinfo=UTC)
    for cadre, person in (("dongcun_cadre", A.uuid), ("dongcun_cadre", B.uuid), ("xicun_cadre", e.uuid)):
        set_tier(principal_by_username(cadre), person, "key", tiers=tiers, now=set_at)
    commit()
    return town


def signed_in(town, username: str) -> WebClient:
    return town.signed_in(username)


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def section(page: str, element_id: str, tag: str = "div") -> str:
    return re.search(rf'<{tag} [^>]*id="{element_id}"[^>]*>(.*?)</{tag}>', page, re.S).group(1)


def terms(page: str, element_id: str) -> dict[str, str]:
    """A list of figures (dl) as its terms' words → their values' words."""
    return {text(term): text(value) for term, value in
            re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", section(page, element_id, "dl"), re.S)}


def table_rows(page: str, element_id: str) -> list[str]:
    body = re.search(rf'<table id="{element_id}">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return [text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_the_sheet_shows_last_months_results_and_this_months_plan(town):
    page = signed_in(town, "dongcun_cadre").get("/meetings?month=2026-12")
    assert page.status_code == 200
    body = page.text
    assert text(re.search(r"<h1>(.*?)</h1>", body, re.S).group(1)) == "青山镇 › 东村 · 月例会表 · 2026年12月"
    # Last month's indicators: as server.indicators counts them for the village and November.
    table = area_indicators(principal_by_username("qingshan_officer"), "青山镇/东村", month_of(dt.date(2026, 11, 1)))
    figures = dict(re.findall(r'data-indicator="([a-z_]+)"><dt>.*?</dt>\s*<dd>(.*?)</dd>', body, re.S))
    followup = table.total.values["followup_rate"]
    assert figures["followup_rate"] == (f"{followup.percent()} ({followup.numerator}/{followup.denominator})"
                                        if followup.denominator else "—")
    assert figures["referrals_made"] == "1"
    assert figures["requests_received"] == "1"
    # The month's register changes per group (the monthly change report's counts).
    assert table_rows(body, "changes") == ["第一组 2 0 0 0 0 0 0 0 0 2", "第二组 0 1 0 0 0 0 0 0 1 2"]
    assert terms(body, "services") == {"完成访视 / 全部访视": "3 / 4", "提供服务": "1", "发放药具（数量）": "0",
                                       "转介": "1", "转介结案": "0", "扶助需求": "1"}
    # This month's plan: 王秀瑛 overdue (not visited since August), 李芳 due in December; 何芳's referral.
    due = table_rows(body, "due")
    assert due[0] == "第一组 2 1 王秀瑛、李芳"
    assert due[1].startswith("第二组 ")
    assert text(section(body, "referrals")) == "何芳（第二组） · 卫生院（服务站）就诊 · 2026-11-15"
    assert text(section(body, "requests")) == "何芳（第二组） · 计生家庭奖励扶助 · 2026-11-03"


def test_the_plan_is_the_due_list_as_last_worked_out_and_says_so_while_new_visits_are_worked_in(server, town):
    """The sheet's people due are the village's flags as the due list keeps them (server.schedules.counted): after
    a visit arrives, the sheet shows the last count and says so while the new one is worked out; then the new."""
    cadre = signed_in(town, "dongcun_cadre")
    first = cadre.get("/meetings?month=2026-12").text
    assert table_rows(first, "due")[0] == "第一组 2 1 王秀瑛、李芳"
    assert 'id="flags-counted"' not in first
    server.app.config["TAIZHANG_DASHBOARD_STALE_SECONDS"] = 600
    try:
        town.send("d1", household_visit(household=H1, base_version=1, start="2026-12-01T10:00:00.000+08:00"),
                  dt.datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
        merge_all()
        stale = cadre.get("/meetings?month=2026-12").text
        assert table_rows(stale, "due")[0] == "第一组 2 1 王秀瑛、李芳"
        assert re.search(r'<p id="flags-counted" class="stale">统计于 [^<]*正在统计', stale)
        wait_for_counts()
        fresh = cadre.get("/meetings?month=2026-12").text
        assert table_rows(fresh, "due")[0] == "第一组 1 0 李芳"
        assert 'id="flags-counted"' not in fresh
    finally:
        server.app.config["TAIZHANG_DASHBOARD_STALE_SECONDS"] = 0


def test_the_town_office_reads_any_of_its_villages_and_nothing_else(town):
    officer = signed_in(town, "qingshan_officer")
    assert officer.get("/meetings?area=青山镇/西村&month=2026-12").status_code == 200
    assert officer.get("/meetings?area=青山镇/东村&month=2026-11").status_code == 200
    which = officer.get("/meetings?month=2026-12", allow_redirects=False)   # which village? the list to choose from
    assert (which.status_code, which.headers["Location"]) == (302, "/reports#meetings")
    assert 'id="archive-link"' in officer.get("/reports").text
    assert officer.get("/meetings?area=青山镇&month=2026-12").status_code == 400          # a town
    assert officer.get("/meetings?area=青山镇/东村/第一组&month=2026-12").status_code == 400   # a group
    assert officer.get("/meetings?area=青山镇/东村&month=2027-01").status_code == 400     # not begun
    assert officer.get("/meetings?area=青山镇/东村&month=2026-13").status_code == 400
    assert signed_in(town, "baishui_officer").get("/meetings?area=青山镇/东村&month=2026-12").status_code == 403
    assert signed_in(town, "xicun_cadre").get("/meetings?area=青山镇/东村&month=2026-12").status_code == 403


def test_long_lists_show_the_first_names_and_how_many(town, monkeypatch):
    monkeypatch.setattr("server.meetings.operations.NAMES_SHOWN", 1)
    page = signed_in(town, "dongcun_cadre").get("/meetings?month=2026-12").text
    assert table_rows(page, "due")[0] == "第一组 2 1 王秀瑛 等 2 人"


# ---- the quarterly and yearly village reviews ---------------------------------------------------------------------

def archived() -> list[tuple[str, str, dt.date, int, str, bytes]]:
    rows = db.session.execute(select(ArchivedReport.kind, Area.full_name, ArchivedReport.period_start,
                                     ArchivedReport.version, ArchivedReport.file_name, ArchivedReport.content)
                              .join(Area, Area.id == ArchivedReport.area_id).order_by(ArchivedReport.id)).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def test_a_review_downloads_per_village_and_month_and_files_byte_for_byte(town):
    officer = signed_in(town, "qingshan_officer")
    download = officer.get("/reports/village-review.xlsx?area=青山镇&period=2026-Q4")
    assert download.status_code == 200
    assert "filename*=UTF-8''%E9%9D%92%E5%B1%B1%E9%95%87_2026-Q4_" in download.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(download.content))
    assert book.sheetnames == ["考评 Review", "按月 By month", "分子分母 Counts", "说明 Notes"]
    review = [list(row) for row in book["考评 Review"].iter_rows(min_row=4, values_only=True)]
    assert [row[0] for row in review] == ["东村", "西村", "合计 Total"]
    labels = [cell.value for cell in book["考评 Review"][3]]
    assert labels[1:3] == ["随访率 Follow-up rate", "及时率 On-time rate"]
    referrals = labels.index("转介 Referrals made")
    assert [row[referrals] for row in review] == [1, 0, 1]
    months = [row[:2] for row in book["按月 By month"].iter_rows(min_row=4, values_only=True)]
    assert months == [(f"2026年{month}月 (2026-{month})", name) for month in (10, 11, 12)
                      for name in ("东村", "西村", "合计 Total")]

    filed = officer.post("/reports/village-review", {"area": "青山镇", "period": "2026-Q4"}, allow_redirects=False)
    assert filed.status_code == 302
    [(kind, area, start, version, name, content)] = archived()
    assert (kind, area, start, version, name) == ("village_review_quarter", "青山镇", dt.date(2026, 10, 1), 1,
                                                  "青山镇_2026-Q4_村季度考评表.xlsx")
    assert content == download.content                   # the same moment, the same figures: the same bytes
    assert "已存档：青山镇_2026-Q4_村季度考评表.xlsx，第 1 版。" in officer.get("/reports").text
    year = officer.post("/reports/village-review", {"area": "青山镇/东村", "period": "2026"}, allow_redirects=False)
    assert year.status_code == 302
    assert archived()[-1][:5] == ("village_review_year", "青山镇/东村", dt.date(2026, 1, 1), 1,
                                  "东村_2026_村年度考评表.xlsx")
    listing = officer.get("/archive").text                # each period as people name it
    assert "<td>2026年第4季度</td>" in listing and "<td>2026年</td>" in listing


def test_a_filed_review_is_not_rewritten_by_later_visits(town):
    officer = signed_in(town, "qingshan_officer")
    assert officer.post("/reports/village-review", {"area": "青山镇", "period": "2026-Q4"},
                        allow_redirects=False).status_code == 302
    [kept] = archived()
    assert town.phones["d1"].submit(followup_visit(person=A.uuid, household=H1, followup_type="tier_key",
                                       start="2026-11-25T10:00:00.000+08:00",
                                       referral=("health_centre", "青山镇卫生院", "复查"))).status_code == 201
    merge_all()
    later = officer.get("/reports/village-review.xlsx?area=青山镇&period=2026-Q4").content
    assert later != kept[5]
    assert archived() == [kept]


@pytest.mark.parametrize(("username", "area", "period", "status"), [
    ("qingshan_officer", "青山镇", "2027-Q1", 400),          # not begun
    ("qingshan_officer", "青山镇", "2027", 400),
    ("qingshan_officer", "青山镇", "2026-11", 400),          # a month: not a review's period
    ("qingshan_officer", "青山镇", "2026-Q5", 400),
    ("qingshan_officer", "青山镇/东村/第一组", "2026-Q4", 400),
    ("baishui_officer", "青山镇", "2026-Q4", 403),           # another town
    ("dongcun_cadre", "青山镇/东村", "2026-Q4", 403),        # a village cadre downloads, does not file
])
def test_filing_what_may_not_be_filed_is_refused_and_nothing_is_archived(town, username, area, period, status):
    client = signed_in(town, username)
    assert client.post("/reports/village-review", {"area": area, "period": period},
                       allow_redirects=False).status_code == status
    assert archived() == []


def test_who_may_download_which_review(town):
    assert signed_in(town, "dongcun_cadre").get(
        "/reports/village-review.xlsx?area=青山镇/东村&period=2026-Q4").status_code == 200
    assert signed_in(town, "dongcun_cadre").get(
        "/reports/village-review.xlsx?area=青山镇&period=2026-Q4").status_code == 403
    assert signed_in(town, "baishui_officer").get(
        "/reports/village-review.xlsx?area=青山镇&period=2026").status_code == 403
    assert signed_in(town, "qingshan_officer").get(
        "/reports/village-review.xlsx?area=青山镇&period=2027-Q1").status_code == 400
