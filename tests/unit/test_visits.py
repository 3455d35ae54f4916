"""read_visit on submissions JavaRosa produced from the real questionnaires."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sync.errors import BadRequest
from sync.visits import AnchorObservation, LifeEvent, PersonObservation, read_visit
from tests.register_visits import Member, household_visit

XML = Path(__file__).resolve().parents[1] / "fixtures" / "xml"
HOUSEHOLD = "689047be-f51b-5fa2-83b1-af90b0d336cb"


@pytest.fixture(scope="module")
def visit():
    return read_visit((XML / "household_visit_changes.xml").read_bytes())


def test_identity_outcome_and_time(visit):
    assert (visit.instance_id, visit.form_id, visit.outcome, visit.recorded, visit.completed) == (
        "uuid:da48f838-d969-45d7-8703-f021a235e2da", "household_visit", "completed", True, True)
    assert visit.visited_at == dt.datetime(2026, 11, 22, 10, 54, 54, 412000, tzinfo=dt.timezone.utc)
    assert visit.visit_date == dt.date(2026, 11, 22)


def test_household_and_the_version_the_phone_saw(visit):
    assert (visit.household.household_uuid, visit.household.base_version, dict(visit.household.fields)) == (
        HOUSEHOLD, 3, {})


def test_member_moving_out(visit):
    moved = visit.people[0]
    assert (moved.person_uuid, moved.base_version, dict(moved.fields)) == (
        "52df4294-3b88-55f4-af16-6297ca27f83a", 2, {"residence": "moved_away"})
    assert moved.event == LifeEvent(kind="moved_out", date=dt.date(2026, 11, 1), place="成都")


def test_member_coming_back_with_a_new_phone(visit):
    back = visit.people[1]
    assert (dict(back.fields), back.event.kind) == ({"residence": "here", "phone": "13900001111"}, "returned")


def test_birth_registers_a_new_person_in_the_household(visit):
    baby = visit.people[2]
    assert (baby.person_uuid, baby.base_version) == ("f546a422-bbe1-4698-a246-abcc999373d0", None)
    assert dict(baby.fields) == {"name": "王小宝", "sex": "male", "birth_date": "2026-11-10",
                                 "relationship": "grandchild", "residence": "here", "hukou": "here",
                                 "household": HOUSEHOLD, "status": "living"}
    assert baby.event == LifeEvent(kind="birth", date=dt.date(2026, 11, 10))


def test_service_needs(visit):
    assert visit.service_needs == ("postpartum_followup", "supplies")


def test_nobody_home_records_the_outcome_only():
    xml = ((XML / "household_visit_changes.xml").read_bytes()
           .replace(b"<outcome>completed</outcome><consent>yes</consent>", b"<outcome>nobody_home</outcome>")
           .replace(b"<recording>yes</recording>", b"<recording>no</recording>"))
    visit = read_visit(xml)
    assert (visit.outcome, visit.completed, visit.recorded, visit.people, visit.service_needs) == (
        "nobody_home", False, False, (), ())


def test_other_forms_are_not_register_forms():
    with pytest.raises(BadRequest):
        read_visit(b'<data id="other" version="1"><meta><instanceID>uuid:1</instanceID></meta></data>')


def test_follow_up_from_the_due_list():
    visit = read_visit((XML / "followup_postpartum.xml").read_bytes())
    assert (visit.form_id, visit.outcome, visit.completed) == ("followup", "completed", True)
    [person] = visit.people
    assert (person.person_uuid, person.base_version, dict(person.fields)) == (
        "6ea9d3db-46aa-51bc-9151-65eb9433a158", 2, {})
    assert visit.household.household_uuid == "fc944cb4-c3ec-5f58-bca5-9362b8883dd8"
    followup = visit.followup
    assert (followup.due_type, followup.followup_type, followup.due_since, followup.services, followup.referral,
            followup.next_date) == ("postpartum", "postpartum", dt.date(2025, 10, 4),
                                    ("postpartum_care", "supplies"), True, dt.date(2026, 12, 20))


def test_member_moving_to_another_household_of_the_group():
    visit = read_visit((XML / "household_visit_changed_household.xml").read_bytes())
    assert visit.household.household_uuid == "01527893-8084-5e89-9daf-9d200c3cce28"
    [moved] = visit.people
    assert (moved.person_uuid, moved.base_version, dict(moved.fields)) == (
        "375fb1d1-db66-5bb7-9a33-acde40defc39", 2, {"household": "fc944cb4-c3ec-5f58-bca5-9362b8883dd8"})
    assert moved.event == LifeEvent(kind="changed_household", date=dt.date(2026, 11, 15), place=None)


def test_member_moving_without_the_household_they_moved_to_is_refused():
    xml = ((XML / "household_visit_changed_household.xml").read_bytes()
           .replace(b"<to_household>fc944cb4-c3ec-5f58-bca5-9362b8883dd8</to_household>", b"<to_household />"))
    with pytest.raises(BadRequest, match="to_household"):
        read_visit(xml)


def test_household_split_registers_the_new_household_and_moves_the_chosen_members():
    visit = read_visit((XML / "household_visit_split.xml").read_bytes())
    new_household = "6a7d8487-a59e-4697-867d-f8c385ed0f1a"
    assert (visit.household.household_uuid, visit.household.base_version, dict(visit.household.fields)) == (
        new_household, None, {"household_no": "004", "address": "东村一组4号", "split_from": HOUSEHOLD})
    assert [(p.person_uuid, p.base_version, dict(p.fields), p.event) for p in visit.people] == [
        (uuid, 2, {"household": new_household}, LifeEvent(kind="household_split", date=dt.date(2026, 11, 22)))
        for uuid in ("08f581e9-f409-501e-ae6d-28b1973c9501", "52df4294-3b88-55f4-af16-6297ca27f83a")]


def test_a_birth_told_on_a_visit_is_an_anchor_for_the_mother(visit):
    assert visit.anchors == (AnchorObservation("52df4294-3b88-55f4-af16-6297ca27f83a", "birth", dt.date(2026, 11, 10)),)


def test_a_move_out_names_a_village_of_the_county_or_a_place_outside():
    """person_update/destination (docs/moves.md): a village's or town's full name, or `outside` (then only the place
    as written); a visit of an earlier version that never asked has no destination."""
    def moved(**answers):
        xml = household_visit(household=HOUSEHOLD, base_version=3, start="2026-11-22T09:00:00.000+08:00", updates=[
            dict(person_uuid="p1", base_version=2, change="moved_out", event_date="2026-11-20", **answers)])
        return read_visit(xml).people[0]

    assert moved(destination="青山镇/西村").event == LifeEvent(kind="moved_out", date=dt.date(2026, 11, 20),
                                                             destination="青山镇/西村")
    assert moved(destination="outside", place="四川省成都市").event == LifeEvent(
        kind="moved_out", date=dt.date(2026, 11, 20), place="四川省成都市")
    assert moved(place="成都").event == LifeEvent(kind="moved_out", date=dt.date(2026, 11, 20), place="成都")
    assert moved(destination="青山镇/西村").fields == {"residence": "moved_away"}
    # Only a move out goes somewhere: a destination left in another change is not read.
    other = household_visit(household=HOUSEHOLD, base_version=3, start="2026-11-22T09:00:00.000+08:00", updates=[
        dict(person_uuid="p1", base_version=2, change="left_for_work", event_date="2026-11-20",
             destination="青山镇/西村", place="深圳")])
    assert read_visit(other).people[0].event.destination is None


def test_a_member_picked_from_the_expected_arrivals_is_the_register_person_joining_the_household():
    arriving = Member("", "", "", uuid="p-sun", relationship="child_in_law", phone="13912340000",
                      event_date="2026-11-21", origin="青山镇 东村", arriving_version=4)
    stranger = Member("刘芳", "female", "1996-08-08", relationship="spouse", reason="moved_in",
                      event_date="2026-11-19", origin="外县")
    people = read_visit(household_visit(household=HOUSEHOLD, base_version=3, start="2026-11-22T09:00:00.000+08:00",
                                        members=[arriving, stranger])).people
    assert people[0] == PersonObservation(
        "p-sun", 4, {"household": HOUSEHOLD, "relationship": "child_in_law", "phone": "13912340000",
                     "residence": "here"},
        LifeEvent(kind="moved_in", date=dt.date(2026, 11, 21), place="青山镇 东村"), arrival=True)
    assert people[1] == PersonObservation(
        stranger.uuid, None, {"name": "刘芳", "sex": "female", "birth_date": "1996-08-08", "relationship": "spouse",
                              "residence": "here", "hukou": "here", "household": HOUSEHOLD, "status": "living"},
        LifeEvent(kind="moved_in", date=dt.date(2026, 11, 19), place="外县"))
