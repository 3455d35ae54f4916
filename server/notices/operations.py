"""Service notices' services: the town office sends a notice about a person of its register (or who moved out of it)
to another town of the county or to a place outside, reads the notices sent from or to its town (the receiving town
opening one receives it), answers those addressed to it; notices and answers are taken in from replication and from
files (the same uuid twice changes nothing) and handed out by cursor. Every read is audited (a notice names a
person); every id that arrives is checked against the caller's town before anything is read or written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from flask import current_app

from server import clock
from server.areas import queries as area_queries
from server.audit import queries as audit
from server.notices import queries
from server.notices.models import ServiceNotice
from server.principal import Principal
from server.register import queries as register_queries
from sync.access import TOWN_OFFICE_ROLES, area_contains
from sync.errors import (
    Forbidden,
    NoticeAlreadyAnswered,
    NoticeInvalid,
    NoticeMismatch,
    NoticeNotFound,
    NoticeNotYours,
    NoticePersonNotHad,
    NoticeTownUnknown,
)
from sync.notices import (
    Answer,
    Notice,
    check_notice,
    matches,
    may_take_answer,
    may_take_notice,
    overdue,
    same_notice,
    state,
)
from sync.periods import as_utc
from sync.privacy import export_action, export_reason, mask_id_number, mask_phone

__all__ = ["LIST_LIMIT", "town_of", "sender_town", "county_towns", "notice_of", "Listed", "list_notices", "person_for_notice",
           "NoticeDraft", "send_notice", "NoticePage", "read_notice", "answer_notice", "notices_for_export",
           "take_notice", "import_notices", "ReplicationPage", "notices_after"]

LIST_LIMIT = 500
_REFUSAL = "service notices are the town office's (the county reads them all)"
SETTLE = dt.timedelta(seconds=60)
"""A step's cursor is handed out only once it is older than this (as replication's submissions: an id taken before
a slower transaction commits could otherwise be passed over)."""


def town_of(principal: Principal) -> str | None:
    """The town whose office the principal is (None: the county). Others are refused: notices are the town
    office's."""
    if principal.role not in TOWN_OFFICE_ROLES:
        raise Forbidden(_REFUSAL)
    if principal.area_path is None:
        return None
    area = area_queries.area_by_path(principal.area_path)
    return area.full_name.split("/")[0] if area else None


def sender_town(principal: Principal) -> str:
    """The town whose office sends (the county reads notices; it does not send them)."""
    town = town_of(principal)
    if town is None:
        raise Forbidden("a notice is sent by a town office")
    return town


def county_towns() -> list[str]:
    """The towns a notice may be addressed to: this server's and those the county's other servers serve
    (TAIZHANG_COUNTY_TOWNS)."""
    return sorted(set(queries.town_names()) | set(current_app.config.get("TAIZHANG_COUNTY_TOWNS") or ()))


def notice_of(row: ServiceNotice) -> Notice:
    answer = None
    if row.answer_at is not None:
        answer = Answer(row.answer_done, row.answer_result, row.answer_day, row.answer_by, as_utc(row.answer_at))
    return Notice(row.uuid, row.from_place, row.from_outside, row.to_place, row.to_outside, row.name, row.sex,
                  row.birth_date, row.id_number, row.address, row.phone, row.service, row.service_note, row.reply_by,
                  as_utc(row.sent_at), row.sent_by, row.received_at and as_utc(row.received_at), row.received_by,
                  answer)


def _concerns(town: str | None, row: ServiceNotice) -> bool:
    return town is None or (not row.from_outside and row.from_place == town) or (
        not row.to_outside and row.to_place == town)


def _readable(principal: Principal, uuid: str) -> tuple[str | None, ServiceNotice]:
    town = town_of(principal)
    row = queries.by_uuid(uuid)
    if row is None:
        raise NoticeNotFound(uuid)
    if not _concerns(town, row):
        raise NoticeNotYours(uuid)
    return town, row


@dataclass(frozen=True, slots=True)
class Listed:
    """A notice as the list shows it: its state, whether overdue, and whether the reader's town sent it."""

    notice: Notice
    state: str
    overdue: bool
    outgoing: bool


def list_notices(principal: Principal, wanted: str | None, as_of: dt.date) -> list[Listed]:
    """The notices from or to the reader's town (the county: all), filtered by state or overdue (audited)."""
    town = town_of(principal)
    rows = [row for row in queries.listed(town, LIST_LIMIT)
            if matches(wanted, row.received_at is not None, row.answer_at is not None, row.reply_by, as_of)]
    audit.record(principal.id, "notice.list", area_path=principal.area_path, records=len(rows))
    return [Listed(notice_of(row), state(row.received_at is not None, row.answer_at is not None),
                   overdue(row.reply_by, row.answer_at is not None, as_of),
                   town is not None and not row.from_outside and row.from_place == town) for row in rows]


def person_for_notice(principal: Principal, person_uuid: str) -> queries.PersonRow:
    """A person the sender's town has in its register or who moved out of it (audited as a read of the person);
    anyone else: NoticePersonNotHad, whether or not another town has them."""
    sender_town(principal)
    found = queries.person(person_uuid)
    if found is None or not (area_contains(principal.area_path, found.group_path) or any(
            area_contains(principal.area_path, path) for path in register_queries.groups_left(person_uuid))):
        raise NoticePersonNotHad(person_uuid)
    audit.record(principal.id, "person.read", area_path=found.group_path or principal.area_path, subject=found.uuid)
    return found


@dataclass(frozen=True, slots=True)
class NoticeDraft:
    """What the sender fills in: the destination (a town of the county, or a place outside in words), where the
    person lives now, their phone, the service due, the reply-by day."""

    to_town: str | None
    to_outside: str | None
    address: str
    phone: str | None
    service: str
    service_note: str | None
    reply_by: dt.date


def send_notice(principal: Principal, person_uuid: str, draft: NoticeDraft, *, uuid: str,
                now: dt.datetime | None = None) -> ServiceNotice:
    """A notice from the principal's town about a person it had, to a town of the county or a place outside."""
    now = (now or clock.now()).replace(microsecond=0)
    found = person_for_notice(principal, person_uuid)
    town = sender_town(principal)
    if draft.to_town:
        if draft.to_town not in county_towns():
            raise NoticeTownUnknown(draft.to_town)
        to_place, to_outside = draft.to_town, False
    else:
        to_place, to_outside = draft.to_outside or "", True
    try:
        birth_date = dt.date.fromisoformat(found.birth_date) if found.birth_date else None
    except ValueError:
        birth_date = None
    notice = check_notice(Notice(
        uuid=uuid, from_place=town, from_outside=False, to_place=to_place, to_outside=to_outside,
        name=found.name or "", sex=found.sex, birth_date=birth_date, id_number=found.id_number,
        address=draft.address, phone=draft.phone, service=draft.service, service_note=draft.service_note,
        reply_by=draft.reply_by, sent_at=now, sent_by=queries.staff_name(principal.id)))
    if notice.reply_by < clock.date_of(now):
        raise NoticeInvalid("reply_by: not before today", field="reply_by")
    row = _store(notice, person_uuid=person_uuid)
    queries.add_step(row.id, "sent", "web", principal.id, now)
    audit.record(principal.id, "notice.send", area_path=found.group_path or principal.area_path, subject=notice.uuid)
    return row


def _store(notice: Notice, person_uuid: str | None = None) -> ServiceNotice:
    return queries.add_notice(
        uuid=notice.uuid, from_place=notice.from_place, from_outside=notice.from_outside, to_place=notice.to_place,
        to_outside=notice.to_outside, person_uuid=person_uuid, name=notice.name, sex=notice.sex,
        birth_date=notice.birth_date, id_number=notice.id_number, address=notice.address, phone=notice.phone,
        service=notice.service, service_note=notice.service_note, reply_by=notice.reply_by, sent_at=notice.sent_at,
        sent_by=notice.sent_by)


@dataclass(frozen=True, slots=True)
class NoticePage:
    notice: Notice
    state: str
    overdue: bool
    outgoing: bool         # the reader's town sent it
    answerable: bool       # the reader's town received it and it is not answered
    person_uuid: str | None
    steps: list


def read_notice(principal: Principal, uuid: str, *, now: dt.datetime | None = None) -> NoticePage:
    """A notice (audited); the receiving town's office opening it for the first time receives it."""
    now = (now or clock.now()).replace(microsecond=0)
    town, row = _readable(principal, uuid)
    incoming = town is not None and not row.to_outside and row.to_place == town
    if incoming and row.received_at is None:
        row.received_at, row.received_by = now, queries.staff_name(principal.id)
        queries.add_step(row.id, "received", "web", principal.id, now)
        audit.record(principal.id, "notice.receive", area_path=principal.area_path, subject=uuid)
    audit.record(principal.id, "notice.read", area_path=principal.area_path, subject=uuid)
    answered = row.answer_at is not None
    return NoticePage(notice_of(row), state(row.received_at is not None, answered),
                      overdue(row.reply_by, answered, clock.date_of(now)),
                      town is not None and not row.from_outside and row.from_place == town,
                      incoming and not answered, row.person_uuid, queries.steps_of(row.id))


def answer_notice(principal: Principal, uuid: str, *, done: str, result: str, day: dt.date,
                  now: dt.datetime | None = None) -> ServiceNotice:
    """The receiving town's office records what was done and the result; the answer goes back to the sender."""
    now = (now or clock.now()).replace(microsecond=0)
    town, row = _readable(principal, uuid)
    if town is None or row.to_outside or row.to_place != town:
        raise NoticeNotYours(uuid)
    if row.answer_at is not None:
        raise NoticeAlreadyAnswered(uuid)
    if day > clock.date_of(now):
        raise NoticeInvalid("answer.day: not after today", field="answer.day")
    by = queries.staff_name(principal.id)
    answered = check_notice(Notice(**{**_fields(notice_of(row)), "received_at": row.received_at or now,
                                      "received_by": row.received_by or by,
                                      "answer": Answer(done, result, day, by, now)}))
    if row.received_at is None:
        row.received_at, row.received_by = now, by
        queries.add_step(row.id, "received", "web", principal.id, now)
    _set_answer(row, answered.answer)
    queries.add_step(row.id, "answered", "web", principal.id, now)
    audit.record(principal.id, "notice.answer", area_path=principal.area_path, subject=uuid)
    return row


def _fields(notice: Notice) -> dict:
    return {name: getattr(notice, name) for name in Notice.__slots__}


def _set_answer(row: ServiceNotice, answer: Answer) -> None:
    row.answer_done, row.answer_result, row.answer_day = answer.done, answer.result, answer.day
    row.answer_by, row.answer_at = answer.by, answer.at


def notices_for_export(principal: Principal, uuid: str | None, wanted: str | None, as_of: dt.date, *,
                       full: bool = False, reason: str | None = None) -> list[Notice]:
    """One notice (as the notice page shows it: in full, for the office handling it), or the list (filtered), to
    export (audited). The list's ID numbers and phones are masked unless `full`, which needs a `reason` (audited with
    it; none: ExportReasonRequired, nothing exported)."""
    if uuid is not None:
        found, full, reason = [notice_of(_readable(principal, uuid)[1])], False, None
    else:
        reason = export_reason(full, reason)
        found = [row.notice for row in list_notices(principal, wanted, as_of)]
        if not full:
            found = [replace(notice, id_number=mask_id_number(notice.id_number), phone=mask_phone(notice.phone))
                     for notice in found]
    audit.record(principal.id, export_action("notice.export", full), area_path=principal.area_path,
                 subject=uuid, records=len(found), reason=reason)
    return found


def _served(place: str) -> bool:
    return queries.is_town(place)


def take_notice(principal: Principal, notice: Notice, *, source: str, now: dt.datetime | None = None) -> bool:
    """A notice (with its receipt and answer, when it has them) brought from another server or a file: stored when
    new, its receipt and answer added when this server lacks them; whether anything changed. Who may bring what:
    sync.notices.may_take_notice / may_take_answer."""
    now = (now or clock.now()).replace(microsecond=0)
    town = town_of(principal)
    check_notice(notice)
    row = queries.by_uuid(notice.uuid)
    changed = False
    if row is None:
        if not may_take_notice(town, notice, _served):
            raise NoticeNotYours(notice.uuid)
        row = _store(notice)
        queries.add_step(row.id, "sent", source, principal.id, now)
        changed = True
    elif not _concerns(town, row):
        raise NoticeNotYours(notice.uuid)
    elif not same_notice(notice_of(row), notice):
        raise NoticeMismatch(notice.uuid)
    adds_receipt = notice.received_at is not None and row.received_at is None
    adds_answer = notice.answer is not None and row.answer_at is None
    if (adds_receipt or adds_answer) and not may_take_answer(town, notice, _served):
        raise NoticeNotYours(notice.uuid)
    if adds_receipt:
        row.received_at, row.received_by = notice.received_at, notice.received_by
        queries.add_step(row.id, "received", source, principal.id, now)
        changed = True
    if adds_answer:
        _set_answer(row, notice.answer)
        queries.add_step(row.id, "answered", source, principal.id, now)
        changed = True
    if changed:
        audit.record(principal.id, "replication.notice" if source == "replication" else "notice.import",
                     area_path=principal.area_path, subject=notice.uuid)
    return changed


def import_notices(principal: Principal, notices: list[Notice], *, now: dt.datetime | None = None) -> int:
    """Notices and answers from a file, all or none (a refusal leaves nothing stored: the caller rolls back); how
    many changed anything."""
    return sum(take_notice(principal, notice, source="file", now=now) for notice in notices)


@dataclass(frozen=True, slots=True)
class ReplicationPage:
    notices: list[Notice]   # changed past the cursor, from or to the reader's town
    cursor: int             # past every step that can no longer be overtaken
    last: int               # the last step looked at (the next page starts after it)
    more: bool


def notices_after(principal: Principal, cursor: int, limit: int) -> ReplicationPage:
    """The notices with a step past the cursor, as they stand now (audited: they name people)."""
    town = town_of(principal)
    steps = queries.steps_after(cursor, limit)
    settled_before = clock.now() - SETTLE
    next_cursor = cursor
    for step in steps:
        if as_utc(step.recorded_at) > settled_before:
            break
        next_cursor = step.id
    rows = queries.notices_by_id({step.notice_id for step in steps})
    seen, notices = set(), []
    for step in steps:
        row = rows[step.notice_id]
        if row.id not in seen and _concerns(town, row):
            seen.add(row.id)
            notices.append(notice_of(row))
    if notices:
        audit.record(principal.id, "replication.notices_read", area_path=principal.area_path, records=len(notices))
    return ReplicationPage(notices, next_cursor, steps[-1].id if steps else cursor, len(steps) == limit)
