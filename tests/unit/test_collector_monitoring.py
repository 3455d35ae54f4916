"""The pure parts of collector monitoring: the phone a Collect User-Agent names, China-time weeks, the share of
visits completed."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.monitoring import CollectDevice, Week, collect_device, completed_share, weeks_back


@pytest.mark.parametrize(("agent", "expected"), [
    ("Dalvik/2.1.0 (Linux; U; Android 13; SM-A135F Build/TP1A.220624.014) org.odk.collect.android/v2024.3.2",
     "ODK Collect v2024.3.2 · Android 13 · SM-A135F"),
    ("Dalvik/2.1.0 (Linux; U; Android 10; Redmi Note 8 Pro MIUI/V12.0.3.0) org.odk.collect.android/v2023.2.4",
     "ODK Collect v2023.2.4 · Android 10 · Redmi Note 8 Pro MIUI/V12.0.3.0"),
    ("Dalvik/2.1.0 (Linux; U; Android 8.1.0) org.odk.collect.android/v1.30.1", "ODK Collect v1.30.1 · Android 8.1.0"),
    ("org.odk.collect.android/v2025.2.1 okhttp/4.12.0 test", "ODK Collect v2025.2.1"),
    ("org.odk.collect.android/2025.1.0-beta.2", "ODK Collect v2025.1.0-beta.2"),
])
def test_a_collect_user_agent_names_the_app_android_and_model(agent, expected):
    assert collect_device(agent).describe() == expected


@pytest.mark.parametrize("agent", [None, "", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", "python-requests/2.32"])
def test_anything_else_is_no_collect_phone(agent):
    assert collect_device(agent) is None


def test_the_parts_are_kept():
    agent = "Dalvik/2.1.0 (Linux; U; Android 13; SM-A135F Build/TP1A.220624.014) org.odk.collect.android/v2024.3.2"
    assert collect_device(agent) == CollectDevice("v2024.3.2", "13", "SM-A135F")


def test_weeks_run_monday_to_sunday_the_current_one_last():
    assert weeks_back(dt.date(2026, 11, 22), 4) == [
        Week(dt.date(2026, 10, 26), dt.date(2026, 11, 1)), Week(dt.date(2026, 11, 2), dt.date(2026, 11, 8)),
        Week(dt.date(2026, 11, 9), dt.date(2026, 11, 15)), Week(dt.date(2026, 11, 16), dt.date(2026, 11, 22))]
    assert weeks_back(dt.date(2026, 11, 23), 1) == [Week(dt.date(2026, 11, 23), dt.date(2026, 11, 29))]


def test_a_week_begins_at_midnight_in_china():
    start, end = Week(dt.date(2026, 11, 9), dt.date(2026, 11, 15)).instants("Asia/Shanghai")
    assert (start, end) == (dt.datetime(2026, 11, 8, 16, tzinfo=dt.timezone.utc),
                            dt.datetime(2026, 11, 15, 16, tzinfo=dt.timezone.utc))


def test_the_completed_share_is_completed_over_every_visit():
    assert completed_share({"completed": 2, "nobody_home": 1}) == pytest.approx(2 / 3)
    assert completed_share({"refused": 3}) == 0
    assert completed_share({}) is None
