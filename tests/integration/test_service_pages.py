"""The service record on the staff pages over HTTP: a visit's page in words (who, when, outcome, services, supplies,
referrals, support, every answer, the next visit and the GPS point), a person's and a household's service history,
and the web entry of what the phone did not bring (a referral's result, a support request's outcome and payment, a
correction), each undoable, scoped to the reader's area and role, a bad value refused with a message."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from server.areas.operations import ensure_area
from server.database import commit
from server.extensions import db
from server.register.models import RegisterDecision, ServiceItemRecord
from server.users.operations import add_user
from tests.conftest import REALM, ROOT, merge_all
from tests.register_visits import Member, household_visit
from tests.service_visits import followup_with_services, visit_with_needs
from tests.web import WebClient

PASSWORD = "cadre-password"
XLSFORMS = ROOT / "xlsforms"
HOUSEHOLD = "88888888-0000-4000-8000-000000000001"
XICUN_HOUSEHOLD = "88888888-0000-4000-8000-000000000009"


@pytest.fixture
def village(server, create_collector, publish):
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    ensure_area("青山镇/东村/第一组")
    collector = add_user("dongcun1", "collector", "青山镇/东村/第一组", realm=REALM, display_name="赵敏",
                         with_token=True)
    xicun = create_collector("青山镇/西村/第一组")
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇", username="qingshan_officer", role="town_officer", password=PASSWORD)
    commit()
    phone = server.client(token=collector.token)
    wang = Member("王秀英", "female", "1990-05-06")
    send(phone, household_visit(household=HOUSEHOLD, new=("001", "东村一组1号"), members=[wang],
                                start="2026-11-01T09:00:00.000+08:00"))
    send(server.client(token=xicun.token), household_visit(
        household=XICUN_HOUSEHOLD, new=("009", "西村一组9号"), members=[Member("张丽", "female", "1985-01-02")],
        start="2026-11-01T09:00:00.000+08:00"))
    merge_all()
    cadre = WebClient(server.url)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    return {"server": server, "phone": phone, "wang": wang, "cadre": cadre}


def send(phone, xml: bytes) -> None:
    response = phone.submit(xml)
    assert response.status_code == 201, response.text


def latest_visit(village) -> int:
    return max(int(found) for found in re.findall(r'<tr id="visit-(\d+)">', village["cadre"].get("/inbox").text))


def followup(village, **answers) -> int:
    """Send and merge a follow-up of 王秀英; its submission id."""
    send(village["phone"], followup_with_services(person=village["wang"].uuid, household=HOUSEHOLD, **answers))
    merge_all()
    return latest_visit(village)


def item(page: str, kind: str) -> str:
    """The HTML of the (first) service item of a kind (its heading starts with the kind's label)."""
    found = re.search(rf'<article class="item[^"]*" id="item-\d+-\d+">\s*<h3><span class="kind">{re.escape(kind)}'
                      r"</span>.*?</article>", page, re.S)
    assert found, f"no {kind} item"
    return found.group(0)


def key_of(item_html: str) -> str:
    return html.unescape(re.search(r'name="key" value="([^"]+)"', item_html).group(1))


def flashes(page: str) -> list[str]:
    return re.findall(r'<li class="flash (?:notice|error)">([^<]*)</li>', page)


def decisions_recorded() -> int:
    count = db.session.scalar(select(func.count()).select_from(RegisterDecision).where(
        RegisterDecision.kind.in_(["referral_result", "support_outcome", "correct_service"])))
    db.session.rollback()
    return count


def test_the_visit_page_shows_the_follow_up_in_words(village):
    visit = followup(village, start="2026-11-20T10:00:00.000+08:00", services="health_guidance supplies",
                     referral_to="镇卫生院", referral_reason="孕期检查", supplies=[("folic_acid", "2")],
                     next_date="2026-12-20", notes="下次带上检查单")
    page = village["cadre"].get(f"/visits/{visit}").text
    assert "<h1>随访 · 2026-11-20 · 赵敏</h1>" in page
    assert f'<dd id="visit-household"><a href="/households/{HOUSEHOLD}">001号户（户主 王秀英）</a></dd>' in page
    assert f'<dd id="visit-people"><a href="/people/{village["wang"].uuid}">王秀英</a></dd>' in page
    assert '<dd id="visit-collector">赵敏</dd>' in page
    assert '<dd id="visit-filled">2026-11-20 10:00</dd>' in page
    assert '<dd id="visit-outcome">已完成随访</dd>' in page
    supply = item(page, "药具发放（应本人要求）")
    assert '<span class="what">叶酸</span>' in supply and "<dt>数量</dt><dd>2</dd>" in supply
    assert '<dd class="person">王秀英</dd>' in supply
    referral = item(page, "转介")
    assert "<dt>转介到哪里</dt><dd>镇卫生院</dd>" in referral and "<dt>说明</dt><dd>孕期检查</dd>" in referral
    assert '<dd class="result">尚无结果</dd>' in referral
    assert '<span class="what">健康指导</span>' in item(page, "提供的服务")
    assert '<dd id="next-visit">2026-12-20</dd>' in page and '<dd id="notes">下次带上检查单</dd>' in page
    answers = page.split('<section id="answers">')[1].split("<h2>")[0]
    assert re.search(r'<span class="question">本次提供了哪些服务</span> <span class="value">健康指导、药具（应本人要求）</span>',
                     answers)
    assert re.search(r'<h3>药具（应本人要求） 1</h3>\s*<div class="answer" data-path="supplies/supply/item">'
                     r'<span class="question">品种</span> <span class="value">叶酸</span></div>', answers)
    assert '<span class="question">从本组待随访名单中选择（可输入姓名搜索）</span> <span class="value">王秀英</span>' in answers
    assert "folic_acid" not in page and "health_guidance" not in page and "tier_key" not in page


def test_the_visit_page_in_english(village):
    visit = followup(village, start="2026-11-20T10:00:00.000+08:00", services="supplies",
                     supplies=[("folic_acid", "2")])
    english = WebClient(village["server"].url)
    english.session.headers["Accept-Language"] = "en"
    english.sign_in("dongcun_cadre", PASSWORD)
    page = english.get(f"/visits/{visit}").text
    supply = item(page, "Supplies given on request")
    assert '<span class="what">Folic acid</span>' in supply and "<dt>Quantity</dt><dd>2</dd>" in supply
    assert '<dd id="visit-outcome">Follow-up completed</dd>' in page
    assert "<h2>All answers</h2>" in page


def test_a_household_visit_with_a_support_request_a_supply_requested_and_the_gps_point(village):
    send(village["phone"], visit_with_needs(
        household=HOUSEHOLD, start="2026-11-21T15:30:00.000+08:00", needs="supplies family_benefit",
        supplies=[("condoms", "10", "no")], support_details="独生子女父母奖励", location="31.2345678 121.1234567 512.0 4.5",
        next_visit="2026-12-24"))
    merge_all()
    page = village["cadre"].get(f"/visits/{latest_visit(village)}").text
    assert '<dd id="visit-outcome">已完成访视</dd>' in page
    support = item(page, "扶助与关爱需求")
    assert '<span class="what">计生家庭奖励扶助</span>' in support and "<dt>说明</dt><dd>独生子女父母奖励</dd>" in support
    assert '<dd class="person">全户</dd>' in support
    supply = item(page, "药具发放（应本人要求）")
    assert "<dt>是否当场发放</dt><dd>已申请，未当场发放</dd>" in supply and "<dt>数量</dt><dd>10</dd>" in supply
    assert '<dd id="location">31.23457, 121.12346 (±4.5 m)</dd>' in page
    assert '<dd id="next-visit">2026-12-24</dd>' in page
    # A village cadre sees the support request, not the town office's form for its outcome.
    assert 'class="support-outcome"' not in support


def test_an_attempt_shows_as_one(village):
    send(village["phone"], visit_with_needs(household=HOUSEHOLD, start="2026-11-22T09:00:00.000+08:00", needs="",
                                            outcome="nobody_home"))
    merge_all()
    page = village["cadre"].get(f"/visits/{latest_visit(village)}").text
    assert '<dd id="visit-outcome">未遇（无人在家）</dd>' in page
    assert '<p id="no-services">' in page


def test_the_person_and_household_pages_list_the_service_history_newest_first(village):
    first = followup(village, start="2026-11-10T10:00:00.000+08:00", services="health_guidance")
    second = followup(village, start="2026-11-20T10:00:00.000+08:00", services="health_guidance supplies",
                      referral_to="镇卫生院", supplies=[("folic_acid", "2")])
    page = village["cadre"].get(f"/people/{village['wang'].uuid}").text
    history = page.split('<ol class="timeline" id="service-history">')[1].split("</ol>")[0]
    assert re.findall(r'<li id="history-(\d+)"><a href="/visits/(\d+)">([^<]*)</a> · <span class="outcome">([^<]*)',
                      history)[:2] == [(str(second), str(second), "2026-11-20 随访", "已完成随访"),
                                       (str(first), str(first), "2026-11-10 随访", "已完成随访")]
    latest = history.split(f'<li id="history-{first}">')[0]
    assert '<span class="what">叶酸</span>' in latest and "<dt>数量</dt><dd>2</dd>" in latest
    assert "<dt>转介到哪里</dt><dd>镇卫生院</dd>" in latest
    household = village["cadre"].get(f"/households/{HOUSEHOLD}").text
    assert f'<li id="history-{second}">' in household and '<span class="what">叶酸</span>' in household


def test_a_cadre_records_a_referral_result_and_undoes_it(village):
    visit = followup(village, start="2026-11-20T10:00:00.000+08:00", services="health_guidance",
                     referral_to="镇卫生院")
    cadre, person_page = village["cadre"], f"/people/{village['wang'].uuid}"
    referral = item(cadre.get(person_page).text, "转介")
    key = key_of(referral)
    assert key.endswith("#2")
    anchor = re.search(r'id="(item-\d+-\d+)"', referral).group(1)
    recorded = cadre.post("/services/referral-result", {"key": key, "result": "attended", "back": person_page},
                          allow_redirects=False)
    assert recorded.status_code == 302 and recorded.headers["Location"] == person_page
    page = cadre.get(person_page).text
    assert flashes(page) == ["已记录转介结果：已去就诊（已参加）。"]
    referral = item(page, "转介")
    assert re.search(r'<dd class="result">已去就诊（已参加） · \d{4}-\d\d-\d\d</dd>', referral)
    assert 'class="referral-result"' not in referral   # attended: the referral is closed
    (decision_id,) = re.findall(r'action="/decisions/(\d+)/undo"', referral)
    assert "记录转介结果 · 已去就诊（已参加）" in referral
    assert item(cadre.get(f"/visits/{visit}").text, "转介").count("已去就诊（已参加）") == 2   # the result, the decision
    undone = cadre.post(f"/decisions/{decision_id}/undo", {"back": f"{person_page}#{anchor}"}, allow_redirects=False)
    assert undone.headers["Location"] == f"{person_page}#{anchor}"
    page = cadre.get(person_page).text
    assert flashes(page) == ["已撤销。"]
    assert '<dd class="result">尚无结果</dd>' in item(page, "转介") and "/undo" not in item(page, "转介")
    again = cadre.post(f"/decisions/{decision_id}/undo", {"back": person_page})
    assert again.status_code == 200 and flashes(again.text)[0].startswith("无法执行这个操作")


def test_the_support_outcome_is_the_town_offices_to_record(village):
    send(village["phone"], visit_with_needs(household=HOUSEHOLD, start="2026-11-21T15:30:00.000+08:00",
                                            needs="elderly_support", support_details="父母年老，需要关爱"))
    merge_all()
    visit = latest_visit(village)
    key = re.search(r'name="key" value="([^"]+)"',
                    village["cadre"].get(f"/visits/{visit}").text)
    assert key is None   # no form on the cadre's page for it
    officer = WebClient(village["server"].url)
    officer.sign_in("qingshan_officer", PASSWORD)
    support = item(officer.get(f"/visits/{visit}").text, "扶助与关爱需求")
    assert 'class="support-outcome"' in support
    key = key_of(support)
    refused = village["cadre"].post("/services/support-outcome", {"key": key, "outcome": "granted"},
                                    allow_redirects=False)
    assert refused.status_code == 403 and decisions_recorded() == 0
    back = f"/visits/{visit}"
    recorded = officer.post("/services/support-outcome", {
        "key": key, "outcome": "granted", "decided_on": "2026-11-25", "paid_on": "", "amount": "1200", "note": "",
        "back": back}, allow_redirects=False)
    assert recorded.headers["Location"] == back
    page = officer.get(back).text
    assert flashes(page) == ["已记录扶助申请的结果、决定日期、金额。"]
    support = item(page, "扶助与关爱需求")
    assert ('<dt>结果</dt><dd class="support">已批准</dd><dt>决定日期</dt><dd class="support">2026-11-25</dd>'
            '<dt>金额</dt><dd class="support">1200 元</dd>') in support
    assert decisions_recorded() == 3
    # The same values sent again (as the form shows them) record nothing more; a payment date is added alone.
    same = {"key": key, "outcome": "granted", "decided_on": "2026-11-25", "amount": "1200", "was_outcome": "granted",
            "was_decided_on": "2026-11-25", "was_amount": "1200", "back": back}
    assert flashes(officer.post("/services/support-outcome", same).text) == ["没有需要记录的变化。"]
    assert flashes(officer.post("/services/support-outcome", {**same, "paid_on": "2026-12-01"}).text) == [
        "已记录扶助申请的发放日期。"]
    assert decisions_recorded() == 4
    bad = officer.post("/services/support-outcome", {**same, "amount": "12.345"})
    assert flashes(bad.text) == ["金额按元填写，如 1200 或 1200.50。"] and decisions_recorded() == 4
    # The village cadre sees the outcome, without the town office's undo.
    cadre_view = item(village["cadre"].get(back).text, "扶助与关爱需求")
    assert '<dd class="support">已批准</dd>' in cadre_view and "/undo" not in cadre_view
    (amount_decision,) = [found for found in re.findall(r'<li>记录扶助申请结果 · 金额：1200 元 · [^<]*'
                                                        r'<form method="post" action="/decisions/(\d+)/undo"', support)]
    assert village["cadre"].post(f"/decisions/{amount_decision}/undo", {"back": back},
                                 allow_redirects=False).status_code == 403
    officer.post(f"/decisions/{amount_decision}/undo", {"back": back})
    assert "<dt>金额</dt>" not in item(officer.get(back).text, "扶助与关爱需求")


@pytest.mark.parametrize("quantity", ["abc", "-1", "5000", ""])
def test_a_bad_quantity_correction_is_refused_with_a_message(village, quantity):
    visit = followup(village, start="2026-11-20T10:00:00.000+08:00", services="supplies",
                     supplies=[("folic_acid", "5000")])
    back = f"/visits/{visit}"
    supply = item(village["cadre"].get(back).text, "药具发放（应本人要求）")
    assert '<p class="problem">需要更正：数量超过1000</p>' in supply
    assert ('<input type="number" name="value" min="1" max="1000" step="1" required value="">') in supply
    response = village["cadre"].post("/services/correction", {
        "key": key_of(supply), "column": "quantity", "value": quantity, "back": back})
    assert flashes(response.text) == ["数量须为1到1000之间的整数。"]
    assert decisions_recorded() == 0


def test_a_correction_clears_the_flag_and_is_undone(village):
    visit = followup(village, start="2026-11-20T10:00:00.000+08:00", services="supplies",
                     supplies=[("folic_acid", "5000")])
    back, cadre = f"/visits/{visit}", village["cadre"]
    supply = item(cadre.get(back).text, "药具发放（应本人要求）")
    key = key_of(supply)
    options = re.search(r'data-column="code">.*?<select name="value">(.*?)</select>', supply, re.S).group(1)
    assert re.findall(r'<option value="[a-z_]+" (?:selected)?>([^<]+)</option>', options) == [
        "叶酸", "避孕套", "口服避孕药", "紧急避孕药", "外用避孕药具", "其他"]
    page = cadre.post("/services/correction", {"key": key, "column": "quantity", "value": "3",
                                               "back": back}).text
    assert flashes(page) == ["已记录更正。"]
    supply = item(page, "药具发放（应本人要求）")
    assert "<dt>数量</dt><dd>3</dd>" in supply and "problem" not in supply
    assert "更正服务记录 · 数量：3" in supply
    (decision_id,) = re.findall(r'action="/decisions/(\d+)/undo"', supply)
    page = cadre.post(f"/decisions/{decision_id}/undo", {"back": back}).text
    assert "<dt>数量</dt><dd>5000</dd>" in item(page, "药具发放（应本人要求）")
    refused = cadre.post("/services/correction", {"key": key, "column": "code", "value": "vitamins",
                                                  "back": back})
    assert flashes(refused.text)[0].startswith("无法执行这个操作") and decisions_recorded() == 1


def test_another_villages_cadre_is_refused_every_entry_and_the_page(village):
    visit = followup(village, start="2026-11-20T10:00:00.000+08:00", services="supplies",
                     referral_to="镇卫生院", supplies=[("folic_acid", "5000")])
    send(village["phone"], visit_with_needs(household=HOUSEHOLD, start="2026-11-21T15:30:00.000+08:00",
                                            needs="hardship_support", support_details="房屋漏雨"))
    merge_all()
    (support_key,) = db.session.scalars(select(ServiceItemRecord.item_key).where(
        ServiceItemRecord.kind == "support_request"))
    db.session.rollback()
    page = village["cadre"].get(f"/visits/{visit}").text
    referral_key, supply_key = key_of(item(page, "转介")), key_of(item(page, "药具发放（应本人要求）"))
    village["cadre"].post("/services/referral-result", {"key": referral_key, "result": "not_attended"})
    (decision_id,) = re.findall(r'action="/decisions/(\d+)/undo"', village["cadre"].get(f"/visits/{visit}").text)
    other = WebClient(village["server"].url)
    other.sign_in("xicun_cadre", PASSWORD)
    assert other.get(f"/visits/{visit}").status_code == 403
    assert other.get(f"/people/{village['wang'].uuid}").status_code == 403
    for path, data in (("/services/referral-result", {"key": referral_key, "result": "attended"}),
                       ("/services/correction", {"key": supply_key, "column": "quantity", "value": "3"}),
                       ("/services/support-outcome", {"key": support_key, "note": "x"}),
                       (f"/decisions/{decision_id}/undo", {"back": f"/visits/{visit}"})):
        response = other.post(path, {**data, "back": f"/visits/{visit}"}, allow_redirects=False)
        assert response.status_code in (403, 404), (path, response.status_code)
    assert other.post("/services/referral-result", {"key": "uuid:nothing#1", "result": "attended"},
                      allow_redirects=False).status_code == 404
    assert decisions_recorded() == 1
    forged = village["cadre"].post("/services/referral-result", {"key": referral_key, "result": "attended"},
                                   token=False, allow_redirects=False)
    assert forged.status_code == 400 and decisions_recorded() == 1


def test_a_rejected_visit_takes_its_service_record_with_it(village):
    visit = followup(village, start="2026-11-20T10:00:00.000+08:00", services="supplies",
                     supplies=[("folic_acid", "2")])
    village["cadre"].post(f"/visits/{visit}/review", {"state": "rejected"})
    page = village["cadre"].get(f"/visits/{visit}").text
    assert '<p id="no-services">' in page
    assert '<span class="value">叶酸</span>' in page   # the answers are still there to read
    history = village["cadre"].get(f"/people/{village['wang'].uuid}").text
    assert f'<li id="history-{visit}">' not in history


def test_old_dates_show_in_china_time(village):
    """A visit started at 01:30 China time (17:30 UTC the day before) shows the town's clock."""
    visit = followup(village, start=(dt.datetime(2026, 11, 19, 17, 30, tzinfo=dt.timezone.utc)).isoformat(),
                     services="health_guidance")
    assert '<dd id="visit-filled">2026-11-20 01:30</dd>' in village["cadre"].get(f"/visits/{visit}").text
