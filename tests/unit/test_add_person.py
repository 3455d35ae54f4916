"""A person registered on the web (the add_person decision): their details as stored, checked as the forms check
them, the area they concern, and what a replay makes of them."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from sync.decisions import ADD_PERSON, DECISION_KINDS, RecordAreas, new_person_fields, new_person_target
from sync.errors import ChoiceValueInvalid, DateValueInvalid, DecisionNotPossible, IdNumberInvalid, PhoneInvalid
from sync.merge import RecordState
from sync.replay import ReplayAliases
from sync.visits import LifeEvent, PersonObservation

AREAS = RecordAreas(household_of={"p-moved": "h1"}.get, group_path_of={"h1": "/1/10/11/"}.get, group_path={}.get,
                    submission_group_path={}.get, service_item_path={}.get)
BABY = {"name": "张小明", "sex": "male", "birth_date": "2026-11-20", "relationship": "grandchild"}


def test_the_details_are_stored_as_compact_sorted_json_and_read_back():
    target = new_person_target("h1", {**BABY, "phone": "", "id_number": "110101202611200013"}, dt.date(2026, 11, 20))
    assert target == ('{"birth_date":"2026-11-20","event_date":"2026-11-20","household":"h1",'
                      '"id_number":"110101202611200013","name":"张小明","relationship":"grandchild","sex":"male"}')
    assert new_person_fields(target) == ("h1", {**BABY, "id_number": "110101202611200013"}, dt.date(2026, 11, 20))


@pytest.mark.parametrize(("details", "refusal"), [
    ({**BABY, "name": ""}, DecisionNotPossible),                       # a required field missing
    ({key: value for key, value in BABY.items() if key != "sex"}, DecisionNotPossible),
    ({**BABY, "tier": "key"}, DecisionNotPossible),                    # not a field a new person is given
    ({**BABY, "id_number": "110101202611200012"}, IdNumberInvalid),    # the check character is 3
    ({**BABY, "phone": "12345"}, PhoneInvalid),
    ({**BABY, "sex": "m"}, ChoiceValueInvalid),                        # not on the list
    ({**BABY, "birth_date": "2026-02-30"}, DateValueInvalid),
    ({**BABY, "name": "张" * 51}, DecisionNotPossible),                 # longer than a name is
])
def test_details_the_forms_would_refuse_are_refused(details, refusal):
    with pytest.raises(refusal):
        ADD_PERSON.check(json.dumps({**details, "household": "h1", "event_date": "2026-11-20"}), "birth", tiers=())


@pytest.mark.parametrize("target", ["", "[]", "{}", '{"household": "h1"}', '{"household": 5, "event_date": "x"}'])
def test_a_target_that_is_not_a_new_persons_details_is_refused(target):
    with pytest.raises(DecisionNotPossible):
        ADD_PERSON.check(target, "birth", tiers=())


def test_the_life_event_is_one_a_new_person_can_have():
    target = new_person_target("h1", BABY, dt.date(2026, 11, 20))
    ADD_PERSON.check(target, "registered", tiers=())
    with pytest.raises(DecisionNotPossible):
        ADD_PERSON.check(target, "death", tiers=())


def test_the_area_is_the_households_group():
    assert ADD_PERSON.area_paths("p-new", new_person_target("h1", BABY, dt.date(2026, 11, 20)), "birth",
                                 AREAS) == ["/1/10/11/"]
    assert ADD_PERSON.area_paths("p-new", new_person_target("gone", BABY, dt.date(2026, 11, 20)), "birth",
                                 AREAS) == [None]
    # The household merged away since: where the person is now.
    assert ADD_PERSON.area_paths("p-moved", new_person_target("gone", BABY, dt.date(2026, 11, 20)), "birth",
                                 AREAS) == ["/1/10/11/"]
    assert DECISION_KINDS["add_person"] is ADD_PERSON
    assert ADD_PERSON.replay_scope("p-new", "…").records == frozenset({"p-new"})


class _Store:
    def __init__(self, existing=()):
        self.records = {("person", uuid): RecordState(uuid, 1, {}) for uuid in existing}

    def state(self, kind, uuid):
        return self.records.get((kind, uuid))


def _replay(store, *, only=None, aliases=None):
    merged = []
    decision = SimpleNamespace(id=4, kind="add_person", subject_uuid="p-new", field="birth", after_submission_id=0,
                               target=new_person_target("h-old", BABY, dt.date(2026, 11, 20)),
                               decided_at=dt.datetime(2026, 11, 21, 2, tzinfo=dt.timezone.utc))
    ADD_PERSON.replay(store, decision, aliases or ReplayAliases(), only=only,
                      merge_record=lambda _store, kind, observation, ref, **kw: merged.append(
                          (kind, observation, ref.instance_id, kw)))
    return merged


def test_a_replay_creates_the_person_in_the_household_as_it_is_now_with_the_life_event():
    merged = _replay(_Store(), aliases=ReplayAliases({"h-old": "h-kept"}))
    assert merged == [("person", PersonObservation(
        "p-new", None, {**BABY, "household": "h-kept", "status": "living"},
        event=LifeEvent(kind="birth", date=dt.date(2026, 11, 20))), "decision:4", {"decision_id": 4})]


def test_a_replay_leaves_a_person_already_there_or_outside_the_replay_alone():
    assert _replay(_Store(existing=["p-new"])) == []
    assert _replay(_Store(), only={"someone-else"}) == []
