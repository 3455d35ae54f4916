"""Schedules end to end: tiers set by a cadre, anchors told in visits, flags over the JSON API (scoped and
audited), late visits clearing flags, and each collector's generated phone lists in the manifest."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re

import pytest
import requests
from lxml import etree
from requests.auth import HTTPDigestAuth
from sqlalchemy import select

from server import clock
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.register.decisions import set_tier
from server.schedules import views as schedule_views
from server.users.operations import add_user
from server.users.queries import principal_by_username
from sync.schedules import default_schedule
from tests.conftest import REALM, ROOT, merge_all
from tests.register_visits import Member, followup_visit, household_visit
from tests.web import WebClient

XLSFORMS = ROOT / "xlsforms"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
HOUSEHOLD_1, HOUSEHOLD_2 = "22222222-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"
TIERS = default_schedule().tier_names
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def town(server, create_collector, publish, monkeypatch):
    """Two groups of 东村 with a collector each, a cadre of 东村 and one of 西村, the real forms published with the
    fixture lists (the register lists among them are generated per collector), and a settable clock."""
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    collectors = {area: create_collector(area) for area in ("青山镇/东村/第一组", "青山镇/东村/第二组")}
    for area, name in (("青山镇/东村", "dongcun_cadre"), ("青山镇/西村", "xicun_cadre")):
        create_collector(area, username=name, role="village_cadre", password="cadre-password")
    now = {"at": dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    return {"server": server, "collectors": collectors, "clock": now,
            "phones": {area: server.client(token=c.token) for area, c in collectors.items()}}


def send(phone, xml: bytes) -> None:
    assert phone.submit(xml).status_code == 201


def api(town, path: str, user: str, password: str = "cadre-password", **params) -> requests.Response:
    """A program (not Collect) calling the JSON API with Digest credentials."""
    return requests.get(f"{town['server'].url}{path}", params=params, auth=HTTPDigestAuth(user, password), timeout=30)


def due(town, *, user: str = "dongcun_cadre", **params) -> requests.Response:
    return api(town, "/api/v1/due", user, **params)


def register(town, members: list[Member], household: str = HOUSEHOLD_1, group: str = "青山镇/东村/第一组",
             number: str = "001", start: str = "2026-08-03T09:00:00.000+08:00") -> None:
    send(town["phones"][group], household_visit(household=household, new=(number, f"{number}号"), start=start,
                                                members=members))
    merge_all()


def test_a_key_tier_person_missing_visits_is_overdue_and_a_late_visit_clears_it(town):
    wang = Member("王秀英", "female", "1990-05-06")
    register(town, [wang])
    set_tier(principal_by_username("dongcun_cadre"), wang.uuid, "key", tiers=TIERS,
             now=dt.datetime(2026, 8, 20, 2, 0, tzinfo=dt.timezone.utc))
    commit()

    response = due(town, as_of="2026-11-22")
    assert response.status_code == 200
    body = response.json()
    assert (body["as_of"], body["timezone"]) == ("2026-11-22", "Asia/Shanghai")
    (flag,) = body["flags"]
    assert {key: flag[key] for key in ("person", "person_name", "household_no", "rule", "status", "due_since",
                                       "due_by", "overdue_days", "missed", "last_visit")} == {
        "person": wang.uuid, "person_name": "王秀英", "household_no": "001", "rule": "tier_key", "status": "overdue",
        "due_since": "2026-09-01", "due_by": "2026-09-30", "overdue_days": 53, "missed": ["2026-09", "2026-10"],
        "last_visit": "2026-08-03"}
    assert flag["explanation_zh"] == ("重点服务对象例行访视（每月一次）：2026年9月、2026年10月没有完成的访视，"
                                      "已逾期 53 天；上次访视 2026-08-03。")

    # Last month's visit reaches the server late: October is no longer missed, September still is.
    send(town["phones"]["青山镇/东村/第一组"], household_visit(
        household=HOUSEHOLD_1, base_version=1, start="2026-10-28T10:00:00.000+08:00"))
    merge_all()
    (flag,) = due(town, as_of="2026-11-22").json()["flags"]
    assert (flag["status"], flag["due_by"], flag["last_visit"]) == ("due", "2026-11-30", "2026-10-28")
    # Nobody home does not count.
    send(town["phones"]["青山镇/东村/第一组"], household_visit(
        household=HOUSEHOLD_1, base_version=1, start="2026-11-21T10:00:00.000+08:00", outcome="nobody_home"))
    merge_all()
    assert due(town, as_of="2026-11-22").json()["flags"][0]["status"] == "due"
    # As of an earlier date, the answer is what it was then.
    (then,) = due(town, as_of="2026-10-15").json()["flags"]
    assert (then["status"], then["missed"]) == ("overdue", ["2026-09"])
    done = due(town, as_of="2026-10-31", status="done").json()["flags"]
    assert [(f["status"], f["last_visit"]) for f in done] == [("done", "2026-10-28")]


def test_a_birth_told_in_a_visit_makes_a_postpartum_follow_up_due_until_it_is_done(town):
    mother = Member("李芳", "female", "1995-01-02")
    register(town, [mother])
    send(town["phones"]["青山镇/东村/第一组"], household_visit(
        household=HOUSEHOLD_1, base_version=1, start="2026-11-12T09:00:00.000+08:00",
        postpartum=(mother.uuid, "2026-11-10")))
    merge_all()
    (flag,) = due(town, as_of="2026-11-22").json()["flags"]
    assert (flag["rule"], flag["status"], flag["anchor_kind"], flag["anchor_date"], flag["overdue_days"]) == (
        "postpartum", "overdue", "birth", "2026-11-10", 5)
    send(town["phones"]["青山镇/东村/第一组"], followup_visit(
        person=mother.uuid, household=HOUSEHOLD_1, followup_type="postpartum", start="2026-11-21T15:00:00.000+08:00"))
    merge_all()
    assert due(town, as_of="2026-11-22").json()["flags"] == []
    assert [f["status"] for f in due(town, as_of="2026-11-22", status="done").json()["flags"]] == ["done"]


def test_due_lists_are_for_staff_of_the_area_and_every_read_is_audited(town):
    register(town, [Member("王秀英", "female", "1990-05-06")])
    collector = town["collectors"]["青山镇/东村/第一组"]
    by_collector = api(town, "/api/v1/due", collector.username, collector.password)
    assert by_collector.status_code == 403
    assert by_collector.json()["code"] == "403.1"
    assert due(town, user="xicun_cadre", area="青山镇/东村").status_code == 403
    assert due(town, area="青山镇/南村").status_code == 404
    invalid = due(town, as_of="yesterday").json()
    assert (invalid["code"], invalid["detail"]) == ("400.0", "as_of: Not a valid date.")
    assert due(town, area="青山镇/东村/第一组").status_code == 200
    assert due(town, user="xicun_cadre").json()["flags"] == []
    events = [(e.action, e.area_path) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    db.session.rollback()
    assert [action for action, _ in events] == ["due.read", "due.read"]
    # The page is for a signed-in browser; Digest credentials are for programs calling the JSON API.
    assert api(town, "/due", "dongcun_cadre").url.endswith("/login?next=/due")
    browser = WebClient(town["server"].url)
    browser.sign_in("dongcun_cadre", "cadre-password")
    page = browser.get("/due?area=青山镇/东村/第一组")
    assert page.status_code == 200 and "<h1>待访视与逾期</h1>" in page.text and "王秀英" not in page.text


def test_the_due_page_goes_most_overdue_first_a_page_at_a_time(town, monkeypatch):
    """The due list's pages, one flag a page here, follow one another most overdue first, then due longest (the
    area's flags are kept in that order: a county's page is a slice, not a sort of hundreds of thousands)."""
    people = [Member(name, "female", "1990-05-06") for name in ("王一", "王二", "王三")]
    register(town, people)
    cadre = principal_by_username("dongcun_cadre")
    for person, day in zip(people, (dt.datetime(2026, 10, 5, 2, 0), dt.datetime(2026, 8, 20, 2, 0),
                                    dt.datetime(2026, 9, 5, 2, 0)), strict=True):
        set_tier(cadre, person.uuid, "key", tiers=TIERS, now=day.replace(tzinfo=dt.timezone.utc))
    commit()
    flags = due(town).json()["flags"]
    assert [(flag["person_name"], flag["status"], flag["overdue_days"]) for flag in flags] == [
        ("王二", "overdue", 53), ("王三", "overdue", 22), ("王一", "due", 0)]   # missed: Sep and Oct, Oct, none
    monkeypatch.setattr(schedule_views, "DUE_PAGE_SIZE", 1)
    browser = WebClient(town["server"].url)
    browser.sign_in("dongcun_cadre", "cadre-password")
    pages = [browser.get("/due", params={"page": number}).text for number in (1, 2, 3)]
    assert [re.findall(r'<td><a href="/people/([0-9a-f-]+)">', page) for page in pages] == [
        [flag["person"]] for flag in flags]
    assert [re.search(r'<p id="due-count">([^<]*)</p>', page).group(1) for page in pages] == [
        "第 1–1 条，共 3 条", "第 2–2 条，共 3 条", "第 3–3 条，共 3 条"]


def area_menu(page: str) -> list[tuple[str, str, bool]]:
    """The due page's area menu: (value, words, selected) of each option."""
    menu = page.split('<select name="area" id="area">', 1)[1].split("</select>", 1)[0]
    return [(value, words, bool(selected)) for value, selected, words in
            re.findall(r'<option value="([^"]*)"( selected)?>([^<]+)</option>', menu)]


def test_the_due_page_chooses_the_area_from_a_menu_and_refuses_another(town):
    wang, zhang = Member("王秀英", "female", "1990-05-06"), Member("张伟", "male", "1970-03-04")
    register(town, [wang])
    register(town, [zhang], household=HOUSEHOLD_2, group="青山镇/东村/第二组", number="002")
    for person in (wang, zhang):
        set_tier(principal_by_username("dongcun_cadre"), person.uuid, "key", tiers=TIERS,
                 now=dt.datetime(2026, 8, 20, 2, 0, tzinfo=dt.timezone.utc))
    commit()
    cadre = WebClient(town["server"].url)
    cadre.sign_in("dongcun_cadre", "cadre-password")
    whole = cadre.get("/due").text
    assert area_menu(whole) == [("", "青山镇 › 东村", True), ("青山镇/东村/第一组", "青山镇 › 东村 › 第一组", False),
                                ("青山镇/东村/第二组", "青山镇 › 东村 › 第二组", False)]
    assert '<input name="area"' not in whole and "王秀英" in whole and "张伟" in whole
    group = cadre.get("/due", params={"area": "青山镇/东村/第一组"}).text
    assert [selected for selected in area_menu(group) if selected[2]] == [
        ("青山镇/东村/第一组", "青山镇 › 东村 › 第一组", True)]
    assert "王秀英" in group and "张伟" not in group
    assert area_menu(cadre.get("/due", params={"area": "青山镇/东村"}).text)[0] == ("", "青山镇 › 东村", True)
    # An area outside the cadre's, one that does not exist, a date that is none: said on the page, nothing read.
    for area, status, message in (("青山镇/西村", 403, "该地区不在您负责的范围内：请从列表中选择。"),
                                  ("青山镇/南村", 404, "没有这个地区：请从列表中选择。")):
        refused = cadre.get("/due", params={"area": area})
        assert refused.status_code == status
        assert re.findall(r'<p class="error message">([^<]+)</p>', refused.text) == [message]
        assert 'id="due"' not in refused.text and len(area_menu(refused.text)) == 3
    bad_day = cadre.get("/due", params={"as_of": "yesterday"})
    assert bad_day.status_code == 400
    assert re.findall(r'<p class="error message">([^<]+)</p>', bad_day.text) == [
        "截至日期不是有效日期：请按 YYYY-MM-DD 填写，例如 2026-12-01。"]
    assert [event.action for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "due.read"))] == [
        "due.read"] * 3
    db.session.rollback()
    # The town office chooses among the town's villages, then a village's groups.
    add_user("qingshan_officer", "town_officer", "青山镇", realm=REALM, password="cadre-password")
    commit()
    officer = WebClient(town["server"].url)
    officer.sign_in("qingshan_officer", "cadre-password")
    assert [words for _value, words, _selected in area_menu(officer.get("/due").text)] == [
        "青山镇", "青山镇 › 东村", "青山镇 › 西村"]
    assert [words for _value, words, _selected in area_menu(officer.get("/due", params={"area": "青山镇/东村"}).text)] == [
        "青山镇", "青山镇 › 东村", "青山镇 › 东村 › 第一组", "青山镇 › 东村 › 第二组", "青山镇 › 西村"]


def lists_of(town, group: str) -> dict[str, tuple[str, bytes]]:
    """filename → (manifest hash, downloaded bytes) as this group's collector's phone gets them (both forms)."""
    phone = town["phones"][group]
    listed = etree.fromstring(phone.form_list().content)
    files = [media for url in listed.iterfind(".//{http://openrosa.org/xforms/xformsList}manifestUrl")
             for media in etree.fromstring(phone.get(url.text).content).findall(f"{MANIFEST}mediaFile")]
    found = {}
    for media in files:
        content = phone.get(media.findtext(f"{MANIFEST}downloadUrl")).content
        assert media.findtext(f"{MANIFEST}hash") == f"md5:{hashlib.md5(content).hexdigest()}"
        found[media.findtext(f"{MANIFEST}filename")] = (media.findtext(f"{MANIFEST}hash"), content)
    return found


def rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def test_each_collector_gets_lists_of_their_own_group_and_hashes_change_exactly_with_the_content(town):
    wang = Member("王秀英", "female", "1990-05-06", phone="13800000001")
    li = Member("王强", "male", "1988-01-01", relationship="spouse")
    register(town, [wang, li])
    register(town, [Member("张伟", "male", "1970-03-04")], household=HOUSEHOLD_2, group="青山镇/东村/第二组")
    set_tier(principal_by_username("dongcun_cadre"), wang.uuid, "key", tiers=TIERS,
             now=dt.datetime(2026, 8, 20, 2, 0, tzinfo=dt.timezone.utc))
    commit()

    first = lists_of(town, "青山镇/东村/第一组")
    assert rows(first["households.csv"][1]) == [
        {"name": HOUSEHOLD_1, "label": "001 王秀英", "household_no": "001", "head_name": "王秀英",
         "address": "001号", "members": "2", "base_version": "1"}]
    assert [(p["name"], p["person_name"], p["phone"], p["base_version"]) for p in rows(first["people.csv"][1])] == [
        (li.uuid, "王强", "", "1"), (wang.uuid, "王秀英", "138****0001", "2")]   # masked: no form reads it
    (item,) = rows(first["due.csv"][1])
    assert ({key: item[key] for key in ("label", "person", "household", "person_name", "due_type", "due_since",
                                        "due_by", "last_visit", "base_version")} == {
        "label": "王秀英：重点服务对象例行访视（每月一次）（应于2026-09-30前）", "person": wang.uuid, "household": HOUSEHOLD_1,
        "person_name": "王秀英", "due_type": "tier_key", "due_since": "2026-09-01", "due_by": "2026-09-30",
        "last_visit": "2026-08-03", "base_version": "2"})
    # The other group's collector never receives these people.
    second = lists_of(town, "青山镇/东村/第二组")
    assert [p["person_name"] for p in rows(second["people.csv"][1])] == ["张伟"]
    assert rows(second["due.csv"][1]) == []
    # Same register, same day: same bytes, same hashes.
    assert lists_of(town, "青山镇/东村/第一组") == first
    # A day later the item is a day further overdue, counted on the phone: the list and its hash stay the same.
    town["clock"]["at"] += dt.timedelta(days=1)
    assert lists_of(town, "青山镇/东村/第一组") == first
    town["clock"]["at"] -= dt.timedelta(days=1)
    # A visit changes the people list (phone number) and the due list (the month is now done): new hashes;
    # the households list did not change, nor did its hash.
    send(town["phones"]["青山镇/东村/第一组"], household_visit(
        household=HOUSEHOLD_1, base_version=1, start="2026-11-22T10:00:00.000+08:00", updates=[
            dict(person_uuid=wang.uuid, base_version=2, change="details_corrected", phone_now="13900000002")]))
    merge_all()
    after = lists_of(town, "青山镇/东村/第一组")
    assert after["households.csv"] == first["households.csv"]
    assert after["people.csv"][0] != first["people.csv"][0] and after["due.csv"][0] != first["due.csv"][0]
    assert rows(after["due.csv"][1]) == []
    # Midnight in Shanghai: on 1 December the key tier is due again for December.
    town["clock"]["at"] = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.timezone.utc)
    (december,) = rows(lists_of(town, "青山镇/东村/第一组")["due.csv"][1])
    assert (december["due_since"], december["last_visit"]) == ("2026-12-01", "2026-11-22")
    town["clock"]["at"] = dt.datetime(2026, 11, 30, 15, 59, tzinfo=dt.timezone.utc)
    assert rows(lists_of(town, "青山镇/东村/第一组")["due.csv"][1]) == []


def test_people_who_died_are_no_longer_due_from_the_day_they_died(town):
    wang = Member("王秀英", "female", "1940-05-06")
    register(town, [wang])
    set_tier(principal_by_username("dongcun_cadre"), wang.uuid, "key", tiers=TIERS,
             now=dt.datetime(2026, 8, 20, 2, 0, tzinfo=dt.timezone.utc))
    commit()
    send(town["phones"]["青山镇/东村/第一组"], household_visit(
        household=HOUSEHOLD_1, base_version=1, start="2026-11-20T10:00:00.000+08:00",
        updates=[dict(person_uuid=wang.uuid, base_version=2, change="died", event_date="2026-11-10")]))
    merge_all()
    assert due(town, as_of="2026-11-22").json()["flags"] == []
    (before,) = due(town, as_of="2026-11-09").json()["flags"]
    assert before["status"] == "overdue"


def test_a_household_with_a_visit_agreed_on_a_household_visit_and_on_a_follow_up_is_listed(town):
    """Both agreements of one household are read (the household's own and a follow-up person's); the due list
    used to fail on comparing the household's "no person" with the follow-up's person."""
    mother = Member("李芳", "female", "1995-01-02")
    register(town, [mother])
    send(town["phones"]["青山镇/东村/第一组"], household_visit(
        household=HOUSEHOLD_1, base_version=1, start="2026-11-12T09:00:00.000+08:00",
        postpartum=(mother.uuid, "2026-11-10"), next_visit="2026-12-01"))
    send(town["phones"]["青山镇/东村/第一组"], followup_visit(
        person=mother.uuid, household=HOUSEHOLD_1, followup_type="postpartum", start="2026-11-14T15:00:00.000+08:00",
        next_date="2026-12-03"))
    merge_all()
    response = due(town, as_of="2026-12-04")
    assert response.status_code == 200
    assert [(f["rule"], f["status"], f["due_since"]) for f in response.json()["flags"]] == [
        ("agreed_visit", "due", "2026-12-03")]
