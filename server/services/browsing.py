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
from server.audit import listing
from server.forms.queries import form_labels
from server.principal import Principal
from server.privacy import consent
from server.register import browsing
from server.register import queries as register_queries
from server.register.decisions import CONFLICT_REGISTER_VALUE, CONFLICT_VISIT_VALUE
from server.services import queries
from sync.access import FULL, TOWN_OFFICE_ROLES, area_contains, shows_item, shows_visit, village_of
from sync.answers import AnswerGroup, format_location, read_answers
from sync.code_labels import CODE_LABELS, audit_action_label, code_label
from sync.decisions import CHOICE_FIELDS, DECISION_KINDS
from sync.errors import Forbidden, TaizhangError
from sync.form_labels import FormLabels
from sync.phone_lists import OUTSIDE_LABEL
from sync.privacy import MASKED_FIELDS, mask_value
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
from sync.visits import COMPLETED, OUTSIDE, read_visit

__all__ = ["ItemView", "DecisionView", "Correction", "VisitHeader", "VisitPage", "TimelineVisit", "Namer",
           "PersonFields", "HistoryRow", "MergeRow", "ChangeRow", "PersonView", "HouseholdView", "ConflictView",
           "ConflictChoice", "PairView", "DepartedView", "visit_page", "person_page", "household_page", "item_views", "duplicate_page",
           "conflict_page", "CONFLICTS_PAGE_SIZE", "pair_names", "DUPLICATES_PAGE_SIZE", "AuditRow", "audit_log"]

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
    "submission": ("{form} · {day} · {collector}", "{form} · {day} · {collector}"),
    "submission_nobody": ("{form} · {day}", "{form} · {day}"),
    "decided": ("{kind} · {day}", "{kind} · {day}"),
    "unnamed": ("（未登记姓名）", "(no name recorded)"),
    "not_in_register": ("（已不在台账中）", "(no longer in the register)"),
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


_OUTSIDE_WORDS = (OUTSIDE_LABEL, "Somewhere outside the county")
"""A move's destination `outside` in words (destinations.csv)."""


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
    title: str                     # "入户访视 · 2026-11-03 · 李四"
    changes: list[ChangeRow]       # what it changed, in words
    review_state: str              # its review in words ("not reviewed" too)
    instance_id: str | None        # for the support fold


def visit_page(principal: Principal, submission_id: int, language: str) -> VisitPage:
    """A synced visit in words: who, when, with what outcome, its service record, every answer, what it changed."""
    register_page = browsing.visit_page(principal, submission_id)   # scope checked, the read audited
    source = queries.visit_source(submission_id)
    xml = consent.visible_xml(submission_id, source.xml)   # without what a withdrawn consent covers
    try:
        visit = read_visit(xml)
    except TaizhangError:
        visit = None   # a submission of another form: shown with its answers only
    words = _Words(form_labels(source.xml_form_id, visit.form_version if visit else None), language)
    placed = queries.placed_items(submission_id=submission_id)
    people = _people_of(visit, register_page, placed)
    names = {uuid: name for uuid, name in people}
    households = queries.household_labels([visit.household.household_uuid] if visit and visit.household else [])

    def name_of(file: str, value: str) -> str | None:
        if file in ("people.csv", "arrivals.csv"):
            return names.get(value) or _person_name(value, names)
        if file == "destinations.csv":
            return _pick(_OUTSIDE_WORDS, language) if value == OUTSIDE else " ".join(value.split("/"))
        if file == "households.csv":
            found = households.get(value) or queries.household_labels([value]).get(value)
            return _household_label(found, words) if found else None
        if file == "due.csv" and visit is not None and visit.followup is not None:
            return next(iter(names.values()), None)
        return None

    answers = read_answers(source.xform, xml, language=language, name_of=name_of)
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
    namer = Namer(language)
    namer.want_submissions([submission_id])
    changes = _changes(register_page.changes, namer)
    review = register_page.review
    return VisitPage(register_page, header, items, answers, namer.submission(submission_id).text, changes,
                     namer.code("review_state", review.state if review else "received"),
                     visit.instance_id if visit is not None else None)


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
    return household_label(found.household_no, found.head_name, words.language)


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
    elsewhere: str | None = None   # a visit of a village the person left (its full name): only its open items shown


def person_page(principal: Principal, uuid: str, language: str) -> PersonView:
    """A person's page in words, and their service history, newest visit first: as much as the reader may see
    (sync.access.person_visibility; a village the person left sees what it recorded while they lived there)."""
    page = browsing.person_page(principal, uuid)   # scope checked, the read audited
    placed, elsewhere = _items_seen(principal, queries.placed_items(person_uuid=uuid), page.visibility, list(page.left))
    timeline = _timeline(principal, page.visits, placed, language, elsewhere=elsewhere)
    namer = Namer(language, full=True)
    namer.want_households([page.person.household_uuid])
    history = _openable(principal, _history(page.history, namer))
    merges = _merges(page.merges, "person", namer)
    destinations = register_queries.areas_by_id(getattr(event, "destination_id", None) for event in page.events)
    events = [(namer.code("life_event", event.kind), event.event_date,
               destinations[event.destination_id].full_name if event.destination_id in destinations
               else event.place or "") for event in page.events]
    moved = [(destinations[event.destination_id].full_name if event.destination_id in destinations
              else event.place or "", event.event_date) for event in page.events if event.kind == "moved_out"]
    withdrawn = [withdrawal.day for withdrawal in consent.withdrawals_of(uuid)] if page.visibility == FULL else []
    return PersonView(page, timeline, person_fields(page.person, namer), namer.household(page.person.household_uuid),
                      history, events, merges, page.visibility == FULL, moved[-1] if moved else None,
                      max((day for day in withdrawn if day), default=None))


def _items_seen(principal: Principal, placed: list[queries.PlacedItem], visibility: str,
                left: list[str]) -> tuple[list[queries.PlacedItem], dict[int, str]]:
    """The items about a person the reader sees (sync.access.shows_item), and the visits of a village the person
    left whose open items travelled with them (by submission id: that village's full name)."""
    paths = register_queries.submission_paths(item.submission_id for item in placed)
    placed = [item for item in placed if shows_item(principal.area_path, visibility, paths.get(item.submission_id),
                                                   left, kind=item.item.kind, is_open=_still_open(item.state))]
    away = {item.submission_id: village_of(paths[item.submission_id]) for item in placed
            if not shows_visit(principal.area_path, visibility, paths.get(item.submission_id), left)}
    names = register_queries.area_names(set(away.values()))
    return placed, {submission_id: names.get(path, "") for submission_id, path in away.items()}


def _still_open(state) -> bool:
    """A referral without a closing result, a support request without an outcome."""
    return state.is_open or (state.item.kind == "support_request" and not state.support.get("outcome"))


def household_page(principal: Principal, uuid: str, language: str) -> HouseholdView:
    """A household's page in words, and the service history of the household and its members, newest visit first."""
    page = browsing.household_page(principal, uuid)
    placed = {item.key: item for item in queries.placed_items(household_uuid=uuid)}
    elsewhere: dict[int, str] = {}
    for member in page.members:
        others = [item for item in queries.placed_items(person_uuid=member.uuid) if item.key not in placed]
        left = register_queries.groups_left(member.uuid) if others else []
        if left:    # a member who moved in: of the visits of the villages they left, only the open items travel
            others, away = _items_seen(principal, others, FULL, left)
            elsewhere.update(away)
        placed.update((item.key, item) for item in others)
    timeline = _timeline(principal, page.visits, list(placed.values()), language, elsewhere=elsewhere)
    namer = Namer(language)
    namer.want_households([uuid])
    history = _history(page.history, namer)
    merges = _merges(page.merges, "household", namer)
    return HouseholdView(page, timeline, namer.household(uuid).text, [person_fields(m, namer) for m in page.members],
                         history, merges)


def _timeline(principal: Principal, visits: list, placed: list[queries.PlacedItem],
              language: str, *, elsewhere: dict[int, str] | None = None) -> list[TimelineVisit]:
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
        away = (elsewhere or {}).get(visit.submission_id)
        timeline.append(TimelineVisit(
            visit.submission_id, visit.visit_date, _pick(_FORM_NAMES.get(visit.form, (visit.form, visit.form)),
                                                         language),
            None if away else outcome, [view for view in views if view.submission_id == visit.submission_id], away))
    moments = {submission_id: (visit.visit_date or dt.date.min,
                               visit.visited_at.isoformat() if visit.visited_at else "", submission_id)
               for submission_id, visit in by_id.items()}
    return sorted(timeline, key=lambda entry: moments[entry.submission_id], reverse=True)


def household_label(number: str | None, head: str | None, language: str) -> str:
    """A household as people read it: "3号户（户主 张三）", or "3号户" without a head (the search results)."""
    if head:
        return _pick(_WORDS["household_label"], language).format(number=number or "", head=head)
    return _pick(_WORDS["household_no_head"], language).format(number=number or "")


# ---- names and labels of the register's pages -------------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    """A value as a page shows it: words, with the page it links to or the area it names (shown with |area)."""

    text: str = ""
    href: tuple[str, str] | None = None   # (endpoint kind, key): ("person", uuid), ("household", uuid), ("visit", id)
    area: str | None = None               # an area's full name


_SETTABLE_CHOICES = {name.partition(":")[2]: list_name for name, list_name in CHOICE_FIELDS.items()}
_HOUSEHOLD_VALUES = ("household", "household_uuid", "split_from")


class Namer:
    """Names and labels for one page in one language: households by number and head, people by name, submissions by
    form, day and collector, fields and codes by their labels. Ask for everything first (`want_*`), then read.
    ID numbers and phones are masked unless `full` (the person page)."""

    def __init__(self, language: str, *, full: bool = False) -> None:
        self.language = language
        self.full = full
        self._households: set[str] = set()
        self._people: set[str] = set()
        self._submissions: set[int] = set()
        self._groups: set[int] = set()
        self._decisions: set[int] = set()
        self.household_rows: dict = {}
        self.household_numbers: dict[str, str] = {}
        self.people: dict[str, str | None] = {}
        self.former_names: dict[str, str] = {}
        self.submissions: dict = {}
        self.groups: dict[int, str] = {}
        self.decisions: dict = {}

    def want_households(self, uuids: Iterable[str | None]) -> None:
        self._households.update(uuid for uuid in uuids if uuid)

    def want_people(self, uuids: Iterable[str | None]) -> None:
        self._people.update(uuid for uuid in uuids if uuid)

    def want_submissions(self, ids: Iterable[int | None]) -> None:
        self._submissions.update(i for i in ids if i is not None)

    def want_decisions(self, ids: Iterable[int | None]) -> None:
        self._decisions.update(i for i in ids if i is not None)

    def want_value(self, field_name: str, value: str | None) -> None:
        if not value:
            return
        if field_name in _HOUSEHOLD_VALUES:
            self._households.add(value)
        elif field_name == "group" and value.isdigit():
            self._groups.add(int(value))

    def _load(self) -> None:
        """Read what was asked for since the last read (one query per kind)."""
        households, self._households = self._households, set()
        if households:
            self.household_rows.update(queries.household_labels(households))
            self.household_numbers.update(register_queries.last_values(households - set(self.household_rows),
                                                                       "household_no"))
        people, self._people = self._people, set()
        if people:
            found = register_queries.people_by_uuid(people)
            self.people.update((uuid, person.name) for uuid, person in found.items())
            self.former_names.update(register_queries.last_values(people - set(found), "name"))
        submissions, self._submissions = self._submissions, set()
        self.submissions.update(register_queries.submission_labels(submissions))
        groups, self._groups = self._groups, set()
        self.groups.update(register_queries.group_names(groups))
        decisions, self._decisions = self._decisions, set()
        self.decisions.update(register_queries.decisions_by_id(decisions))

    def word(self, name: str, **values) -> str:
        return _pick(_WORDS[name], self.language).format(**values)

    def household(self, uuid: str | None) -> Shown:
        """"3号户（户主 张三）", linked; a household merged away since by its number, not linked."""
        self._load()
        if not uuid:
            return Shown()
        found = self.household_rows.get(uuid)
        if found is not None:
            return Shown(_household_words(found, self.language), ("household", uuid))
        number = self.household_numbers.get(uuid)
        if number:
            return Shown(self.word("household_no_head", number=number))
        return Shown(self.word("not_in_register"))

    def person(self, uuid: str | None) -> Shown:
        """A person's name, linked; one merged away since by the last name recorded, not linked."""
        self._load()
        if not uuid:
            return Shown()
        if uuid in self.people:
            return Shown(self.people[uuid] or self.word("unnamed"), ("person", uuid))
        return Shown(self.former_names.get(uuid) or self.word("not_in_register"))

    def submission(self, submission_id: int | None) -> Shown:
        """"入户访视 · 2026-11-03 · 李四", linked to the visit's page."""
        self._load()
        found = self.submissions.get(submission_id) if submission_id is not None else None
        if found is None:
            return Shown()
        form = _pick(_FORM_NAMES.get(found.xml_form_id, (found.form_title or "", found.form_title or "")),
                     self.language)
        day = found.visit_date or clock.date_of(found.visited_at or found.received_at)
        text = (self.word("submission", form=form, day=day.isoformat(), collector=found.collector) if found.collector
                else self.word("submission_nobody", form=form, day=day.isoformat()))
        return Shown(text, ("visit", str(submission_id)))

    def decision(self, decision_id: int | None) -> Shown:
        """A decision by its kind and day ("更正字段值（或处理冲突） · 2026-11-08")."""
        self._load()
        found = self.decisions.get(decision_id) if decision_id is not None else None
        if found is None:
            return Shown()
        return Shown(self.word("decided", kind=self.code("decision_kind", found.kind),
                               day=clock.date_of(found.decided_at).isoformat()))

    def code(self, list_name: str, code: str | None) -> str:
        """A code's label; one the catalogue does not know as "(not on the list: …)", never bare."""
        if not code:
            return ""
        return code_label(list_name, code, self.language) or self.word("not_on_list", code=code)

    def field(self, name: str) -> str:
        return self.code("register_field", name)

    def value(self, field_name: str, value: str | None) -> Shown:
        """A field's value in words: a choice by its label, a household by its name, a group by its area."""
        self._load()
        if value is None or value == "":
            return Shown()
        if field_name in _SETTABLE_CHOICES:
            return Shown(self.code(_SETTABLE_CHOICES[field_name], value))
        if field_name == "tier":
            return Shown(self.code("tier", value))
        if field_name in _HOUSEHOLD_VALUES:
            return self.household(value)
        if field_name == "group":
            name = self.groups.get(int(value)) if value.isdigit() else None
            return Shown(area=name) if name else Shown(self.word("not_in_register"))
        return Shown(value if self.full else mask_value(field_name.rpartition(":")[2], value))


def _household_words(found: queries.HouseholdLabel, language: str) -> str:
    number = found.household_no or ""
    if found.head_name:
        return _pick(_WORDS["household_label"], language).format(number=number, head=found.head_name)
    return _pick(_WORDS["household_no_head"], language).format(number=number)


@dataclass(frozen=True)
class PersonFields:
    """A person's current values in words (the person page, a side of a duplicate pair)."""

    uuid: str
    name: str
    sex: str
    birth_date: str
    id_number: str
    phone: str
    household: Shown
    relationship: str
    residence: str
    status: str
    tier: str


def person_fields(person, namer: Namer) -> PersonFields:
    return PersonFields(person.uuid, person.name or "", namer.code("sex", person.sex), person.birth_date or "",
                        person.id_number or "", person.phone or "", namer.household(person.household_uuid),
                        namer.code("relationship", person.relationship), namer.code("residence", person.residence),
                        namer.code("status", person.status), namer.code("tier", person.tier))


@dataclass(frozen=True)
class HistoryRow:
    field: str
    value: Shown
    source: Shown                  # the visit that stated it (linked), or the decision that set it
    day: dt.date | None


@dataclass(frozen=True)
class MergeRow:
    decision_id: int
    merged: Shown                  # the record merged in, by its name
    decided_at: dt.datetime


def _history(rows: list, namer: Namer) -> list[HistoryRow]:
    for row in rows:
        namer.want_value(row.field, row.value)
    namer.want_submissions(row.submission_id for row in rows)
    namer.want_decisions(row.decision_id for row in rows)
    history = []
    for row in rows:
        source = namer.submission(row.submission_id) if row.submission_id else namer.decision(row.decision_id)
        day = (clock.date_of(row.visited_at if row.visited_at.tzinfo else row.visited_at.replace(tzinfo=dt.timezone.utc))
               if row.visited_at else None)
        history.append(HistoryRow(namer.field(row.field), namer.value(row.field, row.value), source, day))
    return history


def _openable(principal: Principal, history: list[HistoryRow]) -> list[HistoryRow]:
    """The history with links only to the visits and households the reader may open: a person who moved in keeps
    the values their old village recorded, but not a way into its visits and households."""
    def linked(shown: Shown, paths: dict) -> Shown:
        if shown.href is None or shown.href[0] not in ("visit", "household"):
            return shown
        path = paths[shown.href[0]].get(shown.href[1])
        return shown if path is not None and area_contains(principal.area_path, path) else Shown(shown.text)

    shown = [value for row in history for value in (row.value, row.source) if value.href]
    visits = register_queries.submission_paths(int(value.href[1]) for value in shown if value.href[0] == "visit")
    households = {uuid: placed.group.path for uuid in {value.href[1] for value in shown if value.href[0] == "household"}
                  if (placed := register_queries.household_page_rows(uuid)) is not None}
    paths = {"visit": {str(key): path for key, path in visits.items()}, "household": households}
    return [HistoryRow(row.field, linked(row.value, paths), linked(row.source, paths), row.day) for row in history]


def _merges(decisions: list, kind: str, namer: Namer) -> list[MergeRow]:
    (namer.want_people if kind == "person" else namer.want_households)(d.subject_uuid for d in decisions)
    return [MergeRow(d.id, (namer.person if kind == "person" else namer.household)(d.subject_uuid), d.decided_at)
            for d in decisions]


@dataclass(frozen=True)
class PersonView:
    page: browsing.PersonPage
    timeline: list[TimelineVisit]
    fields: PersonFields
    household: Shown
    history: list[HistoryRow]
    events: list[tuple[str, dt.date | None, str]]   # (kind's label, date, place or destination)
    merges: list[MergeRow]
    lives_here: bool = True                          # the reader's area is where the person lives (not a former one)
    moved: tuple[str, dt.date | None] | None = None  # their last move out: where to (a full name or place), when
    consent_withdrawn: str | None = None             # the day of their latest withdrawal of consent in force


@dataclass(frozen=True)
class HouseholdView:
    page: browsing.HouseholdPage
    timeline: list[TimelineVisit]
    name: str
    members: list[PersonFields]
    history: list[HistoryRow]
    merges: list[MergeRow]


# ---- the duplicate queue and the conflicts ----------------------------------------------------------------------

@dataclass(frozen=True)
class DepartedView:
    """A move pair's person who moved out, as the arrival's cadre reads them: not their record."""

    uuid: str                      # the record kept when the cadre says "the same person"
    name: str
    sex: str
    birth_date: str
    village: str | None            # the village they left, by its full name (shown with |area)
    moved_on: dt.date | None       # the day of their latest move out


@dataclass(frozen=True)
class PairView:
    candidate: object
    sides: list[PersonFields | Shown]   # a person's fields, or a household by its name; of a move pair, the arrival
    addresses: list[str]                # a household's address (households only)
    reasons: list[str]
    departed: DepartedView | None = None   # a move pair: "is this the person who moved out of … on …?"


DUPLICATES_PAGE_SIZE = 20
CONFLICTS_PAGE_SIZE = 50     # a county holds thousands of open conflicts: a page at a time


def duplicate_page(principal: Principal, page: int, language: str) -> tuple[list[PairView], int]:
    """A page of the duplicate queue in words, and how many pairs it holds."""
    queue = browsing.duplicate_queue(principal, offset=(page - 1) * DUPLICATES_PAGE_SIZE, limit=DUPLICATES_PAGE_SIZE)
    namer = Namer(language)
    for pair in queue.pairs:
        if pair.departed is not None:
            namer.want_households((pair.a.household_uuid,))
        elif pair.candidate.record_kind == "person":
            namer.want_households((pair.a.household_uuid, pair.b.household_uuid))
        else:
            namer.want_households((pair.a.uuid, pair.b.uuid))
    views = []
    for pair in queue.pairs:
        reasons = [_pick(reason, language) for reason in pair.reasons]
        if pair.departed is not None:
            gone = pair.departed
            views.append(PairView(pair.candidate, [person_fields(pair.a, namer)], [], reasons, DepartedView(
                gone.uuid, gone.name or "", namer.code("sex", gone.sex), gone.birth_date or "", gone.village,
                gone.moved_on)))
            continue
        if pair.candidate.record_kind == "person":
            sides, addresses = [person_fields(pair.a, namer), person_fields(pair.b, namer)], []
        else:
            sides = [namer.household(pair.a.uuid), namer.household(pair.b.uuid)]
            addresses = [pair.a.address or "", pair.b.address or ""]
        views.append(PairView(pair.candidate, sides, addresses, reasons))
    return views, queue.total


@dataclass(frozen=True)
class ConflictChoice:
    value: str
    shown: Shown
    source: Shown                  # the visit it came from
    current: bool                  # the value now in the register


@dataclass(frozen=True)
class ConflictView:
    id: int
    field: str                     # the field's name (which input a corrected value takes)
    field_label: str
    record: Shown
    group_name: str
    choices: list[ConflictChoice]
    instance_ids: tuple[str, str]  # for the support fold


def _choice_value(field_name: str, value: str, token: str) -> str:
    """What a conflict's choice posts: the value itself, or for an ID number or phone (shown masked) the token
    naming which of the two it is (register.decisions.resolve_conflict reads it)."""
    return token if field_name in MASKED_FIELDS else value


def conflict_page(principal: Principal, language: str, page: int = 1) -> tuple[list[ConflictView], int]:
    """A page of the open conflicts of the reader's area (oldest first, CONFLICTS_PAGE_SIZE a page) in words: the
    field's label, both values' labels and their visits; and how many the area has (a county: thousands)."""
    every = browsing.conflict_queue(principal)
    found = every[(page - 1) * CONFLICTS_PAGE_SIZE:page * CONFLICTS_PAGE_SIZE]
    namer = Namer(language)
    by_instance = register_queries.submissions_by_instance(
        {instance for item in found for instance in (item.conflict.instance_id, item.conflict.other_instance_id)})
    namer.want_submissions(by_instance.values())
    for item in found:
        namer.want_value(item.conflict.field, item.conflict.value)
        namer.want_value(item.conflict.field, item.conflict.other_value)
        (namer.want_people if item.record_kind == "person" else namer.want_households)([item.conflict.record_uuid])
    views = []
    for item in found:
        conflict = item.conflict
        record = (namer.person(conflict.record_uuid) if item.record_kind == "person"
                  else namer.household(conflict.record_uuid))
        views.append(ConflictView(
            conflict.id, conflict.field, namer.field(conflict.field), record, item.group_name,
            [ConflictChoice(_choice_value(conflict.field, conflict.value, CONFLICT_REGISTER_VALUE),
                            namer.value(conflict.field, conflict.value),
                            namer.submission(by_instance.get(conflict.instance_id)), True),
             ConflictChoice(_choice_value(conflict.field, conflict.other_value, CONFLICT_VISIT_VALUE),
                            namer.value(conflict.field, conflict.other_value),
                            namer.submission(by_instance.get(conflict.other_instance_id)), False)],
            (conflict.instance_id, conflict.other_instance_id)))
    return views, len(every)


@dataclass(frozen=True)
class ChangeRow:
    record: Shown
    field: str
    before: Shown
    after: Shown


def _changes(changes: list, namer: Namer) -> list[ChangeRow]:
    for change in changes:
        namer.want_value(change.value.field, change.value.value)
        namer.want_value(change.value.field, change.before)
        (namer.want_people if change.value.record_kind == "person" else namer.want_households)(
            [change.value.record_uuid])
    return [ChangeRow(namer.person(change.value.record_uuid) if change.value.record_kind == "person"
                      else namer.household(change.value.record_uuid), namer.field(change.value.field),
                      namer.value(change.value.field, change.before), namer.value(change.value.field, change.value.value))
            for change in changes]


def pair_names(candidate_id: int, language: str) -> dict[str, str]:
    """The names of a candidate pair's two records, by uuid (after the decision about it: merged away or not)."""
    candidate = register_queries.candidate(candidate_id)
    if candidate is None:
        return {}
    namer = Namer(language)
    uuids = (candidate.a_uuid, candidate.b_uuid)
    if candidate.record_kind == "person":
        namer.want_people(uuids)
        return {uuid: namer.person(uuid).text for uuid in uuids}
    namer.want_households(uuids)
    return {uuid: namer.household(uuid).text for uuid in uuids}


# ---- the audit log ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditRow:
    at: dt.datetime
    who: str                       # display name ("" for the system)
    what: str                      # the action's words
    area: str | None               # the area's full name (shown with |area)
    subject: Shown                 # a person, household, visit or account by name; a month as it is
    support: str                   # the subject as recorded, when it is not shown by name (the support fold)
    records: int
    reason: str = ""               # why, when the action was asked for with a reason (an export in full)


_USER_ACTIONS = ("collector.create", "collector.token", ".revoke", ".activate")


def audit_log(principal: Principal, page: int, language: str) -> tuple[list[AuditRow], int, bool]:
    """A page of the audit log of the reader's area (the town office's), newest first, in words; its size, and
    whether it holds more than that (counted up to a cap: server.database.counted_up_to)."""
    if principal.role not in TOWN_OFFICE_ROLES:
        raise Forbidden("the audit log is for the town office")
    found = listing.page(principal.area_path, page)
    namer = Namer(language)
    kinds = {entry.event.id: _subject_kind(entry.event.action) for entry in found.entries}
    subjects = {entry.event.id: entry.event.subject or "" for entry in found.entries}
    namer.want_people(subjects[i] for i, kind in kinds.items() if kind in ("person", "record"))
    namer.want_households(subjects[i] for i, kind in kinds.items() if kind in ("household", "record"))
    namer.want_submissions(int(subjects[i]) for i, kind in kinds.items() if kind == "visit" and subjects[i].isdigit())
    users = listing.display_names({subjects[i] for i, kind in kinds.items() if kind == "user"})
    rows = []
    for entry in found.entries:
        event, kind, subject = entry.event, kinds[entry.event.id], subjects[entry.event.id]
        shown = Shown()
        if kind == "record":       # a field set on a person or a household
            shown = namer.person(subject) if subject in namer.people else namer.household(subject)
            shown = shown if shown.href else Shown()
        elif kind == "person":
            shown = namer.person(subject)
        elif kind == "household":
            shown = namer.household(subject)
        elif kind == "visit" and subject.isdigit():
            shown = namer.submission(int(subject))
        elif kind == "user":
            shown = Shown(users.get(subject, ""))
        elif kind == "month":
            shown = Shown(subject)
        rows.append(AuditRow(event.at, entry.username or "", audit_action_label(event.action, language),
                             entry.area_name, shown, "" if shown.text else subject, event.records,
                             event.reason or ""))
    return rows, found.total, found.more


def _subject_kind(action: str) -> str | None:
    """What an action's subject names: a person, a household, a visit (a submission id), an account, a month."""
    scope, _, name = action.partition(".")
    if action in ("person.read",) or scope in ("register", "replication"):
        kind = DECISION_KINDS.get(name.removeprefix("undo_"))
        if action == "person.read":
            return "person"
        if kind is None or name.startswith("undo_"):
            return None            # an undo names the decision; "not the same" the candidate pair
        if kind.subject_is_visit:
            return "visit"
        return kind.record_kind or ("record" if kind.name == "set_field" else None)
    if action == "household.read":
        return "household"
    if scope == "copy":                   # a person's own copy: requested, read, produced, handed over
        return "person"
    if scope == "visit":
        return "visit"
    if any(action.endswith(suffix) or action == suffix for suffix in _USER_ACTIONS):
        return "user"
    if scope == "export" and action != "export.register":
        return "month"
    if scope == "recheck":                 # a re-check names the household; a sample drawn or read, its month
        return "household" if name == "record" else "month"
    return None
