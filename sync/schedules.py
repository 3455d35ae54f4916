"""Visit schedules: rules as data (cadence tiers, event windows), and due or overdue flags computed for an as-of date.

Nothing here is stored: `flags_for` computes a person's flags from their tier history, anchor events and completed
visits for a given `as_of` date (a calendar date in the schedule's timezone), so figures for a past date reproduce.

Tier rules (one completed visit inside each calendar period):

* A period (month, quarter, year) is judged by the tier the person had on its **first day**: a person given the
  key tier on 15 November is first due a monthly visit in December; a quarter that began in the general tier
  is still a general quarter.
* The flag on the as-of date: **done** when the current period has a qualifying visit; otherwise **overdue** when the
  period before it (judged the same way) had none, counting the run of missed periods back (at most
  `lookback_periods`) and the days since the first missed period ended; otherwise **due** by the period's end.
* A qualifying visit: a completed visit to the person's household, or a completed follow-up of the rule's code,
  dated inside the period. A late-synced visit dated in a missed period clears it the moment it is merged.

Event rules (a window after an anchor event): due from day `due_from_day`, overdue after day `overdue_after_day`,
expired after day `expires_after_day`; done when a completed follow-up of the rule's code is dated on or after the
anchor and no later than the window's end. Before the window opens the flag is **upcoming**.

Referrals (sync.services): a referral without a closing result (attended or declined) is due from day
`due_after_day` after it was made and overdue after day `overdue_after_day` ([referrals] in the schedule file).
A next visit agreed with a household is due on the day agreed, overdue after `overdue_after_day` days
([agreed_visits]), and done by any completed visit after the visit that agreed it.

People who died or moved away (`active_until` on or before the as-of date) have no flags.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from sync.errors import ScheduleInvalid
from sync.periods import DEFAULT_TIMEZONE, PERIOD_KINDS, Period, local_date, period_of

__all__ = ["ANCHOR_KINDS", "STATUSES", "TierRule", "EventRule", "ReferralRule", "AgreedVisitRule", "Schedule",
           "parse_schedule", "default_schedule", "VisitDone", "Anchor", "ReferralMade", "VisitAgreed", "PersonSchedule",
           "tiers_from", "Flag", "flags_for", "flags_of", "most_overdue_first", "summarise"]

ANCHOR_KINDS = ("birth", "operation", "pregnancy_reported")
STATUSES = ("upcoming", "due", "overdue", "done", "expired")


# ---- rules -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TierRule:
    code: str           # the follow-up form's followup_type code, e.g. tier_key
    tier: str           # the tier a person is given, e.g. key
    period: str
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class EventRule:
    code: str
    anchor: str
    due_from_day: int
    overdue_after_day: int
    expires_after_day: int
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class ReferralRule:
    """A referral nobody has followed up: due from day `due_after_day` after it was made, overdue after day
    `overdue_after_day`, until its result is recorded (attended or declined: by a follow-up or the cadre)."""

    due_after_day: int = 14
    overdue_after_day: int = 30
    label_zh: str = "转介跟进"
    label_en: str = "Follow-up of a referral"
    code: str = "referral"      # the follow-up form's followup_type code


@dataclass(frozen=True)
class AgreedVisitRule:
    """The next visit a collector agreed with a household: due on the day agreed, overdue after
    `overdue_after_day` days; done by any completed visit to the household (or follow-up of the person) after the
    visit that agreed it."""

    overdue_after_day: int = 7
    label_zh: str = "约定的访视"
    label_en: str = "Visit agreed with the household"
    code: str = "agreed_visit"


@dataclass(frozen=True)
class Schedule:
    timezone: str
    lookback_periods: int
    tiers: tuple[TierRule, ...]
    events: tuple[EventRule, ...]
    referral: ReferralRule = ReferralRule()
    agreed_visit: AgreedVisitRule = AgreedVisitRule()

    def rule(self, code: str) -> TierRule | EventRule | ReferralRule | AgreedVisitRule:
        return next(rule for rule in (*self.tiers, *self.events, self.referral, self.agreed_visit)
                    if rule.code == code)

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(rule.tier for rule in self.tiers)


class _Labels(Schema):
    label_zh = fields.String(required=True, validate=validate.Length(min=1, max=100))
    label_en = fields.String(required=True, validate=validate.Length(min=1, max=100))


class _TierSchema(_Labels):
    tier = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,19}$"))
    period = fields.String(required=True, validate=validate.OneOf(PERIOD_KINDS))


class _EventSchema(_Labels):
    anchor = fields.String(required=True, validate=validate.OneOf(ANCHOR_KINDS))
    due_from_day = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=3650))
    overdue_after_day = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=3650))
    expires_after_day = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=3650))

    @validates_schema
    def _ordered(self, data, **_kwargs) -> None:
        if not data["due_from_day"] <= data["overdue_after_day"] <= data["expires_after_day"]:
            raise ValidationError("need due_from_day <= overdue_after_day <= expires_after_day")


class _ReferralSchema(_Labels):
    due_after_day = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=3650))
    overdue_after_day = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=3650))

    @validates_schema
    def _ordered(self, data, **_kwargs) -> None:
        if not data["due_after_day"] <= data["overdue_after_day"]:
            raise ValidationError("need due_after_day <= overdue_after_day")


class _AgreedVisitSchema(_Labels):
    overdue_after_day = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=3650))


_CODE = validate.Regexp(r"^[a-z][a-z0-9_]{0,29}$", error="codes are lowercase letters, digits and _")


class _ScheduleSchema(Schema):
    timezone = fields.String(load_default=DEFAULT_TIMEZONE)
    lookback_periods = fields.Integer(load_default=12, strict=True, validate=validate.Range(min=1, max=60))
    tiers = fields.Dict(keys=fields.String(validate=_CODE), values=fields.Nested(_TierSchema), load_default=dict)
    events = fields.Dict(keys=fields.String(validate=_CODE), values=fields.Nested(_EventSchema), load_default=dict)
    referrals = fields.Nested(_ReferralSchema, load_default=None)
    agreed_visits = fields.Nested(_AgreedVisitSchema, load_default=None)

    @validates_schema
    def _consistent(self, data, **_kwargs) -> None:
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(f"unknown timezone {data['timezone']!r}", "timezone") from exc
        tiers = [rule["tier"] for rule in data["tiers"].values()]
        if len(set(tiers)) != len(tiers):
            raise ValidationError("each tier may have one rule", "tiers")
        if set(data["tiers"]) & set(data["events"]):
            raise ValidationError("a code is either a tier rule or an event rule", "events")
        if set(data["tiers"]) & _RESERVED_CODES or set(data["events"]) & _RESERVED_CODES:
            raise ValidationError(f"{' and '.join(sorted(_RESERVED_CODES))} are the codes of the referral and "
                                  "agreed-visit rules ([referrals], [agreed_visits])", "events")


def parse_schedule(text: str, *, source: str = "schedule") -> Schedule:
    """Read and validate a schedule file's TOML; a ScheduleInvalid error lists every problem with its place."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleInvalid(f"{source}: {exc}") from exc
    try:
        data = _ScheduleSchema().load(raw)
    except ValidationError as exc:
        raise ScheduleInvalid(f"{source}: " + "; ".join(_problems(exc.messages))) from exc
    return Schedule(
        timezone=data["timezone"], lookback_periods=data["lookback_periods"],
        tiers=tuple(TierRule(code=code, **rule) for code, rule in data["tiers"].items()),
        events=tuple(EventRule(code=code, **rule) for code, rule in data["events"].items()),
        referral=ReferralRule(**data["referrals"]) if data["referrals"] else ReferralRule(),
        agreed_visit=AgreedVisitRule(**data["agreed_visits"]) if data["agreed_visits"] else AgreedVisitRule())


_RESERVED_CODES = frozenset({ReferralRule.code, AgreedVisitRule.code})


def _problems(messages, path: str = "") -> list[str]:
    if isinstance(messages, Mapping):
        return [problem for key, value in messages.items()
                for problem in _problems(value, f"{path}.{key}" if path and key != "_schema" else
                                         (path if key == "_schema" else str(key)))]
    if isinstance(messages, list) and all(isinstance(message, str) for message in messages):
        return [f"{path or 'file'}: {message}" for message in messages]
    return [problem for message in messages for problem in _problems(message, path)]


def default_schedule() -> Schedule:
    """The schedule shipped with taizhang (sync/default_schedule.toml)."""
    return parse_schedule(resources.files("sync").joinpath("default_schedule.toml").read_text("utf-8"),
                          source="default_schedule.toml")


# ---- a person's schedule -----------------------------------------------------------------------------------------

class VisitDone(NamedTuple):
    """A completed visit: its date on the phone; the follow-up type for a follow-up, None for a household visit.
    (A named tuple: a county has millions of them.)"""

    day: dt.date
    followup_type: str | None = None


@dataclass(frozen=True, order=True)
class Anchor:
    """An event follow-ups count from; ordered by kind, then day (a person may have several)."""

    kind: str
    day: dt.date


class ReferralMade(NamedTuple):
    """A referral of the person (sync.services): made on `day`, closed (attended or declined) on `closed_on`. (A
    named tuple, as PersonSchedule.)"""

    day: dt.date
    key: str                                  # the service item's key
    closed_on: dt.date | None = None
    place: str | None = None


class VisitAgreed(NamedTuple):
    """A next visit agreed on the visit of `agreed_on`, for `day` (a named tuple: a county has 240,000)."""

    agreed_on: dt.date
    day: dt.date


class PersonSchedule(NamedTuple):
    """What the schedule needs of one person. (A named tuple, as VisitDone: a county makes 270,000 of them for
    one read, and a frozen dataclass costs several times as much to make.)"""

    person: str
    tiers: tuple[tuple[dt.date, str | None], ...] = ()   # (from which day, tier or None), oldest first
    visits: tuple[VisitDone, ...] = ()
    anchors: tuple[Anchor, ...] = ()
    active_until: dt.date | None = None                   # died or moved away on this day
    referrals: tuple[ReferralMade, ...] = ()
    agreed: tuple[VisitAgreed, ...] = ()

    def tier_on(self, day: dt.date) -> str | None:
        return _tier_on(self.tiers, day)


def tiers_from(changes: Iterable[tuple[dt.datetime, str]], timezone: str) -> tuple[tuple[dt.date, str | None], ...]:
    """A person's tier changes (when each was set, the tier or "" for none), oldest first, as PersonSchedule.tiers:
    each from the day it was set where the town is."""
    return tuple((local_date(at, timezone), tier or None) for at, tier in changes)


class Flag(NamedTuple):
    """What one rule asks of one person on the as-of date, with everything needed to explain it. (A named tuple,
    as PersonSchedule: a county raises 270,000 of them.)"""

    person: str
    rule: str
    status: str
    due_since: dt.date                      # since when the visit is (or was) asked for
    due_by: dt.date | None                  # the last day it counts as on time
    overdue_days: int = 0
    anchor: Anchor | None = None
    missed: tuple[Period, ...] = ()         # tier rules: the periods without a visit, oldest first
    period: Period | None = None            # tier rules: the current period
    last_visit: dt.date | None = None       # the last qualifying visit on or before the as-of date
    extra: Mapping[str, str] = MappingProxyType({})    # (read only: the default is shared)

    @property
    def key(self) -> str:
        """A stable id of the due item (person, rule, anchor, or the referral or agreed day it follows up)."""
        own = self.extra.get("item") or self.extra.get("agreed_for")
        return f"{self.person}:{self.rule}" + (f":{self.anchor.day.isoformat()}" if self.anchor else "") + (
            f":{own}" if own else "")

    def explain(self, schedule: Schedule, language: str = "zh") -> str:
        rule = schedule.rule(self.rule)
        zh = language == "zh"
        label = rule.label_zh if zh else rule.label_en
        last = (f"上次访视 {self.last_visit}" if zh else f"last visit {self.last_visit}") if self.last_visit else (
            "没有访视记录" if zh else "no visit recorded")
        state = _EVENT_STATES[self.status][0 if zh else 1].format(days=self.overdue_days, since=self.due_since,
                                                                  by=self.due_by)
        if isinstance(rule, ReferralRule):
            made, place = self.extra.get("made_on", ""), self.extra.get("place")
            where = (f"转介到{place}" if place else "转介") if zh else (f"referred to {place}" if place else "referred")
            window = (f"{made} {where}，还没有结果；第 {rule.due_after_day} 天起跟进，第 {rule.overdue_after_day} 天后逾期"
                      if zh else f"{where} on {made}, no result yet; follow up from day {rule.due_after_day}, "
                      f"overdue after day {rule.overdue_after_day}")
            return f"{label}（{window}）：{state}。" if zh else f"{label} ({window}): {state}."
        if isinstance(rule, AgreedVisitRule):
            agreed = self.extra.get("agreed_on", "")
            window = (f"{agreed} 访视时与住户约定 {self.due_since} 再访" if zh else
                      f"agreed on the visit of {agreed} for {self.due_since}")
            return f"{label}（{window}）：{state}。" if zh else f"{label} ({window}): {state}."
        if isinstance(rule, EventRule):
            window = (f"{_ANCHOR_NAMES[rule.anchor][0]} {self.anchor.day} 后第 {rule.due_from_day}–"
                      f"{rule.overdue_after_day} 天，第 {rule.expires_after_day} 天后不再随访" if zh else
                      f"days {rule.due_from_day}–{rule.overdue_after_day} after the {_ANCHOR_NAMES[rule.anchor][1]} "
                      f"on {self.anchor.day}, not asked after day {rule.expires_after_day}")
            return f"{label}（{window}）：{state}；{last}。" if zh else f"{label} ({window}): {state}; {last}."
        if self.status == "overdue":
            periods = ("、" if zh else ", ").join(period.label(language) for period in self.missed)
            state = (f"{periods}没有完成的访视，已逾期 {self.overdue_days} 天" if zh else
                     f"no completed visit in {periods}, overdue by {self.overdue_days} days")
        elif self.status == "done":
            state = f"{self.period.label()}已访视" if zh else f"visited in {self.period.label('en')}"
        else:
            state = (f"{self.period.label()}还没有完成的访视，{self.due_by} 前完成" if zh else
                     f"no completed visit yet in {self.period.label('en')}, due by {self.due_by}")
        return f"{label}：{state}；{last}。" if zh else f"{label}: {state}; {last}."


_ANCHOR_NAMES = {"birth": ("分娩", "birth"), "operation": ("手术", "operation"),
                 "pregnancy_reported": ("告知怀孕", "pregnancy was reported")}
_EVENT_STATES = {
    "upcoming": ("{since} 起随访", "due from {since}"),
    "due": ("应在 {by} 前随访", "due by {by}"),
    "overdue": ("已逾期 {days} 天", "overdue by {days} days"),
    "done": ("已随访", "done"),
    "expired": ("已过随访期", "the window has passed"),
}


def most_overdue_first(flags: Iterable[Flag]) -> list[Flag]:
    """The order of a due list: most overdue first, then due longest, then by key (every flag has its own)."""
    return sorted(flags, key=lambda flag: (-flag.overdue_days, flag.due_since, flag.key))


def flags_for(person: PersonSchedule, schedule: Schedule, as_of: dt.date) -> list[Flag]:
    """Every flag the schedule raises for a person on `as_of` (done ones included), tier rules first."""
    return flags_of((person,), schedule, as_of)


def flags_of(people: Iterable[PersonSchedule], schedule: Schedule, as_of: dt.date) -> list[Flag]:
    """Every flag for each of these people on `as_of`, person after person, each as flags_for says. What all of them
    share is worked out once: each tier rule's periods back from `as_of`, the rules' windows. (A county's 440,000
    people are read at once: the loop is kept lean, the person unpacked by position.)"""
    tier_rules = [(rule, _periods_back(rule.period, as_of, schedule.lookback_periods)) for rule in schedule.tiers]
    referral_rule, agreed_rule = schedule.referral, schedule.agreed_visit
    agreed_overdue = dt.timedelta(days=agreed_rule.overdue_after_day)
    flags: list[Flag] = []
    append = flags.append
    for person in people:
        _, tiers, visits, anchors, active_until, referrals, agreed = person
        if active_until is not None and active_until <= as_of:
            continue
        if tiers:
            for rule, periods in tier_rules:
                held = rule.tier
                for _, tier in tiers:
                    if tier == held:
                        if (flag := _tier_flag(person, rule, periods, as_of)) is not None:
                            append(flag)
                        break
        if anchors:
            done = sorted((visit for visit in visits if visit.day <= as_of), key=lambda visit: visit.day)
            for rule in schedule.events:
                flags += [_event_flag(person, rule, anchor, done, as_of) for anchor in sorted(set(anchors))
                          if anchor.kind == rule.anchor and anchor.day <= as_of]
        if referrals:
            flags += [_referral_flag(person, referral_rule, referral, as_of) for referral in sorted(referrals)
                      if referral.day <= as_of and (referral.closed_on is None or referral.closed_on > as_of)]
        if agreed:
            latest = None
            for agreement in agreed:
                if agreement.agreed_on <= as_of and (latest is None or agreement > latest):
                    latest = agreement
            if latest is not None:
                append(_agreed_flag(person, agreed_rule, agreed_overdue, latest, as_of))
    return flags


def _window_status(as_of: dt.date, due_from: dt.date, due_by: dt.date) -> tuple[str, int]:
    if as_of < due_from:
        return "upcoming", 0
    if as_of <= due_by:
        return "due", 0
    return "overdue", (as_of - due_by).days


def _referral_flag(person: PersonSchedule, rule: ReferralRule, referral: ReferralMade, as_of: dt.date) -> Flag:
    due_from = referral.day + dt.timedelta(days=rule.due_after_day)
    due_by = referral.day + dt.timedelta(days=rule.overdue_after_day)
    status, overdue = _window_status(as_of, due_from, due_by)
    return Flag(person.person, rule.code, status, due_from, due_by, overdue_days=overdue,
                extra={"item": referral.key, "place": referral.place or "", "made_on": referral.day.isoformat()})


def _agreed_flag(person: PersonSchedule, rule: AgreedVisitRule, overdue_after: dt.timedelta, agreed: VisitAgreed,
                 as_of: dt.date) -> Flag:
    """The latest agreement made by `as_of`: done once any completed visit after the one that agreed it."""
    agreed_on, day = agreed
    due_by = day + overdue_after
    after = [visited for visited, _ in person.visits if agreed_on < visited <= as_of]
    extra = {"agreed_on": agreed_on.isoformat(), "agreed_for": day.isoformat()}
    # (Positional: a county raises 230,000 of these.)
    if after:
        return Flag(person.person, rule.code, "done", day, due_by, 0, None, (), None, max(after), extra)
    status, overdue = _window_status(as_of, day, due_by)
    return Flag(person.person, rule.code, status, day, due_by, overdue, None, (), None, None, extra)


def _tier_flag(person: PersonSchedule, rule: TierRule, periods: tuple[Period, ...], as_of: dt.date) -> Flag | None:
    """The rule's flag for a person who held its tier at some time, judged over `periods` (the current one first,
    then the lookback: _periods_back); None if the current period did not begin in the tier."""
    current = periods[0]
    tiers, tier = person.tiers, rule.tier
    if _tier_on(tiers, current.start) != tier:
        return None
    code = rule.code
    qualifying = [day for day, kind in person.visits if day <= as_of and (kind is None or kind == code)]
    last = max(qualifying) if qualifying else None
    if last is not None and last >= current.start:
        return Flag(person.person, code, "done", current.start, current.end, 0, None, (), current, last)
    # Every qualifying visit is on or before `last`: the periods after the one it fell in had none (missed while
    # the person held the tier on their first day, at most lookback_periods back), the one it fell in had one.
    missed = []
    for period in periods[1:]:
        if (last is not None and last >= period.start) or _tier_on(tiers, period.start) != tier:
            break
        missed.append(period)
    if missed:
        missed.reverse()
        return Flag(person.person, code, "overdue", missed[0].start, missed[0].end, (as_of - missed[0].end).days,
                    None, tuple(missed), current, last)
    return Flag(person.person, code, "due", current.start, current.end, 0, None, (), current, last)


def _tier_on(tiers: tuple[tuple[dt.date, str | None], ...], day: dt.date) -> str | None:
    """The tier held on `day` by these changes (PersonSchedule.tiers: oldest first)."""
    held = None
    for since, tier in tiers:
        if since > day:
            break
        held = tier
    return held


@functools.lru_cache(maxsize=256)
def _periods_back(kind: str, as_of: dt.date, lookback: int) -> tuple[Period, ...]:
    """The period of its kind containing `as_of`, then the `lookback` ones before it, newest first (the same for
    every person of a read)."""
    periods = [period_of(kind, as_of)]
    while len(periods) <= lookback:
        periods.append(periods[-1].previous())
    return tuple(periods)


def _event_flag(person: PersonSchedule, rule: EventRule, anchor: Anchor, visits: list[VisitDone],
                as_of: dt.date) -> Flag:
    due_from = anchor.day + dt.timedelta(days=rule.due_from_day)
    due_by = anchor.day + dt.timedelta(days=rule.overdue_after_day)
    expires = anchor.day + dt.timedelta(days=rule.expires_after_day)
    done = [visit.day for visit in visits if visit.followup_type == rule.code and anchor.day <= visit.day <= expires]
    if done:
        status, overdue = "done", 0
    elif as_of < due_from:
        status, overdue = "upcoming", 0
    elif as_of <= due_by:
        status, overdue = "due", 0
    elif as_of <= expires:
        status, overdue = "overdue", (as_of - due_by).days
    else:
        status, overdue = "expired", 0
    return Flag(person.person, rule.code, status, due_from, due_by, overdue_days=overdue, anchor=anchor,
                last_visit=done[-1] if done else None)


def summarise(flags: Iterable[Flag]) -> dict[str, int]:
    """How many flags of each status."""
    counts = dict.fromkeys(STATUSES, 0)
    for flag in flags:
        counts[flag.status] += 1
    return counts
