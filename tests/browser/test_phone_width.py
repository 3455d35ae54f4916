"""The layout at a phone's width (390 px) and an office screen's (1280 px): the folded menu, tables as cards of
"heading: value" lines, 44 px touch targets; screenshots of the main pages at both widths in tests/artifacts."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from server import database
from server.audit import listing
from server.extensions import db
from server.register import browsing
from server.register.models import RegisterConflict
from server.services import browsing as service_pages

PHONE, OFFICE = 390, 1280
CADRE_LINKS = ["待访视与逾期", "已同步的访视", "冲突", "疑似重复", "查询", "登记册", "报表"]

# The label a cell shows before its value (its column's heading), as the page lays it out.
CELL_LABELS = """return [...document.querySelectorAll(arguments[0])].map(cell => {
    const label = getComputedStyle(cell, '::before').content;
    return [label === 'none' ? null : JSON.parse(label), cell.innerText.trim()];
});"""


@pytest.fixture
def screen(browser):
    """screen(width): the browser as a phone (390 px, touch) or an office screen (1280 px)."""
    def resize(width: int) -> None:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": 844 if width == PHONE else 900, "deviceScaleFactor": 1,
                                 "mobile": width == PHONE})

    yield resize
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def wider_than_the_screen(browser, base: str, pages: dict[str, str], width: int, screenshot) -> dict[str, int]:
    """Each page (name → path) opened and photographed whole; those wider than the screen, with their width."""
    wide = {}
    for name, path in pages.items():
        browser.get(base + path)
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        if scroll > width:
            wide[name] = scroll
        screenshot(f"{name}-{width}", whole=True)
    return wide


def box(element) -> tuple[int, int]:
    rect = element.rect
    return round(rect["width"]), round(rect["height"])


def test_on_a_phone_the_menu_folds_and_opens_with_targets_of_44_px(county, browser, sign_in_as, screen, screenshot):
    screen(PHONE)
    sign_in_as("dongcun_cadre")
    menu = browser.find_element(By.ID, "menu")
    summary = menu.find_element(By.TAG_NAME, "summary")
    links = menu.find_elements(By.CSS_SELECTOR, "nav a, nav button")
    assert (menu.get_attribute("open"), summary.text, [link.is_displayed() for link in links]) == (
        None, "菜单", [False] * len(links))
    assert box(browser.find_element(By.TAG_NAME, "header"))[1] == 44          # the header is one line
    summary.click()
    texts = [link.text for link in links]          # (a home page's link may come first)
    assert [text for text in texts if text in CADRE_LINKS] == CADRE_LINKS
    assert texts[-4:] == ["dongcun_cadre", "退出", "中文", "English"]
    assert [link for link in links if box(link)[0] < 44 or box(link)[1] < 44] == []
    assert browser.execute_script("return document.documentElement.scrollWidth") == PHONE
    screenshot("menu-390")
    menu.find_element(By.LINK_TEXT, "已同步的访视").click()
    assert browser.find_element(By.ID, "menu").get_attribute("open") is None   # folded again on the next page


def test_on_an_office_screen_the_menu_is_one_line(county, browser, sign_in_as, screen, screenshot):
    screen(OFFICE)
    sign_in_as("qingshan_officer")
    menu = browser.find_element(By.ID, "menu")
    assert menu.get_attribute("open") == "true"
    assert not menu.find_element(By.TAG_NAME, "summary").is_displayed()
    links = menu.find_elements(By.CSS_SELECTOR, "nav a, nav button")
    assert len(links) >= 13 and all(link.is_displayed() for link in links)
    assert len({link.rect["y"] for link in links}) == 1                         # all on the header's one line
    assert box(browser.find_element(By.TAG_NAME, "header"))[1] == 44
    screenshot("menu-1280")


def test_on_a_phone_each_table_row_is_a_card_of_headings_and_values(county, browser, sign_in_as, screen, screenshot):
    screen(PHONE)
    sign_in_as("dongcun_cadre")
    browser.get(f"{county.server.url}/households/{county.households['zhang']}")
    assert box(browser.find_element(By.CSS_SELECTOR, "#members thead tr")) == (1, 1)   # for screen readers only
    rows = browser.find_elements(By.CSS_SELECTOR, "#members tbody tr")
    assert [row.value_of_css_property("display") for row in rows] == ["block"] * 3
    assert all(box(row)[0] <= PHONE - 2 * 12 for row in rows)                  # inside the page's margins
    labels = browser.execute_script(CELL_LABELS, "#members tbody tr:first-child td")
    headings = [heading.get_attribute("textContent") for heading in browser.find_elements(By.CSS_SELECTOR,
                                                                                            "#members thead th")]
    assert [label for label, _ in labels] == headings and labels[0][1] == "张桂兰"
    first = rows[0].find_elements(By.TAG_NAME, "td")
    assert first[0].rect["y"] < first[1].rect["y"] < first[2].rect["y"]           # one line per cell
    assert all(box(link)[1] >= 44 for link in browser.find_elements(By.CSS_SELECTOR, "#members a"))
    screenshot("household-390")
    screen(OFFICE)
    browser.get(browser.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#members tbody tr")
    assert [row.value_of_css_property("display") for row in rows] == ["table-row"] * 3
    assert browser.execute_script(CELL_LABELS, "#members tbody tr:first-child td")[0][0] is None
    screenshot("household-1280")


@pytest.mark.parametrize("width", [PHONE, OFFICE])
def test_the_main_pages_at_a_phone_and_an_office_width(county, browser, sign_in_as, screen, screenshot, width):
    """Screenshots to look at (tests/artifacts), and nothing wider than the screen."""
    screen(width)
    base = county.server.url
    browser.get(f"{base}/login")
    screenshot(f"login-{width}")
    sign_in_as("qingshan_officer")
    pages = {"due": "/due", "inbox": "/inbox", "conflicts": "/conflicts", "duplicates": "/duplicates",
             "person": f"/people/{county.people['王秀英']}", "household": f"/households/{county.households['zhang']}",
             "register": "/registers/supplies?since=2026-11-01&until=2026-11-30", "collectors": "/collectors",
             "audit": "/audit", "reports": "/reports", "visit": f"/visits/{county.visits['followup']}",
             "needs": f"/visits/{county.visits['needs']}", "moves": "/moves",
             "move": f"/people/{county.people['王秀英']}/move"}
    wide = wider_than_the_screen(browser, base, pages, width, screenshot)
    assert wide == {}


def test_on_a_phone_long_lists_page_by_touch_and_counts_stop_at_a_cap(county, browser, sign_in_as, screen, screenshot,
                                                                       monkeypatch):
    """A county's lists are long: the conflicts go a page at a time ("1–1 of 2", a 44 px Next and Previous), and the
    county's inbox and audit log stop counting at the cap and say "more than" while Next still leads on."""
    assert len(db.session.scalars(select(RegisterConflict)).all()) == 2     # both in 东村
    db.session.rollback()
    monkeypatch.setattr(service_pages, "CONFLICTS_PAGE_SIZE", 1)
    monkeypatch.setattr(browsing, "INBOX_PAGE_SIZE", 1)
    monkeypatch.setattr(listing, "PAGE_SIZE", 1)
    monkeypatch.setattr(database, "COUNT_CAP", 1)
    screen(PHONE)
    sign_in_as("dongcun_cadre")
    browser.get(f"{county.server.url}/conflicts")
    assert browser.find_element(By.ID, "conflicts-count").text == "第 1–1 条，共 2 条"
    assert len(browser.find_elements(By.CSS_SELECTOR, "section[id^=conflict-]")) == 1
    following = browser.find_element(By.CSS_SELECTOR, "nav.pages a[rel=next]")
    assert box(following)[1] >= 44 and browser.execute_script("return document.documentElement.scrollWidth") == PHONE
    screenshot("conflicts-paged-390")
    following.click()
    assert browser.find_element(By.ID, "conflicts-count").text == "第 2–2 条，共 2 条"
    assert browser.find_elements(By.CSS_SELECTOR, "nav.pages a[rel=next]") == []
    previous = browser.find_element(By.CSS_SELECTOR, "nav.pages a[rel=prev]")
    assert box(previous)[1] >= 44
    previous.click()
    assert browser.find_element(By.ID, "conflicts-count").text == "第 1–1 条，共 2 条"

    browser.delete_all_cookies()
    sign_in_as("county_admin")
    for path, count, expected in (("/inbox", "inbox-count", ["第 1–1 条，共超过 1 条", "第 2–2 条，共超过 2 条"]),
                                  ("/audit", "audit-count", ["第 1–1 条，共超过 1 条", "第 2–2 条，共超过 2 条"])):
        browser.get(county.server.url + path)
        assert browser.find_element(By.ID, count).text == expected[0]
        browser.find_element(By.CSS_SELECTOR, "nav.pages a[rel=next]").click()
        assert browser.find_element(By.ID, count).text == expected[1]
        newer, older = browser.find_elements(By.CSS_SELECTOR, "nav.pages a")     # apart, not one tap target
        assert older.rect["x"] - (newer.rect["x"] + newer.rect["width"]) >= 16
        assert browser.execute_script("return document.documentElement.scrollWidth") == PHONE
    screenshot("audit-more-than-390")


@pytest.mark.parametrize("width", [PHONE, OFFICE])
def test_the_countys_drill_down_pages_fit_a_phone(county, browser, sign_in_as, screen, screenshot, width):
    """The county's pages that list its towns first (collectors, monitoring, the inbox's village menu, the home's
    silent collectors per town, the working-away register), and a town's page reached from them: nothing wider than
    the screen."""
    screen(width)
    base = county.server.url
    sign_in_as("county_admin")
    pages = {"county-collectors": "/collectors", "county-monitoring": "/monitoring", "county-inbox": "/inbox",
             "county-home": "/home", "county-register": "/registers/supplies?since=2026-11-01&until=2026-11-30",
             "county-working-away": "/registers/working-away"}
    wide = wider_than_the_screen(browser, base, pages, width, screenshot)
    browser.get(base + "/registers/working-away")     # everyone working away now: a town at a time
    assert browser.find_element(By.ID, "summary").text.startswith("全县外出务工人员按镇列出：请选择一个镇。")
    browser.find_element(By.CSS_SELECTOR, "#towns").find_element(By.LINK_TEXT, "青山镇").click()
    assert "/registers/working-away?" in browser.current_url and "area=" in browser.current_url
    assert browser.find_elements(By.CSS_SELECTOR, "#towns") == []
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    browser.get(base + "/monitoring")
    browser.find_element(By.LINK_TEXT, "青山镇").click()
    assert "/monitoring?area=" in browser.current_url
    assert browser.find_elements(By.CSS_SELECTOR, "#monitoring tbody tr")      # the town's collectors, one by one
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    screenshot(f"county-monitoring-town-{width}", whole=True)
    browser.get(base + "/collectors")
    browser.find_element(By.LINK_TEXT, "青山镇").click()
    assert browser.find_elements(By.CSS_SELECTOR, "#collectors tbody tr")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    assert wide == {}
