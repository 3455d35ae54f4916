#!/usr/bin/env python3
"""Duplicate-detection benchmark: blocked `candidate_pairs` on a synthetic village against naive all-pairs scoring.

    .venv/bin/python bench/dedupe.py [--people 5000] [--subset 1000] [--duplicate-share 0.04] [--seed 11643]

Builds one village of `--people` records (deterministic for a seed): households of one to six people with
names drawn from a small set of Sichuan surnames and given-name characters (so ordinary namesakes occur, as in
a real village), birth dates, valid resident ID numbers for most, mobile phones for most adults, a cadre's phone
typed in for some elderly people, and 1 January as the birth date for some old people whose exact date is not
known. A share of the records are planted duplicates of earlier ones, each of one kind:

    reentered       same name, sex and birth date; ID number and phone left out
    homophone       one given-name character replaced by a homophone; same birth date and sex
    typo            one given-name character replaced by another; same birth date, sex, household and phone
                    (found for three-character names; in a two-character name half the name differs, which
                    scores like same-sex twins of one household, 0.55, and is missed by design)
    id_number       one given-name character mistyped, birth date left out; same ID number
    birth_from_id   same name; the original has a birth date and no ID, the duplicate an ID and no birth date
    hard            one given-name character mistyped; birth date, ID and phone left out (meant to be missed)

It times `candidate_pairs` on the whole village and, on a village of `--subset` people made the same way,
scores every pair with the same scoring (the naive O(n²) baseline, timed in this run, extrapolated to the
whole village) and with blocking, reporting pairs compared, candidates, seconds and recall on the planted
duplicates for each. Figures are printed, never asserted. The whole run takes about ten seconds.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync import identity  # noqa: E402  (the project root is put on the path first)
from sync.identity import PersonRecord, blocked_pairs, candidate_pairs, id_check_character, name_key  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林邓唐蒋谢"
SURNAME_WEIGHTS = [14, 12, 11, 10, 9, 6, 5, 5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1]
FEMALE_CHARACTERS = "秀英兰芳丽华玉桂琴霞静敏燕红梅娟"
MALE_CHARACTERS = "建国明伟军强平德文华志勇磊林刚成"
HOMOPHONES = {
    "英": "瑛影莹", "兰": "岚澜", "华": "桦骅", "明": "鸣铭", "伟": "玮炜", "芳": "方坊", "军": "君钧",
    "静": "靖婧", "丽": "莉俐", "敏": "闽珉", "强": "墙蔷", "磊": "蕾垒", "玉": "钰煜", "琴": "芹勤",
    "霞": "侠峡", "燕": "艳雁", "红": "虹鸿", "梅": "玫媒", "娟": "鹃涓", "国": "帼", "平": "萍苹", "德": "得",
    "文": "雯纹", "志": "智芝", "勇": "涌", "林": "琳霖", "刚": "钢纲", "成": "诚程", "建": "健剑", "秀": "绣",
    "桂": "贵",
}
TYPO_CHARACTERS = "秀英兰芳丽华玉桂琴霞静敏燕红梅娟建国明伟军强平德文志勇磊林刚成春"
DUPLICATE_KINDS = ("reentered", "homophone", "typo", "id_number", "birth_from_id", "hard")
REGION = "5107"
CADRE_PHONE = "13900000000"
TODAY = date(2026, 1, 1)


@dataclass(frozen=True)
class Village:
    """The synthetic records and the planted duplicate pairs (lower id first) with their kinds."""

    people: list[PersonRecord]
    planted: dict[tuple[str, str], str]


def id_number_for(birth_date: date, sex: str, sequence: int) -> str:
    """A valid 18-character number, distinct for each sequence below 50,000: a region code 5107xx (one per 500
    sequences), the birth date, and an order whose last digit has the sex's parity."""
    order = 2 * (sequence % 500) + (1 if sex == "male" else 0)
    first_17 = f"{REGION}{sequence // 500:02d}{birth_date:%Y%m%d}{order:03d}"
    return first_17 + id_check_character(first_17)


def random_name(rng: random.Random, sex: str) -> str:
    characters = FEMALE_CHARACTERS if sex == "female" else MALE_CHARACTERS
    given_length = 2 if rng.random() < 0.7 else 1
    return rng.choices(SURNAMES, SURNAME_WEIGHTS)[0] + "".join(rng.choice(characters) for _ in range(given_length))


def random_birth_date(rng: random.Random) -> date:
    born = date(1930, 1, 1) + timedelta(days=rng.randrange((date(2024, 12, 31) - date(1930, 1, 1)).days))
    return date(born.year, 1, 1) if born.year < 1950 and rng.random() < 0.3 else born


def replace_given_character(rng: random.Random, name: str, *, homophone: bool) -> str:
    position = rng.randrange(1, len(name))
    old = name[position]
    if homophone:
        new = rng.choice(HOMOPHONES[old])
    else:
        new = rng.choice([character for character in TYPO_CHARACTERS if character != old])
    return name[:position] + new + name[position + 1:]


def original_people(rng: random.Random, count: int) -> list[PersonRecord]:
    people: list[PersonRecord] = []
    household_number = 0
    while len(people) < count:
        household_number += 1
        household = f"h{household_number:05d}"
        for _ in range(min(rng.randint(1, 6), count - len(people))):
            number = len(people)
            sex = rng.choice(("male", "female"))
            birth_date = random_birth_date(rng)
            age = TODAY.year - birth_date.year
            if age >= 75 and rng.random() < 0.05:
                phone = CADRE_PHONE
            elif 18 <= age <= 70 and rng.random() < 0.8:
                phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
            else:
                phone = None
            id_number = id_number_for(birth_date, sex, number) if rng.random() < 0.75 else None
            people.append(PersonRecord(
                id=f"p{number:05d}", village="v1", household=household, name=random_name(rng, sex), sex=sex,
                birth_date=birth_date, id_number=id_number, phone=phone))
    return people


def duplicate_of(rng: random.Random, original: PersonRecord, new_id: str, kind: str) -> PersonRecord:
    copy = replace(original, id=new_id)
    if kind == "reentered":
        return replace(copy, id_number=None, phone=None, household=f"moved-{new_id}")
    if kind == "homophone":
        return replace(copy, name=replace_given_character(rng, original.name, homophone=True), id_number=None)
    if kind == "typo":
        return replace(copy, name=replace_given_character(rng, original.name, homophone=False), id_number=None)
    if kind == "id_number":
        return replace(copy, name=replace_given_character(rng, original.name, homophone=False), birth_date=None)
    if kind == "birth_from_id":
        return replace(copy, id_number=id_number_for(original.birth_date, original.sex, int(new_id[1:])),
                       birth_date=None)
    return replace(copy, name=replace_given_character(rng, original.name, homophone=False), birth_date=None,
                   id_number=None, phone=None)


def synthetic_village(people_count: int, duplicate_share: float, seed: int) -> Village:
    """`people_count` records, of which `duplicate_share` are planted duplicates (of distinct originals)
    placed at random positions among the rest."""
    rng = random.Random(seed)
    duplicate_count = round(people_count * duplicate_share)
    originals = original_people(rng, people_count - duplicate_count)  # originals[n].id == f"p{n:05d}"
    duplicates: list[PersonRecord] = []
    planted: dict[tuple[str, str], str] = {}
    for index, position in enumerate(rng.sample(range(len(originals)), duplicate_count)):
        kind = DUPLICATE_KINDS[index % len(DUPLICATE_KINDS)]
        original = originals[position]
        if kind == "typo" and original.phone is None:
            original = replace(original, phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}")
        elif kind == "id_number" and original.id_number is None:
            original = replace(original, id_number=id_number_for(original.birth_date, original.sex, position))
        elif kind == "birth_from_id":
            original = replace(original, id_number=None)
        originals[position] = original
        duplicate = duplicate_of(rng, original, f"p{len(originals) + index:05d}", kind)
        duplicates.append(duplicate)
        planted[(original.id, duplicate.id)] = kind
    people = list(originals)
    for duplicate in duplicates:
        people.insert(rng.randrange(len(people) + 1), duplicate)
    return Village(people=people, planted=planted)


def recall_by_kind(found: set[tuple[str, str]], planted: dict[tuple[str, str], str]) -> dict[str, tuple[int, int]]:
    """kind -> (planted pairs found, planted pairs), plus 'all'."""
    totals: Counter[str] = Counter(planted.values())
    hits: Counter[str] = Counter(kind for pair, kind in planted.items() if pair in found)
    result = {kind: (hits[kind], totals[kind]) for kind in DUPLICATE_KINDS if totals[kind]}
    result["all"] = (sum(hits.values()), len(planted))
    return result


def all_pairs_candidates(people: list[PersonRecord], threshold: float) -> tuple[int, set[tuple[str, str]]]:
    """The naive baseline: every pair of the same village scored with the same scoring as candidate_pairs."""
    persons = [identity._identifiers(record, None) for record in people]
    compared, found = 0, set()
    for index, first in enumerate(persons):
        for second in persons[index + 1:]:
            if first.record.village != second.record.village or first.record.id == second.record.id:
                continue
            low, high = (first, second) if first.record.id < second.record.id else (second, first)
            compared += 1
            if identity._score(low, high).score >= threshold:
                found.add((low.record.id, high.record.id))
    return compared, found


def format_recall(recall: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{kind} {hit}/{total}" for kind, (hit, total) in recall.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--subset", type=int, default=1000, help="people of the village scored all-pairs")
    parser.add_argument("--duplicate-share", type=float, default=0.04)
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=11643)
    arguments = parser.parse_args()

    village = synthetic_village(arguments.people, arguments.duplicate_share, arguments.seed)
    people, planted = village.people, village.planted
    distinct_names = len({record.name for record in people})
    print(f"python {platform.python_version()} on {platform.machine()}, seed {arguments.seed}")
    print(f"village: {len(people)} people, {distinct_names} distinct names, {len(planted)} planted duplicates")

    name_key.cache_clear()
    started = time.perf_counter()
    candidates = candidate_pairs(people, threshold=arguments.threshold)
    blocked_seconds = time.perf_counter() - started
    compared = len(blocked_pairs(people))
    all_pairs = len(people) * (len(people) - 1) // 2
    found = {(candidate.a, candidate.b) for candidate in candidates}
    recall = recall_by_kind(found, planted)
    automatic = sum(candidate.score.automatic for candidate in candidates)
    print()
    print(f"blocked candidate_pairs, {len(people)} people:")
    print(f"  pairs compared      {compared:>12,}  of n(n-1)/2 = {all_pairs:,} ({compared / all_pairs:.3%})")
    print(f"  candidates found    {len(candidates):>12,}  ({automatic} automatic, "
          f"{len(found - set(planted))} not planted)")
    print(f"  seconds             {blocked_seconds:>12.3f}")
    print(f"  recall              {recall['all'][0] / recall['all'][1]:>12.1%}  ({format_recall(recall)})")

    smaller = synthetic_village(arguments.subset, arguments.duplicate_share, arguments.seed)
    subset, subset_planted = smaller.people, smaller.planted
    name_key.cache_clear()
    started = time.perf_counter()
    naive_compared, naive_found = all_pairs_candidates(subset, arguments.threshold)
    naive_seconds = time.perf_counter() - started
    name_key.cache_clear()
    started = time.perf_counter()
    subset_candidates = candidate_pairs(subset, threshold=arguments.threshold)
    subset_blocked_seconds = time.perf_counter() - started
    subset_found = {(candidate.a, candidate.b) for candidate in subset_candidates}
    naive_recall = recall_by_kind(naive_found, subset_planted)
    subset_recall = recall_by_kind(subset_found, subset_planted)
    extrapolated = naive_seconds * all_pairs / naive_compared
    print()
    print(f"baseline on a village of {len(subset)} people made the same way ({len(subset_planted)} planted):")
    print(f"  all pairs:  {naive_compared:>9,} compared, {len(naive_found):>4} candidates, "
          f"{naive_seconds:7.3f} s, {naive_seconds / naive_compared * 1e6:.1f} µs/pair, "
          f"recall {naive_recall['all'][0]}/{naive_recall['all'][1]}")
    print(f"  blocked:    {len(blocked_pairs(subset)):>9,} compared, {len(subset_candidates):>4} candidates, "
          f"{subset_blocked_seconds:7.3f} s, recall {subset_recall['all'][0]}/{subset_recall['all'][1]}, "
          f"candidates missed by blocking {len(naive_found - subset_found)}")
    print(f"  all pairs extrapolated to {len(people)} people: {extrapolated:.1f} s "
          f"({extrapolated / blocked_seconds:.0f}x the blocked run)")


if __name__ == "__main__":
    main()
