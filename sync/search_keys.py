"""Finding people by what staff type (pure): a name's pinyin run together and its initials; what a text asks for.

A person's row keeps two keys of the name beside it (`name_search_keys`, from `sync.identity.name_key`, so the
readings are those duplicate detection uses, 单 as Shan): its toneless pinyin without spaces (张桂兰 → zhangguilan)
and the first letters of its syllables (zgl). Search compares a typed text's beginning with them, so "zhang gui
lan", "zhangguilan", "zhanggui", "zgl" and "zg" all find 张桂兰.

`read_search` says what a typed text asks for, in the order it looks:

    typed                                   asks for
    12 or 12号 or 12号户                     household number 12 (also written 012 / 0012)
    three digits or more, an X at the end    the beginning of an ID number or a phone number (and, up to
                                             eight digits and no X, a household number)
    Latin letters (ü as v)                   the beginning of a name's pinyin or of its initials
    anything else (Chinese characters)       the beginning of a name (张 finds every 张) and names that read
                                             the same as the whole text (王秀英 finds 王秀瑛)

Spaces, punctuation and full-width forms are ignored (NFKC, then only letters, marks and digits kept); a text is
read up to `TEXT_LENGTH` characters. Nothing is asked when nothing is left (`SearchTerms.empty`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from sync.identity import name_key

__all__ = ["PINYIN_LENGTH", "INITIALS_LENGTH", "TEXT_LENGTH", "MIN_NUMBER_DIGITS", "HOUSEHOLD_DIGITS",
           "NameSearchKeys", "SearchTerms", "name_search_keys", "person_search_columns", "read_search"]

PINYIN_LENGTH = 200
"""A name's pinyin is kept up to this many letters (the column's width)."""

INITIALS_LENGTH = 100
"""A name's initials are kept up to this many letters (the column's width)."""

TEXT_LENGTH = 100
"""What is typed is read up to this many characters."""

MIN_NUMBER_DIGITS = 3
"""Fewer digits than this are a household number only, not the beginning of an ID or phone number (every ID
number of a town begins with the same few digits)."""

HOUSEHOLD_DIGITS = 8
"""A household number has at most this many digits."""

_HOUSEHOLD = re.compile(rf"([0-9]{{1,{HOUSEHOLD_DIGITS}}})号户?")
_NUMBER = re.compile(r"([0-9]+)X?")


@dataclass(frozen=True, slots=True)
class NameSearchKeys:
    """A name's keys for search: pinyin run together, and syllable initials; None for a name without any."""

    pinyin: str | None
    initials: str | None


@functools.lru_cache(maxsize=65536)
def name_search_keys(name: str | None) -> NameSearchKeys:
    """张桂兰 → (zhangguilan, zgl); a name without letters → (None, None). Cached: a register's people share
    names, and a rebuild writes every person's row."""
    syllables = name_key(name).pinyin.split()
    pinyin = "".join(syllables)[:PINYIN_LENGTH]
    initials = "".join(syllable[0] for syllable in syllables)[:INITIALS_LENGTH]
    return NameSearchKeys(pinyin or None, initials or None)


def person_search_columns(values: dict[str, str]) -> dict[str, str | None]:
    """The search columns of a person's row, from the person's current values (the same for the live merge and for
    a rebuild, which both write rows through this)."""
    keys = name_search_keys(values.get("name"))
    return {"name_pinyin": keys.pinyin, "name_initials": keys.initials}


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """What a typed text asks for (see the module docstring); each None when not asked."""

    name_start: str | None = None          # a name begins with these characters
    name_pinyin: str | None = None         # a name's pinyin is exactly this (homophones of the whole text)
    letters: str | None = None             # a name's pinyin or initials begin with these letters
    number_start: str | None = None        # an ID number or a phone number begins with these digits
    household_numbers: tuple[str, ...] = ()  # a household number is one of these

    @property
    def empty(self) -> bool:
        return not (self.name_start or self.name_pinyin or self.letters or self.number_start
                    or self.household_numbers)


def _household_numbers(digits: str) -> tuple[str, ...]:
    """A household number as typed and as commonly written with leading zeros (3 → 3, 03, 003, 0003)."""
    bare = digits.lstrip("0") or "0"
    return tuple(dict.fromkeys([digits, bare, *(bare.zfill(width) for width in (2, 3, 4))]))


def read_search(text: str | None) -> SearchTerms:
    """What a typed text asks for."""
    folded = unicodedata.normalize("NFKC", (text or "")[:TEXT_LENGTH * 2])
    kept = "".join(character for character in folded if unicodedata.category(character)[0] in "LMN")[:TEXT_LENGTH]
    if not kept:
        return SearchTerms()
    household = _HOUSEHOLD.fullmatch(kept)
    if household:
        return SearchTerms(household_numbers=_household_numbers(household.group(1)))
    number = _NUMBER.fullmatch(kept.upper()) if kept.isascii() else None
    if number:
        digits = number.group(1)
        return SearchTerms(number_start=digits if len(digits) >= MIN_NUMBER_DIGITS else None,
                           household_numbers=_household_numbers(digits)
                           if len(digits) == len(kept) and len(digits) <= HOUSEHOLD_DIGITS else ())
    letters = kept.replace("ü", "v").replace("Ü", "V")
    if letters.isascii():
        return SearchTerms(letters=letters.lower())
    name = name_key(kept)
    return SearchTerms(name_start=name.characters, name_pinyin=name_search_keys(kept).pinyin)
