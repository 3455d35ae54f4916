"""Re-checks (准确率) through HTTP: the town office draws a village's sample for the month (reproducible from its stored
seed, 5% rounded up, at least one household, drawn again only explicitly and only before any re-check), records
re-checks of sampled households on the web, and reads each village's accuracy and the list of disagreements in words,
each with a link to correct it. Every refusal (another town, a household outside the sample, a second draw or
re-check, a month to come, a bad value) says why and writes nothing."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from server import clock
from server.areas.operations import find_area
from server.audit.models import AuditEvent
from server.extensions import db
from server.rechecks.models import Recheck, RecheckFinding, RecheckHousehold, RecheckSample
from server.rechecks.queries import recheck_counts
from sync.rechecks import RecheckCounts, draw
from tests.conftest import ROOT, merge_all
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "recheck-staff-password"
XLSFORMS = ROOT / "xlsforms"
START = "2026-11-01T09:00:00.000+08:00"

HEAD_A = Member("王秀英", "female", "1975-05-06")
SPOUSE_A = Member("李建国", "male", "1973-08-15", relationship="spouse")
CHILD_A = Member("李明", "male", "2001-01-20", relationship="child")
HEAD_B = Member("张桂兰", "female", "1980-02-03")
SPOUSE_B = Member("刘强", "male", "1979-04-05", relationship="spouse")
CHILD_B = Member("刘小红", "female", "2005-06-07", relationship="child")
HEAD_C = Member("陈大山", "male", "1960-10-01")
SPOUSE_C = Member("陈芳", "female", "1962-03-04", relationship="spouse")
HOUSEHOLDS = {"A": ("101", [HEAD_A, SPOUSE_A, CHILD_A], "青山镇/东村/第一组"),
              "B": ("102", [HEAD_B, SPOUSE_B, CHILD_B], "青山镇/东村/第一组"),
              "C": ("201", [HEAD_C, SPOUSE_C], "青山镇/东村/第二组")}
ELSEWHERE = Member("孙伟", "male", "1979-09-09")     # 白水镇/南村


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html)).strip()


def rows_of(html: str, table: str) -> list[list[str]]:
    """A table's body rows, each cell's text."""
    body = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [[visible(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def household_uuid(key: str) -> str:
    return f"0000000{'ABCD'.index(key) + 1}-0000-4000-8000-00000000000a"


@pytest.fixture
def town(server, create_collector, publish):
    """东村 of 青山镇 with households A (3 people) and B (3) in its first group and C (2) in its second; 西村 of
    青山镇 and 白水镇's 南村 with one household each; the town officers of 青山镇 and 白水镇, 东村's cadre."""
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    phones = {}
    for key, (number, members, group) in HOUSEHOLDS.items():
        phone = phones.get(group) or server.client(token=create_collector(group).token)
        phones[group] = phone
        assert phone.submit(household_visit(household=household_uuid(key), new=(number, f"{number}号"),
                                            start=START, members=members)).status_code == 201
    for group, member in (("白水镇/南村/第一组", ELSEWHERE),
                          ("青山镇/西村/第一组", Member("周敏", "female", "1988-08-08"))):
        phone = server.client(token=create_collector(group).token)
        assert phone.submit(household_visit(household=household_uuid("D") if group.startswith("白水镇") else
                                            "0000000e-0000-4000-8000-00000000000a", new=("001", "1号"), start=START,
                                            members=[member])).status_code == 201
    for username, role, area in (("qingshan_officer", "town_officer", "青山镇"),
                                 ("baishui_officer", "town_officer", "白水镇"),
                                 ("dongcun_cadre", "village_cadre", "青山镇/东村")):
        create_collector(area, username=username, role=role, password=PASSWORD)
    merge_all()
    ids = {name: find_area(name).id for name in ("青山镇/东村", "青山镇/西村", "白水镇/南村")}
    db.session.rollback()   # end the read (a SQLite transaction here would hold the server's requests up)
    return ids


def signed_in(server, username: str) -> WebClient:
    client = WebClient(server.url)
    assert client.sign_in(username, PASSWORD).status_code == 302
    return client


def this_month() -> str:
    return f"{clock.today():%Y-%m}"


def next_month() -> str:
    today = clock.today()
    return f"{today.year + today.month // 12}-{today.month % 12 + 1:02d}"


def stored() -> dict:
    """Every re-check row, as plain values (the test's view of "nothing changed")."""
    shot = {
        "samples": [(row.village_id, row.month, row.seed, row.percent, row.size)
                    for row in db.session.scalars(select(RecheckSample).order_by(RecheckSample.id))],
        "households": [(row.sample_id, row.household_uuid, row.position) for row in db.session.scalars(
            select(RecheckHousehold).order_by(RecheckHousehold.sample_id, RecheckHousehold.position))],
        "rechecks": [(row.sample_id, row.household_uuid, row.checked_on, row.source)
                     for row in db.session.scalars(select(Recheck).order_by(Recheck.id))],
        "findings": db.session.scalar(select(func.count()).select_from(RecheckFinding)),
    }
    db.session.rollback()
    return shot


def audited(action: str) -> int:
    count = db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))
    db.session.rollback()
    return count


def sample_path(village: int, month: str | None = None) -> str:
    return f"/rechecks/{village}/{month or this_month()}"


def draw_all(client: WebClient, village: int, percent: str = "100") -> None:
    answer = client.post(f"{sample_path(village)}/draw", {"percent": percent}, allow_redirects=False)
    assert (answer.status_code, answer.headers["Location"]) == (302, sample_path(village))


def recheck_form(members: list[Member], *, not_found: tuple[Member, ...] = (),
                 differs: dict[tuple[str, str], str] | None = None, **extra) -> dict:
    """A re-check's answers: every member found (but `not_found`), every field agreeing but `differs`
    ((uuid, field) → the value found)."""
    data = {"checked_on": clock.today().isoformat(), **extra}
    for member in members:
        data[f"found-{member.uuid}"] = "0" if member in not_found else "1"
    for (uuid, field), value in (differs or {}).items():
        data[f"agree-{uuid}-{field}"] = "0"
        data[f"value-{uuid}-{field}"] = value
    return data


def household_path(village: int, key: str) -> str:
    return f"{sample_path(village)}/households/{household_uuid(key)}"


# ---- drawing ----------------------------------------------------------------------------------------------------

def test_the_town_office_draws_a_reproducible_sample_of_five_percent(server, create_collector, town):
    """东村 with 3 + 27 households, one of which nobody lives in any more: 5% of the 29 inhabited is 1.45, drawn
    as 2 (rounded up); the stored seed draws the same households again."""
    phone = server.client(token=create_collector("青山镇/东村/第二组").token)
    extra = [f"{index:08d}-1111-4000-8000-000000000000" for index in range(27)]
    for index, uuid in enumerate(extra):
        assert phone.submit(household_visit(household=uuid, new=(f"3{index:02d}", "号"), start=START, members=[
            Member(f"住户{index}", "male", "1970-01-01")])).status_code == 201
    merge_all()
    cadre = signed_in(server, "dongcun_cadre")
    assert cadre.post(f"/people/{HEAD_C.uuid}/correct/residence", {"value": "moved_away"}).status_code == 200
    assert cadre.post(f"/people/{SPOUSE_C.uuid}/correct/residence", {"value": "working_away"}).status_code == 200
    officer = signed_in(server, "qingshan_officer")
    page = officer.get(sample_path(town["青山镇/东村"]))
    assert page.status_code == 200 and "本月还没有抽样。" in page.text
    assert 'name="percent" type="number" min="0.1" max="100" step="0.1" value="5"' in page.text

    answer = officer.post(f"{sample_path(town['青山镇/东村'])}/draw", {"percent": "5"})
    assert answer.status_code == 200 and "已抽样：2 户。" in answer.text
    (sample,) = db.session.scalars(select(RecheckSample)).all()
    seed, drawn = sample.seed, [row[1] for row in stored()["households"]]
    assert (sample.village_id, sample.month.strftime("%Y-%m"), sample.percent, sample.size) == (
        town["青山镇/东村"], this_month(), 5.0, 2)
    inhabited = [household_uuid("A"), household_uuid("B"), *extra]          # C: nobody lives there any more
    assert drawn == draw(inhabited, seed, 5) == draw(list(reversed(inhabited)), seed, 5)
    assert set(drawn) <= set(inhabited) and len(set(drawn)) == 2
    assert f'<dd id="seed">{seed}</dd>' in answer.text
    assert audited("recheck.draw") == 1

    # A second draw without the explicit re-draw: refused, nothing changed.
    before = stored()
    refused = officer.post(f"{sample_path(town['青山镇/东村'])}/draw", {"percent": "5"})
    assert refused.status_code == 409 and "这个村这个月已经抽过样" in refused.text
    assert stored() == before

    # The explicit re-draw: the confirmation shows the sample now; drawn again with a new seed, audited.
    confirm = officer.get(f"{sample_path(town['青山镇/东村'])}/redraw")
    assert confirm.status_code == 200 and f"随机种子 {seed}" in confirm.text
    assert len(re.findall(r"<li>", re.search(r'<ul id="old-sample">(.*?)</ul>', confirm.text, re.S).group(1))) == 2
    again = officer.post(f"{sample_path(town['青山镇/东村'])}/draw", {"percent": "10", "again": "1"})
    assert again.status_code == 200 and "已重新抽样：3 户。" in again.text
    (sample,) = db.session.scalars(select(RecheckSample)).all()
    assert (sample.percent, sample.size) == (10.0, 3) and sample.seed != seed
    assert [row[1] for row in stored()["households"]] == draw(inhabited, sample.seed, 10)
    db.session.rollback()
    assert audited("recheck.redraw") == 1


@pytest.mark.parametrize(("case", "status", "words"), [
    ("future month", 400, "这个月份还没有到"),
    ("percent 0", 400, "抽样比例须大于 0 且不超过 100"),
    ("percent 101", 400, "抽样比例须大于 0 且不超过 100"),
    ("another town's village", 403, ""),
    ("a village cadre", 403, ""),
    ("no such village", 404, ""),
])
def test_a_draw_refused_changes_nothing(server, town, case, status, words):
    village, month, percent, user = town["青山镇/东村"], this_month(), "5", "qingshan_officer"
    if case == "future month":
        month = next_month()
    elif case.startswith("percent"):
        percent = case.split()[1]
    elif case == "another town's village":
        village = town["白水镇/南村"]
    elif case == "a village cadre":
        user = "dongcun_cadre"
    elif case == "no such village":
        village = find_area("青山镇/东村/第一组").id           # a group, not a village
        db.session.rollback()
    answer = signed_in(server, user).post(f"/rechecks/{village}/{month}/draw", {"percent": percent})
    assert answer.status_code == status
    assert words in answer.text
    assert stored() == {"samples": [], "households": [], "rechecks": [], "findings": 0}
    assert audited("recheck.draw") == 0


# ---- re-checks and accuracy ----------------------------------------------------------------------------------------

def test_accuracy_on_a_hand_checked_example(server, town):
    """3 households, 8 people on the register. A: 李建国's relationship is found to be sibling, not spouse. B: 张桂兰's
    birth date is 1981-02-03, not 1980-02-03; 刘强 is not found; 刘奶奶 lives there and is not on the register. C:
    all as registered. Correct: 8 − 3 = 5 of 8 re-checked (62.5%); found: 7 on the register + 1 not."""
    village = town["青山镇/东村"]
    officer = signed_in(server, "qingshan_officer")
    draw_all(officer, village)
    for key, data in (
            ("A", recheck_form(HOUSEHOLDS["A"][1], differs={(SPOUSE_A.uuid, "relationship"): "sibling"})),
            ("B", recheck_form(HOUSEHOLDS["B"][1], not_found=(SPOUSE_B,),
                               differs={(HEAD_B.uuid, "birth_date"): "1981-02-03"},
                               **{"new-0-name": "刘奶奶", "new-0-sex": "female", "new-0-birth_date": "1945-01-01"})),
            ("C", recheck_form(HOUSEHOLDS["C"][1]))):
        answer = officer.post(household_path(village, key), data, allow_redirects=False)
        assert (answer.status_code, answer.headers["Location"]) == (302, sample_path(village)), answer.text[:500]

    # 8 people on the register: 5 correct (A 2, B 1, C 2); 8 found, 7 of them on the register.
    rows = [(row.person_uuid, row.field, row.register_value, row.observed_value, row.agrees) for row in
            db.session.scalars(select(RecheckFinding).where(RecheckFinding.agrees.is_(False))
                               .order_by(RecheckFinding.id))]
    db.session.rollback()
    assert rows == [(SPOUSE_A.uuid, "relationship", "spouse", "sibling", False),
                    (HEAD_B.uuid, "birth_date", "1980-02-03", "1981-02-03", False),
                    (SPOUSE_B.uuid, "present", "1", "0", False),
                    (None, "present", None, "1", False), (None, "sex", None, "female", False),
                    (None, "birth_date", None, "1945-01-01", False)]
    assert stored()["findings"] == 3 * 9 + (9 + 9 + 1 + 3) + 2 * 9
    today = clock.today()
    by_group = recheck_counts(find_area("青山镇").path, today.replace(day=1), today)
    db.session.rollback()
    assert sorted(by_group.values()) == sorted([RecheckCounts(rechecked=6, correct=3, found=6, found_on_register=5),
                                                RecheckCounts(rechecked=2, correct=2, found=2, found_on_register=2)])

    page = officer.get(sample_path(village))
    assert page.status_code == 200
    assert re.search(r'<dd id="accuracy">(.*?)</dd>', page.text).group(1) == "5/8（62.5%）"
    assert re.search(r'<dd id="rechecked">(.*?)</dd>', page.text).group(1) == "3 / 3"
    assert re.search(r'<dd id="missing">(.*?)</dd>', page.text).group(1) == "1"
    month = clock.today()
    assert f"<h1>复查 · 青山镇 › 东村 · {month.year}年{month.month}月</h1>" in page.text
    assert "<th>人员</th><th>户</th><th>项目</th><th>登记册上</th>" in page.text
    assert rows_of(page.text, "disagreements") == [
        ["李建国", "101号户（户主 王秀英）", "与户主关系", "配偶", "兄弟姐妹", "更正"],
        ["张桂兰", "102号户（户主 张桂兰）", "出生日期", "1980-02-03", "1981-02-03", "更正"],
        ["刘强", "102号户（户主 张桂兰）", "在本户找到", "在本户", "不在本户", "更正"],
        ["刘奶奶", "102号户（户主 张桂兰）", "不在登记册上", "—", "在本户 · 女 · 1945-01-01", "登记为新成员"]]
    links = [html.unescape(link) for link in re.findall(r'<td><a href="([^"]+)">',
                                                         page.text.split('id="disagreements"')[1])]
    back = sample_path(village)
    assert links == [f"/people/{SPOUSE_A.uuid}/correct/relationship?recheck={back}&value=sibling",
                     f"/people/{HEAD_B.uuid}/correct/birth_date?recheck={back}&value=1981-02-03",
                     f"/people/{SPOUSE_B.uuid}/correct/residence?recheck={back}",
                     f"/households/{household_uuid('B')}/members/new"]
    assert "sibling" not in visible(page.text) and "female" not in visible(page.text)
    assert audited("recheck.record") == 3 and audited("recheck.read") == 1

    overview = officer.get(f"/rechecks?month={this_month()}")
    assert rows_of(overview.text, "villages") == [["青山镇 › 东村", "3 户", "3 / 3", "5/8（62.5%）", "1"],
                                                  ["青山镇 › 西村", "尚未抽样", "—", "—", "0"]]
    assert "白水镇" not in visible(overview.text)

    # The link corrects the register (the correction's own page), offering the value found, and leads back.
    correcting = officer.get(links[0])
    assert correcting.status_code == 200
    assert '<option value="sibling" selected>兄弟姐妹</option>' in correcting.text
    assert f'<a href="{back}" id="back-to-recheck">返回复查的不符清单</a>' in correcting.text
    corrected = officer.post(links[0].split("?")[0], {"value": "sibling", "recheck": back}, allow_redirects=False)
    assert (corrected.status_code, corrected.headers["Location"]) == (
        302, f"/people/{SPOUSE_A.uuid}/correct?recheck=%2Frechecks%2F{village}%2F{this_month()}")
    after = officer.get(corrected.headers["Location"]).text
    assert "已更正：与户主关系 配偶 → 兄弟姐妹" in visible(after)
    assert f'<a href="{back}" id="back-to-recheck">返回复查的不符清单</a>' in after
    again = rows_of(officer.get(back).text, "disagreements")       # the list says it is corrected
    assert [row[-1] for row in again] == ["登记册已更正", "更正", "更正", "登记为新成员"]
    elsewhere = officer.get(f"/people/{SPOUSE_A.uuid}/correct?recheck=https://example.com/").text
    assert 'id="back-to-recheck"' not in elsewhere   # only a re-check page of this site

    # In English too.
    assert officer.get("/language/en").status_code == 200
    english = officer.get(sample_path(village)).text
    assert re.search(r'<dd id="accuracy">(.*?)</dd>', english).group(1) == "5 of 8 (62.5%)"
    assert rows_of(english, "disagreements")[0] == ["李建国", "Household 101 (head: 王秀英)", "Relationship",
                                                    "Spouse", "Sibling", "Corrected on the register"]
    assert "re-check is recorded (re-checked on " in officer.get(household_path(village, "A")).text


def test_a_redraw_is_refused_once_a_recheck_is_recorded(server, town):
    village = town["青山镇/东村"]
    officer = signed_in(server, "qingshan_officer")
    draw_all(officer, village)
    assert officer.post(household_path(village, "C"), recheck_form(HOUSEHOLDS["C"][1]),
                        allow_redirects=False).status_code == 302
    before = stored()
    refused = officer.post(f"{sample_path(village)}/draw", {"percent": "5", "again": "1"})
    assert refused.status_code == 409 and "这个样本已经录入了复查结果，不能再重新抽样" in refused.text
    assert stored() == before
    confirm = officer.get(f"{sample_path(village)}/redraw")
    assert 'id="started"' in confirm.text and 'id="redraw-button"' not in confirm.text
    assert 'id="redraw"' not in officer.get(sample_path(village)).text
    assert audited("recheck.redraw") == 0


def test_a_recheck_refused_writes_nothing(server, town):
    village = town["青山镇/东村"]
    officer = signed_in(server, "qingshan_officer")
    answer = officer.post(f"{sample_path(village)}/draw", {"percent": "5"}, allow_redirects=False)
    assert answer.status_code == 302
    drawn = {row[1] for row in stored()["households"]}
    key_inside = next(key for key in "ABC" if household_uuid(key) in drawn)
    key_outside = next(key for key in "ABC" if household_uuid(key) not in drawn)
    baishui = signed_in(server, "baishui_officer")
    assert baishui.post(f"{sample_path(town['白水镇/南村'])}/draw", {"percent": "100"},
                        allow_redirects=False).status_code == 302
    before = stored()

    # A household of the village not in the sample.
    refused = officer.post(household_path(village, key_outside), recheck_form(HOUSEHOLDS[key_outside][1]))
    assert refused.status_code == 404 and "这一户不在这个月的复查样本中" in refused.text
    # A household of another town, through our village's sample, and through its own village's.
    refused = officer.post(household_path(village, "D"), recheck_form([ELSEWHERE]))
    assert refused.status_code == 404
    refused = officer.post(household_path(town["白水镇/南村"], "D"), recheck_form([ELSEWHERE]))
    assert refused.status_code == 403
    assert officer.get(sample_path(town["白水镇/南村"])).status_code == 403
    # A village cadre does not re-check their own village.
    cadre = signed_in(server, "dongcun_cadre")
    assert cadre.post(household_path(village, key_inside), recheck_form(HOUSEHOLDS[key_inside][1])).status_code == 403
    assert cadre.get("/rechecks").status_code == 403
    # A value the forms would not take: the form again, with why.
    members = HOUSEHOLDS[key_inside][1]
    refused = officer.post(household_path(village, key_inside),
                           recheck_form(members, differs={(members[0].uuid, "id_number"): "110101197505060020"}))
    assert refused.status_code == 400
    assert re.search(r'<p class="error" id="problem">(.*?)</p>', refused.text).group(1).startswith(
        f"{members[0].name} · 身份证号码：")
    refused = officer.post(household_path(village, key_inside),
                           recheck_form(members, differs={(members[0].uuid, "phone"): ""}))
    assert refused.status_code == 400
    # A member left unanswered.
    incomplete = recheck_form(members)
    del incomplete[f"found-{members[0].uuid}"]
    assert officer.post(household_path(village, key_inside), incomplete).status_code == 400
    assert stored() == before
    assert audited("recheck.record") == 0

    # Recorded once; a second time refused.
    assert officer.post(household_path(village, key_inside), recheck_form(members),
                        allow_redirects=False).status_code == 302
    recorded = stored()
    again = officer.post(household_path(village, key_inside), recheck_form(members))
    assert again.status_code == 409 and "这一户本月的复查结果已经录入过" in again.text
    assert stored() == recorded
    assert 'id="recorded"' in officer.get(household_path(village, key_inside)).text


def test_the_form_says_how_to_answer_for_someone_the_register_has_living_away(server, town):
    """李明 works away (corrected on the web): not at home agrees with the register; the form says so, for him only."""
    village = town["青山镇/东村"]
    officer = signed_in(server, "qingshan_officer")
    moved = officer.post(f"/people/{CHILD_A.uuid}/correct/residence", {"value": "working_away"}, allow_redirects=False)
    assert moved.status_code == 302
    draw_all(officer, village)
    form = officer.get(household_path(village, "A")).text
    people = re.findall(r'<fieldset class="person"[^>]*>\s*<legend>(.*?)</legend>(.*?)</fieldset>', form, re.S)
    assert [(name, 'class="hint away"' in rest) for name, rest in people] == [
        ("王秀英", False), ("李建国", False), ("李明", True)]
    assert ("登记册上此人不在本地居住（外出务工或已搬走）：复查时如不在本户，请选“在本户没有找到”，这与登记册相符。"
            in visible(form))
