"""Service notices (协查通报): a town office tells another town (of this county, on this server or another) or a place
outside about a person working away or arrived from elsewhere and the service due; the receiver answers. Pure rules:
a notice's state and whether it is overdue, who may bring a notice or an answer onto a server, a notice checked
field by field, and its portable JSON form (the same on every server and in files exchanged with systems outside).

A notice is `sent` → `received` (the receiving town opened it) → `answered`; it is **overdue** when not answered
after its reply-by day (computed for a day, never stored).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass, replace

from sync.code_labels import CODE_LABELS
from sync.errors import NoticeFileInvalid, NoticeInvalid, TaizhangError
from sync.periods import as_utc

__all__ = ["FORMAT", "LIST_FORMAT", "VERSION", "STATES", "FILTERS", "RESULTS", "SERVICES", "Answer", "Notice",
           "state", "overdue", "matches", "may_take_notice", "may_take_answer", "check_notice", "notice_to_json",
           "notice_from_json", "notices_document", "read_notices_json", "same_notice"]

FORMAT = "taizhang-service-notice"
LIST_FORMAT = "taizhang-service-notices"
VERSION = 1

STATES = ("sent", "received", "answered")
FILTERS = (*STATES, "overdue")
"""What the list can be filtered by: a state, or overdue."""
RESULTS = tuple(CODE_LABELS["notice_result"])
SERVICES = tuple(CODE_LABELS["service_needs"])
"""The service due: the service catalogue's needs (sync.code_labels "service_needs"), with words for "other"."""

_TOWN_LENGTH, _PLACE_LENGTH, _NAME_LENGTH, _TEXT_LENGTH, _NOTE_LENGTH = 100, 200, 100, 500, 300
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]")
_PHONE = re.compile(r"[0-9+\- ]{5,20}")


@dataclass(frozen=True, slots=True)
class Answer:
    """What the receiving town did: in words, the result (a code of RESULTS), the day, by whom, when recorded."""

    done: str
    result: str
    day: dt.date
    by: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice as every server and file holds it. A place is a town's full name (`*_outside` False: a town of the
    county) or a place outside named in words (a county, a town)."""

    uuid: str
    from_place: str
    from_outside: bool
    to_place: str
    to_outside: bool
    name: str
    sex: str | None
    birth_date: dt.date | None
    id_number: str | None
    address: str
    phone: str | None
    service: str
    service_note: str | None
    reply_by: dt.date
    sent_at: dt.datetime
    sent_by: str
    received_at: dt.datetime | None = None
    received_by: str | None = None
    answer: Answer | None = None

    @property
    def sender_town(self) -> str | None:
        return None if self.from_outside else self.from_place

    @property
    def receiver_town(self) -> str | None:
        return None if self.to_outside else self.to_place


def state(received: bool, answered: bool) -> str:
    return "answered" if answered else "received" if received else "sent"


def overdue(reply_by: dt.date, answered: bool, as_of: dt.date) -> bool:
    """Not answered after the reply-by day (answered on that day is in time)."""
    return not answered and as_of > reply_by


def matches(wanted: str | None, received: bool, answered: bool, reply_by: dt.date, as_of: dt.date) -> bool:
    """Whether a notice is among those a filter asks for (None: all)."""
    if wanted is None:
        return True
    if wanted == "overdue":
        return overdue(reply_by, answered, as_of)
    return state(received, answered) == wanted


def may_take_notice(town: str | None, notice: Notice, served: Callable[[str], bool]) -> bool:
    """Whether an account of `town` (None: the county) may bring this notice onto a server: one sent from its town;
    or one addressed to its town from a town this server does not serve or from outside (it brings it from the
    county, or from a file)."""
    if town is None:
        return True
    sender = notice.sender_town
    return town == sender or town == notice.receiver_town and (sender is None or not served(sender))


def may_take_answer(town: str | None, notice: Notice, served: Callable[[str], bool]) -> bool:
    """Whether an account of `town` may bring the receipt or the answer of a notice onto a server: the receiving
    town's; or the sender's, for a notice to a town this server does not serve or outside (it brings the answer
    back)."""
    if town is None:
        return True
    receiver = notice.receiver_town
    return town == receiver or town == notice.sender_town and (receiver is None or not served(receiver))


def _invalid(field: str, why: str) -> NoticeInvalid:
    return NoticeInvalid(f"{field}: {why}", field=field)


def _text(field: str, value, length: int, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _invalid(field, "required")
        return None
    if not isinstance(value, str):
        raise _invalid(field, "text expected")
    value = value.strip()
    if len(value) > length or "\x00" in value:
        raise _invalid(field, f"at most {length} characters")
    return value


def check_notice(notice: Notice) -> Notice:
    """The notice when every field holds what it may (NoticeInvalid naming the first that does not)."""
    try:
        uuid_module.UUID(notice.uuid)
    except (ValueError, TypeError, AttributeError):
        raise _invalid("uuid", "not a UUID") from None
    _text("from", notice.from_place, _PLACE_LENGTH if notice.from_outside else _TOWN_LENGTH)
    _text("to", notice.to_place, _PLACE_LENGTH if notice.to_outside else _TOWN_LENGTH)
    if notice.from_outside and notice.to_outside:
        raise _invalid("to", "a notice from outside is addressed to a town of the county")
    if not notice.from_outside and not notice.to_outside and notice.from_place == notice.to_place:
        raise _invalid("to", "a town does not send a notice to itself")
    _text("name", notice.name, _NAME_LENGTH)
    if notice.sex is not None and notice.sex not in CODE_LABELS["sex"]:
        raise _invalid("sex", "male or female")
    if notice.id_number is not None and not _ID_NUMBER.fullmatch(notice.id_number):
        raise _invalid("id_number", "18 characters: 17 digits and a digit or X")
    _text("address", notice.address, _PLACE_LENGTH)
    if notice.phone is not None and not _PHONE.fullmatch(notice.phone):
        raise _invalid("phone", "a telephone number")
    if notice.service not in SERVICES:
        raise _invalid("service", "one of the service catalogue")
    if notice.service == "other" and not notice.service_note:
        raise _invalid("service_note", "say which service, in words")
    _text("service_note", notice.service_note, _NOTE_LENGTH, required=False)
    _text("sent_by", notice.sent_by, _NAME_LENGTH)
    if notice.reply_by < notice.sent_at.date() - dt.timedelta(days=1):
        raise _invalid("reply_by", "not before the day it is sent")
    if (notice.received_at is None) != (notice.received_by is None):
        raise _invalid("received", "when and by whom, both")
    if notice.answer is not None:
        _text("answer.done", notice.answer.done, _TEXT_LENGTH)
        if notice.answer.result not in RESULTS:
            raise _invalid("answer.result", "one of " + ", ".join(RESULTS))
        _text("answer.by", notice.answer.by, _NAME_LENGTH)
    return notice


def same_notice(one: Notice, other: Notice) -> bool:
    """The same notice as sent (what its receipt and answer add aside; the instant it was sent to the second, as a
    workbook writes it)."""
    def sent(notice: Notice) -> Notice:
        return replace(notice, received_at=None, received_by=None, answer=None,
                       sent_at=as_utc(notice.sent_at).replace(microsecond=0))
    return sent(one) == sent(other)


# ---- the portable JSON form -------------------------------------------------------------------------------------

def _instant(value: dt.datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


def _place_json(place: str, outside: bool) -> dict:
    return {"outside": place} if outside else {"town": place}


def notice_to_json(notice: Notice) -> dict:
    """A notice as JSON (instants in UTC, days as ISO dates, codes for the sex, service and result)."""
    answer = notice.answer
    return {
        "format": FORMAT, "version": VERSION, "uuid": notice.uuid,
        "from": _place_json(notice.from_place, notice.from_outside),
        "to": _place_json(notice.to_place, notice.to_outside),
        "person": {"name": notice.name, "sex": notice.sex,
                   "birth_date": notice.birth_date.isoformat() if notice.birth_date else None,
                   "id_number": notice.id_number, "address": notice.address, "phone": notice.phone},
        "service": {"code": notice.service, "note": notice.service_note},
        "reply_by": notice.reply_by.isoformat(),
        "sent": {"at": _instant(notice.sent_at), "by": notice.sent_by},
        "received": ({"at": _instant(notice.received_at), "by": notice.received_by}
                     if notice.received_at is not None else None),
        "answer": ({"done": answer.done, "result": answer.result, "day": answer.day.isoformat(), "by": answer.by,
                    "at": _instant(answer.at)} if answer is not None else None),
    }


def _object(value, field: str, *, required: bool = True) -> dict | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise _invalid(field, "an object expected")
    return value


def _day(value, field: str, *, required: bool = True) -> dt.date | None:
    if value in (None, "") and not required:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _invalid(field, "a day as YYYY-MM-DD") from None
    if not dt.date(1900, 1, 1) <= day <= dt.date(2199, 12, 31):
        raise _invalid(field, "a day between 1900 and 2199")
    return day


def _moment(value, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        raise _invalid(field, "an instant as ISO 8601 with its offset") from None
    if moment.tzinfo is None:
        raise _invalid(field, "an instant with its offset")
    if not 1900 <= moment.year <= 2199:
        raise _invalid(field, "an instant between 1900 and 2199")
    return as_utc(moment)


def _place(value, field: str) -> tuple[str, bool]:
    value = _object(value, field)
    if set(value) == {"town"}:
        return _text(field, value["town"], _TOWN_LENGTH), False
    if set(value) == {"outside"}:
        return _text(field, value["outside"], _PLACE_LENGTH), True
    raise _invalid(field, 'either {"town": …} or {"outside": …}')


def notice_from_json(data) -> Notice:
    """A notice read from its JSON form and checked (NoticeInvalid naming the field at fault)."""
    data = _object(data, "notice")
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise _invalid("format", f"{FORMAT} version {VERSION} expected")
    person, service, sent = (_object(data.get(name), name) for name in ("person", "service", "sent"))
    received, answer = _object(data.get("received"), "received", required=False), _object(
        data.get("answer"), "answer", required=False)
    from_place, from_outside = _place(data.get("from"), "from")
    to_place, to_outside = _place(data.get("to"), "to")
    return check_notice(Notice(
        uuid=str(data.get("uuid") or ""), from_place=from_place, from_outside=from_outside, to_place=to_place,
        to_outside=to_outside, name=_text("name", person.get("name"), _NAME_LENGTH),
        sex=_text("sex", person.get("sex"), 10, required=False),
        birth_date=_day(person.get("birth_date"), "birth_date", required=False),
        id_number=_text("id_number", person.get("id_number"), 18, required=False),
        address=_text("address", person.get("address"), _PLACE_LENGTH),
        phone=_text("phone", person.get("phone"), 20, required=False),
        service=_text("service", service.get("code"), 40),
        service_note=_text("service_note", service.get("note"), _NOTE_LENGTH, required=False),
        reply_by=_day(data.get("reply_by"), "reply_by"), sent_at=_moment(sent.get("at"), "sent.at"),
        sent_by=_text("sent_by", sent.get("by"), _NAME_LENGTH),
        received_at=_moment(received.get("at"), "received.at") if received else None,
        received_by=_text("received.by", received.get("by"), _NAME_LENGTH) if received else None,
        answer=Answer(done=_text("answer.done", answer.get("done"), _TEXT_LENGTH),
                      result=_text("answer.result", answer.get("result"), 40),
                      day=_day(answer.get("day"), "answer.day"), by=_text("answer.by", answer.get("by"), _NAME_LENGTH),
                      at=_moment(answer.get("at"), "answer.at")) if answer else None))


def notices_document(notices: list[Notice]) -> dict:
    """A file of notices (an export of the list)."""
    return {"format": LIST_FORMAT, "version": VERSION, "notices": [notice_to_json(notice) for notice in notices]}


def read_notices_json(content: bytes) -> list[Notice]:
    """The notices of a JSON file: one notice, or a file of notices. A file that is not one: NoticeFileInvalid; a
    notice in it that is not valid: NoticeInvalid (the notice's place in the file said)."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise NoticeFileInvalid("not JSON") from None
    if isinstance(data, dict) and data.get("format") == FORMAT:
        return [notice_from_json(data)]
    if not isinstance(data, dict) or data.get("format") != LIST_FORMAT or not isinstance(data.get("notices"), list):
        raise NoticeFileInvalid(f"neither {FORMAT} nor {LIST_FORMAT}")
    if data.get("version") != VERSION:
        raise NoticeFileInvalid(f"version {VERSION} expected")
    notices = []
    for number, item in enumerate(data["notices"], start=1):
        try:
            notices.append(notice_from_json(item))
        except TaizhangError as refused:
            raise NoticeInvalid(f"notice {number}: {refused.detail}", **refused.context) from None
    return notices
