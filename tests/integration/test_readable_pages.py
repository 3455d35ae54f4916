"""The review pages read as people read: records, visits and people by name, codes by label, China time, ids only in
the support fold; the duplicate queue and the audit log paged with counts; merge, not the same and reviews say what
they did and can be undone from the message; a choice is never made for the reader (issue 18)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from server import clock
from server.areas.operations import ensure_area
from server.areas.queries import by_full_name
from server.audit import listing
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.register.models import Person, VisitReview
from server.services import browsing as service_pages
from server.users.operations import add_user
from tests.conftest import REALM, ROOT, merge_all
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "cadre-password"
XLSFORMS = ROOT / "xlsforms"
HOUSEHOLD_1, HOUSEHOLD_2, HOUSEHOLD_3 = (f"12121212-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
CODES = re.compile(r"\b(male|female|here|working_away|moved_away|head|spouse|living|died|completed|nobody_home|"
                   r"approved|has_issues|rejected|received|phone|residence|household_uuid|id_number|birth_date|"
                   r"person\.\w+|household\.read|inbox\.read|visit\.\w+|duplicates\.read|register\.\w+|"
                   r"merge_people|set_field|reject_visit)\b")


def visible(page: str) -> str:
    """The text a reader sees, without the support fold (where ids may be) and the page's style and scripts."""
    main = page[page.index("<main"):]
    for pattern in (r'<details class="support">.*?</details>', r"<style>.*?</style>", r"<script.*?</script>",
                    r"<[^>]+>"):
        main = re.sub(pattern, " ", main, flags=re.S)
    return html.unescape(main)


# In English, words such as "head" are words: codes there are the ones with an underscore or a dot.
ENGLISH_CODES = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z]+\.[a-z_]+\b")


def readable(page: str, codes: re.Pattern = CODES) -> str:
    text = visible(page)
    assert UUID.findall(text) == [] and codes.findall(text) == []
    return page


def send(phone, xml: bytes) -> None:
    assert phone.submit(xml).status_code == 201


@pytest.fixture
def village(server, publish):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    for area in ("青山镇/东村/第一组", "青山镇/东村/第二组", "青山镇/西村"):
        ensure_area(area)
    first = add_user("dongcun1", "collector", "青山镇/东村/第一组", realm=REALM, display_name="李四", with_token=True)
    second = add_user("dongcun2", "collector", "青山镇/东村/第二组", realm=REALM, display_name="王五", with_token=True)
    add_user("dongcun_cadre", "village_cadre", "青山镇/东村", realm=REALM, display_name="陈红", password=PASSWORD)
    add_user("xicun_cadre", "village_cadre", "青山镇/西村", realm=REALM, password=PASSWORD)
    add_user("qingshan_officer", "town_officer", "青山镇", realm=REALM, display_name="周镇", password=PASSWORD)
    commit()
    phones = [server.client(token=first.token), server.client(token=second.token)]
    wang = Member("王秀英", "female", "1975-05-06", phone="13800000001")
    li = Member("李强", "male", "1973-02-03", relationship="spouse")
    zhao = Member("赵大山", "male", "1960-01-01")
    twin_wang = Member("王秀瑛", "female", "1975-05-06", relationship="head")
    twin_zhao = Member("赵大善", "male", "1960-01-01", relationship="parent")
    send(phones[0], household_visit(household=HOUSEHOLD_1, new=("001", "东村一组1号"), members=[wang, li],
                                    start="2026-11-01T09:00:00.000+08:00"))
    send(phones[0], household_visit(household=HOUSEHOLD_3, new=("003", "东村一组3号"), members=[zhao],
                                    start="2026-11-01T10:00:00.000+08:00"))
    send(phones[1], household_visit(household=HOUSEHOLD_2, new=("009", "东村二组9号"), members=[twin_wang, twin_zhao],
                                    start="2026-11-02T09:00:00.000+08:00"))
    # Two visits that both saw version 1: her phone number and where he lives, each changed two ways.
    for day, number, change in (("05", "13900000002", "left_for_work"), ("06", "13700000003", "moved_out")):
        send(phones[0], household_visit(household=HOUSEHOLD_1, base_version=1, start=f"2026-11-{day}T09:00:00.000+08:00",
                                        updates=[dict(person_uuid=wang.uuid, base_version=1,
                                                      change="details_corrected", phone_now=number),
                                                 dict(person_uuid=li.uuid, base_version=1, change=change,
                                                      event_date=f"2026-11-{day}", place="广州")]))
    merge_all()
    cadre = WebClient(server.url)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    return {"server": server, "cadre": cadre, "phones": phones, "wang": wang, "li": li, "twin_wang": twin_wang,
            "zhao": zhao, "twin_zhao": twin_zhao}


def signed_in(village, username: str) -> WebClient:
    client = WebClient(village["server"].url)
    client.sign_in(username, PASSWORD)
    return client


def visit_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr id="visit-(\d+)">', page)]


def flash_of(page: str) -> str:
    return re.search(r'<ul class="flashes" id="flashes">(.*?)</ul>', page, re.S).group(1)


def person_value(uuid: str, column: str):
    person = db.session.get(Person, uuid)
    value = getattr(person, column) if person is not None else None
    db.session.rollback()
    return value


def test_the_person_page_names_the_household_labels_the_history_and_names_each_visit(village):
    cadre, wang, li = village["cadre"], village["wang"], village["li"]
    page = readable(cadre.get(f"/people/{li.uuid}").text)
    assert "<h1>李强</h1>" in page
    assert (f'<p id="where">青山镇 › 东村 › 第一组 · <a href="/households/{HOUSEHOLD_1}">001号户（户主 王秀英）</a></p>'
            in page)
    assert "<dt>性别</dt><dd>男</dd>" in page and "<dt>与户主关系</dt><dd>配偶</dd>" in page
    assert "<dt>居住</dt><dd>已搬走</dd>" in page and "<dt>状态</dt><dd>健在</dd>" in page
    history = page.split('<table id="history">')[1].split("</table>")[0]
    first_visit = re.search(r'<td>性别</td><td>男</td>\s*<td class="optional"><a href="/visits/(\d+)">'
                            r"入户访视 · 2026-11-01 · 李四</a></td><td>2026-11-01</td>", history)
    assert first_visit is not None
    assert re.search(r'<td>居住情况</td><td>外出务工</td>\s*<td class="optional"><a href="/visits/\d+">'
                     r"入户访视 · 2026-11-05 · 李四</a></td><td>2026-11-05</td>", history)
    assert (f'<td>所在户</td><td><a href="/households/{HOUSEHOLD_1}">001号户（户主 王秀英）</a></td>' in history)
    events = page.split('<ul id="events">')[1].split("</ul>")[0]
    assert "<li>新登记 · 2026-11-01</li>" in events and "<li>外出务工 · 2026-11-05 · 广州</li>" in events
    assert "<li>迁出 · 2026-11-06 · 广州</li>" in events
    fold = page.split('<details class="support">')[1]
    assert li.uuid in fold and HOUSEHOLD_1 in fold
    household = readable(cadre.get(f"/households/{HOUSEHOLD_1}").text)
    assert "<h1>001号户（户主 王秀英）</h1>" in household
    assert re.search(r'<td>所在小组</td><td>青山镇 › 东村 › 第一组</td>\s*<td class="optional"><a href="/visits/\d+">'
                     r"入户访视 · 2026-11-01 · 李四</a>", household)
    assert f'<a href="/people/{wang.uuid}">王秀英</a></td>\n  <td>户主</td><td>1975-05-06</td><td>在本地居住</td>' in household


def test_the_conflicts_page_labels_the_field_and_values_names_the_visits_and_makes_no_choice(village):
    cadre, li = village["cadre"], village["li"]
    page = readable(cadre.get("/conflicts").text)
    assert " checked" not in page
    sections = dict(re.findall(r'<section class="conflict" id="conflict-(\d+)">(.*?)</section>', page, re.S))
    (residence_id,) = [key for key, section in sections.items() if "居住情况" in section]
    residence = sections[residence_id]
    assert f'<h2><a href="/people/{li.uuid}">李强</a> · 居住情况</h2>' in residence
    assert re.search(r'<input type="radio" name="value" value="moved_away" required> <span class="value">已搬走</span></label>\s*'
                     r'<small>（登记册中现在的值 · 来自 <a href="/visits/\d+">入户访视 · 2026-11-06 · 李四</a>）</small>',
                     residence)
    assert re.search(r'<input type="radio" name="value" value="working_away" required> <span class="value">外出务工'
                     r'</span></label>\s*<small>（来自 <a href="/visits/\d+">入户访视 · 2026-11-05 · 李四</a>）</small>', residence)
    assert "uuid:" in page.split('<details class="support">')[1]
    # Nothing chosen: refused with a message, the conflict stays.
    answer = cadre.post(f"/conflicts/{residence_id}", {"value": "", "other": ""})
    assert answer.status_code == 200
    assert flash_of(answer.text) == '<li class="flash error">请从两个值中选一个，或填写更正后的值。</li>'
    assert f'id="conflict-{residence_id}"' in answer.text and person_value(li.uuid, "residence") == "moved_away"
    # Another village's cadre cannot settle it.
    assert signed_in(village, "xicun_cadre").post(f"/conflicts/{residence_id}",
                                                  {"value": "working_away"}).status_code == 403
    settled = cadre.post(f"/conflicts/{residence_id}", {"value": "working_away"})
    message = flash_of(settled.text)
    assert message.startswith('<li class="flash notice">冲突已处理。')
    assert person_value(li.uuid, "residence") == "working_away" and "居住情况" not in visible(settled.text)
    (undo,) = re.findall(r'action="(/decisions/\d+/undo)" class="undo-flash"', message)
    undone = cadre.post(undo, {"back": "/conflicts"})
    assert flash_of(undone.text) == '<li class="flash notice">已撤销。</li>'
    assert person_value(li.uuid, "residence") == "moved_away"
    assert f'<a href="/people/{li.uuid}">李强</a> · 居住情况</h2>' in undone.text   # open again


def test_the_duplicate_queue_pages_with_counts_and_labels_both_records(village, monkeypatch):
    cadre = village["cadre"]
    page = readable(cadre.get("/duplicates").text)
    assert '<p id="pairs-count">第 1–2 条，共 2 对</p>' in page and 'rel="next"' not in page
    assert "<dt>性别</dt><dd>女</dd>" in page and "<dt>与户主关系</dt><dd>父母</dd>" in page
    assert (f'<dd class="household"><a href="/households/{HOUSEHOLD_2}">009号户（户主 王秀瑛）</a></dd>' in page)
    monkeypatch.setattr(service_pages, "DUPLICATES_PAGE_SIZE", 1)
    first, second = cadre.get("/duplicates").text, cadre.get("/duplicates", params={"page": 2}).text
    assert '<p id="pairs-count">第 1–1 条，共 2 对</p>' in first and 'rel="next" href="/duplicates?page=2"' in first
    assert '<p id="pairs-count">第 2–2 条，共 2 对</p>' in second and 'rel="prev" href="/duplicates?page=1"' in second
    pairs = re.findall(r'id="pair-(\d+)"', first) + re.findall(r'id="pair-(\d+)"', second)
    assert sorted(pairs) == sorted(re.findall(r'id="pair-(\d+)"', page))
    assert cadre.get("/duplicates", params={"page": "0"}).status_code == 400
    assert cadre.get("/duplicates", params={"page": "x"}).status_code == 400


def pair_of(page: str, name: str) -> str:
    return next(key for key, section in re.findall(r'<section class="pair" id="pair-(\d+)">(.*?)</section>', page, re.S)
                if f"<dt>姓名</dt><dd>{name}</dd>" in section)


def test_a_merge_says_what_it_did_and_undo_from_the_message_brings_both_back(village):
    cadre, wang, twin = village["cadre"], village["wang"], village["twin_wang"]
    candidate = pair_of(cadre.get("/duplicates").text, "王秀瑛")
    merged = cadre.post(f"/duplicates/{candidate}", {"action": "merge", "keep": wang.uuid, "back": "/duplicates?page=1"})
    assert merged.url.endswith("/duplicates?page=1"), visible(merged.text)[:600]
    message = flash_of(readable(merged.text))
    assert message.startswith('<li class="flash notice">已合并：王秀瑛 并入 王秀英（保留的记录）。')
    (undo,) = re.findall(r'<form method="post" action="(/decisions/\d+/undo)" class="undo-flash">', message)
    assert '<input type="hidden" name="back" value="/duplicates?page=1">' in message
    assert person_value(twin.uuid, "name") is None
    person = readable(cadre.get(f"/people/{wang.uuid}").text)
    assert re.search(r"<li>已并入：王秀瑛 · \d{4}-\d{2}-\d{2}\s*<form", person), person[person.index('id="merges"'):][:300]
    # Another village's cadre cannot undo it.
    assert signed_in(village, "xicun_cadre").post(undo, {"back": "/duplicates"}).status_code == 403
    undone = cadre.post(undo, {"back": "/duplicates?page=1"})
    assert flash_of(undone.text) == '<li class="flash notice">已撤销。</li>'
    assert person_value(twin.uuid, "name") == "王秀瑛"
    assert f'id="pair-{candidate}"' in undone.text


def test_not_the_same_says_so_and_can_be_undone(village):
    cadre = village["cadre"]
    candidate = pair_of(cadre.get("/duplicates").text, "赵大善")
    answer = cadre.post(f"/duplicates/{candidate}", {"action": "distinct"})
    message = flash_of(readable(answer.text))
    assert message.startswith('<li class="flash notice">已标记为不是同一人：赵大善、赵大山。')
    (undo,) = re.findall(r'action="(/duplicates/\d+/reopen)" class="undo-flash"', message)
    assert f'id="pair-{candidate}"' not in answer.text
    assert signed_in(village, "xicun_cadre").post(undo, {}).status_code == 403
    assert f'id="pair-{candidate}"' not in cadre.get("/duplicates").text
    reopened = cadre.post(undo, {"back": "/duplicates"})
    assert flash_of(reopened.text) == '<li class="flash notice">已撤销。</li>'
    assert f'id="pair-{candidate}"' in reopened.text
    again = cadre.post(undo, {"back": "/duplicates"})     # undone already: said, nothing changes
    assert again.status_code == 200 and 'class="flash error"' in again.text


def test_a_visit_is_titled_by_name_its_review_is_chosen_by_the_reader_and_undone_from_the_message(village):
    cadre, wang = village["cadre"], village["wang"]
    latest = visit_ids(cadre.get("/inbox").text)[0]
    page = readable(cadre.get(f"/visits/{latest}").text)
    assert "<h1>入户访视 · 2026-11-06 · 李四</h1>" in page and '<span id="review-state">未审核</span>' in page
    review = page.split('<form method="post" action="/visits/%d/review"' % latest)[1].split("</form>")[0]
    assert "checked" not in review and review.count(" required>") == 3
    assert [label for label in re.findall(r'value="\w+" required> (\S+)</label>', review)] == ["已通过", "有问题", "已退回"]
    assert re.search(r'<td><a href="/people/[^"]+">李强</a></td><td>居住情况</td>\s*<td>外出务工</td><td>已搬走</td>',
                     page), page[page.index('<table id="changes">'):][:1200]
    # No choice: refused with a message, nothing reviewed.
    answer = cadre.post(f"/visits/{latest}/review", {"comment": "?"})
    assert flash_of(answer.text) == '<li class="flash error">请选择：批准、有问题或退回。</li>'
    assert '<span id="review-state">未审核</span>' in answer.text
    # Rejected: out of the register, and the message offers to put it back.
    rejected = cadre.post(f"/visits/{latest}/review", {"state": "rejected", "comment": "重复"})
    message = flash_of(rejected.text)
    assert message.startswith('<li class="flash notice">已退回，已从台账撤出。撤销可放回台账。')
    assert '<input type="hidden" name="state" value="">' in message
    assert person_value(wang.uuid, "phone") == "13900000002"
    assert '<span id="review-state">已退回</span>' in rejected.text
    undo = f"/visits/{latest}/review/undo"
    assert signed_in(village, "xicun_cadre").post(undo, {"state": ""}).status_code == 403
    undone = cadre.post(undo, {"state": "", "comment": ""})
    assert flash_of(undone.text) == '<li class="flash notice">已撤销。</li>'
    assert '<span id="review-state">未审核</span>' in undone.text and person_value(wang.uuid, "phone") == "13700000003"
    assert db.session.get(VisitReview, latest) is None
    db.session.rollback()
    approved = cadre.post(f"/visits/{latest}/review", {"state": "approved"})
    assert flash_of(approved.text).startswith('<li class="flash notice">已批准。')
    flagged = cadre.post(f"/visits/{latest}/review", {"state": "has_issues", "comment": "号码请核实"})
    message = flash_of(flagged.text)
    assert message.startswith('<li class="flash notice">已标记为有问题。')
    assert '<input type="hidden" name="state" value="approved">' in message
    back = cadre.post(undo, {"state": "approved", "comment": ""})
    assert '<span id="review-state">已通过</span>' in back.text


def test_a_nobody_home_visit_shows_as_an_attempt(village):
    send(village["phones"][0], household_visit(household=HOUSEHOLD_3, base_version=1, outcome="nobody_home",
                                               start="2026-11-20T09:00:00.000+08:00"))
    merge_all()
    cadre = village["cadre"]
    latest = visit_ids(cadre.get("/inbox").text)[0]
    page = readable(cadre.get(f"/visits/{latest}").text)
    assert "<h1>入户访视 · 2026-11-20 · 李四</h1>" in page
    assert '<dd id="visit-outcome">未遇（无人在家）</dd>' in page


def test_the_audit_log_names_who_what_and_whom_in_china_time_newest_first_paged(village, monkeypatch):
    cadre, wang = village["cadre"], village["wang"]
    cadre.get(f"/people/{wang.uuid}")
    cadre.get(f"/households/{HOUSEHOLD_1}")
    latest = visit_ids(cadre.get("/inbox").text)[0]
    cadre.get(f"/visits/{latest}")
    officer = signed_in(village, "qingshan_officer")
    page = readable(officer.get("/audit").text)
    events = [clock.wall_time(at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)).strftime("%Y-%m-%d %H:%M")
              for at in db.session.scalars(select(AuditEvent.at).order_by(AuditEvent.id.desc()))]
    db.session.rollback()
    assert f'<p id="audit-count">第 1–{len(events)} 条，共 {len(events)} 条</p>' in page
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"who\">(.*?)</td><td class=\"what\">(.*?)</td>\s*"
                      r'<td class="subject">(.*?)</td><td class="area">(.*?)</td>', page)
    assert len(rows) == len(events)
    assert [row[0] for row in rows] == events
    assert rows[0] == (rows[0][0], "陈红", "查看访视", f'<a href="/visits/{latest}">入户访视 · 2026-11-06 · 李四</a>',
                       "青山镇 › 东村 › 第一组")
    assert rows[2][1:] == ("陈红", "查看户", f'<a href="/households/{HOUSEHOLD_1}">001号户（户主 王秀英）</a>',
                           "青山镇 › 东村 › 第一组")
    assert rows[3][1:] == ("陈红", "查看人员", f'<a href="/people/{wang.uuid}">王秀英</a>', "青山镇 › 东村 › 第一组")
    assert ("陈红", "查看已同步的访视", "", "青山镇 › 东村") == rows[1][1:]
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    first, second = officer.get("/audit").text, officer.get("/audit", params={"page": 2}).text
    assert f'<p id="audit-count">第 1–2 条，共 {len(events)} 条</p>' in first and 'rel="next" href="/audit?page=2"' in first
    assert f'<p id="audit-count">第 3–4 条，共 {len(events)} 条</p>' in second
    assert officer.get("/audit", params={"page": "-1"}).status_code == 400
    assert cadre.get("/audit").status_code == 403


def test_the_pages_in_english_use_the_english_labels(village):
    english = WebClient(village["server"].url)
    english.session.headers["Accept-Language"] = "en"
    english.sign_in("dongcun_cadre", PASSWORD)
    page = readable(english.get(f"/people/{village['li'].uuid}").text, ENGLISH_CODES)
    assert "<dt>Sex</dt><dd>Male</dd>" in page and "<dt>Relationship</dt><dd>Spouse</dd>" in page
    assert f'<a href="/households/{HOUSEHOLD_1}">Household 001 (head: 王秀英)</a>' in page
    assert re.search(r"<td>Where they live</td><td>Working away</td>\s*<td class=\"optional\"><a href=\"/visits/\d+\">"
                     r"Household visit · 2026-11-05 · 李四</a>", page)
    assert "<li>Registered · 2026-11-01</li>" in page
    conflicts = readable(english.get("/conflicts").text, ENGLISH_CODES)
    assert f'<a href="/people/{village["li"].uuid}">李强</a> · Where they live</h2>' in conflicts


def menu(page: str, name: str) -> list[tuple[str, str]]:
    """A filter menu's options: (value, words), the first ("all") left out."""
    found = re.search(rf'<select name="{name}">(.*?)</select>', page, re.S)
    return [] if found is None else re.findall(r'<option value="([^"]+)" ?[^>]*>([^<]+)</option>', found.group(1))


def test_the_inbox_menus_offer_villages_then_a_villages_groups_and_collectors(village):
    add_user("county", "county_admin", None, realm=REALM, password=PASSWORD)
    commit()
    dongcun, xicun = (by_full_name(name).id for name in ("青山镇/东村", "青山镇/西村"))
    first, second = (by_full_name(name).id for name in ("青山镇/东村/第一组", "青山镇/东村/第二组"))
    db.session.rollback()
    county = signed_in(village, "county")
    whole = county.get("/inbox").text
    assert menu(whole, "village_id") == [(str(dongcun), "青山镇 › 东村"), (str(xicun), "青山镇 › 西村")]
    assert menu(whole, "group_id") == [] and menu(whole, "collector") == []   # the county picks a village first
    assert len(visit_ids(whole)) == len(visit_ids(signed_in(village, "qingshan_officer").get("/inbox").text)) > 0
    chosen = county.get("/inbox", params={"village_id": dongcun}).text
    assert re.findall(r'<option value="(\d+)" selected>', chosen) == [str(dongcun)]
    assert menu(chosen, "group_id") == [(str(first), "青山镇 › 东村 › 第一组"), (str(second), "青山镇 › 东村 › 第二组")]
    assert menu(chosen, "collector") == [("dongcun1", "李四"), ("dongcun2", "王五")]
    assert 'type="hidden" name="village_id"' not in chosen
    assert visit_ids(chosen) == visit_ids(village["cadre"].get("/inbox").text)      # the village's visits, all of them
    assert '<p id="inbox-count">第 1–' in chosen and "超过" not in chosen
    by_group = county.get("/inbox", params={"group_id": second}).text      # a group: its village's menus
    assert menu(by_group, "group_id") == menu(chosen, "group_id") and menu(by_group, "village_id") == menu(whole, "village_id")
    officer = signed_in(village, "qingshan_officer").get("/inbox").text
    assert menu(officer, "village_id") == menu(whole, "village_id")
    assert menu(officer, "group_id") == menu(chosen, "group_id") and menu(officer, "collector") == [("dongcun1", "李四"), ("dongcun2", "王五")]
    cadre = village["cadre"].get("/inbox", params={"village_id": dongcun}).text
    assert menu(cadre, "village_id") == [] and f'<input type="hidden" name="village_id" value="{dongcun}">' in cadre
