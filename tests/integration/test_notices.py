"""Service notices (协查通报) through HTTP: on one server serving two towns, 青山镇's office sends a notice about a
woman of its register to 白水镇, whose office opens it (received) and answers it, and the answer shows on the
sender's list; a third town reads and answers nothing, the sender does not answer its own, a person the town never
had and a town not of the county are refused with nothing stored; overdue with a fixed clock; export to JSON and
xlsx and import back (an answer from outside filled into the file). Then between servers: a notice sent on one town
server reaches the other through the county with `taizhang-transfer replicate`, and its answer comes back."""

# ruff: noqa: F811 - the fixtures imported from the tests that define them are the tests' arguments
from __future__ import annotations

import datetime as dt
import html
import io
import json
import re

import openpyxl
import pytest
import requests
from requests.auth import HTTPDigestAuth
from sqlalchemy import func, select

from server import clock
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.notices import operations as notice_operations
from server.notices.models import ServiceNotice, ServiceNoticeStep
from server.register.decisions import record_decision
from server.register.models import Person
from server.users.operations import add_user
from sync.decisions import DECISION_KINDS, move_target
from tests.conftest import REALM, ROOT, merge_all
from tests.integration.test_transfer_replicate import (  # noqa: F401 - the three live servers' fixtures
    LOGIN,
    county,
    register_households,
    replicator,
    settled,
    town_servers,
    towns,
)
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "notice-staff-password"
XLSFORMS = ROOT / "xlsforms"
START = "2026-11-01T09:00:00.000+08:00"
NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc)          # 2026-11-20 10:00 China time
MOTHER = Member("李秀兰", "female", "1995-03-08", id_number="11010519950308002X", phone="13800001234",
                uuid="6f1c2a4e-0000-4000-8000-000000000001")
ELSEWHERE = Member("孙伟", "male", "1979-09-09", uuid="6f1c2a4e-0000-4000-8000-000000000002")   # 白水镇's


def visible(text: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", text)).strip())


def list_rows(text: str) -> list[list[str]]:
    body = re.search(r'<table id="notices">.*?<tbody>(.*?)</tbody>', text, re.S).group(1)
    return [[visible(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def problem(text: str) -> str:
    """The refusal as "message (detail)": a technical English detail is folded away on a Chinese page."""
    shown = visible(re.search(r'<p class="error" id="problem">(.*?)</p>', text, re.S).group(1))
    folded = re.search(r'<details class="support" id="problem-detail">.*?<p>(.*?)</p>', text, re.S)
    if folded is None:
        return shown
    detail = visible(folded.group(1)).split(" · ", 1)[1]
    assert detail not in shown, shown   # not beside the Chinese message
    return f"{shown} ({detail})"


def counts() -> tuple[int, int]:
    found = (db.session.scalar(select(func.count()).select_from(ServiceNotice)),
             db.session.scalar(select(func.count()).select_from(ServiceNoticeStep)))
    db.session.rollback()
    return found


FULL = {"full": "1", "reason": "发给收文单位办理后导回"}   # an export with ID numbers and phones in full


def notice_form(person: str, to: str, **changes) -> dict:
    return {"person": person, "to": to, "outside_place": "", "address": "白水镇南村三组 12 号",
            "phone": "13800001234", "service": "postpartum_followup", "service_note": "产后 42 天随访",
            "reply_by": "2026-12-05", **changes}


@pytest.fixture
def clock_at(monkeypatch):
    moment = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    return moment


@pytest.fixture
def offices(server, create_collector, publish, clock_at):
    """青山镇 (MOTHER in 东村) and 白水镇 (ELSEWHERE in 南村) on one server; the offices of 青山镇, 白水镇 and 红石镇,
    东村's cadre and the county."""
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    for group, member, household in (("青山镇/东村/第一组", MOTHER, "6f1c2a4e-0000-4000-8000-0000000000a1"),
                                      ("白水镇/南村/第一组", ELSEWHERE, "6f1c2a4e-0000-4000-8000-0000000000a2")):
        phone = server.client(token=create_collector(group).token)
        assert phone.submit(household_visit(household=household, new=("001", "1号"), start=START,
                                            members=[member])).status_code == 201
    for username, role, area in (("qingshan_office", "town_officer", "青山镇"),
                                 ("baishui_office", "town_officer", "白水镇"),
                                 ("hongshi_office", "town_officer", "红石镇"),
                                 ("dongcun_cadre", "village_cadre", "青山镇/东村"),
                                 ("county_office", "county_admin", None)):
        if area is None:
            add_user(username, role, None, realm=REALM, password=PASSWORD)
            commit()
        else:
            create_collector(area, username=username, role=role, password=PASSWORD)
    merge_all()
    return {username: signed_in(server, username) for username in (
        "qingshan_office", "baishui_office", "hongshi_office", "dongcun_cadre", "county_office")}


def signed_in(server, username: str) -> WebClient:
    client = WebClient(server.url)
    assert client.sign_in(username, PASSWORD).status_code == 302
    return client


def sent_uuid(response: requests.Response) -> str:
    assert response.status_code == 302, response.text[:500]
    return re.fullmatch(r"/notices/([0-9a-f-]{36})", response.headers["Location"]).group(1)


def test_a_notice_sent_received_and_answered_on_one_server(server, offices, clock_at):
    qingshan, baishui, hongshi = offices["qingshan_office"], offices["baishui_office"], offices["hongshi_office"]
    # The sender picks the person from its register: by search, or from the person page.
    found = qingshan.get("/notices/new?q=李秀兰")
    assert f'href="/notices/new?person={MOTHER.uuid}"' in found.text
    assert f'href="/notices/new?person={MOTHER.uuid}" id="send-notice"' in qingshan.get(
        f"/people/{MOTHER.uuid}").text
    form = qingshan.get(f"/notices/new?person={MOTHER.uuid}")
    assert form.status_code == 200 and "11010519950308002X" in form.text
    assert re.findall(r'<option value="([^"]+)"', re.search(r'<select id="to".*?</select>', form.text, re.S).group(0)) \
        == ["白水镇", "红石镇", "outside"]

    # Refused, nothing stored: a person 青山镇 never had, a town not of the county, the sender's own town.
    never_had = qingshan.post("/notices/new", notice_form(ELSEWHERE.uuid, "白水镇"))
    assert never_had.status_code == 404 and "本镇台账中没有这个人" in never_had.text
    assert qingshan.get(f"/notices/new?person={ELSEWHERE.uuid}").status_code == 404
    unknown = qingshan.post("/notices/new", notice_form(MOTHER.uuid, "黑水镇"))
    assert unknown.status_code == 400 and problem(unknown.text) == (
        "收文的乡镇不是本县的乡镇。本县以外的地方请选“县外”并填写地名。 (黑水镇)")
    to_itself = qingshan.post("/notices/new", notice_form(MOTHER.uuid, "青山镇"))
    assert to_itself.status_code == 400
    assert problem(to_itself.text).endswith("(to: a town does not send a notice to itself)")
    assert counts() == (0, 0)

    uuid = sent_uuid(qingshan.post("/notices/new", notice_form(MOTHER.uuid, "白水镇"), allow_redirects=False))
    assert counts() == (1, 1)
    assert list_rows(qingshan.get("/notices").text) == [
        ["李秀兰", "青山镇", "白水镇", "产后随访 · 产后 42 天随访", "2026-12-05", "已发出"]]

    # A third town neither reads nor answers it; the sender does not answer its own; a village cadre has no list.
    assert hongshi.get(f"/notices/{uuid}").status_code == 403
    assert hongshi.post(f"/notices/{uuid}/answer", {"done": "x", "result": "served", "day": "2026-11-20"}
                        ).status_code == 403
    assert list_rows(hongshi.get("/notices").text) == [["没有协查通报。"]]
    own = qingshan.post(f"/notices/{uuid}/answer", {"done": "x", "result": "served", "day": "2026-11-20"})
    assert own.status_code == 403 and "只有收文乡镇的计生办能答复" in own.text
    assert offices["dongcun_cadre"].get("/notices").status_code == 403
    assert qingshan.get(f"/notices/{uuid}").status_code == 200      # the sender reading it receives nothing
    assert list_rows(qingshan.get("/notices").text)[0][-1] == "已发出"

    # The receiving town opens it: received; answers it: the answer shows on the sender's list and page.
    clock_at["now"] = NOW + dt.timedelta(hours=2)
    page = baishui.get(f"/notices/{uuid}")
    assert page.status_code == 200 and 'id="answer-form"' in page.text
    assert list_rows(qingshan.get("/notices").text)[0][-1] == "已签收"
    future = baishui.post(f"/notices/{uuid}/answer", {"done": "已入户", "result": "served", "day": "2026-12-30"})
    assert future.status_code == 400 and problem(future.text).endswith("(answer.day: not after today)")
    assert baishui.post(f"/notices/{uuid}/answer", {"done": "已入户随访，母婴平安", "result": "served",
                                                    "day": "2026-11-20"}, allow_redirects=False).status_code == 302
    assert baishui.post(f"/notices/{uuid}/answer", {"done": "again", "result": "served", "day": "2026-11-20"}
                        ).status_code == 409
    assert list_rows(qingshan.get("/notices").text)[0][-1] == "已反馈"
    answer = visible(re.search(r'<dl id="answer">(.*?)</dl>', qingshan.get(f"/notices/{uuid}").text, re.S).group(1))
    assert answer == "办理结果 已提供服务 办理情况 已入户随访，母婴平安 日期 2026-11-20 答复人 baishui_office · 2026-11-20 12:00"
    assert counts() == (1, 3)
    reads = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject == uuid).order_by(AuditEvent.id))
    assert list(reads) == ["notice.send", "notice.read", "notice.receive", "notice.read",
                           "notice.read", "notice.answer", "notice.read"]   # the refused answer showed the page again
    db.session.rollback()

    # Overdue: a second notice not answered after its reply-by day (computed for the day, never stored).
    late = sent_uuid(qingshan.post("/notices/new", notice_form(MOTHER.uuid, "白水镇", reply_by="2026-11-25",
                                                               service="supplies", service_note=""),
                                       allow_redirects=False))
    assert list_rows(qingshan.get("/notices?state=overdue").text) == [["没有协查通报。"]]
    clock_at["now"] = dt.datetime(2026, 11, 25, 15, 59, tzinfo=dt.timezone.utc)    # 11-25 23:59 China time
    qingshan, baishui = signed_in(server, "qingshan_office"), signed_in(server, "baishui_office")
    assert list_rows(qingshan.get("/notices?state=overdue").text) == [["没有协查通报。"]]
    clock_at["now"] = dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.timezone.utc)     # 11-26 00:00
    assert list_rows(qingshan.get("/notices?state=overdue").text) == [
        ["李秀兰", "青山镇", "白水镇", "药具（应本人要求）", "2026-11-25", "已发出 · 逾期未反馈"]]
    assert [row[-1] for row in list_rows(baishui.get("/notices").text)] == ["已发出 · 逾期未反馈", "已反馈"]
    county_office = signed_in(server, "county_office")
    assert f'id="notice-{late}"' in county_office.get("/notices").text
    assert f'id="notice-{uuid}"' in county_office.get("/notices?state=answered").text

    # She moves to 白水镇 and arrives there: 青山镇 still had her (she moved out of it), so it may still send about her.
    for kind, target, field in (("record_move", move_target("白水镇/南村", "", dt.date(2026, 11, 18)), None),
                                ("confirm_arrival", "6f1c2a4e-0000-4000-8000-0000000000a2", "2026-11-19")):
        record_decision(DECISION_KINDS[kind], MOTHER.uuid, target, by=None, now=clock_at["now"], area_path=None,
                        field=field)
        commit()
    assert db.session.scalar(select(Person.household_uuid).where(Person.uuid == MOTHER.uuid)) == \
        "6f1c2a4e-0000-4000-8000-0000000000a2"
    db.session.rollback()
    assert qingshan.get(f"/notices/new?person={MOTHER.uuid}").status_code == 200
    assert baishui.get(f"/notices/new?person={MOTHER.uuid}").status_code == 200
    assert signed_in(server, "hongshi_office").get(f"/notices/new?person={MOTHER.uuid}").status_code == 404


def flashed(text: str) -> str:
    return visible(re.search(r'<(?:p|div)[^>]*class="[^"]*flash[^"]*"[^>]*>(.*?)</(?:p|div)>', text, re.S).group(1))


def imported(client: WebClient, name: str, content: bytes) -> requests.Response:
    return client.post("/notices/import", {}, files={"file": (name, content)})


def test_export_and_import_json_and_xlsx(offices):
    qingshan, baishui = offices["qingshan_office"], offices["baishui_office"]
    nameless = qingshan.post("/notices/new", notice_form(MOTHER.uuid, "outside"))
    assert nameless.status_code == 400 and problem(nameless.text).endswith("(to: required)")
    by_json = sent_uuid(qingshan.post("/notices/new", notice_form(
        MOTHER.uuid, "outside", outside_place="云南省昆明市官渡区", address="官渡区关上街道 8 号"), allow_redirects=False))
    by_xlsx = sent_uuid(qingshan.post("/notices/new", notice_form(
        MOTHER.uuid, "outside", outside_place="广东省东莞市长安镇", service="supplies", service_note=""),
        allow_redirects=False))

    # JSON: the outside system answers in the file it was sent; imported by the sender, the answer shows.
    exported = qingshan.get(f"/notices/{by_json}/export.json")
    assert exported.headers["Content-Type"] == "application/json"
    data = exported.json()
    assert (data["format"], data["to"], data["person"]["name"], data["service"], data["sent"]) == (
        "taizhang-service-notice", {"outside": "云南省昆明市官渡区"}, "李秀兰",
        {"code": "postpartum_followup", "note": "产后 42 天随访"}, {"at": "2026-11-20T02:00:00Z", "by": "qingshan_office"})
    data["received"] = {"at": "2026-11-22T01:00:00Z", "by": "官渡区卫健局 赵强"}
    data["answer"] = {"done": "已电话联系并入户随访", "result": "served", "day": "2026-11-23", "by": "官渡区卫健局 赵强",
                      "at": "2026-11-23T06:00:00Z"}
    steps = counts()
    broken = {**data, "answer": {**data["answer"], "result": "finished"}}
    refused = imported(qingshan, "answer.json", json.dumps(broken, ensure_ascii=False).encode())
    assert refused.status_code == 400 and problem(refused.text).endswith("(answer.result: one of served, referred, "
                                                                         "declined, moved_on, not_found, other)")
    not_a_file = imported(qingshan, "notes.txt", "随便写的".encode())
    assert not_a_file.status_code == 400 and problem(not_a_file.text).startswith("这个文件不是协查通报的导出文件")
    assert counts() == steps
    answer_file = json.dumps(data, ensure_ascii=False).encode()
    assert "已导入：1 份通报中有 1 份有新内容。" in imported(qingshan, "answer.json", answer_file).text
    assert "已导入：1 份通报中有 0 份有新内容。" in imported(qingshan, "answer.json", answer_file).text   # once
    assert visible(re.search(r'<dl id="answer">(.*?)</dl>', qingshan.get(f"/notices/{by_json}").text, re.S).group(1)
                   ) == "办理结果 已提供服务 办理情况 已电话联系并入户随访 日期 2026-11-23 答复人 官渡区卫健局 赵强 · 2026-11-23 14:00"

    # xlsx: the list exported in words and China time; the answer filled into the sheet and imported back.
    # Sent out of the county to be filled in: with the ID numbers and phones in full, asked for with a reason.
    workbook_bytes = qingshan.post("/notices/export.xlsx?state=sent", FULL).content
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes)).active
    headers = [cell.value for cell in sheet[3]]
    (row,) = [row for row in sheet.iter_rows(min_row=4) if row[0].value == by_xlsx]
    shown = {header.split(" ")[0]: cell.value for header, cell in zip(headers, row)}
    assert {key: shown[key] for key in ("收文单位", "姓名", "性别", "需要的服务", "反馈期限", "发出时间", "状态")} == {
        "收文单位": "县外：广东省东莞市长安镇", "姓名": "李秀兰", "性别": "女", "需要的服务": "药具（应本人要求）",
        "反馈期限": "2026-12-05", "发出时间": "2026-11-20 10:00:00", "状态": "已发出"}
    for header, value in (("办理情况", "已送药具到家"), ("办理结果", "已提供服务"), ("办理日期", "2026-11-24"),
                          ("答复人", "长安镇计生办 陈红")):
        row[[name.split(" ")[0] for name in headers].index(header)].value = value
    filled = io.BytesIO()
    sheet.parent.save(filled)
    assert "已导入：1 份通报中有 1 份有新内容。" in imported(qingshan, "answer.xlsx", filled.getvalue()).text
    assert [row[-1] for row in list_rows(qingshan.get("/notices").text)] == ["已反馈", "已反馈"]
    # The whole list exported (in full, with a reason), in either format, imports back changing nothing.
    for kind in ("xlsx", "json"):
        content = qingshan.post(f"/notices/export.{kind}", FULL).content
        assert "已导入：2 份通报中有 0 份有新内容。" in imported(qingshan, f"all.{kind}", content).text

    # A notice from outside to 白水镇: its office imports it; 青山镇 may not.
    incoming = {**data, "uuid": "0b9c2a4e-2d3b-4c5d-8e9f-0a1b2c3d4e5f", "from": {"outside": "四川省成都市双流区"},
                "to": {"town": "白水镇"}, "received": None, "answer": None}
    incoming_file = json.dumps(incoming, ensure_ascii=False).encode()
    assert imported(qingshan, "in.json", incoming_file).status_code == 403
    assert "已导入：1 份通报中有 1 份有新内容。" in imported(baishui, "in.json", incoming_file).text
    assert list_rows(baishui.get("/notices").text) == [
        ["李秀兰", "县外：四川省成都市双流区", "白水镇", "产后随访 · 产后 42 天随访", "2026-12-05", "已发出"]]
    assert counts() == (3, 6)


def test_a_notice_sent_from_one_town_server_is_answered_by_another_through_the_county(county, towns, settled,
                                                                                       monkeypatch, tmp_path):
    """青山镇's server sends; `replicate` takes it to the county and, run for 白水镇, brings it to 白水镇's server;
    白水镇 answers; the next runs take the answer to the county and back to 青山镇. Running again changes nothing."""
    monkeypatch.setattr(notice_operations, "SETTLE", dt.timedelta(0))
    qingshan, baishui = towns
    qingshan.live.app.config["TAIZHANG_COUNTY_TOWNS"] = ["白水镇"]
    register_households(qingshan, "东村/第一组", 1, 1)
    qingshan.merge()
    with qingshan.live.app.app_context():
        mother = db.session.scalar(select(Person.uuid).where(Person.name == "青东配偶0"))
        db.session.rollback()
    office = {town.town: WebClient(town.live.url) for town in towns}
    for town in towns:
        assert office[town.town].sign_in(f"{LOGIN[town.town]}-office", "town-secret").status_code == 302
    # The town servers run on the real clock: the reply is asked for two weeks from today where the towns are.
    reply_by = clock.date_of(dt.datetime.now(dt.timezone.utc)) + dt.timedelta(days=14)
    uuid = sent_uuid(office["青山镇"].post("/notices/new", notice_form(mother, "白水镇", reply_by=reply_by.isoformat()),
                                           allow_redirects=False))
    states = {"青山镇": tmp_path / "qingshan.json", "白水镇": tmp_path / "baishui.json"}

    def run(town):
        return replicator(town, county, states[town.town]).run()

    sent = run(qingshan)
    assert (sent.notices_sent, sent.notices_pulled, sent.notices_refused) == ([uuid], [], [])
    county_copy = requests.get(f"{county.url}/api/v1/replication/notices",
                               auth=HTTPDigestAuth("baishui-sync", "county-secret"), timeout=30).json()
    assert [notice["uuid"] for notice in county_copy["notices"]] == [uuid]
    brought = run(baishui)
    assert (brought.notices_sent, brought.notices_pulled, brought.notices_refused) == ([], [uuid], [])

    # On the county, each town brings its own part only: 白水镇 no notice of 青山镇's, 青山镇 no answer to its own.
    forged = {**county_copy["notices"][0], "uuid": "0b9c2a4e-2d3b-4c5d-8e9f-0a1b2c3d4e5f"}
    refused = requests.post(f"{county.url}/api/v1/replication/notices", json=forged,
                            auth=HTTPDigestAuth("baishui-sync", "county-secret"), timeout=30)
    assert (refused.status_code, refused.json()["code"]) == (403, "403.70")
    own_answer = {**county_copy["notices"][0], "received": {"at": "2026-11-21T01:00:00Z", "by": "x"},
                  "answer": {"done": "x", "result": "served", "day": "2026-11-21", "by": "x",
                             "at": "2026-11-21T01:00:00Z"}}
    refused = requests.post(f"{county.url}/api/v1/replication/notices", json=own_answer,
                            auth=HTTPDigestAuth("qingshan-sync", "county-secret"), timeout=30)
    assert (refused.status_code, refused.json()["code"]) == (403, "403.70")

    assert list_rows(office["白水镇"].get("/notices").text) == [
        ["青东配偶0", "青山镇", "白水镇", "产后随访 · 产后 42 天随访", reply_by.isoformat(), "已发出"]]
    today = clock.today().isoformat()
    assert office["白水镇"].post(f"/notices/{uuid}/answer", {"done": "已入户随访", "result": "served", "day": today},
                                allow_redirects=False).status_code == 302
    answered = run(baishui)
    assert (answered.notices_sent, answered.notices_pulled, answered.notices_refused) == ([uuid], [], [])
    back = run(qingshan)
    assert (back.notices_sent, back.notices_pulled, back.notices_refused) == ([], [uuid], [])
    assert list_rows(office["青山镇"].get("/notices").text)[0][-1] == "已反馈"
    shown = visible(re.search(r'<dl id="answer">(.*?)</dl>', office["青山镇"].get(f"/notices/{uuid}").text,
                              re.S).group(1))
    assert shown.startswith(f"办理结果 已提供服务 办理情况 已入户随访 日期 {today} 答复人 baishui-office")
    for town in (qingshan, baishui, qingshan):
        again = run(town)
        assert (again.notices_sent, again.notices_pulled, again.notices_refused) == ([], [], [])
    with county.app.app_context():
        assert counts() == (1, 3)
