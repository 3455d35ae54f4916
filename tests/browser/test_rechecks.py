"""A town officer at a phone's width (390 px) in Chinese: from the menu to the month's re-checks, draws 东村's sample,
records one household's re-check with a field that differs, and reads the accuracy and the disagreement in words."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.test_role_paths import OFFICER, PHONE, at_width, follow, menu, page, sign_in, text  # noqa: F401


def test_a_town_officer_draws_a_sample_and_records_a_recheck_on_a_phone(county, browser, at_width):  # noqa: F811
    at_width(PHONE)
    sign_in(browser, county, OFFICER)
    menu(browser, "复查")
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading.startswith("复查 · ")
    page(browser, heading)
    links = browser.find_elements(By.CSS_SELECTOR, "#villages tbody tr td a")
    assert [link.text for link in links] == ["青山镇 › 东村", "青山镇 › 西村"]
    follow(browser, links[0])
    page(browser, heading.replace("复查 · ", "复查 · 青山镇 › 东村 · "))
    assert "本月还没有抽样。" in text(browser, "main")

    percent = browser.find_element(By.ID, "percent")
    percent.clear()
    percent.send_keys("100")            # every household of 东村 with someone living there: 4 (two were merged)
    follow(browser, browser.find_element(By.ID, "draw-button"))
    assert text(browser, "#flashes") == "已抽样：4 户。"
    assert text(browser, "#rechecked") == "0 / 4"
    assert text(browser, "#accuracy") == "—"

    households = browser.find_elements(By.CSS_SELECTOR, "#households tbody tr")
    zhang = next(row for row in households if "001号户（户主 张桂兰）" in row.text and "第一组" in row.text)
    follow(browser, zhang.find_element(By.LINK_TEXT, "录入复查结果"))
    page(browser, "复查 · 001号户（户主 张桂兰）")
    people = browser.find_elements(By.CSS_SELECTOR, "fieldset.person")
    assert [person.find_element(By.TAG_NAME, "legend").text for person in people] == ["张桂兰", "李建国", "李明"]
    for person in people:
        person.find_element(By.XPATH, ".//label[normalize-space()='在本户找到']").click()
    li = people[1]
    li.find_element(By.XPATH, ".//tr[th='与户主关系']//label[normalize-space()='不符']").click()
    Select(li.find_element(By.XPATH, ".//tr[th='与户主关系']//select")).select_by_visible_text("兄弟姐妹")
    follow(browser, browser.find_element(By.ID, "record"))

    assert text(browser, "#flashes") == "复查结果已录入。"
    assert text(browser, "#rechecked") == "1 / 4"
    assert text(browser, "#accuracy") == "2/3（66.7%）"
    (row,) = browser.find_elements(By.CSS_SELECTOR, "#disagreements tbody tr")
    assert [cell.text for cell in row.find_elements(By.TAG_NAME, "td")] == [
        "李建国", "001号户（户主 张桂兰）", "与户主关系", "配偶", "兄弟姐妹", "更正"]
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    follow(browser, row.find_element(By.LINK_TEXT, "更正"))
    assert browser.current_url.endswith(f"/people/{county.people['李建国']}/correct/relationship")
