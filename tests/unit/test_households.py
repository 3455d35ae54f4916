"""Duplicate household scores (pure)."""

from sync.households import HOUSEHOLD_REASONS, HOUSEHOLD_WEIGHTS, HouseholdRecord, HouseholdScore, score_households


def test_same_number_in_the_same_group_with_the_same_address_written_differently():
    a = HouseholdRecord("a", 5, "007", "东村一组7号")
    b = HouseholdRecord("b", 5, "007", "东村一组 ７ 号")
    assert score_households(a, b, share_a_person=False) == HouseholdScore(0.6, ("same_household_no", "same_address"))


def test_the_same_number_in_another_group_is_not_a_reason():
    assert score_households(HouseholdRecord("a", 5, "007", None), HouseholdRecord("b", 6, "007", None),
                            share_a_person=False) == HouseholdScore(0.0, ())


def test_a_person_of_both_is_the_strongest_reason_and_the_score_is_capped():
    a, b = HouseholdRecord("a", 5, "007", "7号"), HouseholdRecord("b", 5, "007", "7号")
    assert score_households(a, b, share_a_person=True) == HouseholdScore(
        1.0, ("shares_a_person", "same_household_no", "same_address"))


def test_every_reason_is_explained_in_both_languages():
    assert set(HOUSEHOLD_REASONS) == set(HOUSEHOLD_WEIGHTS)
    assert all(zh and en for zh, en in HOUSEHOLD_REASONS.values())
