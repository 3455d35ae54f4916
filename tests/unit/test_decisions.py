"""The registry of decision kinds: what each kind answers, from areas and checks to what a replay covers."""

from __future__ import annotations

import pytest

from sync import errors
from sync.decisions import (
    DECISION_KINDS,
    MERGE_HOUSEHOLDS,
    MERGE_PEOPLE,
    MOVE_HOUSEHOLD,
    REJECT_VISIT,
    SET_FIELD,
    SET_TIER,
    WITHDRAW_CONSENT,
    RecordAreas,
    ReplayScope,
    decision_kind,
)
from sync.errors import DecisionNotPossible

# A register of two villages: households h1 (group 11 of village 1) and h2 (group 21 of village 2); people p1, p2.
GROUPS = {11: "/1/10/11/", 21: "/1/20/21/"}
HOUSEHOLD_GROUP = {"h1": "/1/10/11/", "h2": "/1/20/21/"}
PERSON_HOUSEHOLD = {"p1": "h1", "p2": "h2"}
SUBMISSION_GROUP = {7: "/1/10/11/"}
ITEM_GROUP = {"uuid:v1#1": "/1/10/11/"}
AREAS = RecordAreas(household_of=PERSON_HOUSEHOLD.get, group_path_of=HOUSEHOLD_GROUP.get, group_path=GROUPS.get,
                    submission_group_path=SUBMISSION_GROUP.get, service_item_path=ITEM_GROUP.get)


def test_every_kind_is_registered_under_its_stored_name():
    assert list(DECISION_KINDS) == ["merge_people", "merge_households", "move_household", "set_tier", "set_field",
                                    "reject_visit", "referral_result", "support_outcome", "correct_service",
                                    "add_person", "record_move", "confirm_arrival", "merge_moved",
                                    "withdraw_consent"]
    assert all(DECISION_KINDS[name].name == name for name in DECISION_KINDS)
    assert all(kind.label_zh and kind.label_en for kind in DECISION_KINDS.values())


def test_an_unknown_kind_cannot_be_taken():
    with pytest.raises(DecisionNotPossible):
        decision_kind("fine_household")


@pytest.mark.parametrize(("kind", "subject", "target", "field", "paths"), [
    (MERGE_PEOPLE, "p1", "p2", None, ["/1/10/11/", "/1/20/21/"]),
    (MERGE_PEOPLE, "gone", "p1", None, ["/1/10/11/"]),          # the one merged away is gone once merged
    (MERGE_PEOPLE, "gone", "also-gone", None, [None]),
    (MERGE_HOUSEHOLDS, "h2", "h1", None, ["/1/20/21/", "/1/10/11/"]),
    (MOVE_HOUSEHOLD, "h1", "21", None, ["/1/10/11/", "/1/20/21/"]),
    (MOVE_HOUSEHOLD, "h1", "99", None, ["/1/10/11/", None]),     # no such group here
    (SET_TIER, "p2", "key", None, ["/1/20/21/"]),
    (SET_FIELD, "p1", "13800000000", "person:phone", ["/1/10/11/"]),
    (SET_FIELD, "p1", "h2", "person:household", ["/1/10/11/", "/1/20/21/"]),   # the household typed is checked
    (SET_FIELD, "h1", "21", "household:group", ["/1/10/11/", "/1/20/21/"]),
    (SET_FIELD, "h1", "x", "household:group", ["/1/10/11/", None]),
    (REJECT_VISIT, "7", "", None, ["/1/10/11/"]),
    (REJECT_VISIT, "not-a-number", "", None, [None]),
])
def test_the_areas_a_decision_concerns(kind, subject, target, field, paths):
    assert kind.area_paths(subject, target, field, AREAS) == paths


def test_a_field_decision_names_a_field_a_visit_can_state():
    with pytest.raises(DecisionNotPossible):
        SET_FIELD.area_paths("p1", "x", "person:password", AREAS)
    with pytest.raises(DecisionNotPossible):
        SET_FIELD.check("x", "household:tier", tiers=())
    SET_FIELD.check("x", "household:address", tiers=())


def test_a_tier_is_one_of_the_schedules_or_none():
    SET_TIER.check("key", None, tiers=("key", "general"))
    SET_TIER.check("", None, tiers=("key", "general"))
    with pytest.raises(DecisionNotPossible, match="unknown tier 'gold'"):
        SET_TIER.check("gold", None, tiers=("key", "general"))


def test_who_may_take_a_decision():
    assert MERGE_PEOPLE.may_take("village_cadre", "/1/10/", "/1/10/11/")
    assert not MERGE_PEOPLE.may_take("village_cadre", "/1/10/", "/1/10/11/", "/1/20/21/")  # one record elsewhere
    assert not MOVE_HOUSEHOLD.may_take("collector", "/1/10/11/", "/1/10/11/")
    assert MOVE_HOUSEHOLD.may_take("county_admin", None, "/1/10/11/", "/1/20/21/")
    assert not SET_TIER.may_take("town_officer", "/1/", None)                                # not in this register


def test_what_a_replay_covers_and_what_is_sent():
    assert MERGE_PEOPLE.replay_scope("p2", "p1") == ReplayScope(records=frozenset({"p1", "p2"}))
    assert MOVE_HOUSEHOLD.replay_scope("h1", "21") == ReplayScope(records=frozenset({"h1"}))
    assert REJECT_VISIT.replay_scope("7", "") == ReplayScope(visit=7)
    assert MERGE_HOUSEHOLDS.joins_members and not MERGE_PEOPLE.joins_members
    assert [kind.name for kind in DECISION_KINDS.values() if kind.automatic] == ["merge_people"]
    assert [kind.name for kind in DECISION_KINDS.values() if kind.subject_is_visit] == ["reject_visit"]
    assert MOVE_HOUSEHOLD.target_is_group(None)
    assert SET_FIELD.target_is_group("household:group") and not SET_FIELD.target_is_group("household:address")
    assert all(kind.replicable for kind in DECISION_KINDS.values())


@pytest.mark.parametrize(("field", "value", "error"), [
    ("person:id_number", "abc123", errors.IdNumberInvalid),
    ("person:id_number", "110101199003071234", errors.IdNumberInvalid),   # a wrong check character (3)
    ("person:birth_date", "1990-02-30", errors.DateValueInvalid),
    ("person:birth_date", "0099-01-01", errors.DateValueInvalid),
    ("person:phone", "12345678901", errors.PhoneInvalid),
    ("person:sex", "man", errors.ChoiceValueInvalid),
    ("person:relationship", "cousin", errors.ChoiceValueInvalid),
])
def test_a_corrected_value_is_checked_as_the_forms_check_it(field, value, error):
    with pytest.raises(error):
        SET_FIELD.check(value, field, tiers=())


def test_corrected_values_the_field_holds_are_taken():
    for field, value in (("person:id_number", "110101199003071233"), ("person:birth_date", "1990-03-07"),
                         ("person:phone", "13812345678"), ("person:sex", "female"), ("person:hukou", "elsewhere"),
                         ("person:name", "张桂兰"), ("household:address", "东村一组2号")):
        SET_FIELD.check(value, field, tiers=())


def test_a_merged_arrival_is_found_where_the_person_kept_lives_now():
    """merge_moved: the arrival's group; once merged away, where the person kept lives (the arrival's household),
    so the decision can still be undone and replicated; the village the person left is never asked."""
    merge_moved = DECISION_KINDS["merge_moved"]
    assert merge_moved.area_paths("p2", "p1", None, AREAS) == ["/1/20/21/"]
    merged = RecordAreas(household_of={"p1": "h2"}.get, group_path_of=HOUSEHOLD_GROUP.get, group_path=GROUPS.get,
                         submission_group_path=SUBMISSION_GROUP.get, service_item_path=ITEM_GROUP.get)
    assert merge_moved.area_paths("p2", "p1", None, merged) == ["/1/20/21/"]
    assert merge_moved.automatic is False and merge_moved.joins_records


def test_a_withdrawal_of_consent_is_the_persons_with_the_household_they_lived_in():
    WITHDRAW_CONSENT.check("h1", "2026-11-20", tiers=())
    for field in (None, "", "20/11/2026", "2026-02-30"):
        with pytest.raises(DecisionNotPossible):
            WITHDRAW_CONSENT.check("h1", field, tiers=())
    with pytest.raises(DecisionNotPossible):
        WITHDRAW_CONSENT.check("", "2026-11-20", tiers=())
    assert WITHDRAW_CONSENT.area_paths("p1", "h1", "2026-11-20", AREAS) == ["/1/10/11/"]
    assert WITHDRAW_CONSENT.area_paths("gone", "h2", "2026-11-20", AREAS) == ["/1/20/21/"]   # merged away: the household
    assert WITHDRAW_CONSENT.may_take("village_cadre", "/1/10/", "/1/10/11/")
    assert not WITHDRAW_CONSENT.may_take("village_cadre", "/1/20/", "/1/10/11/")
    assert not WITHDRAW_CONSENT.may_take("collector", "/1/10/11/", "/1/10/11/")
    # Replayed with the household's visits (a pre-pregnancy check names no record), in every partial replay too.
    assert WITHDRAW_CONSENT.replay_scope("p1", "h1").records == frozenset({"p1", "h1"})
    assert WITHDRAW_CONSENT.joined("p1", "h1") == {"p1", "h1"}
    assert WITHDRAW_CONSENT.always_replayed and WITHDRAW_CONSENT.replicable
    assert not any(kind.always_replayed for kind in DECISION_KINDS.values() if kind is not WITHDRAW_CONSENT)
