"""A name's search keys (pinyin run together, initials) and what a typed text asks for (sync.search_keys)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.search_keys import (
    INITIALS_LENGTH,
    PINYIN_LENGTH,
    TEXT_LENGTH,
    NameSearchKeys,
    SearchTerms,
    name_search_keys,
    person_search_columns,
    read_search,
)


@pytest.mark.parametrize(("name", "pinyin", "initials"), [
    ("张桂兰", "zhangguilan", "zgl"),
    ("章桂兰", "zhangguilan", "zgl"),          # a homophone: the same keys
    ("单田芳", "shantianfang", "stf"),         # 单 read as a surname
    ("曾小贤", "zengxiaoxian", "zxx"),
    ("吕小红", "lvxiaohong", "lxh"),           # ü as v, as typed on a phone
    ("王 秀英", "wangxiuying", "wxy"),         # spaces in the name do not count
    ("阿卜杜·热合曼", "abodureheman", "abdrhm"),
    ("ＺＨＡＮＧ", "zhang", "z"),              # full-width Latin letters: NFKC, lowercased
])
def test_a_names_keys_are_its_pinyin_run_together_and_the_initials_of_its_syllables(name, pinyin, initials):
    assert name_search_keys(name) == NameSearchKeys(pinyin, initials)


@pytest.mark.parametrize("name", [None, "", "   ", "·—！"])
def test_a_name_without_letters_has_no_keys(name):
    assert name_search_keys(name) == NameSearchKeys(None, None)


def test_a_long_name_keeps_keys_as_wide_as_their_columns():
    keys = name_search_keys("张" * 150)
    assert keys.pinyin == "zhang" * 40 and len(keys.pinyin) == PINYIN_LENGTH
    assert keys.initials == "z" * INITIALS_LENGTH


def test_a_persons_search_columns_come_from_the_name_in_their_values():
    assert person_search_columns({"name": "张桂兰", "sex": "female"}) == {"name_pinyin": "zhangguilan",
                                                                       "name_initials": "zgl"}
    assert person_search_columns({"sex": "female"}) == {"name_pinyin": None, "name_initials": None}


HOUSEHOLD_3 = ("3", "03", "003", "0003")


@pytest.mark.parametrize(("typed", "terms"), [
    ("张桂兰", SearchTerms(name_start="张桂兰", name_pinyin="zhangguilan")),
    ("张", SearchTerms(name_start="张", name_pinyin="zhang")),
    (" 王 秀·英 ", SearchTerms(name_start="王秀英", name_pinyin="wangxiuying")),
    ("zhang gui lan", SearchTerms(letters="zhangguilan")),
    ("zhangguilan", SearchTerms(letters="zhangguilan")),
    ("Zhang-Guilan", SearchTerms(letters="zhangguilan")),
    ("ZGL", SearchTerms(letters="zgl")),
    ("lü", SearchTerms(letters="lv")),
    ("3", SearchTerms(household_numbers=HOUSEHOLD_3)),
    ("3号", SearchTerms(household_numbers=HOUSEHOLD_3)),
    ("003号户", SearchTerms(household_numbers=("003", "3", "03", "0003"))),
    ("12", SearchTerms(household_numbers=("12", "012", "0012"))),
    ("138", SearchTerms(number_start="138", household_numbers=("138", "0138"))),
    ("13812345678", SearchTerms(number_start="13812345678")),   # more digits than a household number has
    ("138 1234 5678", SearchTerms(number_start="13812345678")),
    ("１３８１２３４５６７８", SearchTerms(number_start="13812345678")),
    ("51072219600304002X", SearchTerms(number_start="51072219600304002")),   # the X left out: also matches x
    ("51072219600304002x", SearchTerms(number_start="51072219600304002")),
    ("12X", SearchTerms()),                     # an X after too few digits for an ID number
    ("abc123", SearchTerms(letters="abc123")),
    ("%", SearchTerms()), ("_", SearchTerms()), ("!!!", SearchTerms()), ("", SearchTerms()), (None, SearchTerms()),
    ("张%", SearchTerms(name_start="张", name_pinyin="zhang")),
])
def test_what_a_typed_text_asks_for(typed, terms):
    assert read_search(typed) == terms


def test_nothing_asked_is_empty():
    assert read_search("%_ ").empty and not read_search("zgl").empty and not read_search("3").empty


def test_a_long_text_is_read_up_to_its_limit():
    assert read_search("z" * 10_000) == SearchTerms(letters="z" * TEXT_LENGTH)
    assert read_search("张" * 10_000).name_start == "张" * TEXT_LENGTH


@given(st.text(max_size=300))
def test_any_text_asks_only_for_letters_and_digits(typed):
    """Whatever is typed, the terms hold no LIKE wildcard, no NUL and nothing longer than a column."""
    terms = read_search(typed)
    for value in (terms.name_start, terms.name_pinyin, terms.letters, terms.number_start, *terms.household_numbers):
        if value is not None:
            assert value and "%" not in value and "_" not in value and "\x00" not in value
            assert len(value) <= PINYIN_LENGTH
