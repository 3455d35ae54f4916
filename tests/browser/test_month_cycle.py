"""A month signed off in Chromium at a phone's width (390 px): the cadre opens last month from the home page, ticks
"我已检查本月数据" and submits; the town office returns it with a comment; the cadre sees the comment, submits again;
the town office accepts; both home pages show where it stands."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.browser import test_role_paths
from tests.browser.test_role_paths import CADRE, OFFICER, PHONE, flash, follow, page, sign_in, text

at_width = test_role_paths.at_width      # the window as wide as a phone (a fixture)

COMMENT = "第一组张桂兰的电话请再核实"


def signoff_title(county) -> str:
    return "月报签字 · 青山镇 › 东村 · 2026年11月"


def as_user(browser, county, username: str) -> None:
    browser.delete_all_cookies()
    sign_in(browser, county, username)


def open_from_home(browser, county, link: str) -> None:
    """From the home page, the link to last month's sign-off of 东村."""
    follow(browser, browser.find_element(By.CSS_SELECTOR, link))
    page(browser, signoff_title(county))


def test_a_month_signed_returned_signed_again_and_accepted_on_a_phone(county, browser, at_width, screenshot):
    at_width(PHONE)
    as_user(browser, county, CADRE)
    page(browser, "待办 · 青山镇 › 东村")
    assert text(browser, "#last-month-state").startswith("未提交")
    open_from_home(browser, county, "#last-month-link")
    assert text(browser, "#left-conflicts") == "待处理的冲突：2 处。 去处理"
    assert "周村干" in text(browser, "#sign-box")
    browser.find_element(By.ID, "confirm").click()
    screenshot("sign-box", whole=True)
    follow(browser, browser.find_element(By.ID, "submit-month"))
    page(browser, signoff_title(county))
    assert flash(browser) == "已签字提交：本月报表已报送镇计生办。"
    assert text(browser, "#state") == "已提交，待镇审核"

    as_user(browser, county, OFFICER)
    page(browser, "工作概况 · 青山镇")
    open_from_home(browser, county, '#last-month-villages tr[data-village="青山镇/东村"] a')
    browser.find_element(By.ID, "comment").send_keys(COMMENT)
    follow(browser, browser.find_element(By.ID, "return-month"))
    page(browser, signoff_title(county))
    assert text(browser, "#state") == "已退回，待重新提交"

    as_user(browser, county, CADRE)
    assert text(browser, "#last-month-comment") == f"镇计生办已退回：{COMMENT}"
    open_from_home(browser, county, "#last-month-link")
    assert text(browser, "#returned-comment") == f"镇计生办退回了这个月：{COMMENT}"
    browser.find_element(By.ID, "confirm").click()
    follow(browser, browser.find_element(By.ID, "submit-month"))
    page(browser, signoff_title(county))
    assert text(browser, "#version") == "2"

    as_user(browser, county, OFFICER)
    open_from_home(browser, county, '#last-month-villages tr[data-village="青山镇/东村"] a')
    follow(browser, browser.find_element(By.ID, "accept-month"))
    page(browser, signoff_title(county))
    assert text(browser, "#state") == "已接收"
    history = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#history tbody tr td:nth-child(3)")]
    assert [line.split()[0] for line in history] == ["签字提交", "退回", "签字提交", "接收"]
    screenshot("accepted", whole=True)
    browser.get(f"{county.server.url}/home")
    page(browser, "工作概况 · 青山镇")
    assert text(browser, '#last-month-villages tr[data-village="青山镇/东村"] td:nth-child(2)').startswith("已接收")

    as_user(browser, county, CADRE)
    page(browser, "待办 · 青山镇 › 东村")
    assert text(browser, "#last-month-state").startswith("已接收")
