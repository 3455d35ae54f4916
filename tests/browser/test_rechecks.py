"""A town officer at a phone's width (390 px) in Chinese: from the menu to the month's re-checks, draws 东村's sample,
records one household's re-check with a field that differs, and reads the accuracy and the disagreement in words."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from server import clock
from server.areas.operations import find_area
from server.database import commit
from server.rechecks.operations import draw_sample, record_recheck
from server.users.queries import principal_by_username
from sync.rechecks import Newcomer, Observed
from tests.browser import test_crawl as crawling
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
    sample = browser.current_url.split("recheck=")[1].split("&")[0]
    assert browser.current_url.endswith(
        f"/people/{county.people['李建国']}/correct/relationship?recheck={sample}&value=sibling")
    # The value found is offered; once corrected, back to the re-check's disagreements.
    assert Select(browser.find_element(By.ID, "value")).first_selected_option.text == "兄弟姐妹"
    follow(browser, browser.find_element(By.CSS_SELECTOR, "#correction button[type=submit]"))
    assert text(browser, "#flashes").startswith("已更正：与户主关系 配偶 → 兄弟姐妹")
    follow(browser, browser.find_element(By.ID, "back-to-recheck"))
    assert browser.current_url.endswith(sample)
    assert text(browser, "#disagreements tbody td:last-child") == "登记册已更正"


def test_the_recheck_pages_read_well_at_both_widths(county, browser, sign_in_as, monkeypatch):
    """The crawl's checks (no UUIDs, codes or English; nothing wider than the screen; 44 px touch targets) on every
    re-check page, which the whole-site crawl does not reach within its page limit: the month's villages, a sample
    not drawn, one drawn with a household's form, one with a re-check and its disagreements, and the re-draw pages."""
    officer = principal_by_username(OFFICER)
    month = clock.today().replace(day=1)
    dongcun, xicun = find_area("青山镇/东村").id, find_area("青山镇/西村").id
    draw_sample(officer, dongcun, month, 100)
    record_recheck(officer, xicun, month, county.households["liu"], checked_on=clock.today(),
                   observed={county.people["刘芳"]: Observed(True, {"phone": "13911112222", "hukou": "elsewhere"})},
                   newcomers=[Newcomer("刘奶奶", "female", "1945-01-01")])
    commit()
    sign_in_as(OFFICER)
    at = f"{month:%Y-%m}"
    pages = ["/rechecks", f"/rechecks/{xicun}/{at}", f"/rechecks/{xicun}/{at}/redraw", f"/rechecks/{dongcun}/{at}",
             f"/rechecks/{dongcun}/{at}/redraw", f"/rechecks/{dongcun}/{at}/households/{county.households['zhang']}",
             f"/rechecks/{xicun}/{at}/households/{county.households['liu']}", f"/rechecks/{xicun}/2026-01"]
    monkeypatch.setattr(crawling, "MAX_PAGES", len(pages))
    findings, texts = crawling.crawl(browser, county.server.url, pages, {})
    assert set(texts) == set(pages)
    message = crawling.report(findings, texts)
    assert not message, message
    assert "139****2222" in texts[f"/rechecks/{xicun}/{at}"] and "外地户籍" in texts[f"/rechecks/{xicun}/{at}"]
    assert "13911112222" not in texts[f"/rechecks/{xicun}/{at}"]   # a phone found is shown masked
