"""Retention and purge, pure: which people, service records and GPS points a purge removes (the plan), how the
replay leaves purged records out (tombstones), and how a raw submission's personal content is scrubbed (docs/retention.md).

A purge is planned from facts the server reads (`PersonFacts`, `LocationFacts`) with the periods of
sync.privacy.RETENTION_RULES and a day `as_of`. Each rule is one entry of `PURGE_RULES`: what it selects and what it
removes. What a purge removed stays removed: the purged uuids are kept as tombstones (`Tombstone`, no personal
content) which every replay reads (`PurgedRecords`): observations of a purged person in the submissions kept from
before the purge are left out, a later visit naming them is refused (sync.scope.REFUSALS "person_purged"), and
decisions naming them are skipped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from lxml import etree

from sync.privacy import CONSENT_ANCHOR_KINDS, CONSENT_ITEM_KINDS, RETENTION_RULES, RetentionRule, check_period
from sync.services import item_key
from sync.visits import Visit
from sync.xmlsafe import local_name, parse_untrusted

__all__ = ["PersonFacts", "LocationFacts", "Selection", "PurgeRule", "PURGE_RULES", "SERVICE_AGE_LIMIT",
           "AGED_OUT_ITEM_KINDS", "plan_purge", "check_periods", "Tombstone", "PurgedRecords", "ScrubTarget",
           "scrub_submission", "years_after", "PURGED_NAME", "scrubbed_decision"]

SERVICE_AGE_LIMIT = 50
"""The age after which a person is past the reproductive-health services the forms record (supplies, pregnancy
guidance, pre-pregnancy checks, follow-ups after a birth or an operation): the default of TAIZHANG_SERVICE_AGE_LIMIT.
The schedules name no age range of their own; 49 is the upper age the family-health statistics count women to."""

AGED_OUT_ITEM_KINDS = ("service", "supply", "referral", "referral_result", "pregnancy_guidance",
                       "prepregnancy_check")
"""The service items the aged_out rule removes: support requests (benefits, elderly support) stay, they serve older
people."""


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the planner needs of one person of the register."""

    uuid: str
    village_id: int | None
    birth_date: dt.date | None = None
    died_on: dt.date | None = None                  # the death's day (status died)
    moved_out_of_county_on: dt.date | None = None   # the last move out, to a place not of this register, not returned
    has_service_record: bool = False                # any service item or anchor about them (aged_out)
    consent_withdrawn_on: dt.date | None = None     # a withdraw_consent decision in force, its day
    has_consent_record: bool = False                # any item or anchor of the consent kinds (consent_withdrawn)


@dataclass(frozen=True, slots=True)
class LocationFacts:
    """A visit with a GPS point."""

    submission_id: int
    village_id: int | None
    visit_date: dt.date | None


@dataclass(frozen=True, slots=True)
class Selection:
    """One thing a purge removes: a person's record or service record (`uuid`), or a visit's GPS point
    (`submission_id`), by `rule`, counted in `village_id`."""

    rule: str
    village_id: int | None
    uuid: str | None = None
    submission_id: int | None = None


def years_after(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, slots=True)
class PurgeRule:
    """A retention rule as the purge applies it: from the facts, the day its period starts (None: not applicable),
    and what a tombstone of it leaves out of a replay (`item_kinds`, `anchor_kinds`: None = all of them)."""

    rule: RetentionRule
    person_day: Callable[[PersonFacts, int], dt.date | None] | None = None
    item_kinds: tuple[str, ...] | None = None
    anchor_kinds: tuple[str, ...] | None = None
    picks: tuple[str, ...] | None = None     # the `*_person` picks whose groups the scrub empties (None: all)
    scrubs_followups: bool = True            # a follow-up about the person keeps only that it happened

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def removes(self) -> str:
        return self.rule.removes

    def drops_item(self, kind: str) -> bool:
        return self.item_kinds is None or kind in self.item_kinds

    def drops_anchor(self, kind: str) -> bool:
        return self.anchor_kinds is None or kind in self.anchor_kinds


def _aged_out_day(person: PersonFacts, service_age: int) -> dt.date | None:
    if person.birth_date is None or not person.has_service_record:
        return None
    return years_after(person.birth_date, service_age)


PURGE_RULES: dict[str, PurgeRule] = {entry.name: entry for entry in (
    PurgeRule(RETENTION_RULES["died"], lambda person, _: person.died_on),
    PurgeRule(RETENTION_RULES["moved_out_of_county"], lambda person, _: person.moved_out_of_county_on),
    PurgeRule(RETENTION_RULES["aged_out"], _aged_out_day, item_kinds=AGED_OUT_ITEM_KINDS),
    PurgeRule(RETENTION_RULES["consent_withdrawn"],
              lambda person, _: person.consent_withdrawn_on if person.has_consent_record else None,
              item_kinds=CONSENT_ITEM_KINDS, anchor_kinds=CONSENT_ANCHOR_KINDS, picks=("pregnant_person",),
              scrubs_followups=False),
    PurgeRule(RETENTION_RULES["location"]),
)}
"""The purge's rules by name (one per sync.privacy.RETENTION_RULES entry). With an item go the referrals it made
(`refers_to`: consent_withdrawn takes the antenatal referral of a pregnancy's guidance, not the person's other
referrals)."""


def check_periods(periods: Mapping[str, int]) -> dict[str, int]:
    """The periods (days, by rule name) when each is at least its rule's minimum, else sync.privacy.PeriodTooShort."""
    return {name: check_period(RETENTION_RULES[name], days) for name, days in periods.items()}


def plan_purge(people: Iterable[PersonFacts], locations: Iterable[LocationFacts], periods: Mapping[str, int],
               as_of: dt.date, *, service_age: int = SERVICE_AGE_LIMIT) -> list[Selection]:
    """What a purge on `as_of` removes: every person whose death or move out of the county lies more than its
    period back (a person once, by the first rule that applies: died before moved out); the service records of
    people past `service_age` for longer than the period, or whose consent was withdrawn longer ago than the
    period (people not purged whole); the GPS points of visits older than the location period."""
    periods = check_periods(periods)
    chosen: list[Selection] = []
    for person in people:
        for entry in PURGE_RULES.values():
            if entry.person_day is None:
                continue
            start = entry.person_day(person, service_age)
            if start is not None and (as_of - start).days > periods[entry.name]:
                chosen.append(Selection(entry.name, person.village_id, uuid=person.uuid))
                if entry.removes == "person":
                    break
    whole = {selection.uuid for selection in chosen if PURGE_RULES[selection.rule].removes == "person"}
    chosen = [selection for selection in chosen
              if selection.uuid not in whole or PURGE_RULES[selection.rule].removes == "person"]
    location_days = periods["location"]
    chosen += [Selection("location", visit.village_id, submission_id=visit.submission_id) for visit in locations
               if visit.visit_date is not None and (as_of - visit.visit_date).days > location_days]
    return chosen


# ---- tombstones: what every replay leaves out ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Tombstone:
    """A purged person (whole, or their service record by one rule): the uuid, the rule, and the last submission
    the server held when it was purged (what came before is scrubbed and left out; what comes after is refused)."""

    uuid: str
    rule: str
    after_submission_id: int


@dataclass
class PurgedRecords:
    """The tombstones a replay reads."""

    tombstones: Iterable[Tombstone] = ()
    people: dict[str, int] = field(init=False)                      # purged whole → after_submission_id
    services: dict[str, list[Tombstone]] = field(init=False)        # service record purged → its tombstones

    def __post_init__(self) -> None:
        self.people, self.services = {}, {}
        for stone in self.tombstones:
            if PURGE_RULES[stone.rule].removes == "person":
                self.people[stone.uuid] = max(self.people.get(stone.uuid, 0), stone.after_submission_id)
            else:
                self.services.setdefault(stone.uuid, []).append(stone)

    def __bool__(self) -> bool:
        return bool(self.people or self.services)

    def refuses(self, visit: Visit, submission_id: int, resolve: Callable[[str], str] = str) -> bool:
        """Whether a visit sent after a purge names a person purged whole (a phone with an old list)."""
        named = ({observation.person_uuid for observation in visit.people}
                 | {anchor.person_uuid for anchor in visit.anchors}
                 | {item.person_uuid for item in visit.services.items if item.person_uuid})
        return any(submission_id > self.people.get(resolve(uuid), submission_id) for uuid in named)

    def names_purged(self, *uuids: str) -> bool:
        return any(uuid in self.people for uuid in uuids)

    def visit_without(self, visit: Visit, submission_id: int, resolve: Callable[[str], str] = str) -> Visit:
        """The visit without what it says about purged people (a visit kept from before the purge)."""
        def person_gone(uuid: str | None) -> bool:
            return uuid is not None and submission_id <= self.people.get(resolve(uuid), 0)

        def dropped(uuid: str | None, kind: str, anchor: bool) -> bool:
            if uuid is None:
                return False
            if person_gone(uuid):
                return True
            return any(submission_id <= stone.after_submission_id and (
                PURGE_RULES[stone.rule].drops_anchor(kind) if anchor else PURGE_RULES[stone.rule].drops_item(kind))
                for stone in self.services.get(resolve(uuid), ()))

        items = visit.services.items
        kept = [item for item in items if not dropped(item.person_uuid, item.kind, False)]
        # The referrals the dropped items made go with them (consent_withdrawn: `refers_to`).
        gone_keys = {item.refers_to for item in items if item.refers_to and item not in kept}
        kept = [item for item in kept if _key_of(visit, item) not in gone_keys]
        people = tuple(observation for observation in visit.people if not person_gone(observation.person_uuid))
        anchors = tuple(anchor for anchor in visit.anchors if not dropped(anchor.person_uuid, anchor.kind, True))
        if len(kept) == len(items) and people == visit.people and anchors == visit.anchors:
            return visit
        return replace(visit, people=people, anchors=anchors, services=replace(visit.services, items=tuple(kept)))


def _key_of(visit: Visit, item) -> str:
    return item_key(visit.instance_id, item.seq)


# ---- scrubbing a raw submission --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ScrubTarget:
    """A person whose content a purge scrubs from the raw submissions: whole (`removes` "person"), or their
    service record (by `rule`); `words` are the values that identify them (every name, ID number and phone the register held)."""

    uuid: str
    rule: str
    words: tuple[str, ...] = ()


# A household visit's repeats about one member, by the child naming them.
_MEMBER_REPEATS = {"person_updates": ("person_uuid",), "new_members": ("new_person_uuid", "arriving_person"),
                   "split_members": ("split_person_uuid",)}
# The answers a follow-up keeps once its person's content is scrubbed: that it happened, when, by whom, of what
# type and with what outcome (the monthly counts read these).
_FOLLOWUP_KEPT = frozenset({"start", "end", "today", "deviceid", "username", "person_uuid", "household_uuid",
                            "due_type", "due_since", "followup_type", "outcome", "instanceID", "deprecatedID",
                            "meta", "visit"})
_LOCATION_FIELDS = frozenset({"location"})
_SHORTEST_WORD = 2


def _leaves(element) -> list:
    return [node for node in element.iter() if isinstance(node.tag, str) and len(node) == 0]


def _blank(element, keep: Callable[[object], bool] = lambda node: False) -> bool:
    changed = False
    for node in _leaves(element):
        if node.text and not keep(node):
            node.text = None
            changed = True
    return changed


def _picks(root, uuid: str, picks: tuple[str, ...] | None) -> list:
    """The groups of a household visit whose `*_person` pick names this person (supplies, pregnancy, a follow-up's
    birth or operation, support)."""
    return [node.getparent() for node in root.iter() if isinstance(node.tag, str) and len(node) == 0
            and local_name(node.tag).endswith("_person") and (picks is None or local_name(node.tag) in picks)
            and (node.text or "").strip() == uuid]


def scrub_submission(xml: bytes, targets: Iterable[ScrubTarget] = (), *, location: bool = False) -> bytes:
    """The raw submission without the personal content of these people (and without its GPS point when
    `location`): a household visit loses the repeats about a person purged whole and the answers of the groups
    picking them (the pick's uuid stays, so the replay knows what to leave out); a follow-up about them keeps only
    that it happened (_FOLLOWUP_KEPT); any answer holding one of their names, ID numbers or phones is emptied.
    Returns `xml` itself when nothing changed; the result is well-formed XML of the same form."""
    root = parse_untrusted(xml)
    changed = False
    followup = root.get("id") == "followup"
    for target in targets:
        entry = PURGE_RULES[target.rule]
        whole = entry.removes == "person"
        if whole:
            for repeat in [node for node in root if isinstance(node.tag, str)
                           and local_name(node.tag) in _MEMBER_REPEATS]:
                names = _MEMBER_REPEATS[local_name(repeat.tag)]
                if any((node.text or "").strip() == target.uuid for node in repeat.iter()
                       if isinstance(node.tag, str) and local_name(node.tag) in names):
                    root.remove(repeat)
                    changed = True
        for group in _picks(root, target.uuid, entry.picks):
            if group is root:
                continue
            changed |= _blank(group, keep=lambda node: local_name(node.tag).endswith("_person"))
        if followup and entry.scrubs_followups and _text(root, "person_uuid") == target.uuid:
            changed |= _blank(root, keep=lambda node: _kept_in_followup(node, root))
        words = [word for word in target.words if word and len(word) >= _SHORTEST_WORD]
        if whole and words:
            for node in _leaves(root):
                if node.text and any(word in node.text for word in words):
                    node.text = None
                    changed = True
    if location:
        for node in _leaves(root):
            if local_name(node.tag) in _LOCATION_FIELDS and node.text:
                node.text = None
                changed = True
    if not changed:
        return xml
    declaration = xml.lstrip().startswith(b"<?xml")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=declaration)


def _text(root, name: str) -> str | None:
    for node in root:
        if isinstance(node.tag, str) and local_name(node.tag) == name:
            return (node.text or "").strip()
    return None


def _kept_in_followup(node, root) -> bool:
    """Whether a follow-up's answer survives its person's scrub: its own name and every ancestor's up to the root
    are among _FOLLOWUP_KEPT (so visit/outcome stays, services/services_given goes)."""
    while node is not None and node is not root:
        if local_name(node.tag) not in _FOLLOWUP_KEPT:
            return False
        node = node.getparent()
    return True


PURGED_NAME = "已清除"
"""The name an add_person decision of a person purged keeps (its target stays a valid new person's details)."""


def scrubbed_decision(kind: str, target: str, field: str | None) -> str:
    """The target a decision about a person purged keeps: an add_person's details without the person's (a
    placeholder name, 1900-01-01 for the birth date; household, sex, relationship and the day kept), a value set on
    one of their fields emptied; other kinds (merges, moves, tiers) keep theirs (record ids, a group, a tier)."""
    if kind == "add_person":
        try:
            values = json.loads(target)
        except ValueError:
            return target
        if not isinstance(values, dict):
            return target
        kept = {name: values[name] for name in ("household", "event_date", "sex", "relationship") if name in values}
        return json.dumps({**kept, "name": PURGED_NAME, "birth_date": "1900-01-01"}, ensure_ascii=False,
                          sort_keys=True, separators=(",", ":"))
    if kind == "set_field" and (field or "").startswith("person:"):
        return ""
    return target
