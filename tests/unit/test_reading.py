"""Unusual reading (sync/reading.py): more than a limit of different people within any 60 minutes (a sliding window),
stretches joined where their windows overlap; exports of personal data, full or masked."""

from __future__ import annotations

import datetime as dt

from sync.reading import PersonRead, UnusualReading, export_is_full, is_export, unusual_reading

T0 = dt.datetime(2026, 12, 5, 1, 0, tzinfo=dt.timezone.utc)


def reads(user: int, *minutes_and_people: tuple[float, str]) -> list[PersonRead]:
    return [PersonRead(user, T0 + dt.timedelta(minutes=minute), person) for minute, person in minutes_and_people]


def test_more_than_the_limit_within_an_hour_is_a_stretch_and_the_limit_itself_is_not():
    five = reads(7, *((minute * 10, f"p{minute}") for minute in range(5)))
    assert unusual_reading(five, limit=5) == []
    six = five + reads(7, (50, "p5"))
    assert unusual_reading(six, limit=5) == [
        UnusualReading(7, T0, T0 + dt.timedelta(minutes=50), ("p0", "p1", "p2", "p3", "p4", "p5"), 6)]


def test_the_same_person_read_again_counts_once():
    again = reads(7, (0, "a"), (1, "b"), (2, "a"), (3, "c"), (4, "b"), (5, "a"))
    assert unusual_reading(again, limit=2) == [UnusualReading(7, T0, T0 + dt.timedelta(minutes=5), ("a", "b", "c"), 3)]
    assert unusual_reading(again, limit=3) == []


def test_a_sliding_window_finds_reading_across_a_clock_hour_and_not_reads_an_hour_apart():
    # 3 people at 01:40-01:50 and 3 at 02:00-02:10: no clock hour holds more than 3, one 60 minutes holds 6.
    across = reads(7, (40, "a"), (45, "b"), (50, "c"), (60, "d"), (65, "e"), (70, "f"))
    assert unusual_reading(across, limit=5) == [
        UnusualReading(7, T0 + dt.timedelta(minutes=40), T0 + dt.timedelta(minutes=70), tuple("abcdef"), 6)]
    # exactly 60 minutes after the first read, the first is out of the window
    spaced = reads(7, (0, "a"), (15, "b"), (30, "c"), (45, "d"), (60, "e"))
    assert unusual_reading(spaced, limit=4) == []
    assert unusual_reading(reads(7, (0, "a"), (15, "b"), (30, "c"), (45, "d"), (59.9, "e")), limit=4) != []


def test_overlapping_windows_join_and_separate_bursts_stay_apart_per_staff_member():
    morning = reads(7, *((minute, f"m{minute}") for minute in range(0, 40, 10)))         # 4 people by 00:30
    more = reads(7, *((minute, f"n{minute}") for minute in range(45, 100, 10)))         # 6 more, 00:45-01:35
    evening = reads(7, *((600 + minute, f"e{minute}") for minute in range(4)))          # 4 people at 10:00
    other = reads(3, *((minute, f"o{minute}") for minute in range(4)))
    found = unusual_reading(evening + other + more + morning, limit=3)
    assert [(f.user_id, f.start, f.end, len(f.people), f.peak) for f in found] == [
        (3, T0, T0 + dt.timedelta(minutes=3), 4, 4),
        (7, T0, T0 + dt.timedelta(minutes=95), 10, 6),
        (7, T0 + dt.timedelta(minutes=600), T0 + dt.timedelta(minutes=603), 4, 4)]


def test_exports_of_personal_data_and_whether_they_were_full():
    assert [action for action in ("export.register", "export.monthly_change", "registers.export", "notice.export",
                                  "person.read", "registers.read", "notice.list", "exporting.x")
            if is_export(action)] == ["export.register", "export.monthly_change", "registers.export", "notice.export"]
    assert (export_is_full(None), export_is_full(""), export_is_full("  "), export_is_full("县卫健委核对")) == (
        False, False, False, True)
