"""The town office finds its privacy pages as a new user would, in Chinese: the retention periods and the purge's dry
run from the home page (what starts each period and what goes, at a phone's width and an office screen's), and a
person's own copy on the dashboard's list of exports and in the audit log, by a link and a name, never a uuid."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from server import clock
from server.copies.operations import produce_copy, record_request
from server.database import commit
from server.users.queries import principal_by_username
from tests.browser.test_crawl import UUID
from tests.browser.test_role_paths import (
    CADRE,
    OFFICE,
    OFFICER,
    PHONE,
    WIDTHS,
    at_width,  # noqa: F401
    follow,
    menu,
    page,
    sign_in,
    text,
)


def cells(browser, row: str) -> list[str]:
    return [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, f"{row} td")]


@WIDTHS
def test_the_town_office_reads_the_retention_periods_from_its_home_page(county, browser, at_width, width):  # noqa: F811
    at_width(width)
    sign_in(browser, county, OFFICER)
    follow(browser, browser.find_element(By.LINK_TEXT, "各类记录保存多久，下次清除将删除什么"))    # from the home page
    page(browser, "保存期限与清除")
    assert "清除由县里的系统管理员在服务器上执行；清除的记录不会再恢复。" in text(browser, "main")
    assert cells(browser, "#period-died") == [
        "已死亡人员", "死亡之日", "1825 （约 5 年）", "730", "此人的全部记录：台账登记、变更记录、访视中有关此人的内容、服务记录"]
    assert cells(browser, "#period-consent_withdrawn") == [
        "已撤回同意的服务记录", "撤回同意之日", "0 （下次清除时即删除）", "0",
        "凭同意登记的服务：孕期保健指导、孕前优生健康检查及随之转介的记录"]
    assert cells(browser, "#period-location") == ["访视定位", "访视之日", "180", "30", "访视的定位（GPS）"]
    assert browser.find_elements(By.TAG_NAME, "h2")[0].text.startswith("若在 ")


def test_a_village_cadre_has_no_link_to_the_purge(county, browser, at_width):  # noqa: F811
    at_width(PHONE)
    sign_in(browser, county, CADRE)
    page(browser, "待办 · 青山镇 › 东村")
    assert not browser.find_elements(By.ID, "purge-link")


@pytest.mark.parametrize("width", [OFFICE])
def test_a_persons_own_copy_is_named_on_the_dashboard_and_in_the_audit_log(county, browser, at_width, width):  # noqa: F811
    cadre = principal_by_username(CADRE)
    asked = record_request(cadre, county.people["张桂兰"], requested_by="张桂兰", requester="self", copy_format="xlsx",
                           day=clock.today().isoformat())
    produce_copy(cadre, county.people["张桂兰"], asked.id)
    commit()
    at_width(width)
    sign_in(browser, county, OFFICER)
    row = browser.find_element(By.CSS_SELECTOR, '#exports tr[data-action="copy.produce"]')
    assert row.find_element(By.CSS_SELECTOR, "td.what").text == "本人信息副本 此人档案"
    assert row.find_element(By.CSS_SELECTOR, "td.full").text == "完整显示（交给本人）"
    assert not UUID.search(text(browser, "#exports"))
    follow(browser, row.find_element(By.LINK_TEXT, "此人档案"))
    page(browser, "张桂兰")
    menu(browser, "审计日志")
    page(browser, "审计日志")
    produced = [line for line in text(browser, "main").splitlines() if "生成本人信息副本" in line]
    assert len(produced) == 1 and "张桂兰" in produced[0], produced
