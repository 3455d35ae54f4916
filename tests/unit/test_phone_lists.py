"""The phone lists as bytes: columns of the contract, order, labels, only due and overdue items; where a move may go
and who is expected to arrive."""

from __future__ import annotations

import datetime as dt

from sync.phone_lists import (
    ArrivalRow,
    HouseholdRow,
    PersonRow,
    arrivals_csv,
    destinations_csv,
    due_csv,
    households_csv,
    people_csv,
)
from sync.schedules import Anchor, Flag, default_schedule

SCHEDULE = default_schedule()
WANG = PersonRow("p1", "h1", "001", "王秀英", "female", "1990-05-06", "", "head", "13800000001", "here", "here", 3)
LI = PersonRow("p2", "h1", "001", "李强", "male", "1988-01-01", "", "spouse", "", "working_away", "here", 1)


def test_households_sorted_by_number_with_head_and_members():
    assert households_csv([HouseholdRow("h2", "002", "", "二号", 0, 1), HouseholdRow("h1", "001", "王秀英", "一号", 2, 4)]) \
        == ("name,label,household_no,head_name,address,members,base_version\n"
            "h1,001 王秀英,001,王秀英,一号,2,4\nh2,002,002,,二号,0,1\n").encode()


def test_a_cadres_comment_shows_with_the_household():
    rows = households_csv([HouseholdRow("h1", "001", "王秀英", "一号", 2, 4)], {"h1": "号码请再核实"}).decode()
    assert rows.splitlines()[1] == "h1,001 王秀英（审核意见：号码请再核实）,001,王秀英,一号,2,4"


def test_people_with_their_household_and_version():
    assert people_csv([WANG, LI]).decode().splitlines() == [
        "name,label,household,person_name,sex,birth_date,id_number,relationship,phone,residence,hukou,base_version",
        "p2,李强（001）,h1,李强,male,1988-01-01,,spouse,,working_away,here,1",
        "p1,王秀英（001）,h1,王秀英,female,1990-05-06,,head,138****0001,here,here,3"]   # masked: no form reads it


def test_due_list_most_overdue_first_only_due_and_overdue_with_stable_item_ids():
    flags = [
        Flag("p1", "tier_general", "due", dt.date(2026, 10, 1), dt.date(2026, 12, 31), last_visit=dt.date(2026, 7, 1)),
        Flag("p2", "postpartum", "overdue", dt.date(2026, 11, 13), dt.date(2026, 11, 17), overdue_days=5,
             anchor=Anchor("birth", dt.date(2026, 11, 10))),
        Flag("p1", "tier_key", "done", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        Flag("p9", "tier_key", "overdue", dt.date(2026, 10, 1), dt.date(2026, 10, 31), overdue_days=22),
    ]
    lines = due_csv(flags, {"p1": WANG, "p2": LI}, SCHEDULE).decode().splitlines()
    assert lines[0] == ("name,label,person,household,person_name,due_type,due_since,due_by,last_visit,base_version,"
                        "item")
    assert [line.split(",", 1)[1] for line in lines[1:]] == [
        "李强：产后随访（应于2026-11-17前）,p2,h1,李强,postpartum,2026-11-13,2026-11-17,,1,",
        ("王秀英：一般服务对象例行访视（每季度一次）（应于2026-12-31前）,p1,h1,王秀英,tier_general,2026-10-01,2026-12-31,"
         "2026-07-01,3,")]
    assert due_csv(flags, {"p1": WANG, "p2": LI}, SCHEDULE) == due_csv(list(reversed(flags)), {"p1": WANG, "p2": LI},
                                                                       SCHEDULE)
    # The item id is a uuid5 of person, rule and anchor: the same item keeps its id from day to day.
    assert lines[1].split(",")[0] == "6edae89a-e27b-56f9-94db-82808c04aeb3"


def test_a_referral_item_names_the_referral_it_follows_up_and_where_she_was_referred():
    referral = Flag("p1", "referral", "due", dt.date(2026, 11, 15), dt.date(2026, 12, 1),
                    extra={"item": "uuid:visit-1#2", "place": "青山镇卫生院", "made_on": "2026-11-01"})
    agreed = Flag("p2", "agreed_visit", "overdue", dt.date(2026, 11, 20), dt.date(2026, 11, 27), overdue_days=2,
                  extra={"agreed_on": "2026-11-01", "agreed_for": "2026-11-20"})
    lines = due_csv([referral, agreed], {"p1": WANG, "p2": LI}, SCHEDULE).decode().splitlines()
    assert [line.split(",", 1)[1] for line in lines[1:]] == [
        "李强：约定的访视（应于2026-11-27前）,p2,h1,李强,agreed_visit,2026-11-20,2026-11-27,,1,",
        "王秀英：转介跟进（青山镇卫生院）（应于2026-12-01前）,p1,h1,王秀英,referral,2026-11-15,2026-12-01,,3,uuid:visit-1#2"]


def test_an_item_reads_the_same_whichever_day_the_list_is_made():
    """No day counts in the list (the form counts them from the phone's today()): the same item on a later day,
    now further overdue, is the same row."""
    anchor = Anchor("birth", dt.date(2026, 11, 10))
    on_the_18th = Flag("p2", "postpartum", "overdue", dt.date(2026, 11, 13), dt.date(2026, 11, 17), overdue_days=1,
                       anchor=anchor)
    a_week_later = Flag("p2", "postpartum", "overdue", dt.date(2026, 11, 13), dt.date(2026, 11, 17), overdue_days=8,
                        anchor=anchor)
    assert due_csv([on_the_18th], {"p2": LI}, SCHEDULE) == due_csv([a_week_later], {"p2": LI}, SCHEDULE)


def test_destinations_are_the_villages_and_towns_by_full_name_each_town_first_then_a_place_outside():
    assert destinations_csv(["青山镇/西村", "青山镇", "白水镇/河口村", "青山镇/东村", "白水镇", "青山镇"]).decode() == (
        "name,label\n"
        "白水镇,白水镇\n白水镇/河口村,白水镇 河口村\n青山镇,青山镇\n青山镇/东村,青山镇 东村\n青山镇/西村,青山镇 西村\n"
        "outside,其他地方（县外）\n")
    # With no area (anyone but a collector): a place outside only.
    assert destinations_csv(()).decode() == "name,label\noutside,其他地方（县外）\n"


def test_arrivals_name_the_person_and_the_village_they_left_with_the_version_the_phone_sees():
    sun = ArrivalRow("p3", "孙丽", "female", "1990-04-08", 5, "青山镇/东村", dt.date(2026, 11, 3))
    zhou = ArrivalRow("p4", "周强", "male", "1985-06-15", 2, "白水镇/河口村", dt.date(2026, 10, 30))
    unknown = ArrivalRow("p5", "吴刚", "", "", 1, "", None)
    assert arrivals_csv([zhou, sun, unknown], "青山镇").decode().splitlines() == [
        "name,label,person_name,sex,birth_date,base_version,origin",
        "p5,吴刚迁出,吴刚,,,1,",   # in the order of their names (code points: 吴 周 孙)
        "p4,周强（男，1985-06-15）从白水镇河口村迁出 2026-10-30,周强,male,1985-06-15,2,白水镇 河口村",
        "p3,孙丽（女，1990-04-08）从东村迁出 2026-11-03,孙丽,female,1990-04-08,5,青山镇 东村"]
    assert arrivals_csv(()) == b"name,label,person_name,sex,birth_date,base_version,origin\n"
