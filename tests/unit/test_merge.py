"""Merge rules: field-level plans, parallel updates, conflicts decided by phone time, replay, edits in place."""

from __future__ import annotations

import datetime as dt

from sync.merge import SubmissionVersion, VisitRef, apply_plan, effective_versions, plan_record, replay_record
from sync.visits import LifeEvent, PersonObservation

PERSON = "p-1"


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def visit(name: str, day: int) -> VisitRef:
    return VisitRef(instance_id=f"uuid:{name}", visited_at=at(day))


def observe(base: int | None, **fields: str) -> PersonObservation:
    return PersonObservation(person_uuid=PERSON, base_version=base, fields=fields)


def registered(**fields: str):
    """A person registered by visit r (day 1): version 1."""
    state, conflicts = replay_record([(observe(None, **fields), visit("r", 1))])
    assert conflicts == ()
    return state


def test_a_new_person_is_created_at_version_1_with_every_field():
    plan = plan_record(None, observe(None, name="王秀英", phone="13812345678"), visit("a", 1))
    assert (plan.create, dict(plan.updates), plan.new_version) == (True, {"name": "王秀英", "phone": "13812345678"}, 1)


def test_a_field_the_phone_left_as_shown_is_not_touched():
    state = registered(name="王秀英", phone="13800000001")
    state = apply_plan(state, plan_record(state, observe(1, phone="13800000002"), visit("b", 3)), visit("b", 3))
    # A phone that saw version 1 states the old phone number unchanged: it did not change it.
    plan = plan_record(state, observe(1, phone="13800000001", name="王秀英"), visit("c", 4))
    assert (dict(plan.updates), plan.conflicts, plan.new_version) == ({}, (), 2)


def test_a_change_nobody_else_made_is_applied_and_the_version_rises():
    state = registered(name="王秀英", residence="here")
    plan = plan_record(state, observe(1, residence="working_away"), visit("b", 2))
    assert (dict(plan.updates), plan.conflicts, plan.parallel_update, plan.new_version) == (
        {"residence": "working_away"}, (), False, 2)


def test_different_fields_changed_in_parallel_are_both_kept_and_noted():
    state = registered(name="王秀英", residence="here", phone="13800000001")
    b = visit("b", 2)
    state = apply_plan(state, plan_record(state, observe(1, phone="13800000002"), b), b)
    plan = plan_record(state, observe(1, residence="working_away"), visit("c", 3))
    assert (dict(plan.updates), plan.parallel_update, plan.conflicts) == ({"residence": "working_away"}, True, ())
    after = apply_plan(state, plan, visit("c", 3))
    assert after.values() == {"name": "王秀英", "residence": "working_away", "phone": "13800000002"}


def test_same_field_changed_twice_the_later_phone_observation_wins_and_a_conflict_is_kept():
    state = registered(phone="13800000001")
    later, earlier = visit("later", 10), visit("earlier", 5)
    state = apply_plan(state, plan_record(state, observe(1, phone="13800000002"), later), later)
    # The earlier visit arrives afterwards: it does not overwrite the later observation.
    plan = plan_record(state, observe(1, phone="13800000003"), earlier)
    assert dict(plan.updates) == {}
    [conflict] = plan.conflicts
    assert (conflict.field, conflict.value, conflict.visit, conflict.other_value, conflict.other_visit) == (
        "phone", "13800000002", later, "13800000003", earlier)


def test_a_later_observation_arriving_second_wins_the_conflict():
    state = registered(phone="13800000001")
    earlier, later = visit("earlier", 5), visit("later", 10)
    state = apply_plan(state, plan_record(state, observe(1, phone="13800000002"), earlier), earlier)
    plan = plan_record(state, observe(1, phone="13800000003"), later)
    assert dict(plan.updates) == {"phone": "13800000003"}
    [conflict] = plan.conflicts
    assert (conflict.value, conflict.other_value, conflict.other_visit) == ("13800000003", "13800000002", earlier)


def test_two_visits_making_the_same_change_do_not_conflict_and_the_later_one_counts():
    """The later statement of the same value is recorded: a visit contradicting both must be later than it, not
    only than the first, to win (found by the arrival-order property: otherwise the order decided)."""
    state = registered(residence="here")
    b, c, d = visit("b", 2), visit("c", 5), visit("d", 3)
    state = apply_plan(state, plan_record(state, observe(1, residence="moved_away"), b), b)
    plan = plan_record(state, observe(1, residence="moved_away"), c)
    assert (dict(plan.updates), plan.conflicts) == ({"residence": "moved_away"}, ())
    state = apply_plan(state, plan, c)
    contradiction = plan_record(state, observe(2, residence="here"), d)   # seen after the first change
    assert (dict(contradiction.updates), [(x.value, x.other_value) for x in contradiction.conflicts]) == (
        {}, [("moved_away", "here")])
    # An earlier visit stating the value again changes nothing.
    assert plan_record(state, observe(1, residence="moved_away"), b).changes_anything is False


def test_events_are_recorded_with_the_visit_and_raise_the_version():
    state = registered(name="张桂兰")
    death = LifeEvent(kind="death", date=dt.date(2026, 11, 3))
    observation = PersonObservation(PERSON, 1, {"status": "died"}, death)
    d = visit("d", 4)
    after = apply_plan(state, plan_record(state, observation, d), d)
    assert (after.version, after.values()["status"], after.events) == (2, "died", ((death, "uuid:d"),))


def test_replay_in_arrival_order_equals_applying_one_by_one():
    entries = [(observe(None, name="赵明", phone="13600000001"), visit("a", 1)),
               (observe(1, phone="13600000002"), visit("b", 4)),
               (observe(1, phone="13600000003"), visit("c", 2)),
               (observe(2, name="赵明明"), visit("d", 6))]
    state, conflicts = replay_record(entries)
    again, again_conflicts = replay_record(entries)
    assert (state, conflicts) == (again, again_conflicts)
    assert state.values() == {"name": "赵明明", "phone": "13600000002"}
    assert [(c.field, c.value, c.other_value) for c in conflicts] == [("phone", "13600000002", "13600000003")]
    assert state.version == 3


def test_an_edit_replaces_what_the_original_contributed():
    original = SubmissionVersion("uuid:o", None, arrival=2)
    edit = SubmissionVersion("uuid:e", "uuid:o", arrival=7)
    other = SubmissionVersion("uuid:x", None, arrival=4)
    assert effective_versions([other, edit, original]) == [edit, other]
    observations = {"uuid:r": observe(None, phone="13800000001"), "uuid:e": observe(1, phone="13800000009"),
                    "uuid:o": observe(1, phone="13800000005"), "uuid:x": observe(1, name="王秀英")}
    order = [SubmissionVersion("uuid:r", None, 1)] + effective_versions([original, edit, other])
    state, conflicts = replay_record((observations[v.instance_id], visit(v.instance_id[5:], v.arrival))
                                     for v in order)
    assert conflicts == ()
    assert [entry.value for entry in state.history["phone"]] == ["13800000001", "13800000009"]


def test_an_edit_arriving_before_its_original_still_counts_once_in_the_original_place():
    edit = SubmissionVersion("uuid:e", "uuid:o", arrival=3)
    original = SubmissionVersion("uuid:o", None, arrival=5)
    first = SubmissionVersion("uuid:f", None, arrival=1)
    assert effective_versions([original, edit, first]) == [first, edit]


def test_a_chain_of_edits_keeps_only_the_newest():
    versions = [SubmissionVersion("uuid:1", None, 1), SubmissionVersion("uuid:2", "uuid:1", 2),
                SubmissionVersion("uuid:3", "uuid:2", 3)]
    assert effective_versions(versions) == [versions[2]]


def test_a_record_s_value_is_its_field_s_latest_and_a_save_leaves_the_state_before_it_as_it_was():
    state = registered(name="王秀英", phone="13800000001")
    b = visit("b", 2)
    after = apply_plan(state, plan_record(state, observe(1, phone="13800000002"), b), b)
    assert (after.value("phone"), after.value("name"), after.value("tier")) == ("13800000002", "王秀英", None)
    assert [after.value(name) for name in after.values()] == list(after.values().values())
    assert state.value("phone") == "13800000001" and len(state.history["phone"]) == 1   # the state before: untouched
    assert after.history["name"] is state.history["name"]   # what the save did not touch is shared, not copied
