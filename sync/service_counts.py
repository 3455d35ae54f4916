"""The town's monthly service counts (服务情况), per village: visits by outcome, services by kind, supplies by item and quantity, referrals made and closed, support requests by kind (pure).

What is counted, for a calendar month:

* visits dated in the month (the phone's date), by outcome: completed, or attempted and not completed (nobody
  home, refused, moved away);
* services given on visits dated in the month, by the service's code;
* supplies handed out (`given`) on visits dated in the month, by item: how many times and how many in all; a
  quantity flagged as odd (sync.services.PROBLEMS) is left out of the total and counted as one to correct; supplies
  requested but not handed out yet are counted apart, by item;
* referrals made on visits dated in the month; referrals closed in the month (a result that closes one, attended or
  declined, recorded in the month by a follow-up or a cadre, whenever the referral was made); referrals still open
  at the month's end;
* support requests recorded on visits dated in the month, by kind.

Items are counted as they stand (corrections applied: sync.services.item_state). Labels are the words of the forms'
choice lists (`ChoiceWords`), with the fallbacks below when a form does not have the code; never a code.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sync.code_labels import CODE_LABELS
from sync.form_labels import FormLabels
from sync.periods import month_start, next_month
from sync.services import CLOSING_RESULTS, SUPPLY_ITEMS, SUPPORT_KINDS

__all__ = ["VISIT_OUTCOMES", "CLOSED_REFERRALS", "QUANTITY_PROBLEMS", "NOT_STATED", "NOT_LISTED", "VisitRow",
           "ItemRow", "SupplyCount", "ServiceCounts", "SummaryTable", "ChoiceWords", "service_counts", "combined",
           "summary_tables"]

VISIT_OUTCOMES = {"completed": "完成 Completed", "nobody_home": "无人在家 Nobody home", "refused": "拒绝 Refused",
                  "moved_away": "已搬走 Moved away"}
"""The outcomes a visit can have (both forms' `outcome` list), with the summary's words for them."""

CLOSED_REFERRALS = {"attended": "本月结案：已就诊 Closed this month: attended",
                    "declined": "本月结案：拒绝 Closed this month: declined"}
"""The results that close a referral (sync.services.CLOSING_RESULTS), with the summary's words for them."""

QUANTITY_PROBLEMS = frozenset({"quantity_not_a_number", "quantity_not_positive", "quantity_absurd"})
"""Problems (sync.services.PROBLEMS) that keep a quantity out of the totals until a cadre corrects it."""

NOT_STATED = "未注明 Not stated"
NOT_LISTED = "不在清单中 Not on the list"

_SERVICE_NOT_COUNTED = frozenset({"supplies"})   # the "supplies" service: its items are counted on their own


@dataclass(frozen=True)
class VisitRow:
    """A visit as the summary counts it: its village, its date on the phone, its outcome code."""

    village: str
    day: dt.date | None
    outcome: str


@dataclass(frozen=True)
class ItemRow:
    """A service item as it stands (corrected), with its village and the date of the visit that recorded it."""

    village: str
    kind: str                       # a sync.services.ITEM_KINDS name
    code: str | None
    day: dt.date | None             # the visit's date
    quantity: int | None = None
    given: bool | None = None
    problems: tuple[str, ...] = ()
    result: str | None = None       # a referral's latest result
    result_on: dt.date | None = None  # the town's date the result was recorded


@dataclass(frozen=True)
class SupplyCount:
    """Supplies of one item handed out: how many times, how many in all (odd quantities left out), how many odd."""

    times: int = 0
    quantity: int = 0
    to_correct: int = 0

    def __add__(self, other: SupplyCount) -> SupplyCount:
        return SupplyCount(self.times + other.times, self.quantity + other.quantity,
                           self.to_correct + other.to_correct)


@dataclass(frozen=True)
class ServiceCounts:
    """One village's (or the town's) month; codes as stored ("" for none)."""

    visits: Mapping[str, int] = field(default_factory=dict)          # by outcome
    services: Mapping[str, int] = field(default_factory=dict)        # by service code
    supplies_given: Mapping[str, SupplyCount] = field(default_factory=dict)   # by item
    supplies_not_given: Mapping[str, int] = field(default_factory=dict)       # times requested, by item
    referrals_made: int = 0
    referrals_closed: Mapping[str, int] = field(default_factory=dict)  # by closing result
    referrals_open: int = 0                                            # still open at the month's end
    requests: Mapping[str, int] = field(default_factory=dict)        # support requests by kind

    @property
    def completed(self) -> int:
        return self.visits.get("completed", 0)

    @property
    def attempted(self) -> int:
        """Visits that were not completed (nobody home, refused, moved away)."""
        return sum(self.visits.values()) - self.completed


def service_counts(visits: Iterable[VisitRow], items: Iterable[ItemRow], month: dt.date) -> dict[str, ServiceCounts]:
    """Each village's counts for `month` (villages with nothing in the month are left out)."""
    start, end = month_start(month), next_month(month)
    last_day = end - dt.timedelta(days=1)

    def in_month(day: dt.date | None) -> bool:
        return day is not None and start <= day < end

    outcomes: dict[str, Counter[str]] = {}
    for visit in visits:
        if in_month(visit.day):
            outcomes.setdefault(visit.village, Counter())[visit.outcome] += 1
    tallies: dict[str, _Tally] = {}
    for item in items:
        tally = tallies.setdefault(item.village, _Tally())
        code = item.code or ""
        if item.kind == "referral":
            if in_month(item.day):
                tally.referrals_made += 1
            closed = item.result in CLOSING_RESULTS and item.result_on is not None
            if closed and in_month(item.result_on):
                tally.referrals_closed[item.result] += 1
            if item.day is not None and item.day <= last_day and not (closed and item.result_on <= last_day):
                tally.referrals_open += 1
        elif not in_month(item.day):
            continue
        elif item.kind == "service" and code not in _SERVICE_NOT_COUNTED:
            tally.services[code] += 1
        elif item.kind == "supply" and item.given:
            odd = bool(QUANTITY_PROBLEMS & set(item.problems)) or item.quantity is None
            tally.supplies_given[code] += SupplyCount(1, 0 if odd else item.quantity, 1 if odd else 0)
        elif item.kind == "supply":
            tally.supplies_not_given[code] += 1
        elif item.kind == "support_request":
            tally.requests[code] += 1
    villages = sorted(set(outcomes) | {village for village, tally in tallies.items() if tally.counts_anything()})
    return {village: tallies.get(village, _Tally()).counts(outcomes.get(village, Counter())) for village in villages}


class _Tally:
    def __init__(self) -> None:
        self.services: Counter[str] = Counter()
        self.supplies_given: dict[str, SupplyCount] = _Supplies()
        self.supplies_not_given: Counter[str] = Counter()
        self.referrals_made = 0
        self.referrals_closed: Counter[str] = Counter()
        self.referrals_open = 0
        self.requests: Counter[str] = Counter()

    def counts_anything(self) -> bool:
        return bool(self.services or self.supplies_given or self.supplies_not_given or self.referrals_made
                    or self.referrals_closed or self.referrals_open or self.requests)

    def counts(self, outcomes: Counter[str]) -> ServiceCounts:
        return ServiceCounts(visits=dict(outcomes), services=dict(self.services),
                             supplies_given=dict(self.supplies_given), supplies_not_given=dict(self.supplies_not_given),
                             referrals_made=self.referrals_made, referrals_closed=dict(self.referrals_closed),
                             referrals_open=self.referrals_open, requests=dict(self.requests))


class _Supplies(dict):
    def __missing__(self, key: str) -> SupplyCount:
        return SupplyCount()


def combined(counts: Iterable[ServiceCounts]) -> ServiceCounts:
    """The sum of several villages' counts (the town's total)."""
    visits, services, not_given, closed, requests = Counter(), Counter(), Counter(), Counter(), Counter()
    given: dict[str, SupplyCount] = _Supplies()
    made = still_open = 0
    for part in counts:
        visits.update(part.visits)
        services.update(part.services)
        not_given.update(part.supplies_not_given)
        closed.update(part.referrals_closed)
        requests.update(part.requests)
        for item, supply in part.supplies_given.items():
            given[item] += supply
        made += part.referrals_made
        still_open += part.referrals_open
    return ServiceCounts(dict(visits), dict(services), dict(given), dict(not_given), made, dict(closed), still_open,
                         dict(requests))


class ChoiceWords:
    """The words of the choice lists the summary names: the first of the forms (current versions) that has the list,
    else sync.code_labels.CODE_LABELS; both languages, as the report's headers are written ("叶酸 Folic acid")."""

    def __init__(self, forms: Sequence[FormLabels] = ()) -> None:
        self.forms = tuple(forms)

    def codes(self, list_name: str) -> list[str]:
        """The list's codes in the form's order (the fallback's when no form has the list)."""
        for labels in self.forms:
            if labels.choices.get(list_name):
                return list(labels.choices[list_name])
        return list(CODE_LABELS.get(list_name, {}))

    def label(self, list_name: str, code: str | None) -> str:
        if not code:
            return NOT_STATED
        for labels in self.forms:
            zh, en = labels.choice(list_name, code, "zh"), labels.choice(list_name, code, "en")
            if zh or en:
                return " ".join(dict.fromkeys(word for word in (zh, en) if word))
        known = CODE_LABELS.get(list_name, {}).get(code)
        return " ".join(known) if known else NOT_LISTED


_Column = tuple[str, Callable[[ServiceCounts], int]]   # a column's words, and how a village's counts give it


@dataclass(frozen=True)
class SummaryTable:
    """A section of the summary: its heading, its columns' words, and each village's numbers in that order (the
    report adds the town's total row)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]


def summary_tables(counts: Mapping[str, ServiceCounts], villages: Sequence[str],
                   words: ChoiceWords) -> tuple[SummaryTable, ...]:
    """The summary's sections, one row per village of `villages` (in that order; a village without counts has
    zeros): visits, services, supplies given (quantity), supplies requested and not given, referrals, requests."""
    empty = ServiceCounts()
    of = [(village, counts.get(village, empty)) for village in villages]
    everything = combined(counts.values())

    def table(title: str, columns: Sequence[_Column]) -> SummaryTable:
        return SummaryTable(title, tuple(label for label, _ in columns),
                            tuple((village, tuple(value(part) for _, value in columns)) for village, part in of))

    outcomes = [*VISIT_OUTCOMES, *sorted(set(everything.visits) - set(VISIT_OUTCOMES))]
    visit_columns = [(VISIT_OUTCOMES.get(outcome, "其他结果 Other outcome"), _outcome(outcome)) for outcome in outcomes]
    visit_columns += [("未完成合计 Attempted, not completed", lambda part: part.attempted),
                      ("访视合计 All visits", lambda part: sum(part.visits.values()))]
    return (
        table("访视 Visits (by outcome)", visit_columns),
        table("服务 Services given (times)",
              _by_code(words, "services", [code for code in words.codes("services") if code not in _SERVICE_NOT_COUNTED],
                       everything.services, lambda part: part.services)),
        table("药具发放数量（应本人要求）Supplies given on request (quantity)",
              [*_by_code(words, "supply_item", _listed(words, "supply_item", SUPPLY_ITEMS),
                         {code: supply.quantity for code, supply in everything.supplies_given.items()},
                         lambda part: {code: supply.quantity for code, supply in part.supplies_given.items()}),
               ("数量待更正（次）Quantities to correct (times)",
                lambda part: sum(supply.to_correct for supply in part.supplies_given.values()))]),
        table("已申请、未发放药具（次）Supplies requested, not given yet (times)",
              _by_code(words, "supply_item", _listed(words, "supply_item", SUPPLY_ITEMS), everything.supplies_not_given,
                       lambda part: part.supplies_not_given)),
        table("转介 Referrals", [
            ("本月转介 Made this month", lambda part: part.referrals_made),
            *((label, _closed(result)) for result, label in CLOSED_REFERRALS.items()),
            ("月末未结案 Open at the month's end", lambda part: part.referrals_open)]),
        table("扶助与关爱需求（次）Support requested (times)",
              _by_code(words, "service_needs", list(SUPPORT_KINDS), everything.requests, lambda part: part.requests)),
    )


def _outcome(outcome: str) -> Callable[[ServiceCounts], int]:
    return lambda part: part.visits.get(outcome, 0)


def _closed(result: str) -> Callable[[ServiceCounts], int]:
    return lambda part: part.referrals_closed.get(result, 0)


def _listed(words: ChoiceWords, list_name: str, known: Sequence[str]) -> list[str]:
    """A list's codes in the form's order, with any code the reader knows that the form lacks after them."""
    codes = words.codes(list_name)
    return [*codes, *(code for code in known if code not in codes)]


def _by_code(words: ChoiceWords, list_name: str, listed: Sequence[str], seen: Mapping[str, int],
             values: Callable[[ServiceCounts], Mapping[str, int]]) -> list[_Column]:
    """One column per listed code, one for codes written with no value (if any) and one for every other code (if
    any), then the total."""
    listed = list(dict.fromkeys(listed))
    others = sorted(code for code, count in seen.items() if count and code and code not in listed)
    columns = [(words.label(list_name, code), _value(values, code)) for code in listed]
    if seen.get(""):
        columns.append((NOT_STATED, _value(values, "")))
    if others:
        columns.append((NOT_LISTED, lambda part: sum(values(part).get(code, 0) for code in others)))
    columns.append(("合计 Total", lambda part: sum(values(part).values())))
    return columns


def _value(values: Callable[[ServiceCounts], Mapping[str, int]], code: str) -> Callable[[ServiceCounts], int]:
    return lambda part: values(part).get(code, 0)
