"""sync.scope: which visits stay inside their collector's group."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.scope import REFUSALS, RegisterLookup, refusal
from sync.visits import AnchorObservation, HouseholdObservation, LifeEvent, PersonObservation, Visit

OURS, THEIRS = "7", "9"
HOUSEHOLDS = {"h-ours": OURS, "h-theirs": THEIRS}
PEOPLE = {"p-ours": "h-ours", "p-theirs": "h-theirs"}
ALIASES = {"h-old-alias": "h-theirs", "p-old-alias": "p-theirs"}
REGISTER = RegisterLookup(resolve=lambda uuid: ALIASES.get(uuid, uuid), household_group=HOUSEHOLDS.get,
                          person_household=PEOPLE.get)


def visit(household: str | None = "h-ours", *, new: bool = False, people=(), anchors=(), split_from=None) -> Visit:
    fields = {"household_no": "001", "address": "一号"} if new else {}
    if split_from:
        fields["split_from"] = split_from
    return Visit(instance_id="uuid:v", deprecated_id=None, form_id="household_visit",
                 visited_at=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc), visit_date=dt.date(2026, 11, 1),
                 collector="c", outcome="completed", recorded=True,
                 household=HouseholdObservation(household, None if new else 1, fields) if household else None,
                 people=tuple(people), anchors=tuple(anchors))


def person(uuid: str, **fields) -> PersonObservation:
    return PersonObservation(uuid, 1, fields)


@pytest.mark.parametrize("case, expected", [
    (visit(), None),
    (visit(people=[person("p-ours", phone="1")]), None),
    (visit("h-new", new=True, people=[PersonObservation("p-new", None, {"household": "h-new"})]), None),
    (visit(people=[person("p-ours", household="h-ours")]), None),
    (visit("h-unknown"), None),                            # a follow-up naming a household not registered yet
    (visit("h-theirs"), "household_elsewhere"),
    (visit("h-old-alias"), "household_elsewhere"),         # merged into another group's household
    (visit(people=[person("p-theirs", phone="1")]), "person_elsewhere"),
    (visit(people=[person("p-old-alias")]), "person_elsewhere"),
    (visit(people=[person("p-ours", household="h-theirs")]), "household_elsewhere"),
    (visit(people=[PersonObservation("p-new", None, {"household": "h-theirs"})]), "household_elsewhere"),
    (visit("h-theirs", new=True), "new_household_exists"),
    (visit("h-ours", new=True), "new_household_exists"),   # "existing" switched to "new" on the phone
    (visit("h-new", new=True, split_from="h-theirs"), "household_elsewhere"),
    (visit("h-new", new=True, split_from="h-ours"), None),
    (visit(anchors=[AnchorObservation("p-theirs", "birth", dt.date(2026, 10, 1))]), "person_elsewhere"),
    (visit(None, people=[person("p-ours")]), None),
])
def test_refusal(case, expected):
    assert refusal(case, OURS, REGISTER) == expected


def test_a_sender_without_a_group_is_refused_and_every_reason_reads_in_both_languages():
    assert refusal(visit(), None, REGISTER) == "no_group"
    assert all(zh and en and zh != en for zh, en in REFUSALS.values())


# Moves (docs/moves.md): p-theirs moved out towards our village; p-gone moved out towards another; p-here lives in
# our group (arrived already, or never left); h-south is a household of a third village's group; the register's
# villages and towns by full name.
MOVED = {"p-theirs": OURS, "p-gone": "5"}
MOVES = RegisterLookup(resolve=lambda uuid: ALIASES.get(uuid, uuid), household_group={**HOUSEHOLDS, "h-south": "5"}.get,
                       person_household={**PEOPLE, "p-gone": "h-theirs", "p-here": "h-ours"}.get,
                       expected_in=lambda uuid, group: MOVED.get(uuid) == group,
                       destination_known={"青山镇", "青山镇/西村"}.__contains__)


def arrival(uuid: str, household: str = "h-ours") -> PersonObservation:
    return PersonObservation(uuid, 3, {"household": household, "residence": "here"},
                             LifeEvent("moved_in", dt.date(2026, 11, 2)), arrival=True)


def moved_out(uuid: str, destination: str | None) -> PersonObservation:
    return PersonObservation(uuid, 1, {"residence": "moved_away"},
                             LifeEvent("moved_out", dt.date(2026, 11, 2), destination=destination))


@pytest.mark.parametrize("case, group, expected", [
    (visit(people=[arrival("p-theirs")]), OURS, None),                   # expected here: confirmed
    (visit(people=[arrival("p-old-alias")]), OURS, None),                # by a uuid merged into hers
    (visit(people=[arrival("p-theirs")], anchors=[AnchorObservation("p-theirs", "birth", dt.date(2026, 10, 1))]),
     OURS, None),                                                        # and her follow-up told on the same visit
    (visit("h-south", people=[arrival("p-theirs", "h-south")]), "5", "not_expected"),   # another village's collector
    (visit("h-south", people=[arrival("p-gone", "h-south")]), "5", None),                # that village's own
    (visit(people=[arrival("p-gone")]), OURS, "not_expected"),           # expected elsewhere
    (visit(people=[arrival("p-nobody")]), OURS, "not_expected"),         # not in the register
    (visit(people=[arrival("p-here")]), OURS, None),                     # arrived already here: applied once
    (visit(people=[arrival("p-theirs", "h-theirs")]), OURS, "household_elsewhere"),  # into another group's household
    (visit(people=[moved_out("p-ours", "青山镇/西村")]), OURS, None),
    (visit(people=[moved_out("p-ours", "青山镇")]), OURS, None),          # a town, the village not known yet
    (visit(people=[moved_out("p-ours", None)]), OURS, None),             # outside: the place as written
    (visit(people=[moved_out("p-ours", "白水镇/河口村")]), OURS, "destination_unknown"),
])
def test_an_arrival_is_confirmed_only_where_expected_and_a_move_names_a_known_place(case, group, expected):
    assert refusal(case, group, MOVES) == expected
