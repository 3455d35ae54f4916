"""A person's own copy (issue 21): a request recorded (who asked, the day, PDF or xlsx), the copy produced in Chinese
from what the person's pages read (reports/person_copy.py) with its SHA-256 recorded (the file itself is not kept),
and its hand-over recorded. The person is checked against the reader's area before anything else; every step is
audited."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from reports.person_copy import CopyTable, PersonCopy, build_copy_pdf, build_copy_workbook
from server import clock
from server.audit import queries as audit
from server.copies import queries
from server.copies.queries import CopyRow
from server.forms.queries import form_labels
from server.principal import Principal
from server.privacy.consent import withdrawals_of
from server.register import queries as register_queries
from server.services import browsing as service_pages
from server.services import queries as service_queries
from sync.access import STAFF_ROLES, area_contains
from sync.code_labels import audit_action_label, code_label
from sync.errors import CopyOutsideArea, CopyRequestNotFound, RecordNotFound
from sync.notices import state as notice_state
from sync.privacy import check_copy_production, check_copy_request, check_handover

__all__ = ["CopiesPage", "copies_page", "record_request", "Produced", "produce_copy", "hand_over", "copy_content"]

_LANGUAGE = "zh"   # the copy is in Chinese, whatever the page's language


def _placed(principal: Principal, person_uuid: str):
    """The person (with household and group) when they live in the reader's area: another area's person is refused
    before anything is read or written (a village they moved out of makes no copy: it holds only part of them)."""
    placed = register_queries.person_page_rows(person_uuid)
    if placed is None:
        raise RecordNotFound(person_uuid)
    if principal.role not in STAFF_ROLES or not area_contains(principal.area_path, placed.group.path):
        raise CopyOutsideArea(person_uuid)
    return placed


@dataclass(frozen=True)
class CopiesPage:
    """The copy page of a person: who they are, where they live, their copy requests (newest first)."""

    person_uuid: str
    name: str
    area: str
    copies: list[CopyRow]


def copies_page(principal: Principal, person_uuid: str) -> CopiesPage:
    """The person's copy requests, read by staff of their area (audited)."""
    placed = _placed(principal, person_uuid)
    copies = queries.copies_of(person_uuid)
    audit.record(principal.id, "copy.read", area_path=placed.group.path, subject=person_uuid, records=1)
    return CopiesPage(person_uuid, placed.person.name or "", placed.group.full_name, copies)


def record_request(principal: Principal, person_uuid: str, *, requested_by: str, requester: str, copy_format: str,
                   day: str, now: dt.datetime | None = None):
    """Record that the person (or a representative, named) asked on `day` for their own copy as PDF or xlsx."""
    placed = _placed(principal, person_uuid)
    now = now or clock.now()
    requested_on = check_copy_request(requested_by, requester, copy_format, day, clock.date_of(now))
    row = queries.add_copy(person_uuid=person_uuid, area_path=placed.group.path, requested_on=requested_on,
                           requested_by=requested_by.strip(), requester=requester, format=copy_format,
                           recorded_at=now, recorded_by=principal.id)
    audit.record(principal.id, "copy.request", area_path=placed.group.path, subject=person_uuid, records=1)
    return row


def _request(principal: Principal, person_uuid: str, copy_id: int):
    placed = _placed(principal, person_uuid)
    row = queries.copy_of(person_uuid, copy_id)
    if row is None:
        raise CopyRequestNotFound(str(copy_id))
    return placed, row


@dataclass(frozen=True)
class Produced:
    """A copy produced: its bytes, form (pdf, xlsx) and file name (姓名_日期_个人信息副本.pdf)."""

    content: bytes
    copy_format: str
    file_name: str
    sha256: str


def produce_copy(principal: Principal, person_uuid: str, copy_id: int, *, now: dt.datetime | None = None) -> Produced:
    """Produce the copy a request asked for, from the register as it stands; record when, by whom and the file's
    SHA-256 and size (the file is not kept). Produced again until it is handed over (the last one counts)."""
    placed, row = _request(principal, person_uuid, copy_id)
    check_copy_production(row.handed_at)
    now = (now or clock.now()).replace(microsecond=0)
    content_of = copy_content(principal, person_uuid, row, now)
    content = build_copy_pdf(content_of) if row.format == "pdf" else build_copy_workbook(content_of)
    digest = hashlib.sha256(content).hexdigest()
    row.produced_at, row.produced_by, row.sha256, row.size = now, principal.id, digest, len(content)
    audit.record(principal.id, "copy.produce", area_path=placed.group.path, subject=person_uuid, records=1)
    name = (placed.person.name or "").replace("/", "_") or "本人"
    return Produced(content, row.format, f"{name}_{clock.date_of(now).isoformat()}_个人信息副本.{row.format}", digest)


def hand_over(principal: Principal, person_uuid: str, copy_id: int, *, handed_to: str,
              now: dt.datetime | None = None):
    """Record that the copy produced was handed to the person or their representative (named; the requester when
    not given). Once, after it was produced."""
    placed, row = _request(principal, person_uuid, copy_id)
    name = check_handover(row.produced_at, row.handed_at, handed_to)
    row.handed_at, row.handed_by = now or clock.now(), principal.id
    row.handed_to = name or row.requested_by
    audit.record(principal.id, "copy.hand_over", area_path=placed.group.path, subject=person_uuid, records=1)
    return row


# ---- what the copy holds ------------------------------------------------------------------------------------------

def _wall(moment: dt.datetime | None) -> str:
    return clock.wall_time(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _day(value) -> str:
    return value.isoformat() if value else ""


def _shown(shown) -> str:
    return shown.area or shown.text if shown is not None else ""


def _staff_name(user_id: int | None) -> str:
    return register_queries.display_names({user_id}).get(user_id, "") if user_id is not None else ""


def copy_content(principal: Principal, person_uuid: str, request, now: dt.datetime) -> PersonCopy:
    """Everything held about the person that the reader's pages show, in Chinese: who they are (ID number and phone
    in full: it is their own copy), their household's members by name and relationship only, their field history
    with its sources, life events, the visits that concern them (day, collector, outcome), their service items
    (services, supplies, referrals with results, requests with outcomes), the service notices about them, their
    withdrawals of consent, and who read or changed their record and when (the audit log)."""
    view = service_pages.person_page(principal, person_uuid, _LANGUAGE)   # scope, visibility; the read audited
    fields, page = view.fields, view.page
    request_rows = [("申请人", f"{request.requested_by}（{code_label('copy_requester', request.requester, _LANGUAGE)}）"),
                    ("申请日期", _day(request.requested_on)),
                    ("副本形式", code_label("copy_format", request.format, _LANGUAGE) or request.format)]
    details = [("姓名", fields.name), ("性别", fields.sex), ("出生日期", fields.birth_date),
               ("身份证号", fields.id_number), ("联系电话", fields.phone), ("与户主关系", fields.relationship),
               ("居住情况", fields.residence),
               ("户籍", code_label("hukou", page.person.hukou, _LANGUAGE) or ""), ("健在情况", fields.status),
               ("服务对象类别", fields.tier), ("所在地区", page.group.full_name), ("所在户", _shown(view.household)),
               ("家庭住址", (page.household.address or "") if page.household else "")]
    tables = [_members(page), _history(view.history), _events(view.events), _visits(view),
              _services(view.timeline), _notices(person_uuid, now), _consent(person_uuid),
              _audit(person_uuid, page)]
    return PersonCopy(fields.name, now, _staff_name(principal.id), request_rows, details, tables)


def _members(page) -> CopyTable:
    """The household's members by name and relationship to the head (nothing else of other people)."""
    household_uuid = page.person.household_uuid
    members = register_queries.members(household_uuid) if household_uuid and page.household else []
    rows = [(member.name or "", code_label("relationship", member.relationship, _LANGUAGE) or "",
             "本人" if member.uuid == page.person.uuid else "") for member in members]
    return CopyTable("户内成员", ("姓名", "与户主关系", "备注"), rows)


def _history(history) -> CopyTable:
    rows = [(row.field, _shown(row.value), _shown(row.source), _day(row.day)) for row in history]
    return CopyTable("登记信息及其变更记录", ("项目", "登记的值", "来源", "日期"), rows)


def _events(events) -> CopyTable:
    rows = [(kind, _day(date), place or "") for kind, date, place in events]
    return CopyTable("人口事件", ("事件", "日期", "地点"), rows)


def _visits(view) -> CopyTable:
    """The visits to the person, those that recorded items about them and those that stated their fields."""
    timeline = {visit.submission_id for visit in view.timeline}
    stated = {int(row.source.href[1]) for row in view.history
              if row.source.href is not None and row.source.href[0] == "visit"}
    ids = set(timeline) | stated
    labels = register_queries.submission_labels(ids)
    visits = service_queries.visits_by_id(ids)
    words: dict = {}
    rows = []
    for submission_id in ids:
        label, visit = labels.get(submission_id), visits.get(submission_id)
        if label is None:
            continue
        day = label.visit_date or clock.date_of(label.visited_at or label.received_at)
        outcome = ""
        if visit is not None:    # in the words of the form version it was filled on
            key = (visit.form, visit.form_version)
            if key not in words:
                words[key] = form_labels(visit.form, visit.form_version)
            outcome = code_label("outcome", visit.outcome, _LANGUAGE, words[key])
        rows.append((day, label.form_title or label.xml_form_id, label.collector or "", outcome or "", submission_id))
    rows.sort(key=lambda row: (row[0], row[4]))
    return CopyTable("访视记录", ("日期", "访视", "信息员", "访视结果"),
                     [(day.isoformat(), form, collector, outcome) for day, form, collector, outcome, _ in rows])


def _services(timeline) -> CopyTable:
    """Every service item about the person: services, supplies, referrals (with their results), requests for support
    (with their outcomes and payments), oldest first."""
    items = sorted((item for visit in timeline for item in visit.items),
                   key=lambda item: (item.visit_date or dt.date.min, item.submission_id, item.seq))
    rows = []
    for item in items:
        facts = "\n".join(f"{label}：{value}" for label, value in item.facts if value)
        if item.kind == "referral":
            result = item.result or ""
            if item.result_on:
                result += f"（{item.result_on.isoformat()}）"
        else:
            result = "\n".join(f"{label}：{value}" for label, value in item.support)
        rows.append((_day(item.visit_date), item.kind_label, item.what or "", facts, result))
    return CopyTable("服务记录（服务、药具、转介、扶助需求）", ("日期", "类别", "内容", "详情", "结果"), rows)


def _notices(person_uuid: str, now: dt.datetime) -> CopyTable:
    rows = []
    for notice in queries.notices_about(person_uuid):
        answered = notice.answer_at is not None
        to = f"县外：{notice.to_place}" if notice.to_outside else notice.to_place
        result = code_label("notice_result", notice.answer_result, _LANGUAGE) or ""
        if answered and notice.answer_done:
            result = f"{result}：{notice.answer_done}" if result else notice.answer_done
        rows.append((_wall(notice.sent_at), notice.from_place, to,
                     code_label("service_needs", notice.service, _LANGUAGE) or notice.service,
                     notice.service_note or "", _day(notice.reply_by),
                     code_label("notice_state", notice_state(notice.received_at is not None, answered), _LANGUAGE)
                     or "", result))
    return CopyTable("协查通报", ("发出时间", "发文单位", "收文单位", "需要的服务", "服务说明", "反馈期限", "状态",
                                    "办理结果"),
                     rows)


def _consent(person_uuid: str) -> CopyTable:
    """The person's withdrawals of consent in force: what they withdrew is no longer held (docs/services.md)."""
    rows = [(withdrawal.day or "", withdrawal.note or "", _wall(withdrawal.decided_at), withdrawal.decided_by or "")
            for withdrawal in withdrawals_of(person_uuid)]
    return CopyTable("撤回同意记录", ("撤回日期", "备注（凭同意登记的服务记录已不再显示）", "登记时间", "登记人"), rows)


def _audit(person_uuid: str, page) -> CopyTable:
    """Who read or changed the person's record (and read their household's page), when, in China time."""
    household_uuid = page.person.household_uuid if page.household else None
    rows = [(_wall(row.at), row.who or "系统", code_label("role", row.role, _LANGUAGE) or "",
             audit_action_label(row.action, _LANGUAGE)) for row in queries.audit_about(person_uuid, household_uuid)]
    return CopyTable("查阅和操作记录", ("时间（北京时间）", "工作人员", "角色", "操作"), rows)
