"""Debian's Chromium driven by Selenium through Debian's chromedriver (no browser downloads); a small county's
register for the pages to show (`county`), and signing in as its staff."""

from __future__ import annotations

import base64
import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from server import clock
from server.areas.operations import ensure_area, find_area
from server.database import commit
from server.extensions import db
from server.rechecks.operations import draw_sample
from server.register.decisions import merge_candidate, review_visit, set_tier
from server.register.models import DuplicateCandidate
from server.register.worker import merge_next
from server.submissions.models import Submission
from server.users.operations import add_user
from server.users.queries import principal_by_username
from sync.schedules import default_schedule
from tests.conftest import PG_URL, REALM, ROOT, LiveServer
from tests.register_visits import Member, household_visit
from tests.service_visits import followup_with_services, visit_with_needs

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "county-staff-password"
XLSFORMS = ROOT / "xlsforms"


def pytest_collection_modifyitems(config, items):
    """Pages read the same from either database (the integration tests run each on both): in the browser, only on
    PostgreSQL, the production database, when it is configured, else on SQLite. This keeps CI under its 20 minutes."""
    if not PG_URL:
        return
    kept, left = [], []
    for item in items:
        on_sqlite = getattr(item, "callspec", None) is not None and item.callspec.params.get("live_server") == "sqlite"
        (left if on_sqlite and "tests/browser/" in item.nodeid else kept).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(scope="session")
def browser():
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        if os.environ.get("TAIZHANG_REQUIRE_BROWSER"):
            pytest.fail("Chromium and chromedriver are needed: apt-get install chromium chromium-driver")
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--lang=zh-CN"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(browser, request):
    """screenshot(name, whole=False): save the window (or the whole page) as tests/artifacts/<test>-<name>.png."""
    def take(name: str, whole: bool = False) -> Path:
        path = ARTIFACTS / f"{request.node.name.replace('[', '-').rstrip(']')}-{name}.png"
        if whole:
            shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True, "format": "png"})
            path.write_bytes(base64.b64decode(shot["data"]))
        else:
            browser.save_screenshot(str(path))
        return path

    return take


# ---- the data set ----------------------------------------------------------------------------------------------

@dataclass
class County:
    server: LiveServer
    people: dict[str, str]        # name → uuid (陈大山: the record kept after the merge)
    households: dict[str, str]    # zhang, wang, wang_again, chen (东村), liu (西村), sun (红山镇) → uuid
    visits: dict[str, int]        # followup (services, a referral), needs (supplies, support), nobody_home → id

def _collector(username: str, group: str, name: str) -> str:
    ensure_area(group)
    token = add_user(username, "collector", group, realm=REALM, display_name=name, with_token=True).token
    commit()
    return token


def _staff(username: str, role: str, area: str | None, name: str) -> None:
    if area:
        ensure_area(area)
    add_user(username, role, area, realm=REALM, display_name=name, password=PASSWORD)
    commit()


def _merge_all() -> None:
    while merge_next() is not None:
        commit()
    commit()


@pytest.fixture
def county(server, publish, browser):
    """Two towns; in 东村 of 青山镇 two groups with households, people, visits with services, a support request, a
    referral, a nobody-home visit, a reviewed visit, a conflict, an open duplicate pair and a merged one; a household
    each in 西村 (drawn for this month's re-check) and in 红山镇's 南村. Staff (password PASSWORD): 东村's cadre
    dongcun_cadre, 青山镇's officer qingshan_officer and county_admin."""
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    phones = {group: server.client(token=_collector(username, group, name)) for username, group, name in (
        ("dongcun1", "青山镇/东村/第一组", "赵六"), ("dongcun2", "青山镇/东村/第二组", "钱七"),
        ("xicun1", "青山镇/西村/第一组", "孙八"), ("nancun1", "红山镇/南村/第一组", "李九"))}
    _staff("dongcun_cadre", "village_cadre", "青山镇/东村", "周村干")
    _staff("qingshan_officer", "town_officer", "青山镇", "吴镇干")
    _staff("county_admin", "county_admin", None, "郑县管理员")

    zhang = Member("张桂兰", "female", "1975-03-02", phone="13800000001")
    li = Member("李建国", "male", "1973-08-15", relationship="spouse")
    son = Member("李明", "male", "2001-01-20", relationship="child")
    wang = Member("王秀英", "female", "1990-05-06", phone="13900000002")
    wang_again = Member("王秀瑛", "female", "1990-05-06")
    chen, chen_again = Member("陈大山", "male", "1960-10-01"), Member("陈大山", "male", "1960-10-01", relationship="sibling")
    liu, sun = Member("刘芳", "female", "1985-04-04"), Member("孙伟", "male", "1979-09-09")
    households = {name: f"{index:08d}-0000-4000-8000-000000000001" for index, name in enumerate(
        ("zhang", "wang", "wang_again", "chen", "liu", "sun"), start=11)}
    group1, group2 = phones["青山镇/东村/第一组"], phones["青山镇/东村/第二组"]
    for phone, household, number, members, day in (
            (group1, "zhang", "001", [zhang, li, son], "01"), (group1, "wang", "002", [wang], "02"),
            (group1, "wang_again", "003", [wang_again], "03"), (group2, "chen", "001", [chen, chen_again], "04"),
            (phones["青山镇/西村/第一组"], "liu", "001", [liu], "05"),
            (phones["红山镇/南村/第一组"], "sun", "001", [sun], "06")):
        assert phone.submit(household_visit(household=households[household], new=(number, f"{number}号"),
                                            start=f"2026-11-{day}T09:00:00.000+08:00", members=members)).status_code == 201
    for number, day in (("13700000003", "10"), ("13600000004", "11")):   # the same change twice: a conflict
        assert group1.submit(household_visit(
            household=households["zhang"], base_version=1, start=f"2026-11-{day}T09:00:00+08:00",
            updates=[dict(person_uuid=zhang.uuid, base_version=1, change="details_corrected",
                          phone_now=number)])).status_code == 201
    assert group1.submit(followup_with_services(
        person=wang.uuid, household=households["wang"], start="2026-11-20T10:00:00.000+08:00",
        services="health_guidance supplies", referral_to="镇卫生院（妇幼保健门诊）", referral_reason="孕期检查",
        supplies=[("folic_acid", "2")], next_date="2026-12-20", notes="下次带上检查单")).status_code == 201
    assert group1.submit(visit_with_needs(
        household=households["zhang"], start="2026-11-21T10:00:00.000+08:00", needs="supplies hardship_support",
        supplies=[("condoms", "10", "yes")], support_details="丈夫住院，申请困难帮扶",
        notes="下月再来")).status_code == 201
    assert group2.submit(visit_with_needs(household=households["chen"], start="2026-11-22T10:00:00.000+08:00",
                                          needs="", outcome="nobody_home")).status_code == 201
    _merge_all()

    cadre = principal_by_username("dongcun_cadre")
    now = dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc)
    for person in (zhang, wang):
        set_tier(cadre, person.uuid, "key", tiers=default_schedule().tier_names, now=now)
    submissions = db.session.scalars(select(Submission.id).order_by(Submission.id)).all()
    review_visit(cadre, submissions[0], "has_issues", "地址请再核实", now=now)
    candidates = {frozenset((row.a_uuid, row.b_uuid)): row.id for row in db.session.scalars(select(DuplicateCandidate))}
    assert frozenset((wang.uuid, wang_again.uuid)) in candidates                 # left open for the queue
    merge_candidate(cadre, candidates[frozenset((chen.uuid, chen_again.uuid))], chen.uuid, now=now)
    draw_sample(principal_by_username("qingshan_officer"), find_area("青山镇/西村").id, clock.today(), 100)
    commit()
    browser.delete_all_cookies()
    people = {member.name: member.uuid for member in (zhang, li, son, wang, wang_again, chen, liu, sun)}
    visits = dict(zip(("followup", "needs", "nobody_home"), submissions[8:], strict=True))
    return County(server, people=people, households=households, visits=visits)


@pytest.fixture
def sign_in_as(county, browser):
    """sign_in_as(username): sign in through the form as one of the county's staff (at the browser's size)."""
    def sign_in(username: str) -> None:
        browser.get(f"{county.server.url}/login")
        browser.find_element(By.ID, "username").send_keys(username)
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "sign-in").click()
        WebDriverWait(browser, 10).until(lambda driver: "/login" not in driver.current_url)

    return sign_in
