#!/usr/bin/env python3
"""Duplicate-detection benchmark: blocked `candidate_pairs` on a synthetic county, `candidates_for` per new person,
and naive all-pairs scoring of a village as the baseline.

    .venv/bin/python bench/dedupe.py [--people 800000] [--new 1000] [--village-people 5000] [--subset 1000]
                                     [--duplicate-share 0.03] [--seed 11643]

The county (deterministic for a seed): `--people` records in villages of about 4,000 (3,000–5,000), ten villages
a town; households of one to six people (a head, often a spouse, children, sometimes an old parent); surnames
drawn by their frequency in Sichuan, each village with two or three clans holding 40 % of its heads; given names
of one or two characters from about 210 characters in pools by sex and era of birth (before 1960, before 1990,
after), more common ones more often, siblings often sharing a generation character; birth dates (1 January for
30 % of those born before 1950); valid resident ID numbers for 85 % (the region code of their town for most, of
another Sichuan county for some; 2 % mistyped in one digit); mobile phones for most adults, a parent's phone for
half the children, the head's for some of the old, and the village cadre's for some over 75. In each village a
share of the records are planted duplicates of others of that village, each of one kind:

    reentered       same name, sex and birth date; ID number and phone left out, another household
    homophone       one given-name character replaced by a homophone; same birth date and sex, no ID number
    typo            one given-name character replaced by another; same birth date, sex, household and phone
                    (found for three-character names; in a two-character name half the name differs, which
                    scores like same-sex twins of one household, 0.55, and is missed by design)
    id_number       one given-name character mistyped, birth date left out; same ID number
    birth_from_id   same name; the original has a birth date and no ID, the duplicate an ID and no birth date
    hard            one given-name character mistyped; birth date, ID and phone left out (meant to be missed)

It prints, never asserts: (a) the baseline: on a village of `--subset` people made the same way, naive
all-pairs scoring (timed in this run, extrapolated to a village of `--village-people` and to the county) against
blocking; (b) the full county scan, `candidate_pairs` on every record (blocked within each village), against the
60 s target, with pairs compared, candidates and recall on the planted duplicates; (c) the incremental check of
`--new` new people (a fifth of them planted duplicates of people of their village): an index block key ->
records per village is built once (untimed), then each new person's look-up of the records sharing one of its
keys plus `candidates_for` is timed against the 10 ms target, and the first 20 are checked against a full scan
of their village with them added. The default run takes about a minute and a half and 1.2 GB of memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout first: the imports below are its packages

from sync import identity
from sync.identity import (
    LARGEST_BLOCK,
    Candidate,
    PersonRecord,
    block_keys,
    blocked_pairs,
    candidate_pairs,
    candidates_for,
    id_check_character,
    name_key,
    parse_id_number,
)

SURNAME_PER_MILLE = {
    "李": 76, "王": 67, "张": 61, "刘": 59, "陈": 56, "杨": 46, "黄": 28, "周": 26, "罗": 25, "吴": 24, "何": 22,
    "赵": 21, "徐": 16, "邓": 16, "曾": 15, "唐": 14, "谢": 14, "胡": 14, "蒋": 13, "冯": 12, "彭": 12, "杜": 11,
    "廖": 11, "郭": 10, "肖": 10, "朱": 10, "袁": 9, "高": 9, "林": 8, "马": 8, "余": 8, "田": 7, "文": 7, "付": 7,
    "苏": 6, "任": 6, "向": 6, "卢": 6, "江": 6, "熊": 6, "雷": 6, "宋": 5, "郑": 5, "程": 5, "严": 5, "韩": 5,
    "魏": 5, "侯": 5, "龙": 5, "夏": 4, "蔡": 4, "姜": 4, "钟": 4, "孙": 4, "汪": 4, "贺": 4, "范": 4, "邹": 4,
    "陶": 4, "毛": 4, "伍": 4, "冉": 3, "岳": 3, "汤": 3, "秦": 3, "阳": 3, "梁": 3, "许": 3, "沈": 3, "钱": 3,
    "尹": 3, "易": 3, "潘": 3, "牟": 3, "黎": 3, "白": 3, "傅": 3, "康": 3, "兰": 2, "左": 2, "吕": 2, "邱": 2,
    "石": 2, "母": 2, "敬": 2, "税": 2, "青": 2, "薛": 2, "董": 2, "丁": 2, "代": 2, "蒲": 2, "覃": 1, "单": 1,
    "解": 1, "仇": 1,
}
"""Surnames of Sichuan with their approximate share in thousandths (曾, 单, 解, 仇 and 覃 read differently as surnames)."""

SURNAMES = list(SURNAME_PER_MILLE)
SURNAME_CUMULATIVE_WEIGHTS = list(accumulate(SURNAME_PER_MILLE.values()))

GIVEN_NAME_CHARACTERS = {  # (sex, era) -> characters, more common first
    ("female", 0): "秀英兰芳玉珍桂华淑琼凤素碧群翠莲梅菊清会贞容琴香惠娥先明元光德学正金银云春仙朝美蓉芬友书孝昭永远万开述",
    ("male", 0): "国明华德建文成志清中正荣富贵安福光永学树世朝元开云全友才昌忠良海山林生发金银长远祥顺兴太洪万先仁义礼智泉",
    ("female", 1): "丽敏燕红霞静娟琴艳梅芳萍玲英莉琳娜倩雪婷蓉琼洁晓春小利平秀华玉兰凤桂群云香素慧莲丹琪晶菊容碧勤芹波",
    ("male", 1): "伟军勇强平斌刚杰波涛明建林华兵峰磊鹏超辉宇俊成东飞江川亮文国志红小德永海云全中学光荣彬剑锋虎龙松柏坤勤",
    ("female", 2): "欣怡雨涵思梦佳琪诗雪萱婷瑶嘉可馨悦妍紫蕊晨语婉心艺若彤静倩露月玲丹宁颖雅琳菲洋萌薇璐依晴希芸玥",
    ("male", 2): "浩宇俊杰子轩博文涛鑫豪睿泽航晨嘉凯一明阳然翔宏鹏志伟磊天昊锐星辰毅健皓铭宸瑞奕骏宁晗熙程",
}
"""Given-name characters by sex and era of birth (0: before 1960, 1: 1960–1989, 2: from 1990)."""

GIVEN_NAME_CUMULATIVE_WEIGHTS = {  # the n-th character of a pool weighs 1 / (n + 1) ** 0.7
    pool: list(accumulate(1 / (rank + 1) ** 0.7 for rank in range(len(characters))))
    for pool, characters in GIVEN_NAME_CHARACTERS.items()
}
SINGLE_CHARACTER_GIVEN_NAME_SHARE = (0.1, 0.3, 0.1)
"""Share of given names of one character, by era."""

NAME_CHARACTERS = "".join(dict.fromkeys("".join(GIVEN_NAME_CHARACTERS.values())))
MORE_HOMOPHONES = ("瑛影莹岚澜桦骅鸣玮炜方坊君钧靖婧俐闽珉墙蔷蕾垒钰煜侠峡雁虹鸿玫媒鹃涓帼苹得雯纹芝涌霖钢纲诚绣冬栋旦"
                   "人茜广冰有法珂琨田泰纳峨亭柠岸珊传桐丝材常照淞百征疆孩韬冉凌奇穹遥笙璧苏裙萃杭纷弱连居琥锦寅亚舜朋隆则纯彰")
"""Characters that are not in the name pools but sound like one that is, for homophone duplicates."""

DUPLICATE_KINDS = ("reentered", "homophone", "typo", "id_number", "birth_from_id", "hard")
VILLAGES_PER_TOWN = 10
OTHER_REGIONS = ("510722", "510725", "510681", "511321", "511623", "510922", "513922", "510104")
"""Region codes of other Sichuan counties, for people born elsewhere."""
TODAY = date(2026, 1, 1)
INCREMENTAL_CHECKED = 20
"""New people whose incremental candidates are compared with a full scan of their village."""


def homophones_by_character() -> dict[str, str]:
    """Each name character -> the other characters (of the pools and MORE_HOMOPHONES) with the same pinyin."""
    by_pinyin: dict[str, str] = defaultdict(str)
    for character in dict.fromkeys(NAME_CHARACTERS + MORE_HOMOPHONES):
        by_pinyin[name_key(character).pinyin] += character
    return {character: by_pinyin[name_key(character).pinyin].replace(character, "")
            for character in NAME_CHARACTERS if len(by_pinyin[name_key(character).pinyin]) > 1}


HOMOPHONES = homophones_by_character()


def has_homophone(name: str) -> bool:
    return any(character in HOMOPHONES for character in name[1:])


def is_ready_original(original: PersonRecord, kind: str) -> bool:
    """The record can be the original of a duplicate of this kind as it is (see `CountyMaker.prepared_original`)."""
    return original.birth_date is not None and (kind != "homophone" or has_homophone(original.name)) and {
        "typo": original.phone is not None, "id_number": parse_id_number(original.id_number).valid,
        "birth_from_id": original.id_number is None}.get(kind, True)


@dataclass(frozen=True)
class Village:
    """What the people of one village have in common."""

    name: str
    region: str
    """Region code of its town in the ID numbers of those born there."""
    clans: list[str]
    """Surnames of 40 % of the heads of household, the first the most common."""
    cadre_phone: str


@dataclass(frozen=True)
class County:
    """Synthetic records, village by village, and the planted duplicate pairs (lower id first) with their kinds."""

    people: list[PersonRecord]
    planted: dict[tuple[str, str], str]
    villages: list[Village]
    towns: int


class CountyMaker:
    """Makes the people of a county from one seed; ID numbers stay distinct across everything it makes."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.id_numbers_issued: Counter[tuple[str, date, str]] = Counter()
        self.people_made = 0

    def id_number(self, region: str, birth_date: date, sex: str) -> str:
        """A valid number not issued before: the order (digits 15–17) counts up per region, birth date and sex,
        its last digit odd for men and even for women."""
        issued = self.id_numbers_issued[(region, birth_date, sex)]
        self.id_numbers_issued[(region, birth_date, sex)] += 1
        first_17 = f"{region}{birth_date:%Y%m%d}{2 * issued + (sex == 'male'):03d}"
        return first_17 + id_check_character(first_17)

    def new_id(self) -> str:
        self.people_made += 1
        return f"p{self.people_made:07d}"

    def given_name(self, sex: str, year: int, generation: str | None = None) -> str:
        era = 0 if year < 1960 else 1 if year < 1990 else 2
        characters = GIVEN_NAME_CHARACTERS[(sex, era)]
        weights = GIVEN_NAME_CUMULATIVE_WEIGHTS[(sex, era)]
        if self.rng.random() < SINGLE_CHARACTER_GIVEN_NAME_SHARE[era]:
            return self.rng.choices(characters, cum_weights=weights)[0]
        first = generation or self.rng.choices(characters, cum_weights=weights)[0]
        second = first
        while second == first:
            second = self.rng.choices(characters, cum_weights=weights)[0]
        return first + second

    def surname(self, clans: list[str]) -> str:
        if clans and self.rng.random() < 0.4:
            return self.rng.choices(clans, weights=(3, 2, 1)[:len(clans)])[0]
        return self.rng.choices(SURNAMES, cum_weights=SURNAME_CUMULATIVE_WEIGHTS)[0]

    def birth_date(self, year: int) -> date:
        if year < 1950 and self.rng.random() < 0.3:
            return date(year, 1, 1)  # exact date not known
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def household(self, clans: list[str]) -> list[tuple[str, str, int]]:
        """Names, sexes and birth years of one to six people: a head, often a spouse, children, an old parent."""
        head_year = self.rng.randint(1940, 1998)
        head_sex = "male" if self.rng.random() < 0.85 else "female"
        head_surname = self.surname(clans)
        members = [(head_surname + self.given_name(head_sex, head_year), head_sex, head_year)]
        father_surname = head_surname
        if self.rng.random() < 0.8:
            spouse_sex = "female" if head_sex == "male" else "male"
            spouse_year = max(1930, head_year + self.rng.randint(-6, 6))
            spouse_surname = self.surname([])
            members.append((spouse_surname + self.given_name(spouse_sex, spouse_year), spouse_sex, spouse_year))
            if spouse_sex == "male":
                father_surname = spouse_surname
        generation: dict[str, str | None] = {}
        for _ in range(self.rng.choice((0, 1, 1, 2, 2, 3))):
            year = head_year + self.rng.randint(20, 36)
            if year > 2025:
                break
            sex = self.rng.choice(("male", "female"))
            given = self.given_name(sex, year, generation.get(sex))
            if sex not in generation:  # siblings of one sex often share the first character
                generation[sex] = given[0] if len(given) == 2 and self.rng.random() < 0.5 else None
            members.append((father_surname + given, sex, year))
        if head_year < 1975 and self.rng.random() < 0.2:
            year = max(1925, head_year - self.rng.randint(20, 35))
            sex = self.rng.choice(("male", "female"))
            surname = head_surname if sex == "male" else self.surname([])
            members.append((surname + self.given_name(sex, year), sex, year))
        return members[:6]

    def phone(self) -> str:
        return f"1{self.rng.choice('3578')}{self.rng.randrange(10**9):09d}"

    def household_records(self, village: Village, household: str) -> list[PersonRecord]:
        records: list[PersonRecord] = []
        for name, sex, year in self.household(village.clans):
            birth_date = self.birth_date(year)
            age = TODAY.year - year
            if 18 <= age <= 70 and self.rng.random() < 0.8:
                phone = self.phone()
            elif age >= 75 and self.rng.random() < 0.05:
                phone = village.cadre_phone
            elif records and records[0].phone and (age < 18 and self.rng.random() < 0.5
                                                   or age > 70 and self.rng.random() < 0.4):
                phone = records[0].phone
            else:
                phone = None
            id_number = None
            if self.rng.random() < 0.85:
                region = village.region if self.rng.random() < 0.9 else self.rng.choice(OTHER_REGIONS)
                id_number = self.id_number(region, birth_date, sex)
                if self.rng.random() < 0.02:
                    position = self.rng.randrange(17)
                    id_number = id_number[:position] + self.rng.choice("0123456789") + id_number[position + 1:]
            records.append(PersonRecord(id=self.new_id(), village=village.name, household=household, name=name, sex=sex,
                                        birth_date=birth_date, id_number=id_number, phone=phone))
        return records

    def replace_given_character(self, name: str, *, homophone: bool) -> str:
        positions = [position for position in range(1, len(name)) if not homophone or name[position] in HOMOPHONES]
        position = self.rng.choice(positions)
        old = name[position]
        new = self.rng.choice(HOMOPHONES[old] if homophone else NAME_CHARACTERS.replace(old, ""))
        return name[:position] + new + name[position + 1:]

    def duplicate_of(self, original: PersonRecord, kind: str) -> PersonRecord:
        copy = replace(original, id=self.new_id())
        if kind == "reentered":
            return replace(copy, id_number=None, phone=None, household=f"moved-{copy.id}")
        if kind == "homophone":
            return replace(copy, name=self.replace_given_character(original.name, homophone=True), id_number=None)
        if kind == "typo":
            return replace(copy, name=self.replace_given_character(original.name, homophone=False), id_number=None)
        if kind == "id_number":
            return replace(copy, name=self.replace_given_character(original.name, homophone=False), birth_date=None)
        if kind == "birth_from_id":
            return replace(copy, id_number=self.id_number(OTHER_REGIONS[0], original.birth_date, original.sex),
                           birth_date=None)
        return replace(copy, name=self.replace_given_character(original.name, homophone=False), birth_date=None,
                       id_number=None, phone=None)

    def prepared_original(self, original: PersonRecord, kind: str) -> PersonRecord:
        """The original as its duplicate's kind needs it: a phone for typo, an ID for id_number, none for
        birth_from_id."""
        if kind == "typo" and original.phone is None:
            return replace(original, phone=self.phone())
        if kind == "id_number" and not parse_id_number(original.id_number).valid:
            return replace(original, id_number=self.id_number(OTHER_REGIONS[0], original.birth_date, original.sex))
        if kind == "birth_from_id":
            return replace(original, id_number=None)
        return original

    def village_records(self, village: Village, people_count: int, duplicate_share: float,
                        planted: dict[tuple[str, str], str]) -> list[PersonRecord]:
        """`people_count` records of one village, `duplicate_share` of them planted duplicates (of distinct
        originals) at random positions; adds the planted pairs to `planted`."""
        duplicate_count = round(people_count * duplicate_share)
        originals: list[PersonRecord] = []
        while len(originals) < people_count - duplicate_count:
            originals.extend(self.household_records(village, f"{village.name}-h{len(originals):04d}"))
        del originals[people_count - duplicate_count:]
        unused = iter(self.rng.sample(range(len(originals)), len(originals)))
        duplicates = []
        for _ in range(duplicate_count):
            kind = DUPLICATE_KINDS[len(planted) % len(DUPLICATE_KINDS)]
            position = next(position for position in unused
                            if kind != "homophone" or has_homophone(originals[position].name))
            originals[position] = self.prepared_original(originals[position], kind)
            duplicate = self.duplicate_of(originals[position], kind)
            duplicates.append(duplicate)
            planted[(originals[position].id, duplicate.id)] = kind
        people = originals
        for duplicate in duplicates:
            people.insert(self.rng.randrange(len(people) + 1), duplicate)
        return people

    def county(self, people_count: int, village_people: int, duplicate_share: float) -> County:
        """About `people_count // village_people` villages of 0.75–1.25 times `village_people` people each,
        `people_count` in all."""
        spreads = [self.rng.uniform(0.75, 1.25) for _ in range(max(1, round(people_count / village_people)))]
        sizes = [round(people_count * spread / sum(spreads)) for spread in spreads]
        sizes[-1] += people_count - sum(sizes)
        people: list[PersonRecord] = []
        planted: dict[tuple[str, str], str] = {}
        villages = []
        for number, size in enumerate(sizes):
            town, number_in_town = divmod(number, VILLAGES_PER_TOWN)
            village = Village(name=f"t{town:02d}v{number_in_town}", region=f"5107{21 + town:02d}",
                              clans=self.rng.sample(SURNAMES[:30], self.rng.choice((2, 3))),
                              cadre_phone=f"1390000{number:04d}")
            villages.append(village)
            people.extend(self.village_records(village, size, duplicate_share, planted))
        return County(people=people, planted=planted, villages=villages, towns=town + 1)

    def new_people(self, county: County, count: int) -> tuple[list[PersonRecord], dict[tuple[str, str], str]]:
        """`count` people to be added to `county`'s villages: a fifth duplicates of someone already there (kinds
        in turn), the rest people of a new household; with the planted pairs."""
        by_village: dict[str, list[PersonRecord]] = defaultdict(list)
        for record in county.people:
            by_village[record.village].append(record)
        new: list[PersonRecord] = []
        planted: dict[tuple[str, str], str] = {}
        while len(new) < count:
            village = self.rng.choice(county.villages)
            if self.rng.random() < 0.2:
                kind = DUPLICATE_KINDS[len(planted) % len(DUPLICATE_KINDS)]
                original = self.rng.choice(by_village[village.name])
                while not is_ready_original(original, kind):
                    original = self.rng.choice(by_village[village.name])
                duplicate = self.duplicate_of(original, kind)
                new.append(duplicate)
                planted[(original.id, duplicate.id)] = kind
            else:
                new.append(self.rng.choice(self.household_records(village, f"{village.name}-new{len(new)}")))
        return new, planted


def recall_by_kind(found: set[tuple[str, str]], planted: dict[tuple[str, str], str]) -> dict[str, tuple[int, int]]:
    """kind -> (planted pairs found, planted pairs), plus 'all'."""
    totals: Counter[str] = Counter(planted.values())
    hits: Counter[str] = Counter(kind for pair, kind in planted.items() if pair in found)
    result = {kind: (hits[kind], totals[kind]) for kind in DUPLICATE_KINDS if totals[kind]}
    result["all"] = (sum(hits.values()), len(planted))
    return result


def format_recall(recall: dict[str, tuple[int, int]]) -> str:
    hit, total = recall["all"]
    kinds = ", ".join(f"{kind} {hit}/{total}" for kind, (hit, total) in recall.items() if kind != "all")
    return f"{hit / total:.1%} ({kinds})"


def all_pairs_candidates(people: list[PersonRecord], threshold: float) -> tuple[int, set[tuple[str, str]]]:
    """The naive baseline: every pair of the same village scored with the same scoring as candidate_pairs."""
    persons = [identity.identifiers(record, None) for record in people]
    compared, found = 0, set()
    for index, first in enumerate(persons):
        for second in persons[index + 1:]:
            if first.record.village != second.record.village or first.record.id == second.record.id:
                continue
            low, high = (first, second) if first.record.id < second.record.id else (second, first)
            compared += 1
            if identity.score_identifiers(low, high).score >= threshold:
                found.add((low.record.id, high.record.id))
    return compared, found


def peak_memory_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_scan(people: list[PersonRecord], threshold: float) -> tuple[float, list[Candidate]]:
    name_key.cache_clear()
    started = time.perf_counter()
    candidates = candidate_pairs(people, threshold=threshold)
    return time.perf_counter() - started, candidates


def county_scan(county: County, threshold: float, all_pairs_seconds_per_pair: float) -> None:
    people = county.people
    seconds, candidates = timed_scan(people, threshold)
    village_sizes = Counter(record.village for record in people)
    all_pairs = sum(size * (size - 1) // 2 for size in village_sizes.values())
    compared = len(blocked_pairs(people))
    found = {(candidate.a, candidate.b) for candidate in candidates}
    automatic = sum(candidate.score.automatic for candidate in candidates)
    extrapolated = all_pairs_seconds_per_pair * all_pairs
    print(f"\n(b) full scan of the county: candidate_pairs on all {len(people):,} people "
          f"(blocked within each village; target 60 s)")
    print(f"  seconds             {seconds:>12.2f}  ({seconds / 60:.2f} of the target; "
          f"{seconds / len(people) * 1e6:.1f} µs/person)")
    print(f"  pairs compared      {compared:>12,}  of {all_pairs:,} pairs within villages ({compared / all_pairs:.4%})")
    print(f"  candidates found    {len(candidates):>12,}  ({automatic:,} automatic, "
          f"{len(found - set(county.planted)):,} not planted)")
    print(f"  recall              {format_recall(recall_by_kind(found, county.planted))}")
    print(f"  all pairs within villages, at the baseline's µs/pair: {extrapolated:,.0f} s "
          f"({extrapolated / seconds:,.0f}x the blocked scan)")


def incremental_check(county: County, maker: CountyMaker, count: int, threshold: float) -> None:
    new, planted = maker.new_people(county, count)
    started = time.perf_counter()
    index: dict[str, dict[str, list[PersonRecord]]] = defaultdict(lambda: defaultdict(list))
    for record in county.people:
        village_index = index[record.village]
        for key in block_keys(record):
            village_index[key].append(record)
    index_seconds = time.perf_counter() - started
    print(f"\n(c) incremental check of {len(new):,} new people ({len(planted)} planted duplicates of people already "
          f"there; target 10 ms each)")
    print(f"  index block key -> records, per village, built once (untimed): "
          f"{sum(len(keys) for keys in index.values()):,} keys, {index_seconds:.1f} s")

    def look_up_and_check(person: PersonRecord) -> tuple[list, int]:
        village_index = index[person.village]
        others = []
        for key in block_keys(person):
            members = village_index.get(key, ())
            if len(members) < LARGEST_BLOCK:  # with the new person the block stays within LARGEST_BLOCK
                others.extend(members)
        return candidates_for(person, others, threshold=threshold), len(others)

    milliseconds, others_counts, found = [], [], set()
    name_key.cache_clear()
    for person in new:
        started = time.perf_counter()
        candidates, others_count = look_up_and_check(person)
        milliseconds.append((time.perf_counter() - started) * 1000)
        others_counts.append(others_count)
        found.update((candidate.a, candidate.b) for candidate in candidates)
    percentiles = statistics.quantiles(milliseconds, n=100)
    print(f"  per new person (look-up + candidates_for): median {statistics.median(milliseconds):.3f} ms, "
          f"p99 {percentiles[98]:.3f} ms, max {max(milliseconds):.3f} ms "
          f"(p99 {percentiles[98] / 10:.2f} of the target)")
    print(f"  records scored per new person: median {statistics.median(others_counts):.0f}, "
          f"p99 {statistics.quantiles(others_counts, n=100)[98]:.0f}, max {max(others_counts)}")
    print(f"  candidates {len(found)}, {len(found - set(planted))} not planted; "
          f"recall {format_recall(recall_by_kind(found, planted))}")
    by_village: dict[str, list[PersonRecord]] = defaultdict(list)
    for record in county.people:
        by_village[record.village].append(record)
    agreeing, scan_milliseconds = 0, []
    for person in new[:INCREMENTAL_CHECKED]:
        started = time.perf_counter()
        village_candidates = candidate_pairs([*by_village[person.village], person], threshold=threshold)
        scan_milliseconds.append((time.perf_counter() - started) * 1000)
        agreeing += look_up_and_check(person)[0] == [candidate for candidate in village_candidates
                                                       if person.id in (candidate.a, candidate.b)]
    print(f"  same candidates as a full scan of the village with the new person added: {agreeing}/"
          f"{len(scan_milliseconds)}; such a scan takes {statistics.median(scan_milliseconds):.0f} ms "
          f"(median, {statistics.median(scan_milliseconds) / statistics.median(milliseconds):,.0f}x the "
          f"incremental check)")


def village_baseline(arguments: argparse.Namespace) -> float:
    """Prints blocked against all-pairs scoring on one village; returns the all-pairs seconds per pair."""
    village = CountyMaker(arguments.seed).county(arguments.village_people, arguments.village_people,
                                                 arguments.duplicate_share)
    seconds, candidates = timed_scan(village.people, arguments.threshold)
    compared = len(blocked_pairs(village.people))
    all_pairs = len(village.people) * (len(village.people) - 1) // 2
    found = {(candidate.a, candidate.b) for candidate in candidates}
    print(f"\n(a) baseline: one village of {len(village.people):,} people made the same way "
          f"({len(village.planted)} planted duplicates)")
    print(f"  blocked:    {compared:>9,} pairs compared of {all_pairs:,} ({compared / all_pairs:.3%}), "
          f"{len(candidates)} candidates ({len(found - set(village.planted))} not planted), {seconds:.3f} s, "
          f"recall {format_recall(recall_by_kind(found, village.planted))}")
    subset = CountyMaker(arguments.seed).county(arguments.subset, arguments.subset, arguments.duplicate_share)
    name_key.cache_clear()
    started = time.perf_counter()
    naive_compared, naive_found = all_pairs_candidates(subset.people, arguments.threshold)
    naive_seconds = time.perf_counter() - started
    subset_seconds, subset_candidates = timed_scan(subset.people, arguments.threshold)
    subset_found = {(candidate.a, candidate.b) for candidate in subset_candidates}
    seconds_per_pair = naive_seconds / naive_compared
    print(f"  on a village of {len(subset.people):,} ({len(subset.planted)} planted):")
    print(f"    all pairs:  {naive_compared:>9,} compared, {len(naive_found):>4} candidates, {naive_seconds:7.3f} s, "
          f"{seconds_per_pair * 1e6:.1f} µs/pair, recall {format_recall(recall_by_kind(naive_found, subset.planted))}")
    print(f"    blocked:    {len(blocked_pairs(subset.people)):>9,} compared, {len(subset_candidates):>4} candidates, "
          f"{subset_seconds:7.3f} s, candidates missed by blocking {len(naive_found - subset_found)}")
    print(f"  all pairs extrapolated to {len(village.people):,} people: {seconds_per_pair * all_pairs:.1f} s "
          f"({seconds_per_pair * all_pairs / seconds:.0f}x the blocked run)")
    return seconds_per_pair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=800_000, help="people in the county")
    parser.add_argument("--new", type=int, default=1000, help="new people checked incrementally")
    parser.add_argument("--village-people", type=int, default=5000, help="people of the baseline's village")
    parser.add_argument("--subset", type=int, default=1000, help="people of the village scored all-pairs")
    parser.add_argument("--duplicate-share", type=float, default=0.03)
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=11643)
    arguments = parser.parse_args()

    print(f"python {platform.python_version()} ({platform.python_implementation()}) on {platform.machine()}, "
          f"{os.cpu_count()} cores, {platform.system()} {platform.release()}; seed {arguments.seed}; "
          f"load average {os.getloadavg()[0]:.2f}")
    seconds_per_pair = village_baseline(arguments)

    started = time.perf_counter()
    maker = CountyMaker(arguments.seed)
    county = maker.county(arguments.people, 4000, arguments.duplicate_share)
    names_in_village = Counter((record.village, record.name) for record in county.people)
    namesakes = sum(count for count in names_in_village.values() if count > 1)
    print(f"\ncounty: {len(county.people):,} people, {len(county.villages)} villages, "
          f"{county.towns} town{'s' * (county.towns > 1)}, "
          f"{len({record.name for record in county.people}):,} distinct names, "
          f"{namesakes / len(county.people):.1%} sharing their name with another in their village; "
          f"{len(county.planted):,} planted duplicates; made in {time.perf_counter() - started:.1f} s")

    county_scan(county, arguments.threshold, seconds_per_pair)
    incremental_check(county, maker, arguments.new, arguments.threshold)
    print(f"\npeak memory (RSS) of this process: {peak_memory_mib():,.0f} MiB; "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
