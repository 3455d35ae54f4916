"""The monthly change report's numbers: opening, events, closing per group; late corrections; the sync deadline; the
person-by-person list of the month's changes."""

from __future__ import annotations

import datetime as dt

from sync.monthly_change import (
    ChangeLine,
    DatedEvent,
    GroupMonth,
    LateCorrection,
    group_months,
    late_corrections,
    month_changes,
    move_place,
    moves_within,
    place_name,
    sync_deadline,
    synced_in_time,
)

D = dt.date
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ONE, TWO = "青山镇/东村/第一组", "青山镇/东村/第二组"


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


EVENTS = [
    DatedEvent(ONE, "registered", D(2026, 9, 1), at("2026-09-01")),
    DatedEvent(ONE, "registered", D(2026, 9, 1), at("2026-09-01")),
    DatedEvent(ONE, "registered", D(2026, 9, 1), at("2026-09-01")),
    DatedEvent(ONE, "birth", D(2026, 10, 10), at("2026-10-12")),
    DatedEvent(ONE, "marriage", D(2026, 10, 15), at("2026-10-16")),
    DatedEvent(ONE, "left_for_work", D(2026, 10, 20), at("2026-10-21")),
    DatedEvent(ONE, "death", D(2026, 10, 28), at("2026-11-05")),       # synced after the October report
    DatedEvent(TWO, "moved_in", D(2026, 11, 3), at("2026-11-04")),
    DatedEvent(ONE, "changed_household", D(2026, 10, 3), at("2026-10-04")),  # not a report event
]
OCTOBER_REPORT = at("2026-11-02", 17)
NOVEMBER_REPORT = at("2026-12-02", 17)


def test_a_month_as_the_register_stood_when_the_report_was_produced():
    assert group_months(EVENTS, D(2026, 10, 1), OCTOBER_REPORT, groups=[TWO]) == [
        GroupMonth(ONE, 3, {"birth": 1, "death": 0, "marriage": 1, "moved_in": 0, "moved_out": 0, "left_for_work": 1,
                            "returned": 0, "registered": 0}, 3),
        GroupMonth(TWO, 0, dict.fromkeys(("birth", "death", "marriage", "moved_in", "moved_out", "left_for_work",
                                          "returned", "registered"), 0), 0)]


def test_a_late_event_changes_the_next_opening_and_is_listed_as_a_late_correction():
    (one, two) = group_months(EVENTS, D(2026, 11, 1), NOVEMBER_REPORT)
    assert (one.opening, one.closing) == (2, 2)          # October's printed closing 3, minus the late death
    assert (two.opening, two.counts["moved_in"], two.closing) == (0, 1, 1)
    assert late_corrections(EVENTS, D(2026, 11, 1), OCTOBER_REPORT, NOVEMBER_REPORT) == [
        LateCorrection(ONE, D(2026, 10, 1), "death", 1)]
    assert late_corrections(EVENTS, D(2026, 11, 1), None, NOVEMBER_REPORT) == []


def test_the_same_report_produced_again_gives_the_same_numbers():
    later = [*EVENTS, DatedEvent(ONE, "birth", D(2026, 10, 30), at("2026-11-20"))]
    assert group_months(later, D(2026, 10, 1), OCTOBER_REPORT) == group_months(EVENTS, D(2026, 10, 1), OCTOBER_REPORT)


def test_the_deadline_is_the_end_of_the_second_of_the_next_month_in_the_towns_timezone():
    assert sync_deadline(D(2026, 12, 1), "Asia/Shanghai") == dt.datetime(2027, 1, 3, tzinfo=SHANGHAI)
    receipts = {ONE: [at("2026-10-31", 20)], TWO: [at("2026-10-29"), at("2026-11-03", 8)]}
    assert synced_in_time(receipts, D(2026, 10, 1), "Asia/Shanghai") == {ONE: True, TWO: False}
    assert synced_in_time({ONE: [at("2026-11-02", 23)]}, D(2026, 10, 1), "Asia/Shanghai") == {ONE: True}


def line(group: str, kind: str, day: dt.date, name: str, *, household: str = "001", received: str = "2026-11-01",
         visit: int = 1, place: str | None = None, spouse: str | None = None) -> ChangeLine:
    return ChangeLine(village="东村", group=group, kind=kind, day=day, received=at(received), person_name=name,
                      household_no=household, head_name="张伟", place=place, spouse_name=spouse, submission_id=visit,
                      collector="王小红")


def test_the_months_changes_person_by_person_in_the_lists_order():
    lines = [
        line(TWO, "moved_in", D(2026, 10, 3), "赵六", place="湖南长沙", visit=7),
        line(ONE, "left_for_work", D(2026, 10, 20), "李芳", place="广东深圳", visit=5),
        line(ONE, "birth", D(2026, 10, 20), "张小宝", visit=5),
        line(ONE, "marriage", D(2026, 10, 20), "张丽", household="002", spouse="陈强", visit=6),
        line(ONE, "changed_household", D(2026, 10, 2), "张强", visit=4),
        line(ONE, "birth", D(2026, 10, 20), "张小贝", visit=3),             # a twin, told on an earlier visit
        line(ONE, "death", D(2026, 9, 30), "王五"),                         # September
        line(ONE, "returned", D(2026, 11, 1), "孙七"),                       # November
        line(ONE, "death", D(2026, 10, 28), "钱八", received="2026-11-05"),  # after the report was produced
        line(ONE, "corrected", D(2026, 10, 28), "周九"),                     # not a listed change
    ]
    listed = month_changes(lines, D(2026, 10, 1), OCTOBER_REPORT)
    assert [(entry.group, entry.day.day, entry.household_no, entry.person_name, entry.kind, entry.submission_id)
            for entry in listed] == [
        (ONE, 2, "001", "张强", "changed_household", 4),
        (ONE, 20, "001", "张小宝", "birth", 5),
        (ONE, 20, "001", "张小贝", "birth", 3),
        (ONE, 20, "001", "李芳", "left_for_work", 5),
        (ONE, 20, "002", "张丽", "marriage", 6),
        (TWO, 3, "001", "赵六", "moved_in", 7)]
    assert listed[3].place == "广东深圳" and listed[4].spouse_name == "陈强"
    # Produced later, the late death is listed in its month too: the list is the month as the register stands.
    assert "钱八" in [entry.person_name for entry in month_changes(lines, D(2026, 10, 1), NOVEMBER_REPORT)]


# ---- people who move (docs/moves.md) ----------------------------------------------------------------------------

EAST, WEST, NORTH = "青山镇/东村/第一组", "青山镇/西村/第一组", "白马镇/北村/第一组"


def move(group: str, kind: str, day: dt.date, person: str, seq: int, received: str = "2026-11-01") -> DatedEvent:
    return DatedEvent(group, kind, day, at(received), person, seq)


MOVES = [
    move(EAST, "moved_out", D(2026, 10, 3), "li", 1),              # 东村 → 西村, both in October
    move(WEST, "moved_in", D(2026, 10, 9), "li", 2),
    move(EAST, "moved_out", D(2026, 10, 20), "wang", 3),           # 东村 → 西村, arrived in November
    move(WEST, "moved_in", D(2026, 11, 2), "wang", 4),
    move(NORTH, "moved_out", D(2026, 10, 5), "zhao", 5),           # from another town into 西村
    move(WEST, "moved_in", D(2026, 10, 8), "zhao", 6),
    move(EAST, "moved_out", D(2026, 10, 6), "chen", 7),            # 东村 → 西村, told after the report
    move(WEST, "moved_in", D(2026, 10, 7), "chen", 8, received="2026-11-20"),
    move(WEST, "moved_in", D(2026, 10, 25), "sun", 9),             # nobody's move out: from outside
]


def test_a_move_between_two_groups_of_the_area_is_one_person_moving_within_it():
    town = [EAST, WEST]
    assert moves_within(MOVES, D(2026, 10, 1), OCTOBER_REPORT, town) == {EAST: 1}
    assert moves_within(MOVES, D(2026, 10, 1), at("2026-11-30"), town) == {EAST: 2}
    assert moves_within(MOVES, D(2026, 11, 1), NOVEMBER_REPORT, town) == {}     # wang left in October
    # The county: 北村 of 白马镇 is inside it too.
    assert moves_within(MOVES, D(2026, 10, 1), OCTOBER_REPORT, [*town, NORTH]) == {EAST: 1, NORTH: 1}
    in_town = [event for event in MOVES if event.group in town]      # what the town's report reads
    east, west = group_months(in_town, D(2026, 10, 1), OCTOBER_REPORT, groups=town)
    assert (east.counts["moved_out"], east.moved_within, east.closing) == (3, 1, -3)
    assert (west.counts["moved_in"], west.moved_within, west.closing) == (3, 0, 3)


def test_the_months_first_move_in_pairs_with_the_move_out_before_it_only_once():
    again = [move(EAST, "moved_out", D(2026, 10, 1), "li", 1), move(WEST, "moved_in", D(2026, 10, 2), "li", 2),
             move(EAST, "moved_in", D(2026, 10, 3), "li", 3)]          # a second arrival without a move out
    assert moves_within(again, D(2026, 10, 1), OCTOBER_REPORT, [EAST, WEST]) == {EAST: 1}
    back = [move(EAST, "moved_out", D(2026, 10, 1), "li", 1), move(EAST, "moved_in", D(2026, 10, 2), "li", 2)]
    assert moves_within(back, D(2026, 10, 1), OCTOBER_REPORT, [EAST]) == {}       # back in the same group


def test_where_a_move_went_or_came_from_by_name():
    assert place_name("青山镇/西村") == "青山镇西村"
    assert move_place("moved_out", "女方家", "青山镇/西村") == "青山镇西村"
    assert move_place("moved_out", "广东省深圳市", None) == "广东省深圳市"
    assert move_place("moved_in", "东村", None, "青山镇/东村/第一组") == "青山镇东村"
    assert move_place("moved_in", "外省", None, None) == "外省"
    assert move_place("left_for_work", "广州", "青山镇/西村") == "广州"
    assert move_place("moved_in", None) is None
