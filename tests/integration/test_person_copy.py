"""A person's own copy (本人信息副本, issue 21) through HTTP on SQLite and PostgreSQL: 东村's cadre records 王秀英's
request, downloads her copy as PDF and as xlsx (read back with pypdf and openpyxl) and records the hand-over. The copy
holds exactly her records (register entries with her ID number and phone in full, her visits, services, supplies,
referral and its result, support request and its outcome, the notice about her, who read her record) and nothing
of her son's beyond his name and relationship, nor anyone else's; every refusal (another village's or town's cadre,
a person or request not found, a bad request, a hand-over before the copy or twice) records nothing."""

# ruff: noqa: F811 - the fixtures imported from the tests that define them are the tests' arguments
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from urllib.parse import unquote

import openpyxl
from pypdf import PdfReader
from sqlalchemy import select

from server import clock
from server.audit.models import AuditEvent
from server.copies.models import PersonCopy
from server.extensions import db
from server.register.models import ServiceItemRecord
from tests.conftest import merge_all
from tests.integration.test_write_scope import (  # noqa: F401 - the fixture world
    PASSWORD,
    place_uuid,
    send,
    signed_in,
    world,
)
from tests.register_visits import followup_visit, household_visit

NOW = dt.datetime(2026, 11, 22, 4, 0, tzinfo=dt.timezone.utc)     # 2026-11-22 12:00 in China
HEAD, CHILD, HOUSEHOLD = place_uuid("own", "head"), place_uuid("own", "child"), place_uuid("own", "household")
HEAD_ID, HEAD_PHONE = "110101197505060025", "13812345678"
CHILD_ID, CHILD_PHONE = "110101200001020032", "13900001111"

# What only 王秀英's records say, and what only her son's (or another village's people) say.
HERS = ["个人信息副本", "王秀英", HEAD_ID, HEAD_PHONE, "青山镇卫生院", "血压偏高", "叶酸", "已去就诊", "申请奖励扶助",
        "已批准", "某县", "需要药具随访", "dongcun_cadre", "qingshan_officer", "村专干", "镇计生办人员", "查看人员",
        "王刚", "子女", "collector_own"]
NOT_HERS = [CHILD_ID, CHILD_PHONE, "白水县医院", "孩子的转介", "避孕套", "东村的随访备注", "李village", "李town",
            "李group"]


def rows(model, **where) -> list:
    found = list(db.session.scalars(select(model).filter_by(**where).order_by(model.id)))
    values = [{column.name: getattr(row, column.name) for column in model.__table__.columns} for row in found]
    db.session.rollback()
    return values


def copy_actions() -> list[tuple[str, str]]:
    """The copy steps audited (a page shown again with why is a read, audited as such: not a step)."""
    return [(row["action"], row["subject"]) for row in rows(AuditEvent)
            if row["action"].startswith("copy.") and row["action"] != "copy.read"]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def xlsx_cells(content: bytes) -> dict[str, list[list[str]]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


def refused(client, path: str, data: dict | None, status: int, code: str) -> None:
    """A request refused with this status and error code (page in Chinese), nothing recorded."""
    before, actions = rows(PersonCopy), copy_actions()
    response = (client.post(path, data or {}, allow_redirects=False, headers={"Accept": "text/html"}) if data is not None
                else client.get(path, headers={"Accept": "text/html"}))
    assert response.status_code == status, response.text[:500]
    assert code in response.text
    assert rows(PersonCopy) == before
    assert copy_actions() == actions


def item_key(person: str, kind: str) -> str:
    found = db.session.scalar(select(ServiceItemRecord.item_key).where(ServiceItemRecord.person_uuid == person,
                                                                       ServiceItemRecord.kind == kind))
    db.session.rollback()
    return found


def test_a_persons_own_copy_holds_exactly_her_records(server, world, monkeypatch):
    at = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: at["now"])
    # 王秀英: a follow-up with a service, supplies and a referral; a household visit correcting her ID number and
    # phone and noting her support request. Her son 王刚: his own ID number and phone, a referral and supplies.
    send(world["own"], followup_visit(person=HEAD, household=HOUSEHOLD, followup_type="tier_key",
                                      start="2026-11-05T09:00:00.000+08:00", notes="东村的随访备注",
                                      referral=("health_centre", "青山镇卫生院", "血压偏高"),
                                      supplies=[("folic_acid", "2")]))
    send(world["own"], household_visit(
        household=HOUSEHOLD, base_version=1, start="2026-11-14T09:00:00.000+08:00",
        updates=[dict(person_uuid=HEAD, base_version=1, change="details_corrected", id_number_corrected=HEAD_ID,
                      phone_now=HEAD_PHONE),
                 dict(person_uuid=CHILD, base_version=1, change="details_corrected", id_number_corrected=CHILD_ID,
                      phone_now=CHILD_PHONE)],
        support={"needs": ("family_benefit",), "details": "申请奖励扶助", "benefit_kind": "reward", "person": HEAD}))
    send(world["own"], followup_visit(person=CHILD, household=HOUSEHOLD, followup_type="tier_key",
                                      start="2026-11-16T09:00:00.000+08:00", base_version=2,
                                      referral=("health_centre", "白水县医院", "孩子的转介"),
                                      supplies=[("condoms", "5")]))
    merge_all(NOW)
    dongcun, qingshan = signed_in(server, "dongcun_cadre"), signed_in(server, "qingshan_officer")
    xicun, baishui = signed_in(server, "xicun_cadre"), signed_in(server, "baishui_officer")
    # Her referral's result and her support request's outcome; a service notice about her; two staff read her.
    assert dongcun.post("/services/referral-result", {"key": item_key(HEAD, "referral"), "result": "attended",
                                             "back": f"/people/{HEAD}"}, allow_redirects=False).status_code == 302
    assert qingshan.post("/services/support-outcome", {"key": item_key(HEAD, "support_request"), "outcome": "granted",
                                             "back": f"/people/{HEAD}"}, allow_redirects=False).status_code == 302
    assert qingshan.post("/notices/new", {"person": HEAD, "to": "outside", "outside_place": "某县",
                                          "address": "某县某村 1 号", "phone": "", "service": "supplies",
                                          "service_note": "需要药具随访", "reply_by": "2026-12-31"},
                         allow_redirects=False).status_code == 302
    assert qingshan.get(f"/people/{HEAD}").status_code == 200
    person_page = dongcun.get(f"/people/{HEAD}")
    assert f'href="/people/{HEAD}/copies" id="own-copy"' in person_page.text

    # The copy page: no request yet. Another village's cadre, another town's office: refused, nothing recorded.
    page = dongcun.get(f"/people/{HEAD}/copies")
    assert page.status_code == 200 and 'id="no-copies"' in page.text and "本人信息副本 · 王秀英" in page.text
    request = {"requester": "self", "requested_by": "王秀英", "day": "2026-11-20", "format": "pdf"}
    for client in (xicun, baishui):
        refused(client, f"/people/{HEAD}/copies", None, 403, "403.95")
        refused(client, f"/people/{HEAD}/copies", request, 403, "403.95")
        assert "这个人不在您负责的区域" in client.get(f"/people/{HEAD}/copies").text
    refused(dongcun, "/people/no-such-person/copies", request, 404, "404.3")
    refused(dongcun, f"/people/{HEAD}/copies", {**request, "requested_by": "  "}, 400, "400.95")
    refused(dongcun, f"/people/{HEAD}/copies", {**request, "format": "doc"}, 400, "400.95")
    refused(dongcun, f"/people/{HEAD}/copies", {**request, "requester": "neighbour"}, 400, "400.95")
    refused(dongcun, f"/people/{HEAD}/copies", {**request, "day": "2026-11-23"}, 400, "400.96")
    refused(dongcun, f"/people/{HEAD}/copies", {**request, "day": "20/11/2026"}, 400, "400.96")
    assert "请填写申请人姓名" in dongcun.post(f"/people/{HEAD}/copies", {**request, "requested_by": ""}).text

    # The request recorded, audited.
    at["now"] = NOW + dt.timedelta(hours=1)
    recorded = dongcun.post(f"/people/{HEAD}/copies", request, allow_redirects=False)
    assert recorded.status_code == 302 and recorded.headers["Location"].endswith(f"/people/{HEAD}/copies")
    [copy] = rows(PersonCopy)
    assert (copy["person_uuid"], copy["requested_on"], copy["requested_by"], copy["requester"], copy["format"],
            copy["produced_at"], copy["handed_at"]) == (HEAD, dt.date(2026, 11, 20), "王秀英", "self", "pdf", None, None)
    assert copy_actions()[-1] == ("copy.request", HEAD)
    base = f"/people/{HEAD}/copies/{copy['id']}"
    # A hand-over before the copy is produced; another area's produce and hand-over; another person's request id.
    refused(dongcun, f"{base}/handover", {"handed_to": "王秀英"}, 409, "409.95")
    for client in (xicun, baishui):
        refused(client, f"{base}/produce", {}, 403, "403.95")
        refused(client, f"{base}/handover", {}, 403, "403.95")
    refused(dongcun, f"/people/{CHILD}/copies/{copy['id']}/produce", {}, 404, "404.95")

    # The PDF: produced now, its SHA-256 and size recorded, named for her.
    at["now"] = NOW + dt.timedelta(hours=2)
    produced = dongcun.post(f"{base}/produce", {})
    assert produced.status_code == 200
    assert produced.headers["Content-Type"] == "application/pdf"
    assert unquote(produced.headers["Content-Disposition"].split("filename*=UTF-8''")[1]) == \
        "王秀英_2026-11-22_个人信息副本.pdf"
    [copy] = rows(PersonCopy)
    assert copy["sha256"] == hashlib.sha256(produced.content).hexdigest()
    assert copy["size"] == len(produced.content)
    assert copy["produced_at"].replace(tzinfo=dt.timezone.utc) == NOW + dt.timedelta(hours=2)
    assert copy_actions()[-1] == ("copy.produce", HEAD)
    text = flat(pdf_text(produced.content))
    assert "生成时间：2026-11-2214:00（北京时间）；生成人：dongcun_cadre" in text
    assert "申请人王秀英（本人）" in text
    for word in HERS:
        assert flat(word) in text, word
    for word in NOT_HERS:
        assert flat(word) not in text, word
    assert re.search(r"第1页/共\d+页", text)

    # The hand-over, once; then neither handed over nor produced again.
    at["now"] = NOW + dt.timedelta(hours=3)
    refused(dongcun, f"{base}/handover", {"handed_to": "王" * 101}, 400, "400.95")
    handed = dongcun.post(f"{base}/handover", {"handed_to": "王秀英"}, allow_redirects=False)
    assert handed.status_code == 302
    [copy] = rows(PersonCopy)
    assert copy["handed_to"] == "王秀英" and copy["handed_at"].replace(tzinfo=dt.timezone.utc) == \
        NOW + dt.timedelta(hours=3)
    assert copy["handed_by"] is not None and copy["handed_by"] == copy["produced_by"] == copy["recorded_by"]
    assert copy_actions()[-1] == ("copy.hand_over", HEAD)
    refused(dongcun, f"{base}/handover", {"handed_to": "王秀英"}, 409, "409.96")
    refused(dongcun, f"{base}/produce", {}, 409, "409.96")

    # A second request, by her son as her representative, as xlsx, made by the town office.
    at["now"] = NOW + dt.timedelta(hours=4)
    assert qingshan.post(f"/people/{HEAD}/copies", {"requester": "representative", "requested_by": "王刚",
                                                    "day": "2026-11-22", "format": "xlsx"},
                         allow_redirects=False).status_code == 302
    second = rows(PersonCopy)[1]
    workbook = qingshan.post(f"/people/{HEAD}/copies/{second['id']}/produce", {})
    assert workbook.status_code == 200
    assert workbook.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert rows(PersonCopy)[1]["sha256"] == hashlib.sha256(workbook.content).hexdigest()
    sheets = xlsx_cells(workbook.content)
    assert list(sheets) == ["基本信息", "户内成员", "登记信息及其变更记录", "人口事件", "访视记录",
                            "服务记录（服务、药具、转介、扶助需求）", "协查通报", "撤回同意记录", "查阅和操作记录"]
    basics = {row[0]: row[1] for row in sheets["基本信息"][3:]}
    assert (basics["姓名"], basics["身份证号"], basics["联系电话"], basics["申请人"]) == (
        "王秀英", HEAD_ID, HEAD_PHONE, "王刚（代理人）")
    assert sheets["户内成员"][3:] == [["王秀英", "户主", "本人"], ["王刚", "子女", ""]]
    assert sheets["访视记录"][3:] == [["2026-11-01", "入户访视", "collector_own", "已完成访视"],
                                  ["2026-11-05", "随访", "collector_own", "已完成随访"],
                                  ["2026-11-14", "入户访视", "collector_own", "已完成访视"]]
    services = sheets["服务记录（服务、药具、转介、扶助需求）"][3:]
    assert [(row[0], row[1], row[2]) for row in services] == [
        ("2026-11-05", "提供的服务", "健康指导"), ("2026-11-05", "转介", "卫生院（服务站）就诊"),
        ("2026-11-05", "药具发放（应本人要求）", "叶酸"), ("2026-11-14", "扶助与关爱需求", "计生家庭奖励扶助")]
    assert services[1][4].startswith("已去就诊（已参加）") and "结果：已批准" in services[3][4]
    [notice] = sheets["协查通报"][3:]
    assert notice[1:6] == ["青山镇", "县外：某县", "药具（应本人要求）", "需要药具随访", "2026-12-31"]
    read = sheets["查阅和操作记录"][3:]
    assert ["2026-11-22 12:00", "qingshan_officer", "镇计生办人员", "查看人员"] in read
    assert ["2026-11-22 14:00", "dongcun_cadre", "村专干", "生成本人信息副本"] in read
    assert ["2026-11-22 15:00", "dongcun_cadre", "村专干", "登记本人信息副本交付"] in read
    everything = flat(" ".join(value for sheet in sheets.values() for row in sheet for value in row))
    for word in HERS:
        assert flat(word) in everything, word
    for word in NOT_HERS:
        assert flat(word) not in everything, word

    # The page lists both requests, newest first, with what became of them.
    page = qingshan.get(f"/people/{HEAD}/copies").text
    assert re.findall(r'<tr id="copy-(\d+)">', page) == [str(second["id"]), str(copy["id"])]
    assert copy["sha256"] in page and "2026-11-22 15:00 · dongcun_cadre → 王秀英" in page
    assert [action for action, subject in copy_actions() if subject == HEAD].count("copy.produce") == 2
