"""The service record as staff read it, in words: a visit's page (who, when, what it did, every answer), and the
service history of a person or a household. Scope and the audit record come from the register's pages
(server.register.browsing), which these extend.

Every code is shown as the label of the form version the visit was filled on, in the reader's language; when the
form version has no label for it, as the label in `sync.code_labels.CODE_LABELS`; never as the code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from server import clock
from server.forms.queries import form_labels
from server.principal import Principal
from server.register import browsing
from server.register import queries as register_queries
from server.services import queries
from sync.answers import AnswerGroup, format_location, read_answers
from sync.code_labels import CODE_LABELS, code_label
from sync.decisions import DECISION_KINDS
from sync.errors import TaizhangError
from sync.form_labels import FormLabels
from sync.services import (
    BENEFIT_KINDS,
    CORRECTABLE,
    ITEM_KINDS,
    MAX_QUANTITY,
    PROBLEMS,
    REFERRAL_PURPOSES,
    REFERRAL_RESULTS,
    SUPPLY_ITEMS,
    SUPPORT_FIELDS,
    SUPPORT_KINDS,
    SUPPORT_OUTCOMES,
)
from sync.visits import COMPLETED, read_visit

__all__ = ["ItemView", "DecisionView", "Correction", "VisitHeader", "VisitPage", "TimelineVisit",
           "visit_page", "person_page", "household_page", "item_views"]

# ---- words ----------------------------------------------------------------------------------------------------

_FORM_NAMES = {"household_visit": ("入户访视", "Household visit"), "followup": ("随访", "Follow-up")}
_WORDS = {
    "household": ("全户", "The household"),
    "not_on_list": ("（清单中没有：{code}）", "(not on the list: {code})"),
    "attempt": ("未遇（{outcome}）", "Attempt ({outcome})"),
    "not_completed": ("未完成（{outcome}）", "Not completed ({outcome})"),
    "no_consent": ("{outcome}（未同意登记）", "{outcome} (no consent to record)"),
    "open": ("尚无结果", "No result yet"),
    "given": ("已当场发放", "Given during the visit"), "not_given": ("已申请，未当场发放", "Requested, not given yet"),
    "consent": ("同意转介", "Agreed to a referral"), "no_referral": ("未同意转介", "Did not agree to a referral"),
    "household_label": ("{number}号户（户主 {head}）", "Household {number} (head: {head})"),
    "household_no_head": ("{number}号户", "Household {number}"),
    "amount": ("{amount} 元", "¥{amount}"),
}
_COLUMNS = {
    "code": {"supply": ("品种", "Item"), "service": ("服务", "Service"), "referral": ("转介目的", "Purpose"),
             "support_request": ("需求", "Need")},
    "quantity": ("数量", "Quantity"), "given": ("是否当场发放", "Given during the visit"),
    "place": ("转介到哪里", "Referred to"), "text": ("说明", "Details"), "detail": ("扶助类别", "Scheme"),
    "consent": ("知情同意", "Consent"),
}
_SUPPORT_FIELDS = {"outcome": ("结果", "Outcome"), "decided_on": ("决定日期", "Decided on"),
                   "paid_on": ("发放日期", "Paid on"), "amount": ("金额", "Amount"), "note": ("备注", "Note")}
# The codes a correction may choose, by kind and column (as server.services.operations accepts them).
_CORRECTION_CODES = {("supply", "code"): ("supply_item", SUPPLY_ITEMS),
                     ("referral", "code"): ("referral_purpose", REFERRAL_PURPOSES),
                     ("support_request", "code"): ("service_needs", SUPPORT_KINDS),
                     ("support_request", "detail"): ("benefit_kind", BENEFIT_KINDS),
                     ("service", "code"): ("services", tuple(code for code in CODE_LABELS["services"]
                                                             if code != "supplies"))}


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh" else pair[1]


class _Words:
    """Labels in one language, from one form version's words with the fallback labels behind them."""

    def __init__(self, labels: FormLabels, language: str) -> None:
        self.labels, self.language = labels, language

    def word(self, name: str, **values) -> str:
        return _pick(_WORDS[name], self.language).format(**values)

    def choice(self, list_name: str | None, code: str | None) -> str | None:
        if not code or not list_name:
            return None
        return code_label(list_name, code, self.language, self.labels) or self.word("not_on_list", code=code)

    def choices(self, list_name: str, allowed: Iterable[str]) -> list[tuple[str, str]]:
        """(code, label) of a list's choices a correction may take, in the form's order, then the others."""
        allowed = tuple(allowed)
        in_form = [code for code in self.labels.choices.get(list_name, {}) if code in allowed]
        return [(code, self.choice(list_name, code)) for code in in_form + [c for c in allowed if c not in in_form]]


def _labels(form: str, version: str | None, language: str, cache: dict) -> _Words:
    key = (form, version or "")
    if key not in cache:
        cache[key] = _Words(form_labels(form, version), language)
    return cache[key]


# ---- items in words ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionView:
    id: int
    label: str
    decided_at: dt.datetime        # the town's wall time
    decided_by: str | None
    may_undo: bool


@dataclass(frozen=True)
class Correction:
    """One column of a flagged item the cadre may correct: how to ask for it."""

    column: str
    label: str
    input: str                     # "number", "select" or "text"
    options: list[tuple[str, str]] = field(default_factory=list)
    current: str = ""


@dataclass(frozen=True)
class ItemView:
    key: str
    seq: int
    kind: str
    kind_label: str
    submission_id: int
    visit_date: dt.date | None
    person_name: str
    what: str | None               # the code's label (service, item, purpose, result, need)
    facts: list[tuple[str, str]]   # (label, value): quantity, given, place, details, scheme, consent
    result: str | None             # a referral's result as it stands (or "no result yet")
    result_on: dt.date | None
    support: list[tuple[str, str]]  # a support request's recorded outcome and payment
    support_values: dict[str, str]
    problems: list[str]
    is_open: bool
    decisions: list[DecisionView]
    corrections: list[Correction]
    may_record_support: bool
    may_record_result: bool
    result_options: list[tuple[str, str]]    # (code, label) of the results a cadre may record
    outcome_options: list[tuple[str, str]]   # (code, label) of a support request's outcomes

    @property
    def anchor(self) -> str:
        return f"item-{self.submission_id}-{self.seq}"


def item_views(principal: Principal, placed: list[queries.PlacedItem], language: str, *,
               forms: dict[int, str]) -> list[ItemView]:
    """Service items in words; `forms` names the form of each item's visit (by submission id)."""
    decisions = queries.decisions_about(item.key for item in placed)
    cache: dict = {}
    views = []
    for item in placed:
        words = _labels(forms.get(item.submission_id, "household_visit"), item.form_version, language, cache)
        views.append(_item_view(principal, item, words, decisions.get(item.key, [])))
    return views


def _item_view(principal: Principal, placed: queries.PlacedItem, words: _Words,
               decisions: list[queries.ItemDecision]) -> ItemView:
    item, state, language = placed.item, placed.state, words.language
    kind = ITEM_KINDS[item.kind]
    facts: list[tuple[str, str]] = []
    if item.kind == "supply":
        quantity = str(item.quantity) if item.quantity is not None else (item.quantity_text or "")
        facts.append((_pick(_COLUMNS["quantity"], language), quantity))
        if item.given is not None:
            facts.append((_pick(_COLUMNS["given"], language), words.word("given" if item.given else "not_given")))
    if item.place:
        facts.append((_pick(_COLUMNS["place"], language), item.place))
    if item.text:
        facts.append((_pick(_COLUMNS["text"], language), item.text))
    if item.detail:
        facts.append((_pick(_COLUMNS["detail"], language), words.choice("benefit_kind", item.detail)))
    if item.consent is not None:
        facts.append((_pick(_COLUMNS["consent"], language), words.word("consent" if item.consent else "no_referral")))
    result = result_on = None
    if item.kind == "referral":
        result = words.choice("referral_result", state.result) if state.result else words.word("open")
        result_on = clock.date_of(state.result_at) if state.result_at else None
    support = []
    for name in SUPPORT_FIELDS:
        value = state.support.get(name)
        if value:
            shown = (words.choice("support_outcome", value) if name == "outcome"
                     else words.word("amount", amount=value) if name == "amount" else value)
            support.append((_pick(_SUPPORT_FIELDS[name], language), shown))
    may = {name: DECISION_KINDS[name].may_take(principal.role, principal.area_path, placed.group_path)
           for name in ("referral_result", "support_outcome", "correct_service")} if placed.group_path else {}
    return ItemView(
        key=placed.key, seq=item.seq, kind=item.kind, kind_label=_pick((kind.label_zh, kind.label_en), language),
        submission_id=placed.submission_id, visit_date=placed.visit_date,
        person_name=placed.person_name or words.word("household"),
        what=words.choice(kind.choice_list, item.code), facts=facts, result=result, result_on=result_on,
        support=support, support_values=dict(state.support),
        problems=[_pick(PROBLEMS[code], language) for code in item.problems if code in PROBLEMS],
        is_open=state.is_open,
        decisions=[_decision_view(decision, words, item.kind, may.get(decision.kind, False))
                   for decision in decisions],
        corrections=_corrections(item, words) if item.problems and may.get("correct_service") else [],
        may_record_support=item.kind == "support_request" and may.get("support_outcome", False),
        may_record_result=item.kind == "referral" and may.get("referral_result", False),
        result_options=words.choices("referral_result", REFERRAL_RESULTS) if item.kind == "referral" else [],
        outcome_options=words.choices("support_outcome", SUPPORT_OUTCOMES) if item.kind == "support_request" else [])


def _decision_view(decision: queries.ItemDecision, words: _Words, item_kind: str, may_undo: bool) -> DecisionView:
    language = words.language
    if decision.kind == "referral_result":
        said = words.choice("referral_result", decision.target)
    elif decision.kind == "support_outcome":
        value = (words.choice("support_outcome", decision.target) if decision.field == "outcome"
                 else words.word("amount", amount=decision.target) if decision.field == "amount" else decision.target)
        said = f"{_pick(_SUPPORT_FIELDS.get(decision.field, ('', '')), language)}：{value}"
    else:
        said = f"{_column_label(item_kind, decision.field, language)}：{_corrected_value(item_kind, decision, words)}"
    kind = DECISION_KINDS[decision.kind]
    return DecisionView(decision.id, f"{_pick((kind.label_zh, kind.label_en), language)} · {said}",
                        clock.wall_time(decision.decided_at), decision.decided_by, may_undo)


def _column_label(item_kind: str, column: str | None, language: str) -> str:
    label = _COLUMNS.get(column or "", ("", ""))
    if isinstance(label, dict):
        label = label.get(item_kind, ("", ""))
    return _pick(label, language)


def _corrected_value(item_kind: str, decision: queries.ItemDecision, words: _Words) -> str:
    if decision.field == "given":
        return words.choice("yesno", decision.target)
    found = _CORRECTION_CODES.get((item_kind, decision.field or ""))
    return words.choice(found[0], decision.target) if found else decision.target


def _corrections(item, words: _Words) -> list[Correction]:
    corrections = []
    for column in CORRECTABLE.get(item.kind, ()):
        label = _column_label(item.kind, column, words.language)
        codes = _CORRECTION_CODES.get((item.kind, column))
        if codes:
            corrections.append(Correction(column, label, "select", words.choices(*codes),
                                          getattr(item, column) or ""))
        elif column == "quantity":
            corrections.append(Correction(column, label, "number",
                                          current=str(item.quantity) if item.quantity is not None
                                          and 0 < item.quantity <= MAX_QUANTITY else ""))
        elif column == "given":
            corrections.append(Correction(column, label, "select", words.choices("yesno", ("yes", "no")),
                                          "" if item.given is None else "yes" if item.given else "no"))
        else:
            corrections.append(Correction(column, label, "text", current=getattr(item, column) or ""))
    return corrections


# ---- the visit page ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VisitHeader:
    form: str                      # the form's title
    household: str | None          # "001号户（户主 王建国）"
    household_uuid: str | None
    people: list[tuple[str, str]]  # (uuid, name) of the people it is about
    collector: str | None
    filled_at: dt.datetime | None  # the town's wall time the form was started
    received_at: dt.datetime
    outcome: str | None
    completed: bool
    next_visit: dt.date | None
    notes: str | None
    location: str | None           # "lat, lon (±accuracy m)": staff pages are for the village cadre and above


@dataclass(frozen=True)
class VisitPage:
    register: browsing.VisitPage   # what it changed, its review, why the merge refused it
    header: VisitHeader | None     # None: not a visit of the register's forms
    items: list[ItemView]
    answers: AnswerGroup | None


def visit_page(principal: Principal, submission_id: int, language: str) -> VisitPage:
    """A synced visit in words: who, when, with what outcome, its service record, every answer, what it changed."""
    register_page = browsing.visit_page(principal, submission_id)   # scope checked, the read audited
    source = queries.visit_source(submission_id)
    try:
        visit = read_visit(source.xml)
    except TaizhangError:
        visit = None   # a submission of another form: shown with its answers only
    words = _Words(form_labels(source.xml_form_id, visit.form_version if visit else None), language)
    placed = queries.placed_items(submission_id=submission_id)
    people = _people_of(visit, register_page, placed)
    names = {uuid: name for uuid, name in people}
    households = queries.household_labels([visit.household.household_uuid] if visit and visit.household else [])

    def name_of(file: str, value: str) -> str | None:
        if file == "people.csv":
            return names.get(value) or _person_name(value, names)
        if file == "households.csv":
            found = households.get(value) or queries.household_labels([value]).get(value)
            return _household_label(found, words) if found else None
        if file == "due.csv" and visit is not None and visit.followup is not None:
            return next(iter(names.values()), None)
        return None

    answers = read_answers(source.xform, source.xml, language=language, name_of=name_of)
    items = item_views(principal, placed, language, forms={submission_id: source.xml_form_id})
    header = None
    if visit is not None:
        household = households.get(visit.household.household_uuid) if visit.household else None
        header = VisitHeader(
            form=_pick(_FORM_NAMES.get(source.xml_form_id, (source.form_title, source.form_title)), language),
            household=_household_label(household, words) if household else None,
            household_uuid=visit.household.household_uuid if household else None, people=people,
            collector=source.collector_display_name or source.collector_name or visit.collector,
            filled_at=clock.wall_time(visit.visited_at) if visit.visited_at else None,
            received_at=clock.wall_time(source.received_at), outcome=_outcome(visit, words),
            completed=visit.completed, next_visit=visit.services.next_visit, notes=visit.services.notes,
            location=_location(visit.services.location))
    return VisitPage(register_page, header, items, answers)


def _people_of(visit, register_page: browsing.VisitPage, placed: list[queries.PlacedItem]) -> list[tuple[str, str]]:
    """The people a visit is about, by name: a follow-up's person, the people whose records it changed and those its
    service record names."""
    if visit is None:
        return []
    uuids = [person.person_uuid for person in visit.people] if visit.followup else []
    for uuid in [*register_page.names, *(item.person_uuid for item in placed if item.person_uuid)]:
        if uuid not in uuids:
            uuids.append(uuid)
    found = register_queries.people_by_uuid(set(uuids))
    return [(uuid, found[uuid].name) for uuid in uuids if uuid in found and found[uuid].name]


def _person_name(uuid: str, cache: dict[str, str]) -> str | None:
    person = register_queries.people_by_uuid({uuid}).get(uuid)
    if person is not None and person.name:
        cache[uuid] = person.name
        return person.name
    return None


def _household_label(found: queries.HouseholdLabel, words: _Words) -> str:
    number = found.household_no or ""
    if found.head_name:
        return words.word("household_label", number=number, head=found.head_name)
    return words.word("household_no_head", number=number)


def _outcome(visit, words: _Words) -> str | None:
    if not visit.outcome:
        return None
    label = words.choice("outcome", visit.outcome)
    if visit.outcome == COMPLETED:
        return label if visit.recorded else words.word("no_consent", outcome=label)
    return words.word("attempt" if visit.outcome == "nobody_home" else "not_completed", outcome=label)


def _location(location) -> str | None:
    if location is None:
        return None
    parts = [location.latitude, location.longitude]
    if location.accuracy is not None:
        parts += [location.altitude or 0, location.accuracy]
    return format_location(" ".join(str(part) for part in parts))


# ---- service history of a person or a household -----------------------------------------------------------------

@dataclass(frozen=True)
class TimelineVisit:
    """One visit of a service history, with the items it recorded about the person or household."""

    submission_id: int
    visit_date: dt.date | None
    form: str
    outcome: str | None
    items: list[ItemView]


def person_page(principal: Principal, uuid: str, language: str) -> tuple[browsing.PersonPage, list[TimelineVisit]]:
    """A person's page and their service history, newest visit first."""
    page = browsing.person_page(principal, uuid)   # scope checked, the read audited
    return page, _timeline(principal, page.visits, queries.placed_items(person_uuid=uuid), language)


def household_page(principal: Principal, uuid: str,
                   language: str) -> tuple[browsing.HouseholdPage, list[TimelineVisit]]:
    """A household's page and the service history of the household and its members, newest visit first."""
    page = browsing.household_page(principal, uuid)
    placed = {item.key: item for item in queries.placed_items(household_uuid=uuid)}
    for member in page.members:
        placed.update((item.key, item) for item in queries.placed_items(person_uuid=member.uuid))
    return page, _timeline(principal, page.visits, list(placed.values()), language)


def _timeline(principal: Principal, visits: list, placed: list[queries.PlacedItem],
              language: str) -> list[TimelineVisit]:
    by_id = {visit.submission_id: visit for visit in visits}
    by_id.update(queries.visits_by_id({item.submission_id for item in placed} - set(by_id)))
    forms = {submission_id: visit.form for submission_id, visit in by_id.items()}
    views = item_views(principal, placed, language, forms=forms)
    cache: dict = {}
    timeline = []
    for visit in by_id.values():
        words = _labels(visit.form, visit.form_version, language, cache)
        outcome = words.choice("outcome", visit.outcome)
        if visit.outcome != COMPLETED and outcome:
            outcome = words.word("attempt" if visit.outcome == "nobody_home" else "not_completed", outcome=outcome)
        timeline.append(TimelineVisit(
            visit.submission_id, visit.visit_date, _pick(_FORM_NAMES.get(visit.form, (visit.form, visit.form)),
                                                         language),
            outcome, [view for view in views if view.submission_id == visit.submission_id]))
    moments = {submission_id: (visit.visit_date or dt.date.min,
                               visit.visited_at.isoformat() if visit.visited_at else "", submission_id)
               for submission_id, visit in by_id.items()}
    return sorted(timeline, key=lambda entry: moments[entry.submission_id], reverse=True)


def household_label(number: str | None, head: str | None, language: str) -> str:
    """A household as people read it: "3号户（户主 张三）", or "3号户" without a head (the search results)."""
    if head:
        return _pick(_WORDS["household_label"], language).format(number=number or "", head=head)
    return _pick(_WORDS["household_no_head"], language).format(number=number or "")
