"""The village's named registers (登记册): for each, what it reads, its columns, and how a source row becomes a register row (pure).

A register is one entry of `REGISTERS`, answering the same questions as every other: its name (the page's address),
its label in Chinese and English, what it reads (`Source`: life events of some kinds, the people working away,
service items of some kinds and codes, follow-up visits of some types), its columns, and how one plain source row
(`EventRow`, `AwayRow`, `ItemRow`, `FollowupRow`) becomes the register's values, in column order (an ID number or
phone column masked unless asked for in full). The server reads the source rows for an area and a period; the pages
and the workbooks show the values.

Values are words, dates, numbers: a choice code is shown with the label of the form version its visit was filled
in (`Words.form`), else the registry's own word for it (`CODE_LABELS`: life-event kinds, register fields, the town
office's outcomes, and the forms' lists for versions that did not have them yet). A value no list knows is an odd
value the visit wrote (flagged for correction elsewhere): it is shown as written. No register holds a GPS point, a
UUID or anything compliance-like: supplies are what people asked for, referrals are services offered, support
requests are requests with what the town office decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sync.code_labels import code_label
from sync.form_labels import FormLabels
from sync.privacy import MASKED_FIELDS, mask_value
from sync.services import CLOSING_RESULTS, PROBLEMS

__all__ = ["Column", "Source", "Register", "REGISTERS", "register_named", "Words", "EventRow",
           "AwayRow", "ItemRow", "FollowupRow", "SOURCES", "Value", "cell_text"]

Value = str | int | Decimal | dt.date | None
"""A register cell: words, a whole number, an amount, a date, or nothing."""

SOURCES = ("life_events", "working_away", "service_items", "followups")
"""What a register can read: life events of some kinds; the people working away (and those who left in the
period); service items of some kinds (and codes); follow-up visits of some types."""

COLUMN_TYPES = ("text", "date", "integer", "amount")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label_zh: str
    label_en: str
    type: str = "text"          # text, date, integer (or the quantity as written), amount (yuan)
    width: int = 12             # characters, in the workbook

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"a column's type is one of {', '.join(COLUMN_TYPES)}, not {self.type!r}")

    def label(self, language: str) -> str:
        return self.label_zh if language == "zh" else self.label_en


@dataclass(frozen=True, slots=True)
class Source:
    reads: str                                  # one of SOURCES
    kinds: tuple[str, ...] = ()                 # life-event kinds, service item kinds, follow-up types
    codes: tuple[str, ...] | None = None        # service items: only these codes (None: any)

    def __post_init__(self) -> None:
        if self.reads not in SOURCES:
            raise ValueError(f"a register reads one of {', '.join(SOURCES)}, not {self.reads!r}")


# ---- what the registers read: plain rows ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EventRow:
    """A life event of a person in the register, placed where they lived when it happened (a move out in the
    village left, a move in in the village arrived in), with the visit that told it."""

    kind: str                       # birth, death, marriage, moved_in, moved_out, left_for_work, returned, …
    event_date: dt.date | None
    person_name: str | None
    village: str
    group: str
    household_no: str | None
    submission_id: int | None
    visit_date: dt.date | None = None
    place: str | None = None        # where from (moved in, came back) or where to (moved out, left to work)
    spouse_name: str | None = None
    sex: str | None = None          # register codes (shown with CODE_LABELS)
    birth_date: str | None = None
    phone: str | None = None
    address: str | None = None
    residence: str | None = None
    origin: str | None = None       # a move: where from, by name (a move out: this village)
    destination: str | None = None  # a move: where to, by name (a move in: this village)


@dataclass(frozen=True, slots=True)
class AwayRow:
    """Someone working away now, or who left to work away in the period: their latest departure, if a visit told it."""

    person_name: str | None
    village: str
    group: str
    household_no: str | None
    submission_id: int | None       # the visit that told the departure (or set them as working away)
    residence: str | None           # where they live now (register code): working_away, or here again, …
    left_on: dt.date | None = None
    destination: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class ItemRow:
    """A service item as it stands (corrected, with its referral's result or its request's outcome), placed."""

    kind: str
    person_name: str | None
    village: str
    group: str
    household_no: str | None
    submission_id: int
    visit_date: dt.date | None
    code: str | None = None
    quantity: int | None = None
    quantity_text: str | None = None
    given: bool | None = None
    place: str | None = None
    text: str | None = None
    detail: str | None = None
    consent: bool | None = None
    referred: bool = False                  # a pre-pregnancy check: a referral was made with it
    problems: tuple[str, ...] = ()
    result: str | None = None               # a referral's latest result (or, for a pre-pregnancy check, its referral's)
    result_on: dt.date | None = None
    support: Mapping[str, str] = field(default_factory=dict)    # a support request's recorded outcome and payment


@dataclass(frozen=True, slots=True)
class FollowupRow:
    """A follow-up visit (completed or attempted) of a person."""

    followup_type: str | None
    outcome: str | None
    person_name: str | None
    village: str
    group: str
    household_no: str | None
    submission_id: int
    visit_date: dt.date | None
    services: tuple[tuple[str, str | None], ...] = ()     # (code, the "other" text) of each service given
    next_visit: dt.date | None = None
    collector: str | None = None


# ---- words ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Words:
    """How a row's codes read in the reader's language: the form version's labels first (`form`: the version the
    row's visit was filled in), then CODE_LABELS; a code no list knows is shown as written. ID numbers and phones
    are masked unless `full` (an export asked for in full, with a reason)."""

    language: str
    form: FormLabels | None = None
    full: bool = False

    def say(self, zh: str, en: str) -> str:
        return zh if self.language == "zh" else en

    def code(self, list_name: str, code: str | None) -> str:
        if code is None or code == "":
            return ""
        return code_label(list_name, code, self.language, self.form) or code

    def yes_no(self, value: bool | None) -> str:
        return "" if value is None else self.code("yesno", "yes" if value else "no")

    def problems(self, codes: tuple[str, ...]) -> str:
        return self.join(self.say(*PROBLEMS[code]) if code in PROBLEMS else code for code in codes)

    def join(self, texts) -> str:
        return ("；" if self.language == "zh" else "; ").join(text for text in texts if text)


# ---- the registers -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Register:
    name: str                               # its address: /registers/<name>
    label_zh: str
    label_en: str
    about_zh: str                           # what it lists, in a sentence
    about_en: str
    source: Source
    columns: tuple[Column, ...]
    values: Callable[[object, Words], tuple[Value, ...]]    # a plain source row → the values, in column order
    open_filter: bool = False               # offers "open only" (referrals)

    def label(self, language: str) -> str:
        return self.label_zh if language == "zh" else self.label_en

    def about(self, language: str) -> str:
        return self.about_zh if language == "zh" else self.about_en

    @property
    def masked(self) -> bool:
        """Whether it has a column shown masked (an ID number, a phone)."""
        return any(column.key in MASKED_FIELDS for column in self.columns)

    def row(self, source_row, words: Words) -> tuple[Value, ...]:
        values = self.values(source_row, words)
        if len(values) != len(self.columns):
            raise ValueError(f"the {self.name} register has {len(self.columns)} columns, not {len(values)}")
        if words.full:
            return values
        return tuple(mask_value(column.key, value) if column.key in MASKED_FIELDS and isinstance(value, str)
                     else value for column, value in zip(self.columns, values))


def _column(key: str, zh: str, en: str, type: str = "text", width: int = 12) -> Column:
    return Column(key, zh, en, type, width)


VILLAGE = _column("village", "村", "Village", width=10)
GROUP = _column("group", "组", "Group", width=10)
HOUSEHOLD = _column("household_no", "户编号", "Household no.", width=9)
NAME = _column("name", "姓名", "Name", width=10)
SEX = _column("sex", "性别", "Sex", width=6)
BIRTH_DATE = _column("birth_date", "出生日期", "Birth date", "date", 11)
RECORDED = _column("visit_date", "登记日期（访视）", "Recorded (visit)", "date", 11)
_PLACED = (VILLAGE, GROUP, HOUSEHOLD)


def _placed(row) -> tuple[Value, ...]:
    return row.village, row.group, row.household_no or ""


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _amount(text: str | None) -> Decimal | str | None:
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


def _person(row: EventRow, words: Words) -> tuple[Value, ...]:
    return row.person_name or "", words.code("sex", row.sex), _date(row.birth_date)


def _birth(row: EventRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), row.person_name or "", words.code("sex", row.sex), row.event_date or _date(row.birth_date),
            row.visit_date)


def _death(row: EventRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), *_person(row, words), row.event_date, row.visit_date)


def _marriage(row: EventRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), row.person_name or "", words.code("sex", row.sex), row.spouse_name or "", row.event_date,
            row.visit_date)


def _moved_in(row: EventRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), *_person(row, words), row.origin or row.place or "", row.event_date, row.visit_date)


def _moved_out(row: EventRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), *_person(row, words), row.destination or row.place or "", row.event_date,
            row.visit_date)


def _moves(row: EventRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), *_person(row, words), words.code("life_event", row.kind), row.origin or "",
            row.destination or "", row.event_date, row.visit_date)


def _arrival(row: EventRow, words: Words) -> tuple[Value, ...]:
    origin = row.origin if row.kind == "moved_in" and row.origin else row.place
    return (*_placed(row), row.address or "", *_person(row, words), words.code("life_event", row.kind),
            origin or "", row.event_date, row.phone or "", row.visit_date)


def _away(row: AwayRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), row.person_name or "", words.code("sex", row.sex), _date(row.birth_date),
            row.destination or "", row.left_on, row.phone or "", words.code("residence", row.residence))


def _followup(row: FollowupRow, words: Words) -> tuple[Value, ...]:
    services = words.join(text if code == "other" and text else words.code("services", code)
                          for code, text in row.services)
    return (*_placed(row), row.person_name or "", words.code("followup_type", row.followup_type), row.visit_date,
            words.code("outcome", row.outcome), services, row.next_visit, row.collector or "")


def _supply(row: ItemRow, words: Words) -> tuple[Value, ...]:
    quantity = row.quantity if row.quantity is not None else (row.quantity_text or "")
    return (*_placed(row), row.person_name or "", words.code("supply_item", row.code), quantity,
            "" if row.given is None else words.code("given", "yes" if row.given else "no"), row.visit_date,
            words.problems(row.problems))


def _referral(row: ItemRow, words: Words) -> tuple[Value, ...]:
    state = "closed" if row.result in CLOSING_RESULTS else "open"
    return (*_placed(row), row.person_name or "", words.code("referral_purpose", row.code), row.place or "",
            row.text or "", row.visit_date, words.code("referral_result", row.result), row.result_on,
            words.code("referral_state", state), words.problems(row.problems))


def _prepregnancy(row: ItemRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), row.text or "", words.yes_no(row.consent), words.yes_no(row.referred),
            words.yes_no(row.result == "attended"), row.visit_date)


def _support_outcome(row: ItemRow, words: Words) -> tuple[Value, ...]:
    support = row.support
    return (words.code("support_outcome", support.get("outcome")), _date(support.get("decided_on")),
            _date(support.get("paid_on")), _amount(support.get("amount")))


def _support(row: ItemRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), words.code("service_needs", row.code), words.code("benefit_kind", row.detail),
            row.person_name or "", row.text or "", row.visit_date, *_support_outcome(row, words))


def _care(row: ItemRow, words: Words) -> tuple[Value, ...]:
    return (*_placed(row), words.code("service_needs", row.code), row.person_name or "", row.text or "",
            row.visit_date, *_support_outcome(row, words))


_SUPPORT_DECIDED = (_column("outcome", "结果", "Outcome", width=10),
                    _column("decided_on", "决定日期", "Decided on", "date", 11),
                    _column("paid_on", "发放日期", "Paid on", "date", 11),
                    _column("amount", "金额（元）", "Amount (yuan)", "amount", 10))

REGISTERS: dict[str, Register] = {register.name: register for register in (
    Register("births", "出生登记", "Births",
             "本期出生的孩子（按出生日期）。", "Children born in the period (by birth date).",
             Source("life_events", ("birth",)),
             (*_PLACED, NAME, SEX, _column("born_on", "出生日期", "Born on", "date", 11), RECORDED), _birth),
    Register("deaths", "死亡登记", "Deaths",
             "本期去世的人（按死亡日期）。", "People who died in the period (by date of death).",
             Source("life_events", ("death",)),
             (*_PLACED, NAME, SEX, BIRTH_DATE, _column("died_on", "死亡日期", "Died on", "date", 11), RECORDED),
             _death),
    Register("marriages", "婚姻登记", "Marriages",
             "本期结婚的人及其配偶。", "People who married in the period, with their spouse.",
             Source("life_events", ("marriage",)),
             (*_PLACED, NAME, SEX, _column("spouse_name", "配偶姓名", "Spouse", width=10),
              _column("married_on", "结婚日期", "Married on", "date", 11), RECORDED), _marriage),
    Register("moved-in", "迁入登记", "Moved in",
             "本期迁入的人，及从哪里迁入。", "People who moved in during the period, and where from.",
             Source("life_events", ("moved_in",)),
             (*_PLACED, NAME, SEX, BIRTH_DATE, _column("origin", "从哪里迁入", "Moved in from", width=22),
              _column("moved_in_on", "迁入日期", "Moved in on", "date", 11), RECORDED), _moved_in),
    Register("moved-out", "迁出登记", "Moved out",
             "本期迁出的人，及迁往哪里。", "People who moved out during the period, and where to.",
             Source("life_events", ("moved_out",)),
             (*_PLACED, NAME, SEX, BIRTH_DATE, _column("destination", "迁往哪里", "Moved to", width=22),
              _column("moved_out_on", "迁出日期", "Moved out on", "date", 11), RECORDED), _moved_out),
    Register("moves", "迁入迁出登记", "Moves in and out",
             "本期迁入和迁出的人：从哪里迁到哪里。迁出列在迁出的村，迁入列在迁入的村。",
             "People who moved in or out during the period: where from and where to. A move out is listed in the "
             "village left, a move in in the village arrived in.",
             Source("life_events", ("moved_in", "moved_out")),
             (*_PLACED, NAME, SEX, BIRTH_DATE, _column("move", "迁入/迁出", "In or out", width=8),
              _column("origin", "从哪里", "From", width=18), _column("destination", "到哪里", "To", width=18),
              _column("moved_on", "日期", "On", "date", 11), RECORDED), _moves),
    Register("working-away", "外出务工人员", "People working away",
             "现在外出务工的人（不论何时外出），以及本期外出后又返回或迁出的人：务工地点、外出日期、现在的手机号。",
             "Everyone working away now (whenever they left), and those who left in the period and have come back "
             "or moved since: where to, when, their phone now.",
             Source("working_away", ("left_for_work",)),
             (*_PLACED, NAME, SEX, BIRTH_DATE, _column("destination", "务工地点", "Working in", width=22),
              _column("left_on", "外出日期", "Left on", "date", 11), _column("phone", "现手机号", "Phone now", width=13),
              _column("now", "现在", "Now", width=12)), _away),
    Register("arrivals", "流入/迁入人员", "Arrivals",
             "本期迁入的人和外出后返回居住的人：从哪里来、现住址、手机号。",
             "People who moved in or came back to live here in the period: where from, their address and phone.",
             Source("life_events", ("moved_in", "returned")),
             (*_PLACED, _column("address", "现住址", "Address", width=20), NAME, SEX, BIRTH_DATE,
              _column("how", "来由", "How", width=10), _column("origin", "从哪里来", "From", width=22),
              _column("arrived_on", "日期", "On", "date", 11), _column("phone", "手机号", "Phone", width=13), RECORDED),
             _arrival),
    Register("followups", "产后/术后随访登记", "Follow-ups after births and operations",
             "本期产后随访和术后随访（已完成的和未见到人的），及提供的服务。",
             "Follow-ups after a birth or an operation in the period (completed and attempted), with the services "
             "given.",
             Source("followups", ("postpartum", "post_operation")),
             (*_PLACED, NAME, _column("type", "随访类型", "Kind", width=10),
              _column("visited_on", "随访日期", "Visited on", "date", 11), _column("outcome", "结果", "Outcome", width=12),
              _column("services", "提供的服务", "Services given", width=26),
              _column("next_visit", "下次随访日期", "Next visit", "date", 11),
              _column("collector", "随访人", "Collector", width=10)), _followup),
    Register("supplies", "药具发放登记", "Supplies given",
             "本期应本人要求发放（或登记待发放）的药具：品种、数量。",
             "Supplies handed out (or requested) at people's own request in the period: item and quantity.",
             Source("service_items", ("supply",)),
             (*_PLACED, NAME, _column("item", "品种", "Item", width=14), _column("quantity", "数量", "Quantity", "integer", 6),
              _column("given", "发放方式", "Given", width=14), _column("given_on", "日期", "Date", "date", 11),
              _column("flags", "待更正", "To correct", width=16)), _supply),
    Register("referrals", "转介登记", "Referrals",
             "本期的转介：目的、转介到哪里、原因、结果（未完成的转介可单独列出）。",
             "Referrals made in the period: purpose, to where, why, and their result (open ones can be listed alone).",
             Source("service_items", ("referral",)),
             (*_PLACED, NAME, _column("purpose", "转介目的", "Purpose", width=16),
              _column("place", "转介到", "Referred to", width=16), _column("reason", "转介原因", "Reason", width=18),
              _column("referred_on", "转介日期", "Referred on", "date", 11), _column("result", "结果", "Result", width=14),
              _column("result_on", "结果日期", "Result on", "date", 11), _column("state", "状态", "State", width=8),
              _column("flags", "待更正", "To correct", width=16)), _referral, open_filter=True),
    Register("prepregnancy-checks", "孕前优生健康检查", "Pre-pregnancy checks",
             "本期告知免费孕前优生健康检查的夫妇：是否同意、是否转介、是否已检查。",
             "Couples told of the free pre-pregnancy health check in the period: consent, referred, check done.",
             Source("service_items", ("prepregnancy_check",)),
             (*_PLACED, _column("names", "夫妇姓名", "Names", width=18), _column("consent", "知情同意", "Consent", width=8),
              _column("referred", "已转介", "Referred", width=8), _column("checked", "已检查", "Check done", width=8),
              _column("told_on", "登记日期", "Told on", "date", 11)), _prepregnancy),
    Register("support-requests", "扶助申请登记", "Support requests",
             "本期的扶助与关爱申请，及镇计生办记录的结果、发放日期和金额。",
             "Support requested in the period, with the outcome, payment date and amount the town office recorded.",
             Source("service_items", ("support_request",)),
             (*_PLACED, _column("kind", "类别", "Kind", width=14), _column("scheme", "扶助项目", "Scheme", width=16),
              _column("person", "对象", "For", width=10), _column("details", "需要什么帮助", "Details", width=22),
              _column("requested_on", "申请日期", "Requested on", "date", 11), *_SUPPORT_DECIDED), _support),
    Register("elderly-hardship", "养老关爱与困难帮扶", "Elderly and hardship support",
             "本期的养老关爱和困难家庭帮扶申请，及其结果。",
             "Requests for elderly support and hardship help in the period, and their outcomes.",
             Source("service_items", ("support_request",), ("elderly_support", "hardship_support")),
             (*_PLACED, _column("kind", "类别", "Kind", width=12), _column("person", "对象", "For", width=10),
              _column("details", "需要什么帮助", "Details", width=24),
              _column("requested_on", "申请日期", "Requested on", "date", 11), *_SUPPORT_DECIDED), _care),
)}
"""Every named register, in the order the index lists them."""


def register_named(name: str) -> Register | None:
    return REGISTERS.get(name)


def cell_text(value: Value) -> str:
    """A register cell as a page shows it: dates as YYYY-MM-DD, nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
