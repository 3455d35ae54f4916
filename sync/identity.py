"""Identifying people for duplicate detection: resident ID numbers, name keys, pair scores and candidate pairs.

Resident ID numbers (居民身份证号码, GB 11643-1999) are 18 characters: a 6-digit region code, the birth date
as YYYYMMDD (characters 7–14), a 3-digit sequence whose last digit (character 17) is odd for men and even for
women, and a check character (ISO 7064 MOD 11-2) that is a digit or X. The first-generation 15-digit number is
reported as invalid ("length").

Names are compared by a `NameKey`: the characters (NFKC, without spaces or punctuation) and their toneless
pinyin, so homophones written with different characters (王秀英 / 王秀瑛 / 王秀影) share the pinyin. A first
character that reads differently as a surname is read as one (单 shan, 曾 zeng: `SURNAME_READINGS`).

A pair of person records is scored by a simple additive model: each observation below that holds adds its
weight, and the sum is clipped to [0, 1]. Every observation is also reported as a stable reason code, explained
for the review screen in `REASONS`.

    reason                          weight   when
    same_id_number                   +0.60   both ID numbers valid and identical
    id_number_differs                -1.00   both ID numbers valid and different (different people)
    same_name                        +0.40   name characters identical
    same_name_pinyin                 +0.35   characters differ, pinyin identical (homophone)
    similar_name                     +0.25   neither of the above, but characters ratio >= 66
                                             (one character of three) or pinyin ratio >= 90
    same_birth_date                  +0.25   both birth dates given and equal
    birth_date_matches_id_number     +0.25   one birth date missing; the other record's birth date
                                             equals the date in this record's valid ID number
    birth_date_differs               -0.30   birth dates (or, as above, birth date against ID date) differ
    same_sex                         +0.05   sexes known and equal
    sex_differs                      -1.00   sexes known and different (different people)
    same_household                   +0.10   both in the same household
    same_phone                       +0.15   same phone number (digits only, without +86)

A pair across villages that a move may explain (sync.arrivals: a person registered anew in one village and a
person who moved out of another) is scored the same way, with three more reasons:

    moved                             0.00   one moved out, the other was registered anew elsewhere (the mark
                                             of a move pair; it adds nothing)
    origin_matches                   +0.10   the place the new record came from names the other's village or town
    destination_matches              +0.10   the move out named the village or town where the new record lives

A record's sex is its `sex` field, or, where that is empty, the sex its valid ID number gives. At most one
name reason and one birth-date reason apply to a pair. With the default threshold 0.6, a homophone with the
same birth date and sex (0.65) is a candidate; the same name and sex alone (0.45), or with the same household
(0.55), is not; different valid ID numbers or different sexes bring any pair to 0.

A pair is `automatic` (may be merged without a person reviewing it) only when both ID numbers are valid and
identical, each record's birth date, where given, equals the ID number's date, each record's sex, where given,
agrees with the ID number's sex, and the names are the same, homophones or similar (a number typed in for the
wrong person of the same birthday must reach a person, not be merged).

`candidate_pairs` compares only records of the same village that share a block key (`block_keys`: valid ID
number, name pinyin, name characters, birth date with sex, phone), village after village, so a village of 5,000
people costs thousands of comparisons, not 12.5 million. A key shared by more than `LARGEST_BLOCK` records is a
placeholder, not a lead, and is not compared as a block. `candidates_for` is the incremental check of one new or
changed record against the records of its village sharing one of its block keys (kept by the caller in an index
per village): it finds the pairs with that record that a scan of the village would.
"""

from __future__ import annotations

import functools
import operator
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS
from rapidfuzz import fuzz

__all__ = [
    "ID_NUMBER_WEIGHTS", "ID_CHECK_CHARACTERS", "ID_NUMBER_PROBLEMS", "WEIGHTS", "REASONS",
    "SURNAME_READINGS", "SIMILAR_CHARACTERS_RATIO", "SIMILAR_PINYIN_RATIO", "LARGEST_BLOCK",
    "ResidentId", "NameKey", "PersonRecord", "MatchScore", "Candidate",
    "normalize_id_number", "id_check_character", "parse_id_number", "name_key", "normalize_phone",
    "Identifiers", "identifiers", "score_identifiers", "score_pair", "block_keys", "blocked_pairs", "candidate_pairs",
    "candidates_for",
]

# --- resident ID numbers ----------------------------------------------------------------------------------------

ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""Weights of the first 17 digits in the ISO 7064 MOD 11-2 check (2**(17-i) mod 11)."""

ID_CHECK_CHARACTERS = "10X98765432"
"""The check character for each remainder of the weighted sum modulo 11."""

_CHECK_CHARACTERS = frozenset("0123456789X")

ID_NUMBER_PROBLEMS = ("empty", "length", "characters", "check_character", "birth_date")
"""What `parse_id_number` may find wrong with a number, in the order it looks."""


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A parsed resident ID number; `birth_date` and `sex` are given only for a valid number."""

    number: str
    valid: bool
    birth_date: date | None = None
    sex: str | None = None
    problem: str | None = None


def normalize_id_number(text: str | None) -> str:
    """The number without whitespace, full-width characters made half-width (NFKC), a lowercase x as X."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).replace("x", "X")


def id_check_character(first_17_digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 digits."""
    if len(first_17_digits) != len(ID_NUMBER_WEIGHTS):
        raise ValueError(f"17 digits expected, not {len(first_17_digits)} characters")
    total = sum(map(operator.mul, map(int, first_17_digits), ID_NUMBER_WEIGHTS))
    return ID_CHECK_CHARACTERS[total % 11]


def parse_id_number(text: str | None, *, as_of: date | None = None) -> ResidentId:
    """Check a resident ID number; a birth date after `as_of` is a problem (no such check when as_of is None)."""
    number = normalize_id_number(text)
    if not number:
        return ResidentId(number, False, problem="empty")
    if len(number) != 18:
        return ResidentId(number, False, problem="length")
    if not (number[:17].isascii() and number[:17].isdigit() and number[17] in _CHECK_CHARACTERS):
        return ResidentId(number, False, problem="characters")
    if id_check_character(number[:17]) != number[17]:
        return ResidentId(number, False, problem="check_character")
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return ResidentId(number, False, problem="birth_date")
    if as_of is not None and birth_date > as_of:
        return ResidentId(number, False, problem="birth_date")
    sex = "male" if int(number[16]) % 2 == 1 else "female"
    return ResidentId(number, True, birth_date=birth_date, sex=sex)


# --- names ------------------------------------------------------------------------------------------------------

SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "盖": "ge", "缪": "miao", "乐": "yue", "覃": "qin", "翟": "zhai", "召": "shao",
}
"""Surname readings of characters whose everyday reading differs (单 is Shan as a surname, not dan)."""


@dataclass(frozen=True, slots=True)
class NameKey:
    """A name as compared: its characters without spaces or punctuation, and their toneless pinyin."""

    characters: str
    pinyin: str


def _lowercase_letters_and_digits(chunk: str) -> str:
    """pypinyin's handler for text without pinyin: Latin letters and digits kept, lowercased."""
    return "".join(character for character in chunk if character.isalnum()).lower()


def _pinyin(text: str) -> list[str]:
    return lazy_pinyin(text, style=Style.NORMAL, errors=_lowercase_letters_and_digits)


@functools.lru_cache(maxsize=8192)
def _character_pinyin(character: str) -> str | None:
    """The pinyin of a Chinese character with a reading, alone; None for any other character."""
    return _pinyin(character)[0] if ord(character) in PINYIN_DICT and RE_HANS.match(character) else None


_PHRASE_BEGINNINGS = frozenset(phrase[:2] for phrase in PHRASES_DICT)
"""The first two characters of each phrase that pypinyin reads as a whole (its phrase dictionary, to which this
module adds none)."""


def _syllables(text: str) -> list[str]:
    """What `_pinyin` gives for `text`, read character by character (cached) where pypinyin reads it so: Chinese
    characters with a reading, no two neighbours beginning a phrase (2.5 % of bench/dedupe.py's names have two)."""
    syllables = [_character_pinyin(character) for character in text]
    if None in syllables or any(text[index:index + 2] in _PHRASE_BEGINNINGS for index in range(len(text) - 1)):
        return _pinyin(text)
    return syllables


@functools.lru_cache(maxsize=65536)
def name_key(name: str | None) -> NameKey:
    """NFKC, then only letters, marks and digits kept; pinyin syllables joined by single spaces."""
    folded = unicodedata.normalize("NFKC", name or "")
    characters = folded if folded.isalnum() else "".join(  # isalnum: every character is a letter or digit
        character for character in folded if unicodedata.category(character)[0] in "LMN")
    if not characters:
        return NameKey("", "")
    surname_reading = SURNAME_READINGS.get(characters[0]) if len(characters) > 1 else None
    rest = characters[1:] if surname_reading else characters
    syllables = _syllables(rest)
    if surname_reading:
        syllables = [surname_reading, *syllables]
    return NameKey(characters, " ".join(syllable for syllable in syllables if syllable))


# --- records and scores -----------------------------------------------------------------------------------------

WEIGHTS: dict[str, float] = {
    "same_id_number": 0.60,
    "id_number_differs": -1.00,
    "same_name": 0.40,
    "same_name_pinyin": 0.35,
    "similar_name": 0.25,
    "same_birth_date": 0.25,
    "birth_date_matches_id_number": 0.25,
    "birth_date_differs": -0.30,
    "same_sex": 0.05,
    "sex_differs": -1.00,
    "same_household": 0.10,
    "same_phone": 0.15,
    "moved": 0.00,
    "origin_matches": 0.10,
    "destination_matches": 0.10,
}
"""Weight of each reason in the additive score (see the module docstring); reasons are reported in this order."""

REASONS: dict[str, tuple[str, str]] = {
    "same_id_number": ("身份证号码相同且有效", "Same valid resident ID number"),
    "id_number_differs": ("两人的身份证号码都有效但不同，应是不同的人",
                          "Both ID numbers are valid but different: most likely two people"),
    "same_name": ("姓名相同", "Same name"),
    "same_name_pinyin": ("姓名读音相同（同音字）", "Names sound the same (homophone characters)"),
    "similar_name": ("姓名相近（可能有错字）", "Similar names (perhaps a typing error)"),
    "same_birth_date": ("出生日期相同", "Same birth date"),
    "birth_date_matches_id_number": ("一人的出生日期与另一人身份证号码中的日期相同",
                                     "One person's birth date is the date in the other's ID number"),
    "birth_date_differs": ("出生日期不同", "Different birth dates"),
    "same_sex": ("性别相同", "Same sex"),
    "sex_differs": ("性别不同，应是不同的人", "Different sex: most likely two people"),
    "same_household": ("同一户", "Same household"),
    "same_phone": ("电话号码相同", "Same phone number"),
    "moved": ("一人从别村迁出，另一人在本村新登记：迁移可解释两条记录",
              "One moved out of another village, the other was registered here anew: a move explains two records"),
    "origin_matches": ("新登记人员的迁入来处正是迁出人员的村或镇",
                       "The place the new record came from is the village or town the other moved out of"),
    "destination_matches": ("迁出时登记的去向正是新登记人员所在的村或镇",
                            "The move out named the village or town where the new record lives"),
}
"""What each reason code means, in Chinese and English, for the review screen."""

SIMILAR_CHARACTERS_RATIO = 66.0
"""rapidfuzz ratio of name characters from which names are similar: one character of three differing is 66.7."""

SIMILAR_PINYIN_RATIO = 90.0
"""rapidfuzz ratio of pinyin from which names are similar: ying/yin 96, jing/jin 94, but wei/wen 88.9."""

LARGEST_BLOCK = 200
"""Records sharing one block key beyond this many are a placeholder (a cadre's phone typed for everyone, a
default birth date), not a lead: such a block is not compared as a whole; other keys still pair its members."""


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One person as the register holds them, as far as identifying them goes."""

    id: str
    village: str
    household: str | None
    name: str
    sex: str | None
    birth_date: date | None
    id_number: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class MatchScore:
    """How likely two records are one person: score in [0, 1], the reason codes, and whether merging may skip review."""

    score: float
    reasons: tuple[str, ...]
    automatic: bool


@dataclass(frozen=True, slots=True)
class Candidate:
    """A pair of person ids (a < b) worth a person's review, with its score."""

    a: str
    b: str
    score: MatchScore


class Identifiers(NamedTuple):
    """What scoring reads from one record, computed once per record."""

    record: PersonRecord
    name: NameKey
    resident_id: ResidentId
    sex: str | None
    phone: str | None


def normalize_phone(text: str | None) -> str | None:
    """The digits of a phone number (NFKC), without a leading +86 / 0086; None when there are none."""
    folded = unicodedata.normalize("NFKC", text or "")
    digits = folded if folded.isascii() and folded.isdigit() else "".join(
        character for character in folded if character.isascii() and character.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
    return digits or None


def identifiers(record: PersonRecord, as_of: date | None) -> Identifiers:
    resident_id = parse_id_number(record.id_number, as_of=as_of)
    return Identifiers(record, name_key(record.name), resident_id, record.sex or resident_id.sex,
                        normalize_phone(record.phone))


def _name_reason(a: NameKey, b: NameKey) -> str | None:
    if not a.characters or not b.characters:
        return None
    if a.characters == b.characters:
        return "same_name"
    if a.pinyin and a.pinyin == b.pinyin:
        return "same_name_pinyin"
    if (fuzz.ratio(a.characters, b.characters) >= SIMILAR_CHARACTERS_RATIO
            or (a.pinyin and b.pinyin and fuzz.ratio(a.pinyin, b.pinyin) >= SIMILAR_PINYIN_RATIO)):
        return "similar_name"
    return None


def _birth_date_reason(a: Identifiers, b: Identifiers) -> str | None:
    a_born, b_born = a.record.birth_date, b.record.birth_date
    if a_born is not None and b_born is not None:
        return "same_birth_date" if a_born == b_born else "birth_date_differs"
    for born, other_id in ((a_born, b.resident_id), (b_born, a.resident_id)):
        if born is not None and other_id.valid:
            return "birth_date_matches_id_number" if born == other_id.birth_date else "birth_date_differs"
    return None


def _agrees_with_own_id(person: Identifiers) -> bool:
    """The record's own birth date and sex, where given, are those its valid ID number gives."""
    record, resident_id = person.record, person.resident_id
    return ((record.birth_date is None or record.birth_date == resident_id.birth_date)
            and (not record.sex or record.sex == resident_id.sex))


def score_identifiers(a: Identifiers, b: Identifiers) -> MatchScore:
    # Each group of reasons below comes in the order of WEIGHTS, so `reasons` is in that order.
    reasons = []
    a_id, b_id = a.resident_id, b.resident_id
    same_id_number = a_id.valid and b_id.valid and a_id.number == b_id.number
    if a_id.valid and b_id.valid:
        reasons.append("same_id_number" if same_id_number else "id_number_differs")
    name_reason = _name_reason(a.name, b.name)
    for code in (name_reason, _birth_date_reason(a, b)):
        if code:
            reasons.append(code)
    if a.sex and b.sex:
        reasons.append("same_sex" if a.sex == b.sex else "sex_differs")
    if a.record.household and a.record.household == b.record.household:
        reasons.append("same_household")
    if a.phone and a.phone == b.phone:
        reasons.append("same_phone")
    total = sum(map(WEIGHTS.__getitem__, reasons))
    automatic = same_id_number and name_reason is not None and _agrees_with_own_id(a) and _agrees_with_own_id(b)
    return MatchScore(score=round(min(1.0, max(0.0, total)), 6), reasons=tuple(reasons), automatic=automatic)


def score_pair(a: PersonRecord, b: PersonRecord, *, as_of: date | None = None) -> MatchScore:
    """Score how likely two records are the same person (see the weight table in the module docstring)."""
    return score_identifiers(identifiers(a, as_of), identifiers(b, as_of))


# --- candidates -------------------------------------------------------------------------------------------------

def _block_keys(person: Identifiers) -> list[str]:
    birth_date = person.record.birth_date
    keys = []
    if person.resident_id.valid:
        keys.append(f"id_number:{person.resident_id.number}")
    if person.name.pinyin:
        keys.append(f"pinyin:{person.name.pinyin}")
    if person.name.characters:
        keys.append(f"characters:{person.name.characters}")
    if birth_date is not None and person.sex:
        keys.append(f"birth_date_sex:{birth_date.isoformat()}/{person.sex}")
    if person.phone:
        keys.append(f"phone:{person.phone}")
    return keys


def block_keys(record: PersonRecord, *, as_of: date | None = None) -> list[str]:
    """The record's block keys as "<kind>:<value>" (kinds id_number, pinyin, characters, birth_date_sex, phone),
    without its village: `candidate_pairs` compares the records of one village that share one of these."""
    return _block_keys(identifiers(record, as_of))


def _villages(people: Iterable[PersonRecord]) -> list[list[PersonRecord]]:
    """The records of each village, villages in the order they first appear."""
    villages: dict[str, list[PersonRecord]] = defaultdict(list)
    for record in people:
        villages[record.village].append(record)
    return list(villages.values())


def _village_pairs(village: list[PersonRecord], as_of: date | None, largest_block: int
                   ) -> Iterator[tuple[Identifiers, Identifiers]]:
    """Each pair of records (lower id first) of one village sharing a block key, once; never a record with itself."""
    persons = [identifiers(record, as_of) for record in village]
    id_ranks = {id: rank for rank, id in enumerate(sorted({record.id for record in village}))}
    ranks = [id_ranks[record.id] for record in village]
    blocks: dict[str, int | list[int]] = {}  # key -> the index in `village` of its one record, or of its records
    for index, person in enumerate(persons):
        for key in _block_keys(person):
            members = blocks.setdefault(key, index)
            if isinstance(members, list):
                members.append(index)
            elif members != index:
                blocks[key] = [members, index]
    seen: set[int] = set()  # pairs of id ranks, as low * len(village) + high
    for members in blocks.values():
        if isinstance(members, int) or len(members) > largest_block:
            continue
        for position, first in enumerate(members):
            first_rank = ranks[first]
            for second in members[position + 1:]:
                second_rank = ranks[second]
                if first_rank < second_rank:
                    pair, low, high = first_rank * len(ranks) + second_rank, first, second
                elif second_rank < first_rank:
                    pair, low, high = second_rank * len(ranks) + first_rank, second, first
                else:
                    continue
                if pair not in seen:
                    seen.add(pair)
                    yield persons[low], persons[high]


def _best_first(candidate: Candidate) -> tuple[float, str, str]:
    return -candidate.score.score, candidate.a, candidate.b


def blocked_pairs(people: Iterable[PersonRecord], *, as_of: date | None = None,
                  largest_block: int = LARGEST_BLOCK) -> list[tuple[str, str]]:
    """The id pairs (a < b) that `candidate_pairs` compares, in the order it compares them."""
    return [(low.record.id, high.record.id)
            for village in _villages(people) for low, high in _village_pairs(village, as_of, largest_block)]


def candidate_pairs(people: Iterable[PersonRecord], *, threshold: float = 0.6, as_of: date | None = None,
                    largest_block: int = LARGEST_BLOCK) -> list[Candidate]:
    """Pairs of records in the same village scoring at least `threshold`, best first, then by ids.

    Only records sharing a block key (`block_keys`: valid ID number, name pinyin, name characters, birth date
    with sex, phone) are compared; a block of more than `largest_block` records is skipped. A record is never
    paired with itself (nor with another record carrying the same id).
    """
    candidates = []
    for village in _villages(people):
        for low, high in _village_pairs(village, as_of, largest_block):
            score = score_identifiers(low, high)
            if score.score >= threshold:
                candidates.append(Candidate(a=low.record.id, b=high.record.id, score=score))
    candidates.sort(key=_best_first)
    return candidates


def candidates_for(record: PersonRecord, others: Iterable[PersonRecord], *, threshold: float = 0.6,
                   as_of: date | None = None) -> list[Candidate]:
    """Pairs (a < b) of `record` with each of `others` scoring at least `threshold`, best first, then by ids.

    The incremental check of one new or changed record: `others` are the records of its village sharing one of
    its `block_keys`, without the keys shared by more than `LARGEST_BLOCK` records with it, so that it finds
    the pairs with `record` that `candidate_pairs` on the village would. Each id of `others` is scored once,
    however often it is given; the record's own id is not scored.
    """
    person = identifiers(record, as_of)
    scored = {record.id}
    candidates = []
    for other_record in others:
        if other_record.id in scored:
            continue
        scored.add(other_record.id)
        other = identifiers(other_record, as_of)
        low, high = (person, other) if record.id < other_record.id else (other, person)
        score = score_identifiers(low, high)
        if score.score >= threshold:
            candidates.append(Candidate(a=low.record.id, b=high.record.id, score=score))
    candidates.sort(key=_best_first)
    return candidates
