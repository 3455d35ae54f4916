"""The register replay on its own: raw visits and decisions into a plain in-memory store, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sync.merge import fold_record
from sync.replay import StoredSubmission, replay
from sync.scope import RegisterLookup
from tests.register_visits import Member, household_visit

HOUSEHOLD = "00000000-0000-4000-8000-000000000001"
OTHER_HOUSEHOLD = "00000000-0000-4000-8000-000000000002"
GROUP, OTHER_GROUP = 11, 21


class PlainStore:
    """The smallest RegisterStore: records and visits in dictionaries."""

    def __init__(self):
        self.records, self.visits, self.service_items = {}, {}, {}

    def state(self, kind, uuid):
        return self.records.get((kind, uuid))

    def lookup(self, aliases, chain):
        def household_group(uuid):
            state = self.records.get(("household", uuid))
            return None if state is None else state.values().get("group", "")

        def person_household(uuid):
            state = self.records.get(("person", uuid))
            return None if state is None else state.values().get("household")
        return RegisterLookup(aliases.resolve, household_group, person_household)

    def save(self, kind, plan, after, ref, *, submission_id, decision_id):
        self.records[(kind, plan.uuid)] = after

    def fold(self, kind, kept, merged, decision_id):
        self.records[(kind, kept)] = fold_record(self.records[(kind, kept)], self.records.pop((kind, merged)))[0]

    def members(self, household_uuid):
        return sorted(uuid for (kind, uuid), state in self.records.items()
                      if kind == "person" and state.values().get("household") == household_uuid)

    def resolve_conflicts(self, uuid, name):
        pass

    def add_anchor(self, person_uuid, anchor, submission_id):
        pass

    def add_visit(self, submission_id, uuids, entry):
        self.visits[submission_id] = entry

    def add_service_items(self, submission_id, visit, household_uuid, items):
        self.service_items[submission_id] = list(items)

    def values(self, kind):
        return {uuid: state.values() for (record_kind, uuid), state in self.records.items() if record_kind == kind}


@dataclass
class Decision:
    id: int
    kind: str
    subject_uuid: str
    target: str
    after_submission_id: int
    field: str | None = None
    decided_at: dt.datetime = dt.datetime(2026, 11, 10, tzinfo=dt.timezone.utc)


WANG = Member("王秀英", "female", "1975-05-06", phone="13800000001")
LI = Member("王秀瑛", "female", "1975-05-06")
REGISTRATIONS = [
    StoredSubmission(1, household_visit(household=HOUSEHOLD, new=("001", "东村1号"), members=[WANG],
                                        start="2026-11-01T09:00:00.000+08:00", instance_id="uuid:1"), "uuid:1", None,
                     GROUP),
    StoredSubmission(2, household_visit(household=OTHER_HOUSEHOLD, new=("002", "东村2号"), members=[LI],
                                        start="2026-11-02T09:00:00.000+08:00", instance_id="uuid:2"), "uuid:2", None,
                     GROUP),
]


def test_visits_in_arrival_order_make_the_register():
    store = PlainStore()
    assert replay(store, REGISTRATIONS, [], only=None) == 2
    assert {uuid: (values["name"], values["household"]) for uuid, values in store.values("person").items()} == {
        WANG.uuid: ("王秀英", HOUSEHOLD), LI.uuid: ("王秀瑛", OTHER_HOUSEHOLD)}
    assert {uuid: values["group"] for uuid, values in store.values("household").items()} == {
        HOUSEHOLD: "11", OTHER_HOUSEHOLD: "11"}


def test_decisions_apply_at_their_place_and_a_rejected_visit_is_left_out():
    decisions = [Decision(1, "merge_households", OTHER_HOUSEHOLD, HOUSEHOLD, after_submission_id=2),
                 Decision(2, "set_tier", WANG.uuid, "key", after_submission_id=2),
                 Decision(3, "reject_visit", "1", "", after_submission_id=2)]
    store = PlainStore()
    assert replay(store, REGISTRATIONS, decisions, only=None) == 1
    # Visit 1 is rejected: 王秀英's household and record never existed; 王秀瑛's household is merged into a
    # household that does not exist, so it stays; the tier names a person who is not there.
    assert set(store.values("household")) == {OTHER_HOUSEHOLD}
    assert set(store.values("person")) == {LI.uuid}
    store = PlainStore()
    assert replay(store, REGISTRATIONS, decisions[:2], only=None) == 2
    assert set(store.values("household")) == {HOUSEHOLD}
    assert {uuid: (values["household"], values.get("tier")) for uuid, values in store.values("person").items()} == {
        WANG.uuid: (HOUSEHOLD, "key"), LI.uuid: (HOUSEHOLD, None)}


def test_a_visit_of_another_group_is_kept_with_the_reason_and_changes_nothing():
    update = household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-05T09:00:00.000+08:00",
                             instance_id="uuid:3", updates=[dict(person_uuid=WANG.uuid, base_version=1,
                                                                 change="details_corrected", phone_now="13900000000")])
    store = PlainStore()
    replay(store, [*REGISTRATIONS, StoredSubmission(3, update, "uuid:3", None, OTHER_GROUP)], [], only=None)
    assert store.visits[3].refusal == "household_elsewhere"
    assert store.values("person")[WANG.uuid]["phone"] == "13800000001"


# Moves (docs/moves.md): the area each group is in, and the villages and towns a move may name.
AREAS = {"11": "青山镇/东村/第一组", "21": "青山镇/西村/第一组", "31": "青山镇/南村/第一组"}
XI_HOUSEHOLD, NAN_HOUSEHOLD = "00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004"


class MovingStore(PlainStore):
    """PlainStore that knows where people moved out to (their latest move out while recorded as moved away)."""

    def __init__(self):
        super().__init__()
        self.departures = {}

    def save(self, kind, plan, after, ref, *, submission_id, decision_id):
        super().save(kind, plan, after, ref, submission_id=submission_id, decision_id=decision_id)
        if kind == "person" and plan.event is not None and plan.event.kind == "moved_out":
            self.departures[plan.uuid] = plan.event.destination

    def lookup(self, aliases, chain):
        def expected_in(uuid, group):
            state, destination = self.records.get(("person", uuid)), self.departures.get(uuid)
            return (state is not None and state.values().get("residence") == "moved_away" and destination is not None
                    and f"{AREAS[group]}/".startswith(f"{destination}/"))
        plain = super().lookup(aliases, chain)
        return RegisterLookup(plain.resolve, plain.household_group, plain.person_household, expected_in,
                              {"青山镇", "青山镇/东村", "青山镇/西村", "青山镇/南村"}.__contains__)


def test_a_move_to_another_village_and_the_arrival_confirmed_there_once():
    """王秀英 moves from 东村 to 西村; 西村's collector picks her; a second phone confirming again changes nothing;
    南村's collector is refused; a move to a place the register does not hold is refused."""
    def at(day):
        return f"2026-11-{day:02d}T09:00:00.000+08:00"

    def arrives(submission, group, household, version):
        member = Member("", "", "", uuid=WANG.uuid, relationship="child_in_law", event_date="2026-11-06",
                        origin="青山镇 东村", arriving_version=version)
        return StoredSubmission(submission, household_visit(household=household, base_version=1, start=at(submission),
                                                            members=[member], instance_id=f"uuid:{submission}"),
                                f"uuid:{submission}", None, group)

    def moves(submission, destination):
        return StoredSubmission(submission, household_visit(
            household=HOUSEHOLD, base_version=1, start=at(submission), instance_id=f"uuid:{submission}", updates=[
                dict(person_uuid=WANG.uuid, base_version=1, change="moved_out", event_date="2026-11-04",
                     destination=destination)]), f"uuid:{submission}", None, GROUP)

    registrations = [
        REGISTRATIONS[0],
        StoredSubmission(2, household_visit(household=XI_HOUSEHOLD, new=("001", "西村1号"), members=[LI],
                                            start=at(2), instance_id="uuid:2"), "uuid:2", None, OTHER_GROUP),
        StoredSubmission(3, household_visit(household=NAN_HOUSEHOLD, new=("001", "南村1号"),
                                            members=[Member("赵明", "male", "1980-01-01")], start=at(3),
                                            instance_id="uuid:3"), "uuid:3", None, 31)]
    store = MovingStore()
    replay(store, [*registrations, moves(4, "白水镇/河口村")], [], only=None)
    assert (store.visits[4].refusal, store.values("person")[WANG.uuid]["residence"]) == ("destination_unknown", "here")

    store = MovingStore()
    # 南村 tries before she arrives in 西村, 西村 confirms, a second 西村 phone confirms again, 南村 tries again.
    submissions = [*registrations, moves(4, "青山镇/西村"), arrives(5, 31, NAN_HOUSEHOLD, 2), arrives(6, OTHER_GROUP,
                   XI_HOUSEHOLD, 2), arrives(7, OTHER_GROUP, XI_HOUSEHOLD, 2), arrives(8, 31, NAN_HOUSEHOLD, 3)]
    assert replay(store, submissions, [], only=None) == 6
    assert [store.visits[n].refusal for n in (4, 5, 6, 7, 8)] == [None, "not_expected", None, None, "not_expected"]
    wang = store.records[("person", WANG.uuid)]
    assert ({name: wang.values()[name] for name in ("household", "residence", "relationship", "name")},
            wang.version) == ({"household": XI_HOUSEHOLD, "residence": "here", "relationship": "child_in_law",
                               "name": "王秀英"}, 3)
    # The same visits replayed give the same register.
    again = MovingStore()
    replay(again, submissions, [], only=None)
    assert again.records == store.records
