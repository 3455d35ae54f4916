"""sync.scope: which visits stay inside their collector's group."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.scope import REFUSALS, RegisterLookup, refusal
from sync.visits import AnchorObservation, HouseholdObservation, PersonObservation, Visit

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
