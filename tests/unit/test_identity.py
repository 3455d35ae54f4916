"""Unit tests for sync.identity: resident ID numbers, name keys, pair scores and blocked candidate pairs."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from sync.identity import (
    REASONS,
    WEIGHTS,
    Candidate,
    NameKey,
    PersonRecord,
    ResidentId,
    block_keys,
    blocked_pairs,
    candidate_pairs,
    candidates_for,
    id_check_character,
    name_key,
    normalize_id_number,
    normalize_phone,
    parse_id_number,
    score_pair,
)

# Valid numbers (check characters computed with the GB 11643 weights; 11010519491231002X is the standard's
# own example):
MALE_1988 = "510723198808081237"          # born 1988-08-08, 17th digit 3: male
OTHER_MALE_1988 = "510723198808081253"    # same birth date and sex, another person
FEMALE_1990 = "51072319900516042X"        # born 1990-05-16, 17th digit 2: female, check character X
OTHER_FEMALE_1990 = "510723199005160446"  # same birth date and sex, another person
TODAY = date(2026, 1, 1)


def person(id: str = "p1", **fields) -> PersonRecord:
    """A record of village v1 with nothing known but its name; keyword arguments fill other fields."""
    values = dict(id=id, village="v1", household=None, name="王秀英", sex=None, birth_date=None, id_number=None,
                  phone=None)
    values.update(fields)
    return PersonRecord(**values)


# --- ID numbers: normalisation ------------------------------------------------------------------------------------


def test_normalize_id_number_strips_spaces_inside_and_around():
    assert normalize_id_number(" 510723 19880808 1237 ") == MALE_1988


def test_normalize_id_number_makes_full_width_digits_half_width():
    assert normalize_id_number("５１０７２３１９８８０８０８１２３７") == MALE_1988


def test_normalize_id_number_uppercases_lowercase_x():
    assert normalize_id_number("51072319900516042x") == FEMALE_1990


def test_normalize_id_number_makes_full_width_x_half_width():
    assert normalize_id_number("51072319900516042ｘ") == FEMALE_1990


def test_normalize_id_number_of_none_is_empty():
    assert normalize_id_number(None) == ""


# --- ID numbers: check character ----------------------------------------------------------------------------------


def test_check_character_of_the_standards_example_is_x():
    assert id_check_character("11010519491231002") == "X"


def test_check_character_is_a_digit_when_remainder_is_not_two():
    assert id_check_character("51072319880808123") == "7"


def test_standard_example_with_x_check_character_is_valid():
    assert parse_id_number("11010519491231002X").valid is True


def test_valid_number_is_parsed_completely():
    assert parse_id_number(MALE_1988) == ResidentId(MALE_1988, True, date(1988, 8, 8), "male", None)


def test_lowercase_x_check_character_is_valid():
    assert parse_id_number("51072319900516042x") == ResidentId(FEMALE_1990, True, date(1990, 5, 16), "female")


def test_full_width_digits_are_valid():
    assert parse_id_number("５１０７２３１９８８０８０８１２３７").valid is True


def test_wrong_check_character_is_reported():
    assert parse_id_number("510723198808081238") == ResidentId("510723198808081238", False,
                                                               problem="check_character")


def test_x_where_a_digit_check_character_belongs_is_reported():
    assert parse_id_number("51072319880808123X").problem == "check_character"


def test_impossible_birth_date_with_correct_check_character_is_reported():
    number = "51072319900230001X"  # 1990-02-30; the check character X is right for these 17 digits
    assert parse_id_number(number) == ResidentId(number, False, problem="birth_date")


def test_birth_date_after_today_is_reported():
    number = "51072320300101001X"  # 2030-01-01, correct check character
    assert parse_id_number(number, as_of=TODAY).problem == "birth_date"


def test_birth_date_after_today_is_accepted_without_today():
    assert parse_id_number("51072320300101001X").valid is True


def test_birth_date_on_today_is_valid():
    assert parse_id_number("110105202601010019", as_of=TODAY).valid is True  # born 2026-01-01


def test_fifteen_digit_first_generation_number_is_a_length_problem():
    assert parse_id_number("510723880808123").problem == "length"


def test_seventeen_characters_is_a_length_problem():
    assert parse_id_number(MALE_1988[:17]).problem == "length"


def test_letter_among_the_first_seventeen_is_a_characters_problem():
    assert parse_id_number("5107231988080812X7").problem == "characters"


def test_letter_other_than_x_as_check_character_is_a_characters_problem():
    assert parse_id_number("51072319880808123A").problem == "characters"


@pytest.mark.parametrize("text", ["", "   ", None], ids=["empty", "spaces", "none"])
def test_missing_number_is_an_empty_problem(text):
    assert parse_id_number(text) == ResidentId("", False, problem="empty")


def test_invalid_number_gives_no_birth_date_or_sex():
    resident_id = parse_id_number("510723198808081238")
    assert (resident_id.birth_date, resident_id.sex) == (None, None)


def test_odd_seventeenth_digit_is_male():
    assert parse_id_number(OTHER_MALE_1988).sex == "male"


def test_even_seventeenth_digit_is_female():
    assert parse_id_number(OTHER_FEMALE_1990).sex == "female"


# --- names --------------------------------------------------------------------------------------------------------


def test_name_key_gives_characters_and_toneless_pinyin():
    assert name_key("王秀英") == NameKey("王秀英", "wang xiu ying")


@pytest.mark.parametrize("homophone", ["王秀瑛", "王秀影"])
def test_homophones_share_the_pinyin(homophone):
    assert name_key(homophone).pinyin == name_key("王秀英").pinyin


def test_homophones_keep_their_own_characters():
    assert name_key("王秀瑛").characters == "王秀瑛"


def test_different_names_have_different_pinyin():
    assert name_key("王秀兰").pinyin != name_key("王秀英").pinyin


@pytest.mark.parametrize("written", [" 王 秀英 ", "王\u3000秀英", "王·秀英", "王・秀英", "王秀英。"],
                         ids=["spaces", "full_width_space", "middle_dot", "katakana_middle_dot", "full_stop"])
def test_spaces_and_punctuation_are_dropped(written):
    assert name_key(written) == NameKey("王秀英", "wang xiu ying")


def test_ethnic_name_with_middle_dot_keeps_every_syllable():
    assert name_key("阿依古丽·买买提").pinyin == "a yi gu li mai mai ti"


def test_full_width_latin_letters_become_lowercase_pinyin():
    assert name_key("Ｍａｒｙ 王") == NameKey("Mary王", "mary wang")


def test_polyphonic_surname_is_read_as_a_surname():
    assert name_key("单田芳").pinyin == "shan tian fang"


def test_empty_name_has_an_empty_key():
    assert name_key(" · ") == NameKey("", "")


def test_name_with_a_phrase_is_read_as_pypinyin_reads_the_phrase():
    assert name_key("张重庆").pinyin == "zhang chong qing"  # 重 alone is zhong


def test_name_key_is_cached_per_name():
    assert name_key("李秀英") is name_key("李秀英")


# --- phones -------------------------------------------------------------------------------------------------------


def test_phone_keeps_digits_and_drops_the_country_code():
    assert normalize_phone("+86 138-1234-5678") == "13812345678"


def test_phone_without_digits_is_none():
    assert normalize_phone(" - ") is None


# --- scoring ------------------------------------------------------------------------------------------------------


def test_every_reason_has_a_weight_and_an_explanation():
    assert set(REASONS) == set(WEIGHTS)


def test_every_explanation_is_given_in_chinese_and_english():
    assert all(zh and en for zh, en in REASONS.values())


def test_identical_valid_id_and_birth_date_may_merge_automatically():
    a = person("a", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988)
    b = person("b", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988)
    score = score_pair(a, b)
    assert (score.score, score.reasons, score.automatic) == (
        1.0, ("same_id_number", "same_name", "same_birth_date", "same_sex"), True)


def test_identical_valid_id_with_one_birth_date_missing_may_merge_automatically():
    a = person("a", birth_date=date(1988, 8, 8), id_number=MALE_1988)
    b = person("b", id_number=MALE_1988)
    assert score_pair(a, b).automatic is True


def test_identical_valid_id_with_birth_date_disagreeing_is_not_automatic():
    a = person("a", birth_date=date(1988, 8, 8), id_number=MALE_1988)
    b = person("b", birth_date=date(1988, 8, 9), id_number=MALE_1988)
    score = score_pair(a, b)
    assert (score.automatic, "birth_date_differs" in score.reasons) == (False, True)


def test_identical_valid_id_with_a_birth_date_disagreeing_with_the_id_is_not_automatic():
    a = person("a", birth_date=date(1988, 9, 9), id_number=MALE_1988)
    b = person("b", birth_date=date(1988, 9, 9), id_number=MALE_1988)
    assert score_pair(a, b).automatic is False


def test_identical_valid_id_with_a_sex_disagreeing_with_the_id_is_not_automatic():
    a = person("a", sex="female", id_number=MALE_1988)
    b = person("b", id_number=MALE_1988)
    assert score_pair(a, b).automatic is False


def test_identical_valid_id_with_unrelated_names_is_not_automatic():
    a = person("a", name="周敏丽", birth_date=date(1988, 8, 8), id_number=MALE_1988)
    b = person("b", name="刘桂兰", birth_date=date(1988, 8, 8), id_number=MALE_1988)
    assert score_pair(a, b).automatic is False


def test_identical_valid_id_with_a_mistyped_name_may_merge_automatically():
    a = person("a", name="王建国", id_number=MALE_1988)
    b = person("b", name="王建图", id_number=MALE_1988)
    assert score_pair(a, b).automatic is True


def test_identical_invalid_id_numbers_are_not_evidence():
    a = person("a", name="王秀英", id_number="510723198808081238")
    b = person("b", name="李明", id_number="510723198808081238")
    assert score_pair(a, b) == score_pair(dataclasses.replace(a, id_number=None), b)


def test_id_number_born_after_today_is_not_evidence():
    a = person("a", id_number="51072320300101001X")
    b = person("b", id_number="51072320300101001X")
    assert "same_id_number" not in score_pair(a, b, as_of=TODAY).reasons


def test_homophone_with_same_birth_date_and_sex_is_above_the_threshold():
    a = person("a", name="王秀英", sex="female", birth_date=date(1962, 4, 3))
    b = person("b", name="王秀瑛", sex="female", birth_date=date(1962, 4, 3))
    score = score_pair(a, b)
    assert (score.score, score.reasons) == (0.65, ("same_name_pinyin", "same_birth_date", "same_sex"))


def test_same_name_with_different_valid_ids_scores_zero():
    a = person("a", name="王建国", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988)
    b = person("b", name="王建国", sex="male", birth_date=date(1988, 8, 8), id_number=OTHER_MALE_1988)
    score = score_pair(a, b)
    assert (score.score, "id_number_differs" in score.reasons) == (0.0, True)


def test_same_name_with_different_sex_scores_zero():
    a = person("a", name="张明", sex="male", birth_date=date(1970, 1, 1))
    b = person("b", name="张明", sex="female", birth_date=date(1970, 1, 1))
    score = score_pair(a, b)
    assert (score.score, "sex_differs" in score.reasons) == (0.0, True)


def test_sex_missing_from_the_record_is_taken_from_its_valid_id():
    a = person("a", id_number=FEMALE_1990)
    b = person("b", sex="male")
    assert "sex_differs" in score_pair(a, b).reasons


def test_one_character_typo_is_a_similar_name():
    assert score_pair(person("a", name="王建国"), person("b", name="王建图")).reasons == ("similar_name",)


def test_near_homophone_pinyin_is_a_similar_name():
    assert score_pair(person("a", name="陈静"), person("b", name="陈金")).reasons == ("similar_name",)


def test_two_character_names_differing_in_sound_are_not_similar():
    assert score_pair(person("a", name="张伟"), person("b", name="张明")).reasons == ()


def test_birth_date_equal_to_the_date_in_the_others_id_number_is_a_reason():
    a = person("a", birth_date=date(1988, 8, 8))
    b = person("b", id_number=MALE_1988)
    assert "birth_date_matches_id_number" in score_pair(a, b).reasons


def test_birth_date_unlike_the_date_in_the_others_id_number_differs():
    a = person("a", birth_date=date(1988, 8, 9))
    b = person("b", id_number=MALE_1988)
    assert "birth_date_differs" in score_pair(a, b).reasons


def test_same_household_and_phone_are_reasons():
    a = person("a", household="h1", phone="13812345678")
    b = person("b", name="李明", household="h1", phone="+86 138 1234 5678")
    assert score_pair(a, b).reasons == ("same_household", "same_phone")


def test_score_is_the_sum_of_the_weights_of_its_reasons():
    a = person("a", name="王秀英", household="h1", phone="13812345678")
    b = person("b", name="王秀瑛", household="h1", phone="13812345678")
    score = score_pair(a, b)
    assert score.score == pytest.approx(sum(WEIGHTS[code] for code in score.reasons))


def test_score_is_clipped_to_one():
    a = person("a", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988, household="h", phone="1")
    assert score_pair(a, dataclasses.replace(a, id="b")).score == 1.0


def test_score_is_symmetric():
    a = person("a", name="王秀英", birth_date=date(1962, 4, 3), phone="13812345678")
    b = person("b", name="王秀瑛", id_number=FEMALE_1990, household="h1")
    assert score_pair(a, b) == score_pair(b, a)


# --- candidate pairs ----------------------------------------------------------------------------------------------


def test_one_character_typo_with_same_phone_is_a_candidate():
    a = person("a", name="王建国", sex="male", birth_date=date(1968, 3, 12), phone="13812345678")
    b = person("b", name="王建图", sex="male", birth_date=date(1968, 3, 12), phone="13812345678")
    [candidate] = candidate_pairs([a, b])
    assert (candidate.a, candidate.b, candidate.score.reasons) == (
        "a", "b", ("similar_name", "same_birth_date", "same_sex", "same_phone"))


def test_candidate_ids_are_ordered_lower_first():
    a = person("b", sex="female", birth_date=date(1962, 4, 3))
    b = person("a", sex="female", birth_date=date(1962, 4, 3))
    assert [(c.a, c.b) for c in candidate_pairs([a, b])] == [("a", "b")]


def test_records_in_different_villages_are_not_paired():
    a = person("a", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988)
    b = dataclasses.replace(a, id="b", village="v2")
    assert candidate_pairs([a, b]) == []


def test_a_record_is_never_paired_with_itself():
    a = person("a", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988)
    assert candidate_pairs([a, a]) == []


def test_pair_below_the_threshold_is_left_out():
    a = person("a", name="王秀英", household="h1")  # same name and household: 0.50
    assert candidate_pairs([a, dataclasses.replace(a, id="b")]) == []


def test_lower_threshold_lets_the_same_pair_in():
    a = person("a", name="王秀英", household="h1")
    assert len(candidate_pairs([a, dataclasses.replace(a, id="b")], threshold=0.5)) == 1


def test_candidates_are_sorted_by_score_then_ids():
    people = [
        person("d", name="王秀英", sex="female", birth_date=date(1962, 4, 3)),
        person("c", name="王秀瑛", sex="female", birth_date=date(1962, 4, 3)),
        person("b", name="李明", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988),
        person("a", name="李明", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988),
    ]
    assert [(c.a, c.b, c.score.score) for c in candidate_pairs(people)] == [("a", "b", 1.0), ("c", "d", 0.65)]


def test_equal_scores_are_ordered_by_ids():
    people = [person(id, name="王秀英", sex="female", birth_date=date(1962, 4, 3)) for id in ("c", "a", "b")]
    assert [(c.a, c.b) for c in candidate_pairs(people)] == [("a", "b"), ("a", "c"), ("b", "c")]


def test_candidates_do_not_depend_on_input_order():
    people = [person(str(n), name=name, sex="female", birth_date=date(1962, 4, 3))
              for n, name in enumerate(["王秀英", "王秀瑛", "王秀影", "王秀兰"])]
    assert candidate_pairs(people) == candidate_pairs(reversed(people))


def test_blocking_finds_a_pair_sharing_only_the_name_pinyin():
    a = person("a", name="王秀英", birth_date=date(1988, 8, 8), phone="13812345678")
    b = person("b", name="王秀瑛", id_number=MALE_1988, phone="13912345678")
    assert candidate_pairs([a, b]) == [Candidate("a", "b", score_pair(a, b))]


def test_pair_sharing_several_block_keys_is_compared_once():
    a = person("a", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988, phone="13812345678")
    assert blocked_pairs([a, dataclasses.replace(a, id="b")]) == [("a", "b")]


def test_records_sharing_no_block_key_are_not_compared():
    a = person("a", name="王秀英", birth_date=date(1962, 4, 3), sex="female")
    b = person("b", name="李明", birth_date=date(1988, 8, 8), sex="male")
    assert candidate_pairs([a, b], threshold=0.0) == []


def test_block_larger_than_the_limit_is_not_compared():
    people = [person(str(n), name=f"名{n}", phone="13812345678") for n in range(3)]
    assert blocked_pairs(people, largest_block=2) == []


def test_block_at_the_limit_is_compared():
    people = [person(str(n), name=f"名{n}", phone="13812345678") for n in range(3)]
    assert blocked_pairs(people, largest_block=3) == [("0", "1"), ("0", "2"), ("1", "2")]


# --- block keys ---------------------------------------------------------------------------------------------------


def test_block_keys_are_kind_and_value_without_the_village():
    record = person("a", birth_date=date(1988, 8, 8), id_number=MALE_1988, phone="+86 138 1234 5678")
    assert block_keys(record) == [
        f"id_number:{MALE_1988}", "pinyin:wang xiu ying", "characters:王秀英", "birth_date_sex:1988-08-08/male",
        "phone:13812345678"]


def test_invalid_id_number_and_birth_date_without_sex_give_no_block_key():
    record = person("a", birth_date=date(1988, 8, 8), id_number="510723198808081238")
    assert block_keys(record) == ["pinyin:wang xiu ying", "characters:王秀英"]


def test_id_number_born_after_today_gives_no_block_key():
    assert block_keys(person("a", id_number="51072320300101001X"), as_of=TODAY) == [
        "pinyin:wang xiu ying", "characters:王秀英"]


def test_records_compared_are_those_sharing_a_block_key():
    a = person("a", name="王秀英", phone="13812345678")
    b = person("b", name="李明", phone="138 1234 5678")
    c = person("c", name="张伟", phone="13912345678")
    assert (set(block_keys(a)) & set(block_keys(b)), blocked_pairs([a, b, c])) == (
        {"phone:13812345678"}, [("a", "b")])


# --- incremental check --------------------------------------------------------------------------------------------


def test_candidates_for_gives_the_pairs_above_the_threshold():
    new = person("b", name="王秀瑛", sex="female", birth_date=date(1962, 4, 3))
    homophone = person("a", name="王秀英", sex="female", birth_date=date(1962, 4, 3))
    similar = person("c", name="王秀兰", sex="female", birth_date=date(1962, 4, 3))  # 0.55
    assert candidates_for(new, [similar, homophone]) == [Candidate("a", "b", score_pair(homophone, new))]


def test_candidates_for_orders_each_pair_lower_id_first_and_best_first():
    new = person("m", name="王秀英", sex="female", birth_date=date(1962, 4, 3), id_number=FEMALE_1990)
    same_id = person("z", name="王秀英", id_number=FEMALE_1990)
    homophone = person("a", name="王秀瑛", sex="female", birth_date=date(1962, 4, 3))
    assert [(c.a, c.b, c.score.score) for c in candidates_for(new, [homophone, same_id])] == [
        ("m", "z", 0.75), ("a", "m", 0.65)]


def test_candidates_for_scores_each_id_once_and_not_the_records_own():
    new = person("b", sex="female", birth_date=date(1962, 4, 3))
    namesake = person("a", sex="female", birth_date=date(1962, 4, 3))
    assert candidates_for(new, [namesake, new, namesake, dataclasses.replace(new, name="王秀瑛")]) == [
        Candidate("a", "b", score_pair(namesake, new))]


def test_candidates_for_lower_threshold_lets_a_weaker_pair_in():
    new = person("b", household="h1")
    namesake = person("a", household="h1")  # same name and household: 0.50
    assert [(c.a, c.b) for c in candidates_for(new, [namesake], threshold=0.5)] == [("a", "b")]


def test_candidates_for_with_the_records_sharing_a_key_equals_the_village_scan():
    village = [
        person("p1", name="王秀英", sex="female", birth_date=date(1962, 4, 3), phone="13812345678"),
        person("p2", name="李明", sex="male", birth_date=date(1988, 8, 8), id_number=MALE_1988),
        person("p3", name="王建国", sex="male", birth_date=date(1962, 4, 3), phone="13812345678"),
        person("p4", name="张伟", sex="female", birth_date=date(1962, 4, 3)),
        person("p5", name="刘桂兰", sex="female", birth_date=date(1950, 1, 1)),
    ]
    new = person("p0", name="王秀瑛", sex="female", birth_date=date(1962, 4, 3), phone="138 1234 5678")
    keys = set(block_keys(new))
    sharing = [record for record in village if keys & set(block_keys(record))]
    from_scan = [c for c in candidate_pairs([*village, new], threshold=0.0) if "p0" in (c.a, c.b)]
    assert ([record.id for record in sharing], candidates_for(new, sharing, threshold=0.0)) == (
        ["p1", "p3", "p4"], from_scan)

