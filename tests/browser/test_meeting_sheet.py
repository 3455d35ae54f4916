"""The monthly meeting sheet prints on ONE A4 page in Chromium (DevTools Page.printToPDF, A4) even for a village with
many people due and many open referrals: long lists show their first names and "等 N 人"."""

from __future__ import annotations

import base64
import datetime as dt
import re
import subprocess

from selenium.webdriver.common.by import By

from server import clock
from server.database import commit
from server.register.decisions import set_tier
from server.users.queries import principal_by_username
from sync.schedules import default_schedule
from tests.browser.conftest import _collector, _merge_all
from tests.register_visits import Member, followup_visit, household_visit

A4 = {"paperWidth": 8.27, "paperHeight": 11.69, "preferCSSPageSize": True, "printBackground": True}
HOUSEHOLDS, MEMBERS = 5, 20                        # per group, two groups: 200 people due, 10 referrals


def big_village(server) -> list[Member]:
    """青山镇/大村: two groups of HOUSEHOLDS × MEMBERS people registered forty days before this month, each
    household's head referred to the health centre (still open); returns the people."""
    day = clock.today().replace(day=1) - dt.timedelta(days=40)
    people = []
    for group in ("第一组", "第二组"):
        phone = server.client(token=_collector(f"dacun_{len(people)}", f"青山镇/大村/{group}", "大村信息员"))
        for number in range(HOUSEHOLDS):
            household = f"{len(people) // MEMBERS + 1:08d}-1111-4000-8000-000000000001"
            members = [Member(f"{group[1]}组{number}户{index}号", "female", f"19{70 + index}-01-01",
                              relationship="head" if index == 0 else "child") for index in range(MEMBERS)]
            assert phone.submit(household_visit(household=household, new=(f"{number + 1:03d}", f"{number + 1}号"),
                                                start=f"{day:%Y-%m-%d}T09:00:00.000+08:00",
                                                members=members)).status_code == 201
            assert phone.submit(followup_visit(person=members[0].uuid, household=household, followup_type="tier_key",
                                               start=f"{day:%Y-%m-%d}T10:00:00.000+08:00",
                                               referral=("health_centre", "青山镇卫生院", "复查"))).status_code == 201
            people.extend(members)
    _merge_all()
    return people


def test_the_meeting_sheet_of_a_big_village_prints_on_one_a4_page(county, browser, sign_in_as, screenshot):
    server = county.server
    people = big_village(server)
    total = len(people)
    officer = principal_by_username("qingshan_officer")
    tiers = default_schedule().tier_names
    set_at = dt.datetime.combine(clock.today().replace(day=1) - dt.timedelta(days=35), dt.time(3),
                                 tzinfo=dt.timezone.utc)
    for member in people:
        set_tier(officer, member.uuid, "key", tiers=tiers, now=set_at)
    commit()

    sign_in_as("qingshan_officer")
    browser.get(f"{server.url}/meetings?area=青山镇/大村&month={clock.today():%Y-%m}")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("青山镇 › 大村 · 月例会表")
    due = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#due tbody tr")]
    assert len(due) == 2 and all(row.endswith(f"等 {total // 2} 人") for row in due), due
    assert re.search(r"未结案的转介 \((\d+)\)", browser.find_element(By.ID, "meeting-sheet").text).group(1) == str(
        2 * HOUSEHOLDS)
    assert f"等 {2 * HOUSEHOLDS} 项" in browser.find_element(By.ID, "referrals").text
    assert browser.find_element(By.ID, "print").is_displayed()
    screenshot("sheet", whole=True)

    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", A4)["data"])
    path = screenshot("sheet").with_suffix(".pdf")
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1) == "1", info
    assert re.search(r"^Page size:.* pts \(A4\)$", info, re.M), info
