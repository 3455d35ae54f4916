"""Each role's main paths clicked through in Chinese at a phone's width (390 px) and an office screen's (1280 px):
sign in, the home page, the inbox, a review, a conflict, a duplicate merged and undone, a search by initials and a
workbook downloaded and opened; at each step the words a person reads and nothing wider than the screen."""

from __future__ import annotations

import time

import openpyxl
import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from server.register import browsing
from sync.code_labels import CODE_LABELS
from tests.browser.conftest import PASSWORD

PHONE, OFFICE = 390, 1280
WIDTHS = pytest.mark.parametrize("width", [PHONE, OFFICE])
CADRE, OFFICER, ADMIN = "dongcun_cadre", "qingshan_officer", "county_admin"


@pytest.fixture
def at_width(browser):
    """at_width(width): the browser's window as wide as a phone or an office screen (page width = window width)."""
    def resize(width: int) -> None:
        browser.set_window_size(width, 844 if width == PHONE else 900)
        inner = browser.execute_script("return window.innerWidth")
        browser.set_window_size(2 * width - inner, 844 if width == PHONE else 900)     # the window's frame
        assert browser.execute_script("return window.innerWidth") == width

    yield resize
    browser.set_window_size(1280, 900)


def page(browser, title: str) -> None:
    """Wait for the page with this main heading; then nothing on it is wider than the window."""
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), title))
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), (
        f"{title}: wider than the screen")


def gone(element) -> bool:
    """Whether the element's page has been replaced (chromedriver may say so as an inspector error)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" not in error.msg:
            raise
        return True
    return False


def follow(browser, element) -> None:
    """Click a link or button that loads another page, and wait until it has."""
    old = browser.find_element(By.TAG_NAME, "html")
    try:
        element.click()
    except WebDriverException as error:       # chromedriver may lose the clicked node to the page it loads
        if "does not belong to the document" not in error.msg:
            raise
    WebDriverWait(browser, 10).until(lambda driver: gone(old))
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: driver.execute_script("return document.readyState") == "complete")


def text(browser, selector: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, selector).text


def sign_in(browser, county, username: str) -> None:
    """From the site's address: the sign-in form, then the home page."""
    browser.get(county.server.url)
    page(browser, "登录")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    follow(browser, browser.find_element(By.ID, "sign-in"))


def menu(browser, link: str) -> None:
    """Follow a link of the menu; on a phone it is folded behind 菜单 and opened first."""
    folded = browser.find_element(By.ID, "menu")
    if folded.get_attribute("open") is None:
        summary = folded.find_element(By.TAG_NAME, "summary")
        assert summary.text == "菜单"
        summary.click()
    follow(browser, browser.find_element(By.ID, "menu").find_element(By.LINK_TEXT, link))


def flash(browser) -> str:
    return text(browser, "#flashes")


def column(browser, table: str, cell: str) -> list[str]:
    return [element.text for element in browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody td.{cell}")]


# ---- sign in and the home page ---------------------------------------------------------------------------------

@WIDTHS
def test_a_cadre_signs_in_to_the_villages_to_do_list(county, browser, at_width, width, screenshot):
    at_width(width)
    sign_in(browser, county, CADRE)
    page(browser, "待办 · 青山镇 › 东村")
    assert [line for line in text(browser, "main").splitlines() if line.startswith(("还没有", "待处理", "疑似"))] == [
        "还没有审核的访视：8 条。 到已同步的访视里逐条审核", "待处理的冲突：2 处。 逐个选出正确的值",
        "疑似重复：1 对。 合并，或标为不是同一人", "还没有结果的转介：1 个。 了解每个人是否去了，并记录结果"]
    screenshot(f"home-{width}")


@WIDTHS
@pytest.mark.parametrize("username, heading, places", [
    (OFFICER, "工作概况 · 青山镇", ["青山镇 › 东村", "青山镇 › 西村"]),
    (ADMIN, "工作概况 · 全县", ["红山镇", "青山镇"])], ids=[OFFICER, ADMIN])
def test_an_officer_signs_in_to_the_dashboard(county, browser, at_width, width, username, heading, places,
                                              screenshot):
    at_width(width)
    sign_in(browser, county, username)
    page(browser, heading)
    chart = browser.find_element(By.ID, "chart")
    assert chart.is_displayed() and 0 < chart.rect["width"] <= width
    assert chart.find_element(By.ID, "chart-title").get_attribute("textContent") == "本月应访视与已访视"
    rows = browser.find_elements(By.CSS_SELECTOR, "#dashboard tbody tr")
    assert [row.find_element(By.TAG_NAME, "td").text for row in rows] == places
    assert text(browser, "#dashboard tfoot tr > :first-child") == "合计"
    screenshot(f"dashboard-{width}")


# ---- the inbox and a review ------------------------------------------------------------------------------------

@WIDTHS
@pytest.mark.parametrize("username", [CADRE, OFFICER])
def test_the_inbox_by_collector_and_order_then_a_review_undone(county, browser, at_width, width, username,
                                                              monkeypatch, screenshot):
    monkeypatch.setattr(browsing, "INBOX_PAGE_SIZE", 5)           # 赵六's 7 visits: two pages
    at_width(width)
    sign_in(browser, county, username)
    menu(browser, "已同步的访视")
    page(browser, "已同步的访视")
    Select(browser.find_element(By.NAME, "collector")).select_by_visible_text("赵六")
    Select(browser.find_element(By.NAME, "sort")).select_by_visible_text("最早填写的在前")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]"))
    page(browser, "已同步的访视")
    assert text(browser, "#inbox-count") == "第 1–5 条，共 7 条"
    assert column(browser, "inbox", "collector") == ["赵六"] * 5
    assert column(browser, "inbox", "household") == [
        "001号户（户主 张桂兰）", "002号户（户主 王秀英）", "003号户（户主 王秀瑛）", "001号户（户主 张桂兰）",
        "001号户（户主 张桂兰）"]
    follow(browser, browser.find_element(By.LINK_TEXT, "下一页"))
    page(browser, "已同步的访视")
    assert text(browser, "#inbox-count") == "第 6–7 条，共 7 条"
    assert column(browser, "inbox", "people") == ["王秀英", ""]
    assert column(browser, "inbox", "outcome") == ["已完成随访", "已完成访视"]
    follow(browser, browser.find_element(By.LINK_TEXT, "2026-11-20 10:00"))
    page(browser, "随访 · 2026-11-20 · 赵六")
    assert text(browser, "#review-state") == "未审核"
    states = browser.find_elements(By.CSS_SELECTOR, "#review input[name=state]")
    assert [state.is_selected() for state in states] == [False, False, False]       # nothing chosen for you
    browser.find_element(By.XPATH, "//form[@id='review']//label[normalize-space()='有问题']").click()
    browser.find_element(By.ID, "comment").send_keys("转介结果请补上")
    follow(browser, browser.find_element(By.ID, "save-review"))
    assert flash(browser) == "已标记为有问题。\n撤销"
    page(browser, "随访 · 2026-11-20 · 赵六")
    assert (text(browser, "#review-state"), text(browser, "#review-comment")) == ("有问题", "转介结果请补上")
    screenshot(f"reviewed-{width}")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "#flashes button.undo"))
    assert flash(browser) == "已撤销。"
    page(browser, "随访 · 2026-11-20 · 赵六")
    assert text(browser, "#review-state") == "未审核" and not browser.find_elements(By.ID, "review-comment")


# ---- a conflict, a duplicate -----------------------------------------------------------------------------------

@pytest.mark.parametrize("width, username", [(PHONE, CADRE), (OFFICE, OFFICER)])
def test_a_conflict_settled_by_choosing_a_value(county, browser, at_width, width, username, screenshot):
    at_width(width)
    sign_in(browser, county, username)
    menu(browser, "冲突")
    page(browser, "冲突")
    assert [heading.text for heading in browser.find_elements(By.CSS_SELECTOR, "section.conflict h2")] == [
        "张桂兰 · 手机", "陈大山 · 与户主关系"]
    # (the label also links to the visit the value came from: click the value itself)
    # A phone is shown masked; the choice posts which of the two it is (the visit's).
    browser.find_element(By.XPATH, "//section[1]//span[@class='value' and .='137****0003']").click()
    assert browser.find_element(By.XPATH, "//section[1]//input[@value='__visit__']").is_selected()
    follow(browser, browser.find_element(By.XPATH, "//section[1]//button[@class='settle']"))
    assert flash(browser) == "冲突已处理。\n撤销"
    page(browser, "冲突")
    assert [heading.text for heading in browser.find_elements(By.CSS_SELECTOR, "section.conflict h2")] == [
        "陈大山 · 与户主关系"]
    screenshot(f"settled-{width}")


@pytest.mark.parametrize("width, username", [(PHONE, CADRE), (OFFICE, OFFICER)])
def test_a_duplicate_merged_keeping_one_record_then_undone(county, browser, at_width, width, username, screenshot):
    at_width(width)
    sign_in(browser, county, username)
    menu(browser, "疑似重复")
    page(browser, "疑似重复")
    assert text(browser, "#pairs-count") == "第 1–1 条，共 1 对"
    assert [button.text for button in browser.find_elements(By.CSS_SELECTOR, "section.pair button.keep")] == [
        "合并，保留此记录"] * 2
    follow(browser, browser.find_element(By.XPATH, f"//input[@name='keep' and @value='{county.people['王秀英']}']"
                                                   "/following-sibling::button"))
    assert flash(browser) == "已合并：王秀瑛 并入 王秀英（保留的记录）。\n撤销"
    page(browser, "疑似重复")
    # the two households now share 王秀英: they are the next pair
    assert [text(browser, "#pairs-count"), text(browser, "ul.reasons")] == ["第 1–1 条，共 1 对", "两户中有同一个人（已合并）"]
    screenshot(f"merged-{width}")
    follow(browser, browser.find_element(By.CSS_SELECTOR, "#flashes button.undo"))
    assert flash(browser) == "已撤销。"
    page(browser, "疑似重复")
    first = "//section[@class='pair'][1]"
    assert text(browser, "section.pair ul.reasons") == "姓名读音相同（同音字）\n出生日期相同\n性别相同"
    assert sorted(name.text for name in browser.find_elements(
        By.XPATH, f"{first}//dt[.='姓名']/following-sibling::dd[1]")) == sorted(["王秀英", "王秀瑛"])


# ---- search, a workbook ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("width, username", [(PHONE, CADRE), (OFFICE, OFFICER)])
def test_a_person_found_by_initials(county, browser, at_width, width, username, screenshot):
    at_width(width)
    sign_in(browser, county, username)
    menu(browser, "查询")
    page(browser, "查询")
    browser.find_element(By.ID, "q").send_keys("wxy")
    follow(browser, browser.find_element(By.ID, "search"))
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "count")))
    page(browser, "查询")
    assert text(browser, "#count") == "共 2 人。"
    rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
            for row in browser.find_elements(By.CSS_SELECTOR, "#found tbody tr")]
    # (ID numbers and phones masked: neither has an ID number on the register, 王秀英 has a phone)
    assert rows == [["王秀瑛", "女", "1990-05-06", "", "", "003号户（户主 王秀瑛）", "青山镇 › 东村 › 第一组"],
                    ["王秀英", "女", "1990-05-06", "", "139****0002", "002号户（户主 王秀英）", "青山镇 › 东村 › 第一组"]]
    screenshot(f"found-{width}")
    follow(browser, browser.find_element(By.LINK_TEXT, "王秀英"))
    page(browser, "王秀英")


@pytest.mark.parametrize("width, username", [(PHONE, CADRE), (OFFICE, OFFICER)])
def test_a_monthly_change_report_downloaded_and_opened(county, browser, at_width, width, username, tmp_path,
                                                       screenshot):
    at_width(width)
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    sign_in(browser, county, username)
    menu(browser, "报表")
    page(browser, "报表")
    form = browser.find_element(By.ID, "monthly-change")
    Select(form.find_element(By.NAME, "area")).select_by_visible_text("青山镇 › 东村")
    browser.execute_script("arguments[0].value = '2026-11'", form.find_element(By.NAME, "month"))
    screenshot(f"reports-{width}")
    form.find_element(By.TAG_NAME, "button").click()
    deadline = time.monotonic() + 10
    while not list(tmp_path.glob("*.xlsx")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [path.name for path in tmp_path.iterdir()] == ["东村_2026-11_月变更报告单.xlsx"]
    workbook = openpyxl.load_workbook(tmp_path / "东村_2026-11_月变更报告单.xlsx", read_only=True)
    assert workbook.sheetnames == ["镇汇总 Town summary", "服务情况 Services", "东村", "东村 变更名单 Changes",
                                   "迟报更正 Late corrections", "说明 Notes"]
    summary = [value for row in workbook["镇汇总 Town summary"].iter_rows(max_row=3, values_only=True)
               for value in row if value]
    assert summary[:4] == ["青山镇 › 东村 月变更报告单 Monthly change report — 2026年11月 (2026-11)",
                           summary[1], "村 Village", "期初人数 Opening"]
    changes = [[str(value) for value in row if value]
               for row in workbook["东村 变更名单 Changes"].iter_rows(values_only=True)]
    assert changes[2:4] == [["小组 Group", "户编号 Household no.", "户主 Head", "姓名 Name", "变更 Change",
                             "去向、来处或配偶 Where to / from, spouse", "日期 Date", "访视 Visit", "信息员 Collector"],
                            ["第一组", "001", "张桂兰", "张桂兰", "新登记 Registered", "2026-11-01 00:00:00", "访视 #1",
                             "赵六"]]
    cells = {str(value) for sheet in workbook for row in sheet.iter_rows(values_only=True) for value in row}
    assert cells & {code for codes in CODE_LABELS.values() for code in codes} == set()     # labels, not codes
