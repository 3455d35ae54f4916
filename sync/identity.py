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

A record's sex is its `sex` field, or, where that is empty, the sex its valid ID number gives. At most one
name reason and one birth-date reason apply to a pair. With the default threshold 0.6, a homophone with the
same birth date and sex (0.65) is a candidate; the same name and sex alone (0.45), or with the same household
(0.55), is not; different valid ID numbers or different sexes bring any pair to 0.

A pair is `automatic` (may be merged without a person reviewing it) only when both ID numbers are valid and
identical, each record's birth date, where given, equals the ID number's date, each record's sex, where given,
agrees with the ID number's sex, and the names are the same, homophones or similar (a number typed in for the
wrong person of the same birthday must reach a person, not be merged).

`candidate_pairs` compares only records of the same village that share a block key (valid ID number, name
pinyin, name characters, birth date with sex, phone), so a village of 5,000 people costs thousands of
comparisons, not 12.5 million. A key shared by more than `LARGEST_BLOCK` records is a placeholder, not a lead,
and is not compared as a block.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz

__all__ = [
    "ID_NUMBER_WEIGHTS", "ID_CHECK_CHARACTERS", "ID_NUMBER_PROBLEMS", "WEIGHTS", "REASONS",
    "SURNAME_READINGS", "SIMILAR_CHARACTERS_RATIO", "SIMILAR_PINYIN_RATIO", "LARGEST_BLOCK",
    "ResidentId", "NameKey", "PersonRecord", "MatchScore", "Candidate",
    "normalize_id_number", "id_check_character", "parse_id_number", "name_key", "normalize_phone",
    "score_pair", "blocked_pairs", "candidate_pairs",
]

# --- resident ID numbers ----------------------------------------------------------------------------------------

ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""Weights of the first 17 digits in the ISO 7064 MOD 11-2 check (2**(17-i) mod 11)."""

ID_CHECK_CHARACTERS = "10X98765432"
"""The check character for each remainder of the weighted sum modulo 11."""

_ASCII_DIGITS = frozenset("0123456789")

ID_NUMBER_PROBLEMS = ("empty", "length", "characters", "check_character", "birth_date")
"""What `parse_id_number` may find wrong with a number, in the order it looks."""


@dataclass(frozen=True)
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
    total = sum(int(digit) * weight for digit, weight in zip(first_17_digits, ID_NUMBER_WEIGHTS, strict=True))
    return ID_CHECK_CHARACTERS[total % 11]


def parse_id_number(text: str | None, *, today: date | None = None) -> ResidentId:
    """Check a resident ID number; a birth date after `today` is a problem (no such check when today is None)."""
    number = normalize_id_number(text)
    if not number:
        return ResidentId(number, False, problem="empty")
    if len(number) != 18:
        return ResidentId(number, False, problem="length")
    if not (set(number[:17]) <= _ASCII_DIGITS and number[17] in _ASCII_DIGITS | {"X"}):
        return ResidentId(number, False, problem="characters")
    if id_check_character(number[:17]) != number[17]:
        return ResidentId(number, False, problem="check_character")
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return ResidentId(number, False, problem="birth_date")
    if today is not None and birth_date > today:
        return ResidentId(number, False, problem="birth_date")
    sex = "male" if int(number[16]) % 2 == 1 else "female"
    return ResidentId(number, True, birth_date=birth_date, sex=sex)


# --- names ------------------------------------------------------------------------------------------------------

SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "盖": "ge", "缪": "miao", "乐": "yue", "覃": "qin", "翟": "zhai", "召": "shao",
}
"""Surname readings of characters whose everyday reading differs (单 is Shan as a surname, not dan)."""


@dataclass(frozen=True)
class NameKey:
    """A name as compared: its characters without spaces or punctuation, and their toneless pinyin."""

    characters: str
    pinyin: str


def _lowercase_letters_and_digits(chunk: str) -> str:
    """pypinyin's handler for text without pinyin: Latin letters and digits kept, lowercased."""
    return "".join(character for character in chunk if character.isalnum()).lower()


@functools.lru_cache(maxsize=65536)
def name_key(name: str | None) -> NameKey:
    """NFKC, then only letters, marks and digits kept; pinyin syllables joined by single spaces."""
    folded = unicodedata.normalize("NFKC", name or "")
    characters = "".join(character for character in folded if unicodedata.category(character)[0] in "LMN")
    if not characters:
        return NameKey("", "")
    surname_reading = SURNAME_READINGS.get(characters[0]) if len(characters) > 1 else None
    rest = characters[1:] if surname_reading else characters
    syllables = lazy_pinyin(rest, style=Style.NORMAL, errors=_lowercase_letters_and_digits)
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
}
"""What each reason code means, in Chinese and English, for the review screen."""

SIMILAR_CHARACTERS_RATIO = 66.0
"""rapidfuzz ratio of name characters from which names are similar: one character of three differing is 66.7."""

SIMILAR_PINYIN_RATIO = 90.0
"""rapidfuzz ratio of pinyin from which names are similar: ying/yin 96, jing/jin 94, but wei/wen 88.9."""

LARGEST_BLOCK = 200
"""Records sharing one block key beyond this many are a placeholder (a cadre's phone typed for everyone, a
default birth date), not a lead: such a block is not compared as a whole; other keys still pair its members."""


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class MatchScore:
    """How likely two records are one person: score in [0, 1], the reason codes, and whether merging may skip review."""

    score: float
    reasons: tuple[str, ...]
    automatic: bool


@dataclass(frozen=True)
class Candidate:
    """A pair of person ids (a < b) worth a person's review, with its score."""

    a: str
    b: str
    score: MatchScore


@dataclass(frozen=True)
class _Identifiers:
    """What scoring reads from one record, computed once per record."""

    record: PersonRecord
    name: NameKey
    resident_id: ResidentId
    sex: str | None
    phone: str | None


def normalize_phone(text: str | None) -> str | None:
    """The digits of a phone number (NFKC), without a leading +86 / 0086; None when there are none."""
    digits = "".join(character for character in unicodedata.normalize("NFKC", text or "")
                     if character.isascii() and character.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
    return digits or None


def _identifiers(record: PersonRecord, today: date | None) -> _Identifiers:
    resident_id = parse_id_number(record.id_number, today=today)
    return _Identifiers(record=record, name=name_key(record.name), resident_id=resident_id,
                        sex=record.sex or resident_id.sex, phone=normalize_phone(record.phone))


_NAME_REASONS = frozenset({"same_name", "same_name_pinyin", "similar_name"})


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


def _birth_date_reason(a: _Identifiers, b: _Identifiers) -> str | None:
    if a.record.birth_date is not None and b.record.birth_date is not None:
        return "same_birth_date" if a.record.birth_date == b.record.birth_date else "birth_date_differs"
    for given, other in ((a, b), (b, a)):
        if given.record.birth_date is not None and other.resident_id.valid:
            if given.record.birth_date == other.resident_id.birth_date:
                return "birth_date_matches_id_number"
            return "birth_date_differs"
    return None


def _agrees_with_own_id(person: _Identifiers) -> bool:
    """The record's own birth date and sex, where given, are those its valid ID number gives."""
    record, resident_id = person.record, person.resident_id
    return ((record.birth_date is None or record.birth_date == resident_id.birth_date)
            and (not record.sex or record.sex == resident_id.sex))


def _score(a: _Identifiers, b: _Identifiers) -> MatchScore:
    found: set[str] = set()
    both_ids_valid = a.resident_id.valid and b.resident_id.valid
    if both_ids_valid:
        found.add("same_id_number" if a.resident_id.number == b.resident_id.number else "id_number_differs")
    found.update(code for code in (_name_reason(a.name, b.name), _birth_date_reason(a, b)) if code)
    if a.sex and b.sex:
        found.add("same_sex" if a.sex == b.sex else "sex_differs")
    if a.record.household and a.record.household == b.record.household:
        found.add("same_household")
    if a.phone and a.phone == b.phone:
        found.add("same_phone")
    reasons = tuple(code for code in WEIGHTS if code in found)
    total = sum(WEIGHTS[code] for code in reasons)
    score = round(min(1.0, max(0.0, total)), 6)
    automatic = ("same_id_number" in found and _agrees_with_own_id(a) and _agrees_with_own_id(b)
                 and not found.isdisjoint(_NAME_REASONS))
    return MatchScore(score=score, reasons=reasons, automatic=automatic)


def score_pair(a: PersonRecord, b: PersonRecord, *, today: date | None = None) -> MatchScore:
    """Score how likely two records are the same person (see the weight table in the module docstring)."""
    return _score(_identifiers(a, today), _identifiers(b, today))


# --- candidates -------------------------------------------------------------------------------------------------

def _block_keys(person: _Identifiers) -> list[tuple[str, str]]:
    record = person.record
    keys = []
    if person.resident_id.valid:
        keys.append(("id_number", person.resident_id.number))
    if person.name.pinyin:
        keys.append(("pinyin", person.name.pinyin))
    if person.name.characters:
        keys.append(("characters", person.name.characters))
    if record.birth_date is not None and person.sex:
        keys.append(("birth_date_sex", f"{record.birth_date.isoformat()}/{person.sex}"))
    if person.phone:
        keys.append(("phone", person.phone))
    return keys


def _pairs_sharing_a_block(people: Iterable[_Identifiers], largest_block: int
                           ) -> Iterable[tuple[_Identifiers, _Identifiers]]:
    """Each pair of records (lower id first) of one village sharing a block key, once; never a record with itself."""
    blocks: dict[tuple[str, str, str], list[_Identifiers]] = defaultdict(list)
    for person in people:
        for kind, value in _block_keys(person):
            blocks[(person.record.village, kind, value)].append(person)
    seen: set[tuple[str, str]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > largest_block:
            continue
        for index, first in enumerate(members):
            for second in members[index + 1:]:
                low, high = (first, second) if first.record.id < second.record.id else (second, first)
                pair = (low.record.id, high.record.id)
                if pair[0] != pair[1] and pair not in seen:
                    seen.add(pair)
                    yield low, high


def blocked_pairs(people: Iterable[PersonRecord], *, today: date | None = None,
                  largest_block: int = LARGEST_BLOCK) -> list[tuple[str, str]]:
    """The id pairs (a < b) that `candidate_pairs` compares, in the order it compares them."""
    persons = [_identifiers(record, today) for record in people]
    return [(low.record.id, high.record.id) for low, high in _pairs_sharing_a_block(persons, largest_block)]


def candidate_pairs(people: Iterable[PersonRecord], *, threshold: float = 0.6, today: date | None = None,
                    largest_block: int = LARGEST_BLOCK) -> list[Candidate]:
    """Pairs of records in the same village scoring at least `threshold`, best first, then by ids.

    Only records sharing a block key (valid ID number, name pinyin, name characters, birth date with sex,
    phone) are compared; a block of more than `largest_block` records is skipped. A record is never paired
    with itself (nor with another record carrying the same id).
    """
    persons = [_identifiers(record, today) for record in people]
    candidates = []
    for low, high in _pairs_sharing_a_block(persons, largest_block):
        score = _score(low, high)
        if score.score >= threshold:
            candidates.append(Candidate(a=low.record.id, b=high.record.id, score=score))
    candidates.sort(key=lambda candidate: (-candidate.score.score, candidate.a, candidate.b))
    return candidates
