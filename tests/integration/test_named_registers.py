"""The village's named registers over HTTP: visits posted as Collect sends them (household visits and follow-ups of
two form versions) show in the births, moves, working-away, arrivals, follow-up, supplies, referrals, pre-pregnancy
and support registers with labels, by area and period, page by page and as workbooks; scoped, audited, and a bad
filter gets a message."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import uuid

import openpyxl
import pytest
from lxml import etree
from sqlalchemy import delete, func, select

from server import clock
from server.areas.queries import by_full_name
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.forms.operations import compile_form
from server.register.models import ServiceItemRecord
from server.services.operations import correct_service_item, record_referral_result, record_support_outcome
from server.services.queries import items_in
from server.users.operations import add_user
from server.users.queries import principal_by_username
from tests.conftest import REALM, ROOT, merge_all
from tests.register_visits import FORM_VERSIONS, Member, household_visit
from tests.submission_xml import JAVAROSA_DECLARATION, E, optional, submission_bytes, submission_root
from tests.web import WebClient

XLSFORMS = ROOT / "xlsforms"
PASSWORD = "cadre-password"
HOUSEHOLD = "55555555-0000-4000-8000-000000000001"
FOLLOWUP_NEW_VERSION = "2026120501"   # referral_purpose and referral_place instead of referral_to
GROUP = "青山镇/东村/第一组"


def with_services(xml: bytes, *, needs: str = "", supplies: tuple[tuple[str, str, str], ...] = (),
                  support: str | None = None, prepregnancy: tuple[str, str] | None = None,
                  arrivals: dict[str, tuple[str, str]] | None = None, working_away: tuple[str, ...] = ()) -> bytes:
    """A household visit (tests.register_visits) with the service answers JavaRosa writes after `service_needs`:
    supplies (item, quantity, given), the support details, the pre-pregnancy check (names, consent), for new
    members who moved in, (date, origin) by their uuid, and new members (by uuid) registered as working away."""
    root = etree.fromstring(xml)
    for member in root.findall("new_members"):
        if member.findtext("new_person_uuid") in working_away:
            member.find("new_member/residence").text = "working_away"
    service_needs = root.find("service_needs")
    service_needs.text = needs
    answers = [E.supplies(E.supply(E.item(item), E.quantity(quantity), E.given(given)))
               for item, quantity, given in supplies]
    if prepregnancy:
        answers.append(E.prepregnancy(E.prepregnancy_names(prepregnancy[0]), E.prepregnancy_consent(prepregnancy[1])))
    if support:
        answers.append(E.support(E.support_details(support)))
    for offset, answer in enumerate(answers, start=1):
        root.insert(root.index(service_needs) + offset, answer)
    for member in root.findall("new_members"):
        if member.findtext("new_person_uuid") in (arrivals or {}):
            day, origin = arrivals[member.findtext("new_person_uuid")]
            member.find("new_member").extend([E.event_date(day), E.origin(origin)])
    return submission_bytes(root, JAVAROSA_DECLARATION)


def followup(*, person: str, start: str, version: str, outcome: str = "completed", services: str = "",
             referral: dict[str, str] | None = None, supplies: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A postpartum follow-up as JavaRosa fills it: the version before 2026120501 asks where a referral goes
    (referral_to); from 2026120501 its purpose and place (referral_purpose, referral_place)."""
    completed = outcome == "completed"
    referral = referral or {}
    if version < FOLLOWUP_NEW_VERSION:
        where = [optional("referral_to", referral.get("place"))]
    else:
        where = [optional("referral_purpose", referral.get("purpose")), optional("referral_place", referral.get("place"))]
    services_group = E.services(optional("services_given", services if completed else None),
                                optional("referral", ("yes" if referral else "no") if completed else None),
                                *where, optional("referral_reason", referral.get("reason")))
    root = submission_root(
        "followup", version, E.start(start), E.end(start), E.today(start[:10]), E.deviceid("collect:test"),
        E.username(), E.person_uuid(person), E.household_uuid(HOUSEHOLD), E.person_base_version("1"),
        E.due_type("postpartum"), E.due_since("2026-12-08"),
        E.visit(E.followup_type("postpartum"), E.outcome(outcome)), services_group,
        *(E.supplies(E.supply(E.item(item), E.quantity(quantity))) for item, quantity in supplies),
        E.closing(E.next_date("2027-01-10" if completed else ""), E.notes()),
        E.meta(E.instanceID(f"uuid:{uuid.uuid4()}")))
    return submission_bytes(root, JAVAROSA_DECLARATION)


@pytest.fixture
def village(server, create_collector, publish, monkeypatch, tmp_path):
    """东村第一组's household 001 registered in November and its December: a birth, a move out, a move in, a son
    leaving to work away, three follow-ups of the mother on two versions of the follow-up form; cadres of 东村 and
    西村 and a town officer; the clock on 2026-12-20 in China."""
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    newer = tmp_path / "followup_2026120501.xml"
    newer.write_bytes(compile_form(XLSFORMS / "followup.xlsx", validate=False)[0].replace(
        f'version="{FORM_VERSIONS["followup"]}"'.encode(), f'version="{FOLLOWUP_NEW_VERSION}"'.encode()))
    publish(newer, media=media)
    token = create_collector(GROUP).token
    phone = server.client(token=token)
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇", username="qingshan_officer", role="town_officer", password=PASSWORD)
    now = {"at": dt.datetime(2026, 12, 20, 2, 0, tzinfo=dt.timezone.utc)}
    monkeypatch.setattr(clock, "now", lambda: now["at"])

    head = Member("王强", "male", "1990-03-04")
    mother = Member("李芳", "female", "1992-06-07", relationship="spouse")
    son = Member("王伟", "male", "2004-09-10", relationship="child")
    daughter = Member("王丽", "female", "2001-02-03", relationship="child", phone="13900000003")
    child = Member("王小宝", "male", "2026-12-08", relationship="child", reason="birth")
    grandmother = Member("张兰", "female", "1960-01-01", relationship="parent", reason="moved_in")
    visits = [
        with_services(household_visit(household=HOUSEHOLD, new=("001", "东村1号"),
                                      members=[head, mother, son, daughter], start="2026-11-20T09:00:00.000+08:00"),
                      needs="supplies family_benefit prepregnancy_check", supplies=(("condoms", "1", "no"),),
                      support="为父母申请奖励扶助", prepregnancy=("王强、李芳", "yes"), working_away=(daughter.uuid,)),
        with_services(household_visit(household=HOUSEHOLD, base_version=1, members=[child, grandmother],
                                      start="2026-12-10T10:00:00.000+08:00", updates=[
                                          {"person_uuid": head.uuid, "base_version": 1, "change": "moved_out",
                                           "event_date": "2026-12-09", "place": "广东省深圳市"},
                                          {"person_uuid": son.uuid, "base_version": 1, "change": "left_for_work",
                                           "event_date": "2026-12-07", "place": "浙江省杭州市",
                                           "phone_now": "13900000002"}]),
                      arrivals={grandmother.uuid: ("2026-12-05", "四川省成都市")}),
        followup(person=mother.uuid, start="2026-12-12T15:00:00.000+08:00", version=FORM_VERSIONS["followup"],
                 services="postpartum_care supplies", referral={"place": "镇卫生院", "reason": "产后复查"},
                 supplies=(("folic_acid", "2"),)),
        followup(person=mother.uuid, start="2026-12-15T15:00:00.000+08:00", version=FOLLOWUP_NEW_VERSION,
                 services="health_guidance", referral={"purpose": "health_centre", "place": "县妇幼保健院",
                                                       "reason": "产后检查"}),
        followup(person=mother.uuid, start="2026-12-18T15:00:00.000+08:00", version=FORM_VERSIONS["followup"],
                 outcome="nobody_home"),
    ]
    for xml in visits:
        response = phone.submit(xml)
        assert response.status_code == 201, response.text
    assert merge_all() == len(visits)
    cadre = WebClient(server.url)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    yield {"server": server, "cadre": cadre, "clock": now, "mother": mother, "phone_token": token}
    # (service_item is not among the tables conftest empties: take its rows out before the next test's cleanup)
    db.session.rollback()
    db.session.execute(delete(ServiceItemRecord))
    db.session.commit()


def table_rows(page: str) -> list[list[str]]:
    """The register table's rows as the cells' text."""
    body = page.split('<table id="register">', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def visit_links(page: str) -> list[str]:
    return re.findall(r'<a href="(/visits/\d+)">', page)


DECEMBER = {"since": "2026-12-01", "until": "2026-12-31"}
NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}


def test_births_moves_away_and_arrivals_of_the_month_by_default(village):
    cadre = village["cadre"]
    births = cadre.get("/registers/births")
    assert births.status_code == 200
    assert 'name="since" value="2026-12-01"' in births.text and 'name="until" value="2026-12-31"' in births.text
    assert table_rows(births.text) == [["东村", "第一组", "001", "王小宝", "男", "2026-12-08", "2026-12-10", "访视"]]
    assert '<p id="summary">第 1–1 条，共 1 条' in births.text
    (link,) = visit_links(births.text)
    assert cadre.get(link).status_code == 200
    assert table_rows(cadre.get("/registers/moved-out").text) == [
        ["东村", "第一组", "001", "王强", "男", "1990-03-04", "广东省深圳市", "2026-12-09", "2026-12-10", "访视"]]
    # 王丽 was registered working away (no departure told): the visit that registered her; 王伟 left in December.
    away = cadre.get("/registers/working-away").text
    assert sorted(table_rows(away)) == [
        ["东村", "第一组", "001", "王丽", "女", "2001-02-03", "", "", "139****0003", "外出务工", "访视"],
        ["东村", "第一组", "001", "王伟", "男", "2004-09-10", "浙江省杭州市", "2026-12-07", "139****0002", "外出务工",
         "访视"]]
    assert len(set(visit_links(away))) == 2
    assert table_rows(cadre.get("/registers/arrivals").text) == [
        ["东村", "第一组", "001", "东村1号", "张兰", "女", "1960-01-01", "迁入", "四川省成都市", "2026-12-05", "",
         "2026-12-10", "访视"]]
    november = cadre.get("/registers/births", params=NOVEMBER).text
    assert 'id="register"' not in november and "这段时间没有记录。" in november


def test_supplies_referrals_and_follow_ups_with_the_forms_words(village):
    cadre = village["cadre"]
    assert table_rows(cadre.get("/registers/supplies", params=DECEMBER).text) == [
        ["东村", "第一组", "001", "李芳", "叶酸", "2", "当场发放", "2026-12-12", "", "访视"]]
    assert table_rows(cadre.get("/registers/supplies", params=NOVEMBER).text) == [
        ["东村", "第一组", "001", "", "避孕套", "1", "应要求，待发放", "2026-11-20", "", "访视"]]
    open_referral = ["东村", "第一组", "001", "李芳", "", "镇卫生院", "产后复查", "2026-12-12", "", "", "未完成", "",
                     "访视"]
    assert table_rows(cadre.get("/registers/referrals", params=DECEMBER).text) == [
        open_referral,
        ["东村", "第一组", "001", "李芳", "卫生院（服务站）就诊", "县妇幼保健院", "产后检查", "2026-12-15", "", "", "未完成",
         "", "访视"]]
    (newer,) = [item for item in items_in(None, ("referral",)) if item.item.place == "县妇幼保健院"]
    record_referral_result(principal_by_username("dongcun_cadre"), newer.key, "attended")
    commit()
    referrals = cadre.get("/registers/referrals", params=DECEMBER).text
    assert table_rows(referrals)[1][8:12] == ["已去就诊（已参加）", "2026-12-20", "已完成", ""]
    assert table_rows(cadre.get("/registers/referrals", params={**DECEMBER, "open": "yes"}).text) == [open_referral]
    assert table_rows(cadre.get("/registers/followups", params=DECEMBER).text) == [
        ["东村", "第一组", "001", "李芳", "产后随访", "2026-12-12", "已完成随访", "产后保健指导", "2027-01-10", "collector1", "访视"],
        ["东村", "第一组", "001", "李芳", "产后随访", "2026-12-15", "已完成随访", "健康指导", "2027-01-10", "collector1", "访视"],
        ["东村", "第一组", "001", "李芳", "产后随访", "2026-12-18", "无人在家", "", "", "collector1", "访视"]]


def test_pre_pregnancy_checks_and_support_requests_with_what_was_decided(village):
    cadre = village["cadre"]
    assert table_rows(cadre.get("/registers/prepregnancy-checks", params=NOVEMBER).text) == [
        ["东村", "第一组", "001", "王强、李芳", "是", "是", "否", "2026-11-20", "访视"]]
    (referral,) = items_in(None, ("referral",), codes=("prepregnancy_check",))
    record_referral_result(principal_by_username("dongcun_cadre"), referral.key, "attended")
    (request,) = items_in(None, ("support_request",))
    officer = principal_by_username("qingshan_officer")
    for field, value in (("outcome", "granted"), ("decided_on", "2026-12-01"), ("paid_on", "2026-12-15"),
                         ("amount", "1200")):
        record_support_outcome(officer, request.key, field, value)
    commit()
    assert table_rows(cadre.get("/registers/prepregnancy-checks", params=NOVEMBER).text)[0][6] == "是"
    assert table_rows(cadre.get("/registers/support-requests", params=NOVEMBER).text) == [
        ["东村", "第一组", "001", "计生家庭奖励扶助", "", "", "为父母申请奖励扶助", "2026-11-20", "已批准", "2026-12-01",
         "2026-12-15", "1200", "访视"]]
    elderly = cadre.get("/registers/elderly-hardship", params=NOVEMBER).text
    assert "这段时间没有记录。" in elderly
    # A request recoded by the cadre is in the register of its code as it stands (read by its correction), and no longer
    # in that of the code the visit wrote.
    correct_service_item(principal_by_username("dongcun_cadre"), request.key, "code", "elderly_support")
    commit()
    assert [row[3:5] for row in table_rows(cadre.get("/registers/elderly-hardship", params=NOVEMBER).text)] == [
        ["养老关爱", ""]]
    correct_service_item(principal_by_username("dongcun_cadre"), request.key, "code", "family_benefit")
    commit()
    assert "这段时间没有记录。" in cadre.get("/registers/elderly-hardship", params=NOVEMBER).text


def test_the_workbook_has_the_pages_rows(village):
    cadre = village["cadre"]
    response = cadre.get("/registers/supplies.xlsx", params=DECEMBER)
    assert response.status_code == 200
    # 东村_2026-12_药具发放登记.xlsx, and an ASCII name for the clients that read only that (RFC 6266)
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"dongcun_2026-12_supplies.xlsx\"; filename*=UTF-8''%E4%B8%9C%E6%9D%91_2026-12_"
        "%E8%8D%AF%E5%85%B7%E5%8F%91%E6%94%BE%E7%99%BB%E8%AE%B0.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "青山镇/东村 药具发放登记"
    assert rows[1][0] == "地区：青山镇/东村；期间：2026-12-01 至 2026-12-31；制表时间：2026-12-20 10:00（北京时间）"
    assert rows[2] == ["村", "组", "户编号", "姓名", "品种", "数量", "发放方式", "日期", "待更正"]
    assert rows[3] == ["东村", "第一组", "001", "李芳", "叶酸", 2, "当场发放", dt.datetime(2026, 12, 12), None]
    assert len(rows) == 4
    cadre.get("/language/en")
    english = openpyxl.load_workbook(io.BytesIO(cadre.get("/registers/births.xlsx").content)).active
    rows = [[cell.value for cell in row] for row in english.iter_rows()]
    assert rows[2] == ["Village", "Group", "Household no.", "Name", "Sex", "Born on", "Recorded (visit)"]
    assert rows[3] == ["东村", "第一组", "001", "王小宝", "Male", dt.datetime(2026, 12, 8), dt.datetime(2026, 12, 10)]


def test_another_village_sees_none_of_it_and_may_not_ask_for_this_village(village):
    other = WebClient(village["server"].url)
    other.sign_in("xicun_cadre", PASSWORD)
    dongcun = by_full_name("青山镇/东村").id
    db.session.rollback()
    for name in ("births", "supplies", "referrals", "working-away", "followups", "support-requests"):
        page = other.get(f"/registers/{name}", params=DECEMBER)
        assert page.status_code == 200 and "这段时间没有记录。" in page.text, name
        assert "李芳" not in page.text and "王" not in page.text.split('id="filters"', 1)[1]
    options = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', other.get("/registers/births").text)
    assert options == ["青山镇 › 西村"]
    refused = other.get("/registers/births", params={"area": dongcun})
    assert refused.status_code == 403 and 'id="register"' not in refused.text
    assert re.findall(r'<p class="error message">([^<]+)</p>', refused.text) == [
        "该地区不在您负责的范围内：请从列表中选择。"]
    assert re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', refused.text) == ["青山镇 › 西村"]
    assert other.get("/registers/births.xlsx", params={"area": dongcun}).status_code == 403
    assert village["cadre"].get("/registers/births", params={"area": dongcun}).status_code == 200


def test_bad_filters_get_a_message_and_unknown_registers_a_404(village):
    cadre = village["cadre"]
    bad = cadre.get("/registers/births", params={"since": "2026-13-01"})
    assert bad.status_code == 400
    assert '<p class="error message">开始日期不是有效日期：请按 YYYY-MM-DD 填写，例如 2026-12-01。</p>' in bad.text
    assert 'name="since" value="2026-13-01"' in bad.text and 'id="register"' not in bad.text
    backwards = cadre.get("/registers/births", params={"since": "2026-12-31", "until": "2026-12-01"})
    assert backwards.status_code == 400 and "结束日期早于开始日期。" in backwards.text
    assert cadre.get("/registers/births", params={"page": "x"}).status_code == 400
    assert cadre.get("/registers/births.xlsx", params={"until": "yesterday"}).status_code == 400
    assert cadre.get("/registers/no-such-register").status_code == 404
    assert cadre.get("/registers/no-such-register.xlsx").status_code == 404
    unknown = cadre.get("/registers/births", params={"area": "999999"})
    assert unknown.status_code == 404
    assert re.findall(r'<p class="error message">([^<]+)</p>', unknown.text) == ["没有这个地区：请从列表中选择。"]


def test_the_index_names_every_register_and_reads_are_audited(village):
    cadre = village["cadre"]
    index = cadre.get("/registers/")
    assert index.status_code == 200
    assert re.findall(r'<a href="/registers/([a-z-]+)">([^<]+)</a>', index.text) == [
        ("births", "出生登记"), ("deaths", "死亡登记"), ("marriages", "婚姻登记"), ("moved-in", "迁入登记"),
        ("moved-out", "迁出登记"), ("moves", "迁入迁出登记"), ("working-away", "外出务工人员"),
        ("arrivals", "流入/迁入人员"),
        ("followups", "产后/术后随访登记"), ("supplies", "药具发放登记"), ("referrals", "转介登记"),
        ("prepregnancy-checks", "孕前优生健康检查"), ("support-requests", "扶助申请登记"),
        ("elderly-hardship", "养老关爱与困难帮扶")]
    cadre.get("/registers/births")
    cadre.get("/registers/supplies.xlsx", params=DECEMBER)
    dongcun = by_full_name("青山镇/东村").path
    events = [(event.action, event.subject, event.area_path, event.records)
              for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("registers."))
                                              .order_by(AuditEvent.id))]
    db.session.rollback()
    assert events == [("registers.read", "births 2026-12-01..2026-12-31", dongcun, 1),
                      ("registers.export", "supplies 2026-12-01..2026-12-31", dongcun, 1)]
    collector = WebClient(village["server"].url)
    assert collector.get("/registers/").url.endswith("/login?next=/registers/")


def test_fifty_rows_a_page(village):
    phone = village["server"].client(token=village["phone_token"])
    supplies = tuple(("folic_acid", str(number), "yes") for number in range(1, 56))
    assert phone.submit(with_services(household_visit(household=HOUSEHOLD, base_version=2,
                                                      start="2026-12-19T09:00:00.000+08:00"),
                                      needs="supplies", supplies=supplies)).status_code == 201
    merge_all()
    cadre = village["cadre"]
    first = cadre.get("/registers/supplies").text
    assert '<p id="summary">第 1–50 条，共 56 条' in first
    assert len(table_rows(first)) == 50 and len(visit_links(first)) == 50
    (following,) = re.findall(r'<a rel="next" href="([^"]+)">', first)
    assert 'rel="prev"' not in first and "第 1 页，共 2 页" in first
    second = cadre.get(html.unescape(following)).text
    assert '<p id="summary">第 51–56 条，共 56 条' in second and 'rel="next"' not in second
    assert [row[5] for row in table_rows(second)] == ["50", "51", "52", "53", "54", "55"]
    beyond = cadre.get("/registers/supplies", params={"page": "9"}).text
    assert '<p id="summary">第 51–56 条，共 56 条' in beyond
    workbook = openpyxl.load_workbook(io.BytesIO(cadre.get("/registers/supplies.xlsx").content)).active
    assert workbook.max_row == 3 + 56


def area_id(full_name: str) -> int:
    found = by_full_name(full_name).id
    db.session.rollback()
    return found


def test_the_town_office_and_the_county_read_every_village(village):
    add_user("county", "county_admin", None, realm=REALM, password=PASSWORD)
    commit()
    for username, selected in (("qingshan_officer", "青山镇"), ("county", "全部区域")):
        reader = WebClient(village["server"].url)
        reader.sign_in(username, PASSWORD)
        page = reader.get("/registers/births").text
        assert re.findall(r"<option [^>]*selected>([^<]+)</option>", page) == [selected]
        # By their names: the town and its villages; a village's groups once the village (or a group) is asked for.
        assert re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page) == ["青山镇", "青山镇 › 东村", "青山镇 › 西村"]
        assert table_rows(page) == [["东村", "第一组", "001", "王小宝", "男", "2026-12-08", "2026-12-10", "访视"]]
        for asked in ("青山镇/东村", "青山镇/东村/第一组"):
            narrowed = reader.get("/registers/births", params={"area": area_id(asked)}).text
            assert re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', narrowed) == [
                "青山镇", "青山镇 › 东村", "青山镇 › 东村 › 第一组", "青山镇 › 西村"]
            assert re.findall(r"<option [^>]*selected>([^<]+)</option>", narrowed) == [asked.replace("/", " › ")]
            assert table_rows(narrowed) == [["东村", "第一组", "001", "王小宝", "男", "2026-12-08", "2026-12-10",
                                             "访视"]]
        due = reader.get("/due", params={"area": "青山镇/东村"}).text
        assert re.findall(r'<option value="[^"]*"[^>]*>([^<]+)</option>', due)[-3:] == [
            "青山镇 › 东村", "青山镇 › 东村 › 第一组", "青山镇 › 西村"]
        assert "青山镇 › 东村 › 第一组" not in reader.get("/due").text
    assert "全部区域" not in village["cadre"].get("/registers/births").text
    assert re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', village["cadre"].get("/registers/births").text) == [
        "青山镇 › 东村", "青山镇 › 东村 › 第一组"]       # a cadre's menu: the village and its groups


def test_the_county_picks_a_town_for_everyone_working_away(village):
    """Everyone working away is listed a town at a time for the county (its hundreds of thousands are not counted and
    sorted on each request): the county's page names its towns; a town's page lists them; the workbook has them all."""
    add_user("county", "county_admin", None, realm=REALM, password=PASSWORD)
    commit()
    county = WebClient(village["server"].url)
    county.sign_in("county", PASSWORD)
    reads = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "registers.read"))
    db.session.rollback()
    everywhere = county.get("/registers/working-away").text
    assert "全县外出务工人员按镇列出：请选择一个镇。" in everywhere and 'id="register"' not in everywhere
    (town,) = re.findall(r'<ul id="towns"><li><a href="([^"]+)">青山镇</a></li></ul>', everywhere)
    assert town.startswith("/registers/working-away?") and f"area={area_id('青山镇')}" in town
    assert sorted(row[3] for row in table_rows(county.get(html.unescape(town)).text)) == ["王丽", "王伟"]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "registers.read")) == reads + 1   # the town's page only
    db.session.rollback()
    workbook = openpyxl.load_workbook(io.BytesIO(county.get("/registers/working-away.xlsx").content))
    assert sorted(row[3] for row in workbook.active.iter_rows(min_row=4, values_only=True)) == ["王丽", "王伟"]
    births = county.get("/registers/births").text   # a period's register is read everywhere as before
    assert 'id="towns"' not in births and table_rows(births)
