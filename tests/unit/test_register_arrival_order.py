"""Property: the register replayed from the same submissions is the same whatever order they arrived in (any order
the phones could produce: a visit to a household arrives after the visit that registered it)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from server.register.stores import MemoryStore
from sync.replay import StoredSubmission, replay
from tests.register_visits import Member, household_visit

HOUSEHOLDS = [f"00000000-0000-4000-8000-00000000000{index}" for index in range(2)]
PHONES = ["13800000001", "13800000002", "13800000003", "13800000004"]
CHANGES = ["details_corrected", "left_for_work", "returned", "died", "married"]


@st.composite
def visits(draw):
    """Submissions (instance id, deprecated id, xml, household) with distinct phone times: two households
    registered with their members, then updates and edits of updates."""
    minutes = draw(st.lists(st.integers(0, 10_000), min_size=16, max_size=16, unique=True))
    clock = iter(minutes)
    serial = itertools.count(1)

    def instance_id() -> str:
        return f"uuid:00000000-0000-4000-9000-{next(serial):012d}"

    def at() -> str:
        minute = next(clock)
        return f"2026-11-{1 + minute // 1440:02d}T{minute % 1440 // 60:02d}:{minute % 60:02d}:00.000+08:00"

    submissions, members = [], {}
    for household in HOUSEHOLDS:
        people = [Member(f"成员{household[-1]}{index}", draw(st.sampled_from(["male", "female"])), "1980-01-01",
                         phone=draw(st.sampled_from(PHONES)), uuid=f"{household[:-4]}{index:03d}{household[-1]}")
                  for index in range(draw(st.integers(1, 2)))]
        members[household] = [person.uuid for person in people]
        instance = instance_id()
        submissions.append((instance, None, household_visit(household=household, new=(household[-3:], "地址"),
                                                            start=at(), members=people, instance_id=instance),
                            household, True))
    for _ in range(draw(st.integers(1, 6))):
        household = draw(st.sampled_from(HOUSEHOLDS))
        person = draw(st.sampled_from(members[household]))

        def update_visit(instance: str, deprecated: str | None = None) -> bytes:
            change = draw(st.sampled_from(CHANGES))
            update = dict(person_uuid=person, base_version=1, change=change, event_date="2026-10-01",
                          phone_now=draw(st.sampled_from(PHONES)) if change == "details_corrected" else None)
            return household_visit(household=household, base_version=1, start=at(), updates=[update],
                                   instance_id=instance, deprecated_id=deprecated)

        instance = instance_id()
        submissions.append((instance, None, update_visit(instance), household, False))
        if draw(st.booleans()):
            edit = instance_id()
            submissions.append((edit, instance, update_visit(edit, instance), household, False))
    return submissions


def register(arrivals) -> dict:
    """Replay submissions in this arrival order; the register's current values, events and conflicts."""
    rows = [StoredSubmission(position, xml, instance, deprecated, 7) for position, (instance, deprecated, xml, *_rest)
            in enumerate(arrivals, start=1)]
    store = MemoryStore()
    replay(store, rows, [], only=None)
    return {"records": {key: state.values() for key, state in store.records.items()},
            "events": sorted((row["person_uuid"], row["kind"], str(row["event_date"])) for row in store.events),
            "conflicts": sorted((row["record_uuid"], row["field"], row["value"], row["other_value"])
                                for row in store.conflicts)}


def causal(order: list) -> list:
    """Move each household's registration before the visits to it (the phones listed it first)."""
    registrations = [submission for submission in order if submission[4]]
    return registrations + [submission for submission in order if not submission[4]]


@settings(max_examples=150, deadline=None)
@given(submissions=visits(), data=st.data())
def test_any_arrival_order_gives_the_same_register(submissions, data):
    shuffled = causal(data.draw(st.permutations(submissions)))
    assert register(shuffled) == register(causal(submissions))
