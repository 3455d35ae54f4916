"""Corrections, tiers and new members entered on the web by a village cadre or the town office, through HTTP: each
is a decision, recorded with the reason given, audited, shown with what changed and an undo button, undone
exactly, kept by a rebuild and replicated to the county; a refused value shows the form again with why and stores
nothing; another village's or town's record is refused (403) before anything is written."""

# ruff: noqa: F811 - the fixtures imported from the tests that define them are the tests' arguments
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.database import commit
from server.exports.queries import GroupEvent, dated_events
from server.extensions import db
from server.register.models import DuplicateCandidate, LifeEventRecord, Person, RegisterDecision
from server.register.replays import rebuild_register
from sync.errors import ChoiceValueInvalid, DateValueInvalid, IdNumberInvalid, PhoneInvalid
from sync.periods import as_utc
from tests.conftest import merge_all
from tests.integration.test_named_registers import table_rows
from tests.integration.test_transfer_replicate import (  # noqa: F401 - fixtures
    NOW,
    county,
    portable_snapshot,
    replicator,
    settled,
    town_servers,
    towns,
)
from tests.integration.test_write_scope import (  # noqa: F401 - the fixture world
    PASSWORD,
    assert_rebuild_agrees,
    place_uuid,
    signed_in,
    snapshot,
    world,
)
from tests.register_visits import Member, household_visit
from tests.web import WebClient

HEAD, CHILD, HOUSEHOLD = place_uuid("own", "head"), place_uuid("own", "child"), place_uuid("own", "household")
VALID_ID = "110101197505060025"      # 王秀英's: born 1975-05-06, a woman, its check character right
BAD_ID = "110101197505060020"        # the check character wrong
BABY_ID = "11010120261115001X"


def visible(html: str) -> str:
    """A page's text as read (tags and their attributes, where links hold ids, left out)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html))


def flashes(html: str) -> list[str]:
    return [visible(item).strip() for item in re.findall(r'<li class="flash [a-z]+">(.*?)</li>', html, re.S)]


def decisions() -> list[tuple]:
    rows = [(row.kind, row.subject_uuid, row.target, row.field, row.note, row.undone_at is not None)
            for row in db.session.scalars(select(RegisterDecision).order_by(RegisterDecision.id))]
    db.session.rollback()
    return rows


def person(uuid: str) -> Person | None:
    found = db.session.get(Person, uuid)
    values = None if found is None else {column: getattr(found, column) for column in (
        "name", "sex", "birth_date", "id_number", "relationship", "phone", "residence", "hukou", "status", "tier",
        "household_uuid")}
    db.session.rollback()
    return values


def undo_form(html: str) -> tuple[str, str]:
    """The undo button's address and the page it goes back to."""
    action, back = re.search(r'<form method="post" action="([^"]+)" id="undo">.*?name="back" value="([^"]+)"',
                             html, re.S).groups()
    return action, back


# ---- a correction -------------------------------------------------------------------------------------------------

def test_a_cadre_corrects_a_birth_date_sees_what_changed_and_can_undo_it(world, server):
    cadre = signed_in(server, "dongcun_cadre")
    person_page = cadre.get(f"/people/{HEAD}")
    assert f'href="/people/{HEAD}/correct" id="correct">更正</a>' in person_page.text
    assert f'href="/people/{HEAD}/tier" id="set-tier">设置分级</a>' in person_page.text

    listing = cadre.get(f"/people/{HEAD}/correct")
    assert listing.status_code == 200
    text = visible(listing.text)
    assert "更正 王秀英 的登记信息" in text and "青山镇 › 东村 › 第一组" in text
    assert "姓名 王秀英 更正" in text and "性别 女 更正" in text and "出生日期 1975-05-06 更正" in text
    assert "与户主关系 户主 更正" in text and "居住 在本地居住 更正" in text and "户籍 本地户籍 更正" in text
    assert "身份证号码 — 更正" in text and "健在" in text
    assert HEAD not in text and HOUSEHOLD not in text and "female" not in text

    form = cadre.get(f"/people/{HEAD}/correct/birth_date")
    assert '<input type="date" id="value" name="value" value="1975-05-06"' in form.text
    answer = cadre.post(f"/people/{HEAD}/correct/birth_date", {"value": "1976-05-06", "note": "以户口本为准"},
                        allow_redirects=False)
    assert (answer.status_code, answer.headers["Location"]) == (302, f"/people/{HEAD}/correct")
    done = cadre.get(f"/people/{HEAD}/correct")
    assert flashes(done.text) == ["已更正：出生日期 1975-05-06 → 1976-05-06"]
    assert "出生日期 1976-05-06 更正" in visible(done.text)
    ((kind, subject, target, field, note, undone),) = decisions()
    assert (kind, subject, target, field, note, undone) == (
        "set_field", HEAD, "1976-05-06", "person:birth_date", "以户口本为准", False)
    assert person(HEAD)["birth_date"] == "1976-05-06"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "register.set_field", AuditEvent.subject == HEAD)) == 1
    db.session.rollback()
    assert "1976-05-06" in cadre.get(f"/people/{HEAD}").text
    assert_rebuild_agrees()
    assert person(HEAD)["birth_date"] == "1976-05-06"

    # The button shown once after it: undo, back to the same page, which says so.
    action, back = undo_form(done.text)
    assert (action, back) == (f"/decisions/{db.session.scalar(select(RegisterDecision.id))}/undo",
                              f"/people/{HEAD}/correct")
    db.session.rollback()
    assert 'id="undo"' not in cadre.get(f"/people/{HEAD}/correct").text   # offered once, after the change
    undone_page = cadre.post(action, {"back": back})
    assert undone_page.url.endswith(f"/people/{HEAD}/correct") and flashes(undone_page.text) == ["已撤销。"]
    assert person(HEAD)["birth_date"] == "1975-05-06"
    assert [row[-1] for row in decisions()] == [True]
    assert_rebuild_agrees()
    assert person(HEAD)["birth_date"] == "1975-05-06"


def test_choices_come_from_lists_and_an_unchanged_value_records_nothing(world, server):
    cadre = signed_in(server, "dongcun_cadre")
    form = cadre.get(f"/people/{HEAD}/correct/relationship").text
    assert '<option value="head" selected>户主</option>' in form and '<option value="spouse">配偶</option>' in form
    assert cadre.post(f"/people/{CHILD}/correct/residence", {"value": "working_away"}).status_code == 200
    assert person(CHILD)["residence"] == "working_away"
    same = cadre.post(f"/people/{HEAD}/correct/sex", {"value": "female"})
    assert flashes(same.text) == ["没有改动：性别 已经是 女。"] and 'id="undo"' not in same.text
    assert cadre.post(f"/people/{HEAD}/correct/id_number", {"value": VALID_ID}).status_code == 200
    assert [(kind, target, field) for kind, _, target, field, _, _ in decisions()] == [
        ("set_field", "working_away", "person:residence"), ("set_field", VALID_ID, "person:id_number")]
    # The undo button is offered on the page the change leads to, not on another page opened instead.
    cadre.post(f"/people/{CHILD}/correct/phone", {"value": "13812345678"}, allow_redirects=False)
    elsewhere = cadre.get(f"/people/{HEAD}/correct").text
    assert flashes(elsewhere) == ["已更正：手机 — → 13812345678"] and 'id="undo"' not in elsewhere
    assert 'id="undo"' not in cadre.get(f"/people/{CHILD}/correct").text
    assert cadre.get(f"/people/{HEAD}/correct/household_uuid").status_code == 404
    assert cadre.post(f"/people/{HEAD}/correct/tier", {"value": "key"}).status_code == 404


@pytest.mark.parametrize(("field", "value", "refusal"), [
    ("id_number", BAD_ID, IdNumberInvalid), ("id_number", "abc123", IdNumberInvalid),
    ("birth_date", "1975-02-30", DateValueInvalid), ("birth_date", "1800-01-01", DateValueInvalid),
    ("phone", "12345", PhoneInvalid), ("sex", "m", ChoiceValueInvalid), ("status", "dead", ChoiceValueInvalid),
])
def test_a_bad_value_shows_the_form_again_with_why_and_stores_nothing(world, server, field, value, refusal):
    before = snapshot()
    cadre = signed_in(server, "dongcun_cadre")
    answer = cadre.post(f"/people/{HEAD}/correct/{field}", {"value": value, "note": "试试"})
    assert answer.status_code == 400
    assert re.search(r'<p class="error" id="problem">(.*?)</p>', answer.text).group(1) == refusal.message_zh
    assert 'id="correction"' in answer.text
    english = signed_in(server, "dongcun_cadre")
    english.session.headers["Accept-Language"] = "en"
    assert refusal.message_en in english.post(f"/people/{HEAD}/correct/{field}", {"value": value}).text
    assert (snapshot(), decisions()) == (before, [])


# ---- a tier -------------------------------------------------------------------------------------------------------

def test_a_cadre_sets_a_tier_from_a_list_of_names_and_can_undo_it(world, server):
    cadre = signed_in(server, "dongcun_cadre")
    page = cadre.get(f"/people/{HEAD}/tier")
    assert re.findall(r"<option[^>]*>([^<]*)</option>", page.text) == ["不分级", "重点服务对象", "一般服务对象",
                                                                      "随访服务对象"]
    assert "现为 不分级" in visible(page.text)
    done = cadre.post(f"/people/{HEAD}/tier", {"tier": "key", "note": "孕产期"})
    assert flashes(done.text) == ["已设置分级：不分级 → 重点服务对象"]
    assert "现为 重点服务对象" in visible(done.text)
    assert person(HEAD)["tier"] == "key"
    assert decisions() == [("set_tier", HEAD, "key", None, "孕产期", False)]
    assert_rebuild_agrees()
    action, back = undo_form(done.text)
    assert flashes(cadre.post(action, {"back": back}).text) == ["已撤销。"]
    assert person(HEAD)["tier"] is None
    assert_rebuild_agrees()
    before = snapshot()
    assert cadre.post(f"/people/{HEAD}/tier", {"tier": "gold"}).status_code == 409
    assert snapshot() == before and len(decisions()) == 1


# ---- a birth, a new member ----------------------------------------------------------------------------------------

BABY = {"event": "birth", "name": "王小宝", "sex": "male", "birth_date": "2026-11-15", "relationship": "grandchild",
        "id_number": BABY_ID, "phone": "", "residence": "here", "hukou": "here", "note": "卫生院出生"}


def test_a_cadre_registers_a_birth_which_a_rebuild_keeps_and_undo_removes(world, server):
    cadre = signed_in(server, "dongcun_cadre")
    household_page = cadre.get(f"/households/{HOUSEHOLD}").text
    assert f'href="/households/{HOUSEHOLD}/members/new" id="new-member">登记新成员</a>' in household_page
    form = cadre.get(f"/households/{HOUSEHOLD}/members/new?event=birth")
    text = visible(form.text)
    assert "登记新成员" in text and "01号户（户主 王秀英）" in text and HOUSEHOLD not in text
    assert '<input type="radio" name="event" value="birth" checked>' in form.text
    assert '<input type="date" id="birth_date" name="birth_date"' in form.text
    assert '<option value="grandchild">孙子女/外孙子女</option>' in form.text

    done = cadre.post(f"/households/{HOUSEHOLD}/members/new", BABY)
    assert flashes(done.text) == ["已登记出生：王小宝"]
    ((kind, baby, target, field, note, _),) = decisions()
    assert (kind, field, note) == ("add_person", "birth", "卫生院出生")
    assert target == ('{"birth_date":"2026-11-15","event_date":"2026-11-15","household":"' + HOUSEHOLD + '",'
                      '"hukou":"here","id_number":"' + BABY_ID + '","name":"王小宝","relationship":"grandchild",'
                      '"residence":"here","sex":"male"}')
    assert person(baby) == {"name": "王小宝", "sex": "male", "birth_date": "2026-11-15", "id_number": BABY_ID,
                            "relationship": "grandchild", "phone": None, "residence": "here", "hukou": "here",
                            "status": "living", "tier": None, "household_uuid": HOUSEHOLD}
    decision_id = db.session.scalar(select(RegisterDecision.id))
    events = [(row.kind, str(row.event_date), row.submission_id, row.decision_id) for row in db.session.scalars(
        select(LifeEventRecord).where(LifeEventRecord.person_uuid == baby))]
    db.session.rollback()
    assert events == [("birth", "2026-11-15", None, decision_id)]
    assert "王小宝" in visible(cadre.get(f"/households/{HOUSEHOLD}").text)
    births = cadre.get("/registers/births", params={"since": "2026-11-01", "until": "2026-11-30"}).text
    assert table_rows(births) == [["东村", "第一组", "01", "王小宝", "男", "2026-11-15", "", ""]]   # no visit told it
    # The monthly change report counts it, as learnt when it was registered.
    decided_at = db.session.scalar(select(RegisterDecision.decided_at))
    assert [event for event in dated_events("/") if event.kind == "birth"] == [
        GroupEvent("东村", "青山镇/东村/第一组", "birth", dt.date(2026, 11, 15), as_utc(decided_at), baby,
                   db.session.scalar(select(LifeEventRecord.id).where(LifeEventRecord.person_uuid == baby)))]
    db.session.rollback()
    assert_rebuild_agrees()
    assert person(baby)["name"] == "王小宝"

    action, back = undo_form(done.text)
    assert flashes(cadre.post(action, {"back": back}).text) == ["已撤销。"]
    assert person(baby) is None
    assert db.session.scalar(select(func.count()).select_from(LifeEventRecord).where(
        LifeEventRecord.person_uuid == baby)) == 0
    db.session.rollback()
    assert "王小宝" not in visible(cadre.get(f"/households/{HOUSEHOLD}").text)
    assert_rebuild_agrees()
    assert person(baby) is None


def test_a_new_member_is_checked_like_a_visits_and_its_duplicate_is_proposed(world, server):
    cadre = signed_in(server, "dongcun_cadre")
    before = snapshot()
    missing = cadre.post(f"/households/{HOUSEHOLD}/members/new", {**BABY, "name": " ", "relationship": ""})
    assert missing.status_code == 400
    assert re.search(r'id="problem">(.*?)</p>', missing.text).group(1) == "请填写：姓名、与户主关系"
    bad_id = cadre.post(f"/households/{HOUSEHOLD}/members/new", {**BABY, "id_number": BAD_ID})
    assert re.search(r'id="problem">(.*?)</p>', bad_id.text).group(1) == IdNumberInvalid.message_zh
    assert 'value="王小宝"' in bad_id.text        # what was typed is kept
    future = cadre.post(f"/households/{HOUSEHOLD}/members/new", {**BABY, "birth_date": "2199-01-01"})
    assert future.status_code == 400
    assert (snapshot(), decisions()) == (before, [])

    # The same woman registered again on the web: the duplicate check proposes the pair, as after a visit.
    again = cadre.post(f"/households/{HOUSEHOLD}/members/new", {
        "event": "registered", "name": "王秀英", "sex": "female", "birth_date": "1975-05-06",
        "relationship": "other", "residence": "here"})
    assert flashes(again.text) == ["已登记新成员：王秀英"]
    ((_, twin, _, field, _, _),) = decisions()
    assert field == "registered"
    pairs = [(row.a_uuid, row.b_uuid, row.state) for row in db.session.scalars(select(DuplicateCandidate))]
    db.session.rollback()
    assert pairs == [(*sorted((HEAD, twin)), "open")]


# ---- scope --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "place", "allowed"), [
    ("dongcun_cadre", "group", True), ("dongcun_cadre", "village", False), ("dongcun_cadre", "town", False),
    ("qingshan_officer", "village", True), ("qingshan_officer", "town", False),
])
def test_only_records_of_ones_own_area_can_be_changed(world, server, username, place, allowed):
    before = snapshot()
    staff = signed_in(server, username)
    head, household = place_uuid(place, "head"), place_uuid(place, "household")
    writes = [(f"/people/{head}/correct/birth_date", {"value": "1976-05-06"}),
              (f"/people/{head}/correct/id_number", {"value": BAD_ID}),      # refused for the area, not the value
              (f"/people/{head}/tier", {"tier": "key"}),
              (f"/households/{household}/members/new", BABY)]
    pages = [f"/people/{head}/correct", f"/people/{head}/correct/name", f"/people/{head}/tier",
             f"/households/{household}/members/new"]
    if allowed:
        assert [staff.get(page).status_code for page in pages] == [200] * 4
        assert [staff.post(path, data, allow_redirects=False).status_code for path, data in writes] == [
            302, 400, 302, 302]
        assert [row[0] for row in decisions()] == ["set_field", "set_tier", "add_person"]
        return
    assert [staff.get(page).status_code for page in pages] == [403] * 4
    assert [staff.post(path, data).status_code for path, data in writes] == [403] * 4
    assert (snapshot(), decisions()) == (before, [])


def test_a_collector_cannot_use_the_pages_and_nobody_signed_out_can(world, server, create_collector):
    create_collector("青山镇/东村/第一组", username="web_collector", password=PASSWORD)
    before = snapshot()
    collector = WebClient(server.url)
    refused = collector.sign_in("web_collector", PASSWORD)
    assert refused.status_code == 401 and "collectors use ODK Collect" in refused.text
    for path in (f"/people/{HEAD}/correct", f"/people/{HEAD}/tier", f"/households/{HOUSEHOLD}/members/new"):
        assert collector.get(path, allow_redirects=False).headers["Location"].startswith("/login")
    answer = collector.post(f"/people/{HEAD}/correct/name", {"value": "改名"}, allow_redirects=False)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert (snapshot(), decisions()) == (before, [])


def test_the_town_office_undoes_a_cadres_correction_but_another_village_cannot(world, server):
    cadre = signed_in(server, "dongcun_cadre")
    cadre.post(f"/people/{HEAD}/correct/name", {"value": "王秀瑛"})
    decision_id = db.session.scalar(select(RegisterDecision.id))
    db.session.rollback()
    assert signed_in(server, "xicun_cadre").post(f"/decisions/{decision_id}/undo", {}).status_code == 403
    assert person(HEAD)["name"] == "王秀瑛"
    office = signed_in(server, "qingshan_officer")
    assert office.post(f"/decisions/{decision_id}/undo", {"back": f"/people/{HEAD}/correct"}).status_code == 200
    assert person(HEAD)["name"] == "王秀英"


# ---- replication --------------------------------------------------------------------------------------------------

def test_web_corrections_tiers_and_births_follow_to_the_county(county, towns, settled, tmp_path):
    qingshan, _ = towns
    mother = Member("孙丽", "female", "1996-03-04")
    qingshan.send("东村/第一组", household_visit(household="h-web", new=("001", "门牌"), members=[mother],
                                              start="2026-11-01T09:00:00.000+08:00"))
    qingshan.merge()
    office = WebClient(qingshan.live.url)
    assert office.sign_in("qingshan-office", "town-secret").status_code == 302
    assert office.post(f"/people/{mother.uuid}/correct/phone", {"value": "13812345678", "note": "本人告知"},
                       allow_redirects=False).status_code == 302
    assert office.post(f"/people/{mother.uuid}/tier", {"tier": "general"}, allow_redirects=False).status_code == 302
    assert office.post("/households/h-web/members/new", {**BABY, "relationship": "child"},
                       allow_redirects=False).status_code == 302
    with qingshan.live.app.app_context():
        undone = db.session.scalar(select(RegisterDecision.id).where(RegisterDecision.kind == "set_tier"))
        db.session.rollback()
    assert office.post(f"/decisions/{undone}/undo", {}, allow_redirects=False).status_code == 302

    state = tmp_path / "state.json"
    replicator(qingshan, county, state).run()
    merge_all(NOW)
    sent = replicator(qingshan, county, state).run()
    assert (len(sent.decisions_sent), sent.decisions_refused) == (3, [])
    in_county = portable_snapshot()
    assert in_county == qingshan.snapshot()
    people = {row.name: (row.phone, row.tier, row.birth_date) for row in db.session.scalars(select(Person))}
    notes = sorted((row.kind, row.note or "", row.undone_at is not None)
                   for row in db.session.scalars(select(RegisterDecision)))
    db.session.rollback()
    assert people == {"孙丽": ("13812345678", None, "1996-03-04"), "王小宝": (None, None, "2026-11-15")}
    assert notes == [("add_person", "卫生院出生", False), ("set_field", "本人告知", False), ("set_tier", "", True)]
    rebuild_register()
    commit()
    assert portable_snapshot() == in_county
