"""The indicators over HTTP (GET /indicators, GET /api/v1/indicators) on a small worked register whose every value is
written here: per group, village, town and county, for a month, a quarter and a year; each reader only inside their
own area (refusals change nothing); a bad period or area is a clear error, never a 500.

The register, judged on 2026-12-05 (China time), the monthly reports due by the 2nd:

青山镇/东村/第一组: households H1 (a, b) and H2 (f) registered on 2026-08-03; a, b and f given the key tier (monthly)
  on 2026-08-20. H1 visited on 2026-11-10 (a sweep): it registers m, a person living there whom the register had
  missed; condoms 10 for a, folic acid 30 for b, a family-benefit request for a (granted by the town office). H2 not
  visited since August. Re-checked on 2026-11-20: a correct, b's phone wrong, and 张三 found living there, not on
  the register.
青山镇/东村/第二组: household H3 registered on 2026-11-03 (a sweep) with c and her baby born 2026-11-01 (the birth
  asks a postpartum follow-up by 11-08); c followed up on 11-12 (late), referred to the health centre (attended,
  recorded 11-25).
青山镇/西村: nothing. 白水镇/南村/第一组: H9 (e) registered in August, e key tier, never visited since.
Monthly reports: 东村 sent October's and November's on time; 西村 none; 南村 November's on time.

November, 东村第一组: visits due a, b (on time: the sweep of H1), f (overdue) → 随访率 2/3, 及时率 2/3; found on the
sweep a, b, m (m missed) and on the re-check a, b, 张三 (张三 missed) → 录入率 4/6; re-checked a, b, a correct →
准确率 1/2. 东村第二组: c's postpartum visit done late → 1/1 and 0/1; found c (registered by the sweep: a miss) and
the baby (a birth: new, on the register) → 1/2. 东村: 3/4, 2/4, 5/8, 1/2, 月报 1/1. 西村: no data, 月报 0/1.
青山镇: 3/4, 2/4, 5/8, 1/2, 1/2. 白水镇: e overdue → 0/1, 0/1; 月报 1/1. The county: 3/5, 2/5, 5/8, 1/2, 2/3.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from requests.auth import HTTPDigestAuth
from sqlalchemy import func, select

from server import clock
from server.archive.models import ArchivedReport
from server.areas.operations import ensure_area
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.indicators.operations import period_schedules
from server.months.models import MonthSignoff
from server.rechecks.models import Recheck, RecheckFinding, RecheckSample
from server.register.decisions import set_tier
from server.schedules.current import current_schedule
from server.schedules.operations import person_schedules
from server.services.operations import record_referral_result, record_support_outcome
from server.services.queries import items_in
from server.users.operations import add_user
from server.users.queries import principal_by_username
from sync.coverage import outcomes_in
from sync.indicators import parse_period
from sync.schedules import default_schedule
from tests.conftest import REALM, ROOT, merge_all
from tests.register_visits import Member, followup_visit, household_visit
from tests.web import WebClient

XLSFORMS = ROOT / "xlsforms"
PASSWORD = "indicators-password"
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 5, 3, 0, tzinfo=UTC)           # 2026-12-05 11:00 in China
H1, H2, H3, H9 = (f"44444444-0000-4000-8000-00000000000{n}" for n in (1, 2, 3, 9))
USERS = [("d1", "collector", "青山镇/东村/第一组", "王秀兰"), ("d2", "collector", "青山镇/东村/第二组", "李桂英"),
         ("x1", "collector", "青山镇/西村/第一组", "张丽"), ("n1", "collector", "白水镇/南村/第一组", "刘芳"),
         ("dongcun_cadre", "village_cadre", "青山镇/东村", "陈红"),
         ("xicun_cadre", "village_cadre", "青山镇/西村", "周敏"),
         ("qingshan_officer", "town_officer", "青山镇", "王主任"),
         ("baishui_officer", "town_officer", "白水镇", "赵主任"),
         ("county", "county_admin", None, "县管理员")]
A, B, F = Member("王秀瑛", "female", "1975-05-06"), Member("李芳", "female", "1990-01-02"), Member("周芬", "female", "1985-03-04")
M = Member("王小梅", "female", "2001-06-07", relationship="child", reason="missed")
C = Member("何芳", "female", "1992-12-01")
BABY = Member("何小宝", "male", "2026-11-01", relationship="child", reason="birth")
E = Member("刘明", "male", "1980-03-03")


@pytest.fixture
def town(server, publish, monkeypatch):
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    tokens = {}
    for area in {area for _, role, area, _ in USERS if role == "collector"}:
        ensure_area(area)
    for username, role, area, name in USERS:
        tokens[username] = add_user(username, role, area, realm=REALM, display_name=name, password=PASSWORD,
                                    with_token=role == "collector").token
    commit()
    now = {"at": NOW}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    phones = {username: server.client(token=token) for username, token in tokens.items() if token}

    def send(collector: str, xml: bytes, received: dt.datetime) -> None:
        now["at"] = received
        assert phones[collector].submit(xml).status_code == 201
        now["at"] = NOW

    aug, aug_received = "2026-08-03T09:00:00.000+08:00", dt.datetime(2026, 8, 3, 2, tzinfo=UTC)
    send("d1", household_visit(household=H1, new=("001", "一组1号"), start=aug, members=[A, B]), aug_received)
    send("d1", household_visit(household=H2, new=("002", "一组2号"), start=aug, members=[F]), aug_received)
    send("n1", household_visit(household=H9, new=("901", "南村1号"), start=aug, members=[E]), aug_received)
    send("d1", household_visit(household=H1, base_version=1, start="2026-11-10T10:00:00.000+08:00", members=[M],
                               supplies=[(A.uuid, "condoms", "10", "yes"), (B.uuid, "folic_acid", "30", "yes")],
                               support={"needs": ("family_benefit",), "details": "申请奖励扶助",
                                        "benefit_kind": "reward", "person": A.uuid}),
         dt.datetime(2026, 11, 10, 4, tzinfo=UTC))
    send("d2", household_visit(household=H3, new=("003", "二组3号"), start="2026-11-03T09:00:00.000+08:00",
                               members=[C, BABY], postpartum=(C.uuid, "2026-11-01")),
         dt.datetime(2026, 11, 3, 2, tzinfo=UTC))
    send("d2", followup_visit(person=C.uuid, household=H3, followup_type="postpartum",
                              start="2026-11-12T15:00:00.000+08:00",
                              referral=("health_centre", "青山镇卫生院", "血压偏高")),
         dt.datetime(2026, 11, 12, 8, tzinfo=UTC))
    merge_all()
    for cadre, person in (("dongcun_cadre", A.uuid), ("dongcun_cadre", B.uuid), ("dongcun_cadre", F.uuid),
                          ("county", E.uuid)):
        set_tier(principal_by_username(cadre), person, "key", tiers=default_schedule().tier_names,
                 now=dt.datetime(2026, 8, 20, 2, tzinfo=UTC))
    referral, = items_in("/", ("referral",))
    record_referral_result(principal_by_username("dongcun_cadre"), referral.key, "attended",
                           now=dt.datetime(2026, 11, 25, 2, tzinfo=UTC))
    request, = items_in("/", ("support_request",))
    record_support_outcome(principal_by_username("qingshan_officer"), request.key, "outcome", "granted",
                           now=dt.datetime(2026, 11, 28, 2, tzinfo=UTC))
    _recheck("青山镇/东村", H1, dt.date(2026, 11, 20), [
        (A.uuid, A.name, "present", "1", True), (A.uuid, A.name, "phone", "", True),
        (B.uuid, B.name, "present", "1", True), (B.uuid, B.name, "phone", "13900000000", False),
        (None, "张三", "present", "1", False)])
    for village, month, first_submitted in (("青山镇/东村", dt.date(2026, 10, 1), dt.datetime(2026, 11, 1, 2, tzinfo=UTC)),
                                            ("青山镇/东村", dt.date(2026, 11, 1), dt.datetime(2026, 12, 1, 2, tzinfo=UTC)),
                                            ("白水镇/南村", dt.date(2026, 11, 1), dt.datetime(2026, 12, 2, 2, tzinfo=UTC))):
        _signed_off(village, month, first_submitted, late=False)
    commit()
    return server


def _recheck(village: str, household: str, day: dt.date, findings) -> None:
    sample = RecheckSample(village_id=ensure_area(village).id, month=day.replace(day=1), seed=7, percent=5.0, size=1,
                           drawn_at=NOW)
    db.session.add(sample)
    db.session.flush()
    recheck = Recheck(sample_id=sample.id, household_uuid=household, checked_on=day, source="web", recorded_at=NOW)
    db.session.add(recheck)
    db.session.flush()
    db.session.add_all(RecheckFinding(recheck_id=recheck.id, person_uuid=person, person_name=name, field=field,
                                      observed_value=value, agrees=agrees)
                       for person, name, field, value, agrees in findings)


def _signed_off(village: str, month: dt.date, at: dt.datetime, *, late: bool) -> None:
    area = ensure_area(village)
    report = ArchivedReport(kind="monthly_change", area_id=area.id, period_start=month, period_end=month, version=1,
                            file_name="月变更报告单.xlsx", content=b"xlsx", sha256="0" * 64, figures="{}",
                            created_at=at)
    db.session.add(report)
    db.session.flush()
    db.session.add(MonthSignoff(village_id=area.id, month=month, state="submitted", version=1, report_id=report.id,
                                first_submitted_at=at, late=late, submitted_at=at))


def signed_in(town, username: str) -> WebClient:
    client = WebClient(town.url)
    assert client.sign_in(username, PASSWORD).status_code == 302
    return client


def api(town, username: str, **params) -> requests.Response:
    return requests.get(f"{town.url}/api/v1/indicators", params=params, auth=HTTPDigestAuth(username, PASSWORD),
                        timeout=60)


def figures(row: dict) -> dict[str, tuple]:
    """An API row's indicators as (numerator, denominator) of a rate, the number of a count, None where they do not
    apply."""
    return {code: (None if not value["applies"] else value["numerator"] if value["denominator"] is None
                   else (value["numerator"], value["denominator"]))
            for code, value in row["indicators"].items()}


def cells(page: str, table: str, row_id: str) -> dict[str, str]:
    """A page row's cells (by class), as the reader sees them."""
    body = re.search(rf'<table id="{table}">.*?</table>', page, re.S).group(0)
    row = re.search(rf'<tr {row_id}>(.*?)</tr>', body, re.S).group(1)
    return {name: re.sub(r"<[^>]+>", "", value).strip()
            for name, value in re.findall(r'<td class="(?:number )?([a-z_]+)"[^>]*>(.*?)</td>', row, re.S)}


NO_SERVICES = {"supplies_given": 0, "referrals_made": 0, "referrals_closed": 0, "requests_received": 0,
               "requests_decided": 0}
DONGCUN_SERVICES = {"supplies_given": 40, "referrals_made": 1, "referrals_closed": 1, "requests_received": 1,
                    "requests_decided": 1}


def test_the_county_reads_a_town_per_village_as_json(town):
    response = api(town, "county", area="青山镇", period="2026-11")
    assert response.status_code == 200
    body = response.json()
    assert (body["area"], body["level"], body["unit_level"], body["as_of"]) == ("青山镇", "town", "village",
                                                                               "2026-12-05")
    assert body["period"] == {"code": "2026-11", "kind": "month", "start": "2026-11-01", "end": "2026-11-30"}
    assert [row["area"] for row in body["rows"]] == ["青山镇/东村", "青山镇/西村"]
    dongcun, xicun = body["rows"]
    assert figures(dongcun) == {"followup_rate": (3, 4), "on_time_rate": (2, 4), "entry_rate": (5, 8),
                                "accuracy": (1, 2), "report_timeliness": (1, 1), **DONGCUN_SERVICES}
    assert dongcun["indicators"]["followup_rate"]["value"] == 0.75
    assert dongcun["supplies"] == {"condoms": 10, "folic_acid": 30}
    assert figures(xicun) == {"followup_rate": (0, 0), "on_time_rate": (0, 0), "entry_rate": (0, 0),
                              "accuracy": (0, 0), "report_timeliness": (0, 1), **NO_SERVICES}
    assert xicun["indicators"]["accuracy"]["value"] is None            # no data: never 0% nor 100%
    assert xicun["indicators"]["report_timeliness"]["value"] == 0.0
    assert figures(body["total"]) == {"followup_rate": (3, 4), "on_time_rate": (2, 4), "entry_rate": (5, 8),
                                      "accuracy": (1, 2), "report_timeliness": (1, 2), **DONGCUN_SERVICES}
    assert [(item["code"], item["label_zh"], item["label_en"]) for item in body["supply_items"]] == [
        ("folic_acid", "叶酸", "Folic acid"), ("condoms", "避孕套", "Condoms")]
    assert [indicator["code"] for indicator in body["indicators"]][:5] == [
        "followup_rate", "on_time_rate", "entry_rate", "accuracy", "report_timeliness"]


def test_the_county_by_town_for_a_month_a_quarter_and_a_year(town):
    month = api(town, "county", period="2026-11").json()
    assert (month["area"], month["level"], month["unit_level"]) == (None, "county", "town")
    assert [row["area"] for row in month["rows"]] == ["白水镇", "青山镇"]
    baishui, qingshan = month["rows"]
    assert figures(baishui) == {"followup_rate": (0, 1), "on_time_rate": (0, 1), "entry_rate": (0, 0),
                                "accuracy": (0, 0), "report_timeliness": (1, 1), **NO_SERVICES}
    assert figures(qingshan)["report_timeliness"] == (1, 2)
    assert figures(month["total"]) == {"followup_rate": (3, 5), "on_time_rate": (2, 5), "entry_rate": (5, 8),
                                       "accuracy": (1, 2), "report_timeliness": (2, 3), **DONGCUN_SERVICES}
    # The fourth quarter: October's key visits of a, b, f and e were all missed (4 more overdue); December's are not
    # due yet. Reports due: October's and November's of three villages, three on time.
    quarter = api(town, "county", period="2026-Q4").json()
    assert quarter["period"] == {"code": "2026-Q4", "kind": "quarter", "start": "2026-10-01", "end": "2026-12-31"}
    assert figures(quarter["total"]) == {"followup_rate": (3, 9), "on_time_rate": (2, 9), "entry_rate": (5, 8),
                                         "accuracy": (1, 2), "report_timeliness": (3, 6), **DONGCUN_SERVICES}
    # The year: September's too (the tier was given on 08-20: not due in August). Reports due: January to
    # November's of three villages, three on time. The August registrations were sweeps too: a, b, f and e were
    # registered by the visits that found them (misses), so of the 7 people the year's sweeps found only the baby
    # was on the register, and of the 3 the re-check found 2.
    year = api(town, "county", period="2026").json()
    assert figures(year["total"]) == {"followup_rate": (3, 13), "on_time_rate": (2, 13), "entry_rate": (3, 10),
                                      "accuracy": (1, 2), "report_timeliness": (3, 33), **DONGCUN_SERVICES}


def test_a_village_per_group_where_the_monthly_report_does_not_apply(town):
    body = api(town, "dongcun_cadre", period="2026-11").json()
    assert (body["area"], body["level"], body["unit_level"]) == ("青山镇/东村", "village", "group")
    assert [row["area"] for row in body["rows"]] == ["青山镇/东村/第一组", "青山镇/东村/第二组"]
    one, two = body["rows"]
    assert figures(one) == {"followup_rate": (2, 3), "on_time_rate": (2, 3), "entry_rate": (4, 6),
                            "accuracy": (1, 2), "report_timeliness": None, "supplies_given": 40, "referrals_made": 0,
                            "referrals_closed": 0, "requests_received": 1, "requests_decided": 1}
    assert figures(two) == {"followup_rate": (1, 1), "on_time_rate": (0, 1), "entry_rate": (1, 2),
                            "accuracy": (0, 0), "report_timeliness": None, "supplies_given": 0, "referrals_made": 1,
                            "referrals_closed": 1, "requests_received": 0, "requests_decided": 0}
    assert one["indicators"]["report_timeliness"] == {"applies": False, "value": None, "numerator": None,
                                                      "denominator": None}
    assert figures(body["total"])["report_timeliness"] == (1, 1)


def test_the_page_shows_rates_as_percent_with_their_counts_and_no_data_in_words(town):
    client = signed_in(town, "qingshan_officer")
    page = client.get("/indicators", params={"period": "2026-11"})
    assert page.status_code == 200
    text = page.text
    assert "<h1>指标 · 青山镇 · 2026年11月</h1>" in text
    assert cells(text, "indicator-rates", 'data-area="青山镇/东村"') == {
        "followup_rate": "75.0%（3/4）", "on_time_rate": "50.0%（2/4）", "entry_rate": "62.5%（5/8）",
        "accuracy": "50.0%（1/2）", "report_timeliness": "100.0%（1/1）"}
    assert cells(text, "indicator-rates", 'data-area="青山镇/西村"') == {
        "followup_rate": "无数据", "on_time_rate": "无数据", "entry_rate": "无数据", "accuracy": "无数据",
        "report_timeliness": "0.0%（0/1）"}
    assert cells(text, "indicator-rates", 'id="indicator-total"')["report_timeliness"] == "50.0%（1/2）"
    assert cells(text, "indicator-counts", 'data-area="青山镇/东村"') == {
        "supplies_given": "40", "referrals_made": "1", "referrals_closed": "1", "requests_received": "1",
        "requests_decided": "1"}
    supplies = re.search(r'<table id="indicator-supplies">.*?</table>', text, re.S).group(0)
    assert re.findall(r"<td>([^<]*)</td><td [^>]*>([^<]*)</td>", supplies) == [("叶酸", "30"), ("避孕套", "10")]
    assert "白水镇" not in text and "南村" not in text
    # A village's groups: the monthly report does not apply to a group.
    groups = client.get("/indicators", params={"period": "2026-11", "area": "青山镇/东村"}).text
    assert cells(groups, "indicator-rates", 'data-area="青山镇/东村/第一组"')["report_timeliness"] == "不适用"
    assert cells(groups, "indicator-rates", 'data-area="青山镇/东村/第二组"')["on_time_rate"] == "0.0%（0/1）"


def test_the_page_defaults_to_last_month_and_takes_a_quarter_or_a_year(town):
    client = signed_in(town, "dongcun_cadre")
    page = client.get("/indicators")
    assert page.status_code == 200 and "<h1>指标 · 青山镇 › 东村 · 2026年11月</h1>" in page.text
    assert 'value="2026-11"' in page.text
    quarter = client.get("/indicators", params={"period": "2026-Q4"}).text
    assert "<h1>指标 · 青山镇 › 东村 · 2026年第4季度</h1>" in quarter
    assert "<h1>指标 · 青山镇 › 东村 · 2026年</h1>" in client.get("/indicators", params={"period": "2026"}).text
    english = signed_in(town, "dongcun_cadre")
    english.get("/language/en")
    assert "no data" in english.get("/indicators", params={"area": "青山镇/东村/第二组"}).text


def _audit_rows() -> int:
    count = db.session.scalar(select(func.count()).select_from(AuditEvent))
    db.session.rollback()
    return count


@pytest.mark.parametrize(("username", "area"), [
    ("dongcun_cadre", "青山镇/西村"), ("dongcun_cadre", "青山镇"), ("qingshan_officer", "白水镇"),
    ("qingshan_officer", "白水镇/南村/第一组"), ("xicun_cadre", "青山镇/东村/第一组")])
def test_an_area_outside_the_readers_is_refused_and_nothing_changes(town, username, area):
    before = _audit_rows()
    refused = api(town, username, area=area, period="2026-11")
    assert refused.status_code == 403 and refused.json()["code"] == "403.1"
    page = signed_in(town, username).get("/indicators", params={"area": area, "period": "2026-11"})
    assert page.status_code == 403 and "不在您负责的范围内" in page.text and "indicator-rates" not in page.text
    assert _audit_rows() == before


def test_collectors_are_refused(town):
    assert api(town, "d1", period="2026-11").json()["code"] == "403.1"


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "11-2026", "2026-11-01", "next month", "1899"])
def test_a_bad_period_is_a_clear_error_never_a_500(town, period):
    response = api(town, "qingshan_officer", period=period)
    assert response.status_code == 400 and response.json()["code"] == "400.23"
    page = signed_in(town, "qingshan_officer").get("/indicators", params={"period": period})
    assert page.status_code == 400 and "2026-Q4" in page.text and "indicator-rates" not in page.text


def test_an_area_that_does_not_exist_is_not_found(town):
    response = api(town, "county", area="青山镇/北村", period="2026-11")
    assert response.status_code == 404 and response.json()["code"] == "404.1"
    assert signed_in(town, "county").get("/indicators", params={"area": "青山镇/北村"}).status_code == 404


def test_without_credentials_the_api_asks_for_digest(town):
    response = requests.get(f"{town.url}/api/v1/indicators", params={"period": "2026-11"}, timeout=30)
    assert response.status_code == 401 and "Digest" in response.headers["WWW-Authenticate"]



@pytest.mark.parametrize("period", ["2026-08", "2026-09", "2026-11", "2026-Q3", "2026-Q4", "2026"])
def test_the_period_read_judges_as_the_full_schedule_read_does(town, period):
    """The indicators read only the visits that can count for the period (sync.indicators.visit_window); what
    sync.coverage makes of them is what it makes of every visit the due list reads."""
    schedule = current_schedule()
    asked = parse_period(period)
    people, schedules = person_schedules("/", schedule)
    by_group: dict[int, list] = {}
    for person in schedules:
        by_group.setdefault(people[person.person].group_id, []).append(person)
    full = {group: outcomes_in(members, schedule, asked, NOW.date()) for group, members in by_group.items()}
    windowed = {group: outcomes_in(members, schedule, asked, NOW.date())
                for group, members in period_schedules(None, schedule, asked, NOW.date()).items()}
    assert windowed == full
    db.session.rollback()


def test_the_dashboards_show_last_months_key_indicators(town):
    town_page = signed_in(town, "qingshan_officer").get("/home").text
    assert "2026年11月指标" in town_page
    assert cells(town_page, "key-indicators", 'data-area="青山镇/东村"') == {
        "followup_rate": "75.0%（3/4）", "on_time_rate": "50.0%（2/4）", "accuracy": "50.0%（1/2）",
        "entry_rate": "62.5%（5/8）", "report_timeliness": "100.0%（1/1）"}
    assert cells(town_page, "key-indicators", 'data-area="青山镇/西村"')["report_timeliness"] == "0.0%（0/1）"
    assert 'href="/indicators?period=2026-11"' in town_page and "白水镇" not in town_page
    county_page = signed_in(town, "county").get("/home").text
    assert cells(county_page, "key-indicators", 'data-area="白水镇"') == {
        "followup_rate": "0.0%（0/1）", "on_time_rate": "0.0%（0/1）", "accuracy": "无数据", "entry_rate": "无数据",
        "report_timeliness": "100.0%（1/1）"}
    assert cells(county_page, "key-indicators", 'id="key-indicators-total"')["report_timeliness"] == "66.7%（2/3）"
