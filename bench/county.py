#!/usr/bin/env python3
"""Synthetic county: a deterministic stream of real household_visit and followup submissions, in the order phones send them.

    .venv/bin/python bench/county.py --seed 1 --summary                  # the whole county (20 towns), counted
    .venv/bin/python bench/county.py --seed 1 --towns 2 --summary        # the first two towns only
    .venv/bin/python bench/county.py --seed 1 --towns 1 --out /tmp/cty   # Collect instance folders per collector

    from bench.county import plan_county, submissions
    plan = plan_county(seed=1)                       # 20 towns × 10 villages × 30 groups, ~37 households a group
    for item in submissions(plan, months=12, towns=[3]):
        post(item.collector, item.xml)               # SyntheticSubmission, in sync order

The plan (`plan_county`) names the county's areas as the server stores them (`青山镇/桃园村/第一组`) and one
collector per group (`t03v07g12`, ASCII), with 30–44 households a group: about 222,000 households and 790,000
people in 6,000 groups. `submissions` simulates each group's phone day by day and yields what the phones send,
merged across groups by sync time (ties: collector, then the phone's order), holding only each group's compact
state (a few bytes a person) and the visits its phone has not sent yet, so memory does not grow with the year:

* the register's start: in the first four weeks every household is registered (`household_visit`, mode new, all
  members with names, birth dates, resident ID numbers for most, phones for most adults);
* then household visits on each household's schedule (a sixth monthly, a third quarterly, the rest yearly; some
  nobody home or refused) telling member changes: deaths, leaving to work away and coming back, moving out,
  marriages, moves to another household of the group, phone corrections, name corrections, births (a new member,
  with the postpartum follow-up noted) and operations (the post-operation follow-up noted);
* `followup` visits of the people due: after a birth (within a week of the visit that told it, and again four to
  six weeks after the birth) and after an operation.

Every visit states the register versions its phone saw (its lists as of the phone's last sync), and refers only to
households and people the phone's lists held. Each submission is labelled with one `kind` (the first that applies):

    retry         the same instanceID and bytes sent again at the phone's next sync (a lost response), 0.5 %
    edit          an earlier sent submission corrected (meta/deprecatedID), sent 1–10 days after it, 1 %
    duplicate     a registration with a person already registered in another household (of the group, the
                  village or the town; the ID number or phone sometimes left out), 1 % of households
    typo          a registration with one member's given name mistyped (a homophone or another character),
                  3 % of households; some are corrected later by an edit or a visit
    late          a visit or follow-up held on the phone 3 days or more (phones go offline for 3–30 days,
                  about once in 8 group-months)
    registration  a household's first registration visit
    visit         a household visit
    followup      a follow-up visit

Phones sync every evening they have something to send and are online; each group has its own
random.Random seeded from the county seed and the group's area, so any set of towns gives exactly the
submissions of those towns in the full run. Only voluntary services are generated: no compliance data of any kind.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import heapq
import itertools
import random
import resource
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

from bench.dedupe import HOMOPHONES
from sync.identity import id_check_character
from tests.register_visits import Member, followup_visit, household_visit

__all__ = ["CountyPlan", "GroupPlan", "SyntheticSubmission", "KINDS", "plan_county", "submissions",
           "base_household", "write_instances", "SURNAMES", "GIVEN", "resident_id", "random_member", "phone_time"]

# ---- names, ID numbers and phones (shared with bench/register.py) ------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林邓唐蒋谢曾彭萧蔡潘田董袁于余叶蒋杜苏魏程吕丁沈任姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "秀英兰芳丽华玉桂琴霞静敏燕红梅娟建国明伟军强平德文志勇磊林刚成春海波辉鹏飞超涛杰俊峰云洪斌亮宇浩凯翔玲婷雪莉萍慧颖洁佳欣怡倩琳晶"


def resident_id(rng: random.Random, birth: dt.date, male: bool) -> str:
    """A valid 18-character resident ID number (Sichuan region code, check character) for this birth and sex."""
    first_17 = f"51{rng.randrange(10**4):04d}{birth:%Y%m%d}{rng.randrange(100):02d}{rng.choice('13579' if male else '02468')}"
    return first_17 + id_check_character(first_17)


def random_member(rng: random.Random, surname: str, relationship: str, *, male: bool | None = None,
                  born: tuple[dt.date, dt.date] | None = None) -> Member:
    """A new member: sex (random unless given), birth date (1935–2022 unless `born` = (first, last) day), an ID
    number for 80 %, a mobile phone for 70 % of adults."""
    male = rng.random() < 0.5 if male is None else male
    if born is None:
        birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(32_000))
    else:
        birth = born[0] + dt.timedelta(days=rng.randrange((born[1] - born[0]).days + 1))
    adult = birth.year <= 2006
    return Member(name=surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))),
                  sex="male" if male else "female", birth_date=birth.isoformat(),
                  id_number=resident_id(rng, birth, male) if rng.random() < 0.8 else "",
                  phone=mobile_phone(rng) if adult and rng.random() < 0.7 else "",
                  relationship=relationship, uuid=f"{rng.getrandbits(128):032x}")


def mobile_phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def phone_time(rng: random.Random, day: int) -> str:
    """A phone's time (Asia/Shanghai, as Collect writes it) in working hours on day `day` of 2026 (28-day months)."""
    return f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T{rng.randrange(8, 18):02d}:{rng.randrange(60):02d}:00.000+08:00"


# ---- the county's areas and collectors --------------------------------------------------------------------------

TOWN_NAMES = ("青山", "石桥", "白沙", "龙泉", "新场", "黄桷", "三河", "柳溪", "高桥", "金竹", "马鞍", "清水", "双河",
              "太平", "永兴", "桂花", "大兴", "梨园", "安乐", "河口", "回龙", "凤凰", "松林", "古楼", "观音", "宝山",
              "文昌", "石门", "长乐", "福田")
VILLAGE_NAMES = ("桃园", "杨柳", "红星", "光明", "胜利", "新华", "和平", "长岭", "凉水", "竹林", "茶园", "石坝", "高坪",
                 "水井", "堰塘", "白果", "青杠", "黄泥", "银杏", "柏树", "枫香", "桑园", "梅子", "李子", "杉木", "松树",
                 "鹿鸣", "狮子", "燕子", "鹤林", "金鸡", "玉泉", "清泉", "响水", "大河", "小河", "沙坝", "田坝", "新桥",
                 "老鹰", "龙井", "龙潭", "团结", "友谊", "前进", "民主", "幸福", "永安", "安宁", "平安", "万福", "长寿",
                 "双龙", "五星", "三合", "四方", "七里", "九龙", "十里", "百花")
_DIGITS = "零一二三四五六七八九"


def chinese_number(number: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 30 → 三十, 47 → 四十七 (1–99)."""
    tens, ones = divmod(number, 10)
    return (("" if tens == 1 else _DIGITS[tens]) + "十" if tens else "") + (_DIGITS[ones] if ones else "")


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """One group (村民小组) and its collector."""

    town: int            # 1-based numbers within the county, the village's within its town, the group's within it
    village: int
    number: int
    area: str            # full name as the server stores it: 青山镇/桃园村/第一组
    collector: str       # the collector's user name: t01v01g01
    households: int


@dataclass(frozen=True, slots=True)
class CountyPlan:
    seed: int
    towns: tuple[str, ...]          # town names, town 1 first
    groups: tuple[GroupPlan, ...]

    @property
    def households(self) -> int:
        return sum(group.households for group in self.groups)

    def town_groups(self, town: int) -> list[GroupPlan]:
        return [group for group in self.groups if group.town == town]


def plan_county(seed: int, towns: int = 20, villages_per_town: int = 10, groups_per_village: int = 30,
                households_per_group: int = 37) -> CountyPlan:
    """The county's towns, villages and groups (households a group: `households_per_group` ± 7, never below 1)."""
    if not 1 <= towns <= len(TOWN_NAMES) or not 1 <= villages_per_town <= len(VILLAGE_NAMES) \
            or not 1 <= groups_per_village <= 99:
        raise ValueError(f"at most {len(TOWN_NAMES)} towns, {len(VILLAGE_NAMES)} villages a town, 99 groups a village")
    rng = random.Random(f"county:{seed}")
    town_names = tuple(f"{name}镇" for name in rng.sample(TOWN_NAMES, towns))
    groups = []
    for town, town_name in enumerate(town_names, start=1):
        town_rng = random.Random(f"county:{seed}:town:{town}")
        for village, village_name in enumerate(town_rng.sample(VILLAGE_NAMES, villages_per_town), start=1):
            for number in range(1, groups_per_village + 1):
                groups.append(GroupPlan(
                    town, village, number, f"{town_name}/{village_name}村/第{chinese_number(number)}组",
                    f"t{town:02d}v{village:02d}g{number:02d}",
                    max(1, households_per_group + town_rng.randint(-7, 7))))
    return CountyPlan(seed, town_names, tuple(groups))


# ---- what the phones send ------------------------------------------------------------------------------------------

KINDS = ("retry", "edit", "duplicate", "typo", "late", "registration", "visit", "followup")
RETRY_RATE = 0.005
EDIT_RATE = 0.01
DUPLICATE_RATE = 0.01
TYPO_RATE = 0.03
OFFLINE_SPELL_RATE = 0.12          # spells a group-month
LATE_AFTER = dt.timedelta(days=3)
REGISTRATION_DAYS = 28
CHINA = dt.timezone(dt.timedelta(hours=8))
PLACES = ("广东省东莞市", "广东省深圳市宝安区", "浙江省宁波市", "江苏省苏州市", "四川省成都市武侯区", "重庆市渝北区",
          "福建省厦门市", "上海市松江区", "北京市大兴区", "新疆维吾尔自治区乌鲁木齐市")
RELATIONSHIPS = ("head", "spouse", "child", "child_in_law", "grandchild", "parent", "parent_in_law", "grandparent",
                 "sibling", "other")
_HERE, _AWAY, _MOVED, _DIED = range(4)
_ACTIONS = ("register", "visit", "followup", "edit")


@dataclass(frozen=True, slots=True)
class SyntheticSubmission:
    collector: str
    group: str                 # the collector's area (full name)
    instance_id: str
    xml: bytes
    phone_time: dt.datetime    # the visit's start on the phone (an edit: the visit it corrects)
    sync_time: dt.datetime     # when the phone sends it
    kind: str                  # one of KINDS


def submissions(plan: CountyPlan, *, months: int = 12, start: dt.date = dt.date(2025, 12, 1),
                towns: Iterable[int | str] | None = None, limit: int | None = None) -> Iterator[SyntheticSubmission]:
    """What the collectors of the county (or of `towns`: numbers from 1 or names) send over `months` months from
    `start`, in sync order; at most `limit` submissions."""
    wanted = None if towns is None else {
        plan.towns.index(town) + 1 if isinstance(town, str) else int(town) for town in towns}
    groups = [group for group in plan.groups if wanted is None or group.town in wanted]
    end = _add_months(start, months)
    streams = [_GroupPhone(plan, group, start, end).send() for group in groups]
    merged = (item for _key, item in heapq.merge(*streams, key=lambda entry: entry[0]))
    return itertools.islice(merged, limit) if limit is not None else merged


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + year, month + 1, 1) + dt.timedelta(days=day.day - 1)


def _derived_uuid(*parts: object) -> str:
    """A random-looking version 4 UUID that is a function of `parts`."""
    h = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def base_household(seed: int, area: str, household: int) -> tuple[Member, ...]:
    """The members of a household as first found (before planted typos and duplicates): a pure function of the
    seed, the group and the household's number, so another group can copy a person from it."""
    rng = random.Random(f"county:{seed}:{area}:household:{household}")
    surname = rng.choice(SURNAMES)
    head_male = rng.random() < 0.8
    head = random_member(rng, surname, "head", male=head_male, born=(dt.date(1940, 1, 1), dt.date(1998, 12, 31)))
    head_birth = dt.date.fromisoformat(head.birth_date)
    members = [head]
    if head_birth.year < 1996 and rng.random() < 0.8:
        members.append(random_member(rng, rng.choice(SURNAMES), "spouse", male=not head_male,
                                     born=_years(head_birth, -6, 6)))
    last_child = min(dt.date(2025, 10, 31), _shift(head_birth, 42))
    if _shift(head_birth, 20) < last_child:
        for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3))):
            members.append(random_member(rng, surname, "child", born=(_shift(head_birth, 20), last_child)))
    if head_birth.year >= 1955 and rng.random() < 0.15:
        members.append(random_member(rng, surname, "parent", born=_years(head_birth, -32, -20)))
    if head_birth.year < 1975 and rng.random() < 0.2:
        members.append(random_member(rng, surname, "grandchild", born=(dt.date(2008, 1, 1), dt.date(2025, 6, 30))))
    return tuple(members)


def _shift(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year + years, day=min(day.day, 28))


def _years(day: dt.date, earliest: int, latest: int) -> tuple[dt.date, dt.date]:
    return max(dt.date(1925, 1, 1), _shift(day, earliest)), min(dt.date(2007, 12, 31), _shift(day, latest))


def _mistyped(rng: random.Random, name: str) -> str:
    """One given-name character replaced by a homophone (most often) or by another name character."""
    position = rng.randrange(1, len(name))
    character = name[position]
    if character in HOMOPHONES and rng.random() < 0.7:
        replacement = rng.choice(HOMOPHONES[character])
    else:
        replacement = rng.choice(GIVEN.replace(character, ""))
    return name[:position] + replacement + name[position + 1:]


@dataclass(slots=True)
class _Draft:
    """A submission made on the phone, not sent yet: what it changes once the server has it."""

    minute: int                # phone time, minutes from the start
    kind: str
    instance_id: str
    xml: bytes
    bumps: list                # ("person" | "household" | "anchor", index) applied when sent
    editable: dict | None = None   # household_visit() arguments, for an edit
    typo: int | None = None        # the person whose name a registration mistyped


class _GroupPhone:
    """One group's collector phone over the period: the group's register as the phone knows it (compact arrays),
    the visits it plans, and its outbox."""

    def __init__(self, plan: CountyPlan, group: GroupPlan, start: dt.date, end: dt.date) -> None:
        self.plan, self.group = plan, group
        self.start = dt.datetime.combine(start, dt.time(), CHINA)
        self.days = (end - start).days
        self.rng = random.Random(f"county:{plan.seed}:{group.area}:year")
        self.key = f"{plan.seed}/{group.area}"
        self.device = f"collect:{hashlib.blake2b(self.key.encode(), digest_size=8).hexdigest()}"
        # people: household, register version as last synced (0: not on the server yet), status, birth (ordinal),
        # sex, surname, relationship; households: on the server yet
        self.household_of = array("H")
        self.version = array("H")
        self.status = bytearray()
        self.birth = array("l")
        self.male = bytearray()
        self.surname = array("B")
        self.relationship = bytearray()
        self.household_synced = bytearray(group.households)
        self.last_visit = array("l", [0] * group.households)
        self.corrections: dict[int, str] = {}           # person → the right name, for a planted typo
        self.anchors_pending: set[int] = set()
        self.offline = bytearray(self.days + 1)
        self.actions: list[int] = []                     # heap of planned actions, packed (see _schedule)
        self.arguments: dict[int, object] = {}           # sequence → argument of a follow-up or an edit
        self.period = array("H", [0] * group.households)
        self.sequence = itertools.count()
        self.outbox: list[_Draft] = []
        self.retries: list[_Draft] = []
        self.instances = itertools.count()
        self.sent = itertools.count()

    # -- the simulation --

    def send(self) -> Iterator[tuple[tuple, SyntheticSubmission]]:
        """(merge key, submission) in the order this phone sends them."""
        self._plan_offline_spells()
        self._plan_registrations()
        for day in range(self.days):
            day_end = (day + 1) * 1440
            while self.actions and self.actions[0] >> 42 < day_end:
                entry = heapq.heappop(self.actions)
                action, index = _ACTIONS[entry & 15], entry >> 4 & 0xFFFF
                argument = index if action in ("register", "visit") else self.arguments.pop(entry >> 20 & 0x3FFFFF)
                getattr(self, f"_do_{action}")(entry >> 42, argument)
            if (self.outbox or self.retries) and (not self.offline[day] or day == self.days - 1):
                yield from self._sync(day)

    def _schedule(self, minute: int, action: str, argument: object) -> None:
        """Plan an action: one int each (minute, sequence, household, action), so a county's plans stay small."""
        if minute < self.days * 1440:
            sequence = next(self.sequence)
            if isinstance(argument, int):
                index = argument
            else:
                index = 0
                self.arguments[sequence] = argument
            heapq.heappush(self.actions, minute << 42 | sequence << 20 | index << 4 | _ACTIONS.index(action))

    def _working_minute(self, day: int) -> int:
        return day * 1440 + self.rng.randrange(8 * 60, 18 * 60)

    def _plan_offline_spells(self) -> None:
        for month_start in range(0, self.days, 30):
            if self.rng.random() < OFFLINE_SPELL_RATE:
                first = month_start + self.rng.randrange(30)
                for day in range(first, min(self.days, first + self.rng.randint(3, 30))):
                    self.offline[day] = 1

    def _plan_registrations(self) -> None:
        days = sorted(self.rng.randrange(min(REGISTRATION_DAYS, self.days)) for _ in range(self.group.households))
        minutes = sorted(self._working_minute(day) for day in days)
        for household, minute in enumerate(minutes):
            self._schedule(minute, "register", household)

    def _sync(self, day: int) -> Iterator[tuple[tuple, SyntheticSubmission]]:
        moment = (day * 1440 + self.rng.randrange(19 * 60, 22 * 60)) * 60
        batch, self.retries, self.outbox = self.retries + self.outbox, [], []
        for draft in batch:
            moment += self.rng.randint(1, 4)
            sync_time = self.start + dt.timedelta(seconds=moment)
            phone_time = self.start + dt.timedelta(minutes=draft.minute)
            kind = draft.kind
            if kind in ("visit", "followup") and sync_time - phone_time >= LATE_AFTER:
                kind = "late"
            yield ((moment, self.group.collector, next(self.sent)),
                   SyntheticSubmission(self.group.collector, self.group.area, draft.instance_id, draft.xml,
                                       phone_time, sync_time, kind))
            self._apply(draft.bumps)
            draft.bumps = []
            if self.rng.random() < RETRY_RATE:
                self.retries.append(dataclasses.replace(draft, kind="retry", editable=None))
            if draft.editable is not None and self.rng.random() < EDIT_RATE:
                self._schedule(self._working_minute(day + self.rng.randint(1, 10)), "edit", draft)

    def _apply(self, bumps: list) -> None:
        for what, index in bumps:
            if what == "person":
                self.version[index] += 1
            elif what == "household":
                self.household_synced[index] = 1
            else:
                self.anchors_pending.discard(index)

    def _clock(self, minute: int) -> str:
        return (self.start + dt.timedelta(minutes=minute)).isoformat(timespec="milliseconds")

    def _instance_id(self) -> str:
        return "uuid:" + _derived_uuid(self.key, "instance", next(self.instances))

    def _person_uuid(self, person: int) -> str:
        return _derived_uuid(self.key, "person", person)

    def _household_uuid(self, household: int) -> str:
        return _derived_uuid(self.key, "household", household)

    def _draft(self, minute: int, kind: str, bumps: list, *, editable: bool, typo: int | None = None,
               **visit) -> None:
        instance_id = self._instance_id()
        xml = household_visit(**visit, start=self._clock(minute), instance_id=instance_id,
                              username=self.group.collector, device_id=self.device)
        self.outbox.append(_Draft(minute, kind, instance_id, xml, bumps,
                                  dict(visit, start=self._clock(minute)) if editable else None, typo))

    def _add_person(self, household: int, member: Member) -> int:
        person = len(self.version)
        birth = dt.date.fromisoformat(member.birth_date)
        self.household_of.append(household)
        self.version.append(0)
        self.status.append(_HERE)
        self.birth.append(birth.toordinal())
        self.male.append(member.sex == "male")
        self.surname.append(SURNAMES.index(member.name[0]))
        self.relationship.append(RELATIONSHIPS.index(member.relationship))
        return person

    # -- registration --

    def _do_register(self, minute: int, household: int) -> None:
        rng = self.rng
        members = list(base_household(self.plan.seed, self.group.area, household))
        kind = "registration"
        typo = None
        if rng.random() < TYPO_RATE:
            kind, position = "typo", rng.randrange(len(members))
            typo = (position, members[position].name)
            members[position] = dataclasses.replace(members[position], name=_mistyped(rng, members[position].name))
        if rng.random() < DUPLICATE_RATE:
            kind = "duplicate"
            members.append(self._duplicate_of_someone(household))
        bumps: list = [("household", household)]
        placed = []
        for position, member in enumerate(members):
            person = self._add_person(household, member)
            members[position] = dataclasses.replace(member, uuid=self._person_uuid(person))
            placed.append(person)
            bumps.append(("person", person))
        typo_person = None
        if typo is not None:
            typo_person = placed[typo[0]]
            self.corrections[typo_person] = typo[1]
        number = household + 1
        village, group = self.group.area.split("/")[1:]
        self._draft(minute, kind, bumps, editable=True, typo=typo_person, household=self._household_uuid(household),
                    new=(f"{number:03d}", f"{village}{group}{number}号"), members=members)
        self._schedule_visit(household, minute)

    def _duplicate_of_someone(self, household: int) -> Member:
        """A person of another household (of this group, another group of the village or of the town), registered
        again: name, sex and birth date as before, the ID number and phone each kept half the time."""
        rng = self.rng
        choice = rng.random()
        groups = self.plan.town_groups(self.group.town)
        if choice < 0.5 and household > 0:
            source, households = self.group, range(household)
        else:
            same_village = [g for g in groups if g.village == self.group.village and g is not self.group]
            source = rng.choice(same_village if choice < 0.85 and same_village else groups)
            households = range(source.households)
        original = rng.choice(base_household(self.plan.seed, source.area, rng.choice(households)))
        return dataclasses.replace(original, relationship=rng.choice(("other", "sibling", "child", "parent")),
                                   id_number=original.id_number if rng.random() < 0.5 else "",
                                   phone=original.phone if rng.random() < 0.5 else "")

    # -- household visits --

    def _schedule_visit(self, household: int, after: int) -> None:
        tier = self.rng.random()
        period = 30 if tier < 1 / 6 else 91 if tier < 0.5 else 365
        first = after + int(period * 1440 * self.rng.uniform(0.5, 1.0))
        self.last_visit[household] = after
        self.period[household] = period
        self._schedule(self._working_minute(first // 1440), "visit", household)

    def _members(self, household: int) -> list[int]:
        return [person for person in range(len(self.version)) if self.household_of[person] == household
                and self.status[person] in (_HERE, _AWAY) and self.version[person] > 0]

    def _do_visit(self, minute: int, household: int) -> None:
        period = self.period[household]
        rng = self.rng
        next_visit = minute + int(period * 1440 * rng.uniform(0.8, 1.2))
        self._schedule(self._working_minute(next_visit // 1440), "visit", household)
        if not self.household_synced[household]:
            return  # not on the phone's list yet: the visit waits for the next one
        outcome = rng.choices(("completed", "nobody_home", "refused"), (0.91, 0.08, 0.01))[0]
        common = dict(household=self._household_uuid(household), base_version=1)
        if outcome != "completed":
            self._draft(minute, "visit", [], editable=False, outcome=outcome, **common)
            self.last_visit[household] = minute
            return
        elapsed = min(1.0, (minute - self.last_visit[household]) / 1440 / 365)
        self.last_visit[household] = minute
        today = (self.start + dt.timedelta(minutes=minute)).date()
        updates, bumps = [], []
        members = self._members(household)
        for person in members:
            update = self._member_change(person, household, elapsed, minute, today)
            if update is not None:
                updates.append(dict(update, person_uuid=self._person_uuid(person), base_version=self.version[person]))
                bumps.append(("person", person))
        new, anchor_need = [], {}
        mothers = [person for person in members if not self.male[person] and self.status[person] == _HERE
                   and 20 <= self._age(person, today) <= 42]
        if mothers and rng.random() < 0.12 * elapsed:
            mother = rng.choice(mothers)
            birth = today - dt.timedelta(days=rng.randint(1, max(1, min(60, int(elapsed * 365)))))
            relationship = "grandchild" if RELATIONSHIPS[self.relationship[mother]] in ("child", "child_in_law") \
                else "child"
            surname = SURNAMES[self.surname[self._head(household, members)]]
            baby = random_member(rng, surname, relationship, born=(birth, birth))
            baby = dataclasses.replace(baby, id_number="", phone="", reason="birth")
            person = self._add_person(household, baby)
            new.append(dataclasses.replace(baby, uuid=self._person_uuid(person)))
            bumps += [("person", person), ("anchor", mother)]
            self.anchors_pending.add(mother)
            anchor_need = dict(postpartum=(self._person_uuid(mother), birth.isoformat()))
            due = birth.isoformat()
            self._schedule(self._working_minute(minute // 1440 + rng.randint(1, 7)), "followup",
                           (mother, "postpartum", due))
            second = max(minute // 1440 + 10, (birth - self.start.date()).days + rng.randint(28, 42))
            self._schedule(self._working_minute(second), "followup", (mother, "postpartum", due))
        else:
            adults = [person for person in members if self.status[person] == _HERE and self._age(person, today) >= 18]
            if adults and rng.random() < 0.04 * elapsed:
                patient = rng.choice(adults)
                operated = today - dt.timedelta(days=rng.randint(1, max(1, min(90, int(elapsed * 365)))))
                bumps.append(("anchor", patient))
                self.anchors_pending.add(patient)
                anchor_need = dict(post_operation=(self._person_uuid(patient), operated.isoformat()))
                self._schedule(self._working_minute(minute // 1440 + rng.randint(3, 14)), "followup",
                               (patient, "post_operation", operated.isoformat()))
        editable = any(update.get("phone_now") or update.get("place") for update in updates)
        self._draft(minute, "visit", bumps, editable=editable, updates=updates, members=new, **anchor_need, **common)

    def _age(self, person: int, today: dt.date) -> int:
        return (today.toordinal() - self.birth[person]) // 365

    def _head(self, household: int, members: list[int]) -> int:
        heads = [person for person in members if self.relationship[person] == 0]
        return heads[0] if heads else members[0]

    def _member_change(self, person: int, household: int, elapsed: float, minute: int, today: dt.date) -> dict | None:
        """What happened to one member since the last visit, if anything (and the phone's register follows)."""
        rng = self.rng
        age = self._age(person, today)
        since = max(1, int(elapsed * 365))
        event_date = (today - dt.timedelta(days=rng.randint(0, since - 1))).isoformat()
        if rng.random() < elapsed * (0.002 if age < 60 else 0.02 if age < 75 else 0.08):
            self.status[person] = _DIED
            return dict(change="died", event_date=event_date)
        if person in self.corrections and rng.random() < 0.3:
            return dict(change="details_corrected", name_corrected=self.corrections.pop(person))
        if self.status[person] == _AWAY:
            if rng.random() < 0.3 * elapsed:
                self.status[person] = _HERE
                return dict(change="returned", event_date=event_date, place=rng.choice(PLACES),
                            phone_now=mobile_phone(rng) if rng.random() < 0.5 else None)
            return None
        if age < 16:
            return None
        draw = rng.random()
        if 18 <= age <= 50 and draw < 0.06 * elapsed:
            self.status[person] = _AWAY
            return dict(change="left_for_work", event_date=event_date, place=rng.choice(PLACES),
                        phone_now=mobile_phone(rng) if rng.random() < 0.5 else None)
        draw -= 0.06 * elapsed
        if draw < 0.01 * elapsed:
            self.status[person] = _MOVED
            return dict(change="moved_out", event_date=event_date, place=rng.choice(PLACES))
        draw -= 0.01 * elapsed
        if 20 <= age <= 35 and RELATIONSHIPS[self.relationship[person]] == "child" and draw < 0.04 * elapsed:
            spouse = random_member(rng, rng.choice(SURNAMES), "spouse")
            return dict(change="married", event_date=event_date, spouse_name=spouse.name)
        draw -= 0.04 * elapsed
        others = [other for other in range(self.group.households) if other != household and self.household_synced[other]]
        if others and draw < 0.008 * elapsed:
            target = rng.choice(others)
            self.household_of[person] = target
            return dict(change="changed_household", event_date=event_date, to_household=self._household_uuid(target))
        if rng.random() < 0.02:
            return dict(change="details_corrected", phone_now=mobile_phone(rng))
        return None

    # -- follow-ups and edits --

    def _do_followup(self, minute: int, argument: tuple[int, str, str]) -> None:
        person, due_type, due_since = argument
        if self.status[person] in (_MOVED, _DIED):
            return
        if person in self.anchors_pending:  # the visit telling of it is not on the server yet: not on the due list
            self._schedule(minute + 1440, "followup", argument)
            return
        outcome = "completed" if self.rng.random() < 0.92 else "nobody_home"
        instance_id = self._instance_id()
        xml = followup_visit(person=self._person_uuid(person), household=self._household_uuid(self.household_of[person]),
                             followup_type=due_type, start=self._clock(minute), outcome=outcome,
                             base_version=self.version[person], instance_id=instance_id, due_since=due_since,
                             username=self.group.collector, device_id=self.device)
        self.outbox.append(_Draft(minute, "followup", instance_id, xml, []))

    def _do_edit(self, minute: int, original: _Draft) -> None:
        """The collector corrects a sent form: a member's phone (or a planted typo) in a registration, the phone
        number or place a visit told."""
        rng = self.rng
        visit = dict(original.editable)
        if visit.get("new"):
            members = list(visit["members"])
            if original.typo in self.corrections:
                mistyped = self._person_uuid(original.typo)
                right = self.corrections.pop(original.typo)
                members = [dataclasses.replace(member, name=right) if member.uuid == mistyped else member
                           for member in members]
            else:
                position = rng.randrange(len(members))
                members[position] = dataclasses.replace(members[position], phone=mobile_phone(rng))
            visit["members"] = members
        else:
            updates = [dict(update) for update in visit["updates"]]
            for update in updates:
                if update.get("phone_now"):
                    update["phone_now"] = mobile_phone(rng)
                elif update.get("place"):
                    update["place"] = rng.choice(PLACES)
            visit["updates"] = updates
        instance_id = self._instance_id()
        xml = household_visit(**visit, instance_id=instance_id, deprecated_id=original.instance_id,
                              end=self._clock(minute), username=self.group.collector, device_id=self.device)
        self.outbox.append(_Draft(original.minute, "edit", instance_id, xml, []))


# ---- the command ---------------------------------------------------------------------------------------------------

def write_instances(stream: Iterable[SyntheticSubmission], folder: Path) -> Counter:
    """Collect's instance folders per collector (`<folder>/<collector>/instances/<name>/<name>.xml`, named by the
    phone time, an edit by its sync time); a retry is the same saved form, written once."""
    written: Counter = Counter()
    for item in stream:
        if item.kind == "retry":
            written["retry (not written)"] += 1
            continue
        form = "followup" if b'id="followup"' in item.xml[:200] else "household_visit"
        moment = item.sync_time if item.kind == "edit" else item.phone_time
        instances = folder / item.collector / "instances"
        while True:
            name = f"{form}_{moment:%Y-%m-%d_%H-%M-%S}"
            if not (instances / name).exists():
                break
            moment += dt.timedelta(seconds=1)
        (instances / name).mkdir(parents=True)
        (instances / name / f"{name}.xml").write_bytes(item.xml)
        written[item.kind] += 1
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--towns", type=int, default=20, help="the first N towns of the county of 20 (default all)")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2025, 12, 1))
    parser.add_argument("--limit", type=int, default=None, help="stop after this many submissions")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--summary", action="store_true", help="print counts, bytes and the generation rate")
    action.add_argument("--out", type=Path, help="write Collect instance folders per collector under this folder")
    args = parser.parse_args(argv)

    plan = plan_county(args.seed)
    towns = list(range(1, args.towns + 1))
    stream = submissions(plan, months=args.months, start=args.start, towns=towns, limit=args.limit)
    started = time.perf_counter()
    if args.out:
        written = write_instances(stream, args.out)
        print(f"wrote {sum(v for k, v in written.items() if k != 'retry (not written)'):,} instances to {args.out}")
        for kind, count in sorted(written.items()):
            print(f"  {kind:22} {count:>10,}")
        return
    kinds: Counter = Counter()
    size = people = 0
    for item in stream:
        kinds[item.kind] += 1
        size += len(item.xml)
        if item.kind not in ("edit", "retry"):
            people += item.xml.count(b"<new_person_uuid>")
    seconds = time.perf_counter() - started
    groups = [group for group in plan.groups if group.town in towns]
    total = sum(kinds.values())
    print(f"county seed {args.seed}: {len(towns)} town(s), {len(groups):,} groups, "
          f"{sum(group.households for group in groups):,} households, {args.months} months from {args.start}")
    print(f"people registered (duplicates included) and born: {people:,}")
    for kind in KINDS:
        print(f"  {kind:13} {kinds[kind]:>10,}")
    print(f"submissions: {total:,} ({total - kinds['retry']:,} distinct instanceIDs), {size / 2**20:,.1f} MiB of XML")
    print(f"generated in {seconds:,.1f} s: {total / seconds:,.0f} submissions/s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
