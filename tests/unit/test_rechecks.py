"""Unit tests for sync.rechecks: a sample's size, the seeded draw (the same seed and households draw the same
sample, whatever order they come in), the field-by-field comparison and the counts accuracy is read from."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from sync.rechecks import (
    COMPARED_FIELDS,
    Finding,
    Newcomer,
    Observed,
    RecheckCounts,
    accuracy,
    compare,
    draw,
    sample_size,
    tally,
)

HOUSEHOLDS = [f"household-{index:03d}" for index in range(40)]


@pytest.mark.parametrize(("households", "percent", "size"), [
    (0, 5, 0), (1, 5, 1), (19, 5, 1), (20, 5, 1), (21, 5, 2), (30, 5, 2), (40, 5, 2), (41, 5, 3), (100, 5, 5),
    (3, 100, 3), (3, 50, 2), (7, 0.1, 1), (1000, 2.5, 25), (10, 30, 3)])
def test_the_size_is_the_share_rounded_up_and_at_least_one(households, percent, size):
    assert sample_size(households, percent) == size


@pytest.mark.parametrize("percent", [0, -1, 100.5, float("nan")])
def test_a_share_outside_zero_to_a_hundred_is_refused(percent):
    with pytest.raises(ValueError):
        sample_size(10, percent)


def test_the_same_seed_and_households_draw_the_same_sample_whatever_their_order():
    drawn = draw(HOUSEHOLDS, 123456789, 5)
    assert len(drawn) == 2 and len(set(drawn)) == 2 and set(drawn) <= set(HOUSEHOLDS)
    assert draw(list(reversed(HOUSEHOLDS)), 123456789, 5) == drawn
    assert draw(HOUSEHOLDS + HOUSEHOLDS[:3], 123456789, 5) == drawn          # each household once
    assert draw(HOUSEHOLDS, 123456789, 5) == drawn


def test_the_draw_is_random_sample_of_the_sorted_uuids():
    """The stored seed is all it takes to draw again: random.Random(seed).sample(sorted(uuids), size)."""
    assert draw(HOUSEHOLDS, 42, 10) == random.Random(42).sample(sorted(HOUSEHOLDS), 4)


def test_other_seeds_draw_other_samples():
    samples = {tuple(draw(HOUSEHOLDS, seed, 5)) for seed in range(50)}
    assert len(samples) > 40


def test_a_village_without_households_draws_none():
    assert draw([], 7, 5) == []


PERSON = {"uuid": "p1", "name": "王秀英", "sex": "female", "birth_date": "1975-05-06", "id_number": None,
          "relationship": "head", "phone": "13900000002", "residence": "here", "hukou": "here"}
AWAY = {**PERSON, "uuid": "p2", "name": "李明", "relationship": "child", "residence": "working_away", "phone": None}


def test_a_person_found_as_registered_agrees_field_by_field():
    findings = compare([PERSON], {"p1": Observed(True)})
    assert findings == [Finding("p1", "王秀英", "present", "1", "1", True)] + [
        Finding("p1", "王秀英", field, PERSON[field], PERSON[field], True) for field in COMPARED_FIELDS]
    assert tally(_rows(findings)) == RecheckCounts(rechecked=1, correct=1, found=1, found_on_register=1)


def test_a_value_found_that_differs_disagrees_and_the_same_value_agrees():
    findings = compare([PERSON], {"p1": Observed(True, {"birth_date": "1976-05-06", "phone": "13900000002",
                                                        "id_number": "110101197505060025"})})
    by_field = {finding.field: finding for finding in findings}
    assert by_field["birth_date"] == Finding("p1", "王秀英", "birth_date", "1975-05-06", "1976-05-06", False)
    assert by_field["phone"].agrees is True
    assert by_field["id_number"] == Finding("p1", "王秀英", "id_number", None, "110101197505060025", False)
    assert tally(_rows(findings)) == RecheckCounts(rechecked=1, correct=0, found=1, found_on_register=1)


def test_a_person_not_found_disagrees_unless_the_register_has_them_away():
    findings = compare([PERSON, AWAY], {"p1": Observed(False), "p2": Observed(False)})
    assert findings == [Finding("p1", "王秀英", "present", "1", "0", False),
                        Finding("p2", "李明", "present", "0", "0", True)]
    assert tally(_rows(findings)) == RecheckCounts(rechecked=2, correct=1, found=0, found_on_register=0)


def test_a_person_away_on_the_register_but_found_at_home_disagrees_on_being_found():
    (present, *_fields) = compare([AWAY], {"p2": Observed(True)})
    assert present == Finding("p2", "李明", "present", "0", "1", False)


def test_a_person_found_who_is_not_on_the_register():
    findings = compare([PERSON], {"p1": Observed(True)}, [Newcomer("刘奶奶", "female", "1945-01-01"),
                                                          Newcomer("小孩")])
    assert findings[-4:] == [Finding(None, "刘奶奶", "present", None, "1", False),
                             Finding(None, "刘奶奶", "sex", None, "female", False),
                             Finding(None, "刘奶奶", "birth_date", None, "1945-01-01", False),
                             Finding(None, "小孩", "present", None, "1", False)]
    assert tally(_rows(findings)) == RecheckCounts(rechecked=1, correct=1, found=3, found_on_register=1)


def test_every_person_on_the_register_needs_an_observation():
    with pytest.raises(KeyError):
        compare([PERSON, AWAY], {"p1": Observed(True)})


def test_the_hand_checked_example_five_of_eight():
    """3 households, 8 people: one with a wrong relationship, one with a wrong birth date, one not found, and a
    person found who is not on the register → 5 of 8 correct; 8 found, 7 on the register."""
    people = [{**PERSON, "uuid": f"p{index}", "name": f"人{index}"} for index in range(8)]
    observed = {person["uuid"]: Observed(True) for person in people}
    observed["p1"] = Observed(True, {"relationship": "sibling"})
    observed["p4"] = Observed(True, {"birth_date": "1981-02-03"})
    observed["p5"] = Observed(False)
    rows = []
    for recheck, household in enumerate((people[:3], people[3:6], people[6:])):
        newcomers = [Newcomer("刘奶奶", "female")] if recheck == 1 else []
        found = compare(household, {person["uuid"]: observed[person["uuid"]] for person in household}, newcomers)
        rows += _rows(found, recheck)
    counts = tally(rows)
    assert counts == RecheckCounts(rechecked=8, correct=5, found=8, found_on_register=7)
    assert accuracy(counts) == 5 / 8 == 0.625


def test_accuracy_of_nothing_rechecked_is_none():
    assert accuracy(RecheckCounts()) is None


def test_a_person_rechecked_twice_counts_once_per_recheck():
    findings = compare([PERSON], {"p1": Observed(True)})
    assert tally(_rows(findings, 1) + _rows(findings, 2)) == RecheckCounts(2, 2, 2, 2)


def _rows(findings: list[Finding], recheck_id: int = 1) -> list:
    """Findings as stored rows (with their re-check's id)."""
    return [SimpleNamespace(recheck_id=recheck_id, **finding._asdict()) for finding in findings]
