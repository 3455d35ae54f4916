"""Arrivals nobody expected matched with recent departures of other villages (sync.arrivals)."""

from __future__ import annotations

import datetime as dt

from sync.arrivals import Arrival, Departure, MovePair, move_candidates, move_pairs, origin_names, recent, score_move
from sync.identity import REASONS, WEIGHTS, PersonRecord

AS_OF = dt.date(2026, 12, 1)
ID_NUMBER = "110101197505060025"   # a woman born 1975-05-06


def arrival(uuid="a-new", name="王秀英", *, village="2", sex="female", born="1975-05-06", id_number=None,
            arrived_on=dt.date(2026, 11, 20), origin=None, areas=("2", "1")) -> Arrival:
    return Arrival(PersonRecord(uuid, village, "h-new", name, sex, born and dt.date.fromisoformat(born), id_number,
                                None), arrived_on, origin, areas)


def departure(uuid="d-old", name="王秀英", *, village="3", sex="female", born="1975-05-06", id_number=None,
              moved_on=dt.date(2026, 11, 3), destination=None, names=("东村", "青山镇")) -> Departure:
    return Departure(PersonRecord(uuid, village, "h-old", name, sex, born and dt.date.fromisoformat(born), id_number,
                                  None), moved_on, origin_names(*names), destination)


def test_the_same_name_birth_date_and_sex_in_another_village_is_a_candidate_marked_as_a_move():
    score = score_move(arrival(), departure(), as_of=AS_OF)
    assert score.reasons == ("same_name", "same_birth_date", "same_sex", "moved")
    assert (score.score, score.automatic) == (0.7, False)
    assert move_candidates(arrival(), [departure()], as_of=AS_OF) == [MovePair("a-new", "d-old", score)]


def test_origin_and_destination_add_to_a_homophone_and_the_words_exist():
    found = score_move(arrival(name="王秀瑛", origin="青山镇 东村"), departure(destination="2"), as_of=AS_OF)
    assert found.reasons == ("same_name_pinyin", "same_birth_date", "same_sex", "moved", "origin_matches",
                             "destination_matches")
    assert found.score == 0.85
    assert all(REASONS[code] for code in found.reasons) and set(REASONS) == set(WEIGHTS)
    # Same name and sex alone (0.45) is not a candidate; where they came from and said they went makes it one.
    alone = departure(born=None)
    assert move_candidates(arrival(born=None), [alone], as_of=AS_OF) == []
    (pair,) = move_candidates(arrival(born=None, origin="东村"), [departure(born=None, destination="1")], as_of=AS_OF)
    assert (pair.score.score, pair.score.reasons[-2:]) == (0.65, ("origin_matches", "destination_matches"))


def test_an_identical_valid_id_number_is_sure_but_still_a_question():
    found = score_move(arrival(name="王小英", id_number=ID_NUMBER), departure(id_number=ID_NUMBER.lower()),
                       as_of=AS_OF)
    assert (found.score, found.automatic, found.reasons[0]) == (1.0, True, "same_id_number")
    against = score_move(arrival(id_number=ID_NUMBER, born="1975-05-07"), departure(id_number=ID_NUMBER), as_of=AS_OF)
    assert against.automatic is False and "birth_date_differs" in against.reasons


def test_contradictions_the_same_village_and_old_moves_are_no_pairs():
    assert score_move(arrival(), departure(sex="male"), as_of=AS_OF).score == 0.0
    assert score_move(arrival(), departure(village="2"), as_of=AS_OF) is None
    assert score_move(arrival(), departure(uuid="a-new"), as_of=AS_OF) is None
    old = departure(moved_on=AS_OF - dt.timedelta(days=366))
    assert move_candidates(arrival(), [old], as_of=AS_OF) == []
    assert len(move_candidates(arrival(), [old], as_of=AS_OF, days=400)) == 1
    assert move_candidates(arrival(arrived_on=dt.date(2025, 1, 1)), [departure()], as_of=AS_OF) == []
    assert len(move_candidates(arrival(arrived_on=None), [departure(moved_on=None)], as_of=AS_OF)) == 1
    assert recent(AS_OF - dt.timedelta(days=365), AS_OF) and not recent(AS_OF - dt.timedelta(days=366), AS_OF)


def test_origin_names_leave_out_one_character_names_and_fold_full_names():
    assert origin_names("东村", "青山镇/东村", "镇", None) == ("东村", "青山镇东村")
    assert score_move(arrival(origin="村"), departure(), as_of=AS_OF).reasons[-1] == "moved"


def test_the_full_scan_pairs_arrivals_and_departures_sharing_a_key_best_first():
    arrivals = [arrival(), arrival("a-other", "李四", sex="male", born="1980-01-01"),
                arrival("a-sure", "张三", id_number=ID_NUMBER, born=None, village="4")]
    departures = [departure(), departure("d-sure", "张叁", id_number=ID_NUMBER, born=None),
                  departure("d-far", "王秀英", moved_on=dt.date(2024, 1, 1))]
    pairs = move_pairs(arrivals, departures, as_of=AS_OF)
    assert [(pair.arrival, pair.departed, pair.score.score) for pair in pairs] == [
        ("a-sure", "d-sure", 1.0), ("a-new", "d-old", 0.7)]
    assert (pairs[1].a, pairs[1].b) == ("a-new", "d-old")
    # A key shared by more departures than a block holds is a placeholder, not a lead.
    assert move_pairs(arrivals[:1], departures[:1], as_of=AS_OF, largest_block=0) == []
