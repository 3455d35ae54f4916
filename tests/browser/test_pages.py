"""The staff pages in a real browser: sign in, the due list in both languages, scope, a forged form."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from server.database import commit
from server.register.decisions import set_tier
from server.register.worker import merge_next
from server.users.queries import principal_by_username
from sync.schedules import default_schedule
from tests.conftest import ROOT
from tests.register_visits import Member, household_visit
from tests.service_visits import followup_with_services

PASSWORD = "cadre-password"
XLSFORMS = ROOT / "xlsforms"


@pytest.fixture
def village(server, create_collector, publish, browser):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    collector = create_collector("青山镇/东村/第一组")
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre", password=PASSWORD)
    wang = Member("王秀英", "female", "1990-05-06")
    xml = household_visit(household="33333333-0000-4000-8000-000000000001", new=("001", "东村一组1号"),
                          start="2026-08-03T09:00:00.000+08:00", members=[wang])
    assert server.client(token=collector.token).submit(xml).status_code == 201
    while merge_next() is not None:
        commit()
    commit()
    set_tier(principal_by_username("dongcun_cadre"), wang.uuid, "key", tiers=default_schedule().tier_names,
             now=dt.datetime(2026, 8, 20, tzinfo=dt.timezone.utc))
    commit()
    browser.delete_all_cookies()
    return server


def sign_in(browser, base: str, username: str, next_path: str = "/due") -> None:
    browser.get(f"{base}{next_path}")
    assert browser.current_url == f"{base}/login?next={quote(next_path, safe='/?')}"
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 10).until(lambda driver: "/login" not in driver.current_url)


def heading(browser, text: str) -> None:
    """Wait until the page (once loaded) has this main heading. Looking while the browser is still navigating can
    get chromedriver's "unhandled inspector error": that is waited out like a heading not there yet."""
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), text))


def test_a_cadre_signs_in_and_reads_the_due_list_in_both_languages(village, browser, screenshot):
    sign_in(browser, village.url, "dongcun_cadre", "/due?as_of=2026-11-22")
    heading(browser, "待访视与逾期")
    rows = browser.find_elements(By.CSS_SELECTOR, "#due tbody tr")
    assert [row.get_attribute("class") for row in rows] == ["overdue"]
    assert "2026年9月、2026年10月没有完成的访视，已逾期 53 天" in rows[0].text
    screenshot("due-zh")
    browser.find_element(By.LINK_TEXT, "English").click()
    heading(browser, "Due and overdue")
    assert "no completed visit in 2026-09, 2026-10, overdue by 53 days" in browser.find_element(
        By.CSS_SELECTOR, "#due tbody tr").text
    screenshot("due-en")
    browser.find_element(By.ID, "logout").click()
    WebDriverWait(browser, 10).until(expected_conditions.url_to_be(f"{village.url}/login"))


def test_a_wrong_password_is_refused(village, browser, screenshot):
    browser.get(f"{village.url}/login")
    browser.find_element(By.ID, "username").send_keys("dongcun_cadre")
    browser.find_element(By.ID, "password").send_keys("not-the-password")
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element(
        (By.ID, "error"), "用户名或密码不正确。"))
    screenshot("refused")


def test_another_villages_cadre_cannot_see_this_village(village, browser, screenshot):
    sign_in(browser, village.url, "xicun_cadre")
    heading(browser, "待访视与逾期")
    assert browser.find_elements(By.CSS_SELECTOR, "#due tbody tr") == []
    browser.get(f"{village.url}/due?area=青山镇/东村")
    assert browser.find_element(By.CSS_SELECTOR, "p.error").text == "该地区不在您负责的范围内：请从列表中选择。"
    assert [option.text for option in Select(browser.find_element(By.ID, "area")).options] == ["青山镇 › 西村"]
    screenshot("scope")


def test_a_forged_form_from_another_page_is_refused(village, browser, screenshot):
    sign_in(browser, village.url, "dongcun_cadre")
    # A page elsewhere posts a password change with the cadre's cookies but without the form's CSRF token.
    browser.get("data:text/html;charset=utf-8," + (
        f'<form id="forged" method="post" action="{village.url}/account/password">'
        '<input name="current" value="cadre-password"><input name="new" value="taken-over-1234"></form>'
        '<script>document.getElementById("forged").submit()</script>'))
    heading(browser, "页面已过期")
    assert browser.find_element(By.ID, "error-message").text == (
        "该页面已过期（超过有效时间，或已在别处退出），或表单不是从本站提交的。")
    assert browser.find_element(By.ID, "back").text == "返回首页"   # it came from no page of this site
    screenshot("forged")
    browser.get(f"{village.url}/login")
    browser.delete_all_cookies()
    sign_in(browser, village.url, "dongcun_cadre")  # the password is unchanged
    heading(browser, "待访视与逾期")


def test_the_town_office_sets_up_a_collector_with_a_qr_code(village, browser, create_collector, screenshot):
    create_collector("青山镇", username="qingshan_officer", role="town_officer", password=PASSWORD)
    sign_in(browser, village.url, "qingshan_officer", "/collectors")
    heading(browser, "信息员")
    browser.find_element(By.ID, "username").send_keys("dongcun1b")
    browser.find_element(By.ID, "display_name").send_keys("赵六")
    Select(browser.find_element(By.ID, "group")).select_by_visible_text("青山镇 › 东村 › 第一组")
    browser.find_element(By.ID, "create").click()
    heading(browser, "设置 赵六 的手机")
    qr = browser.find_element(By.CSS_SELECTOR, "#qr svg")
    assert qr.size["width"] > 150
    first_url = browser.find_element(By.ID, "server-url").text
    assert first_url.startswith(f"{village.url}/key/")
    screenshot("qr")
    # A new code (a new phone) is asked for on a page that says it cannot be undone.
    browser.find_element(By.LINK_TEXT, "返回信息员列表").click()
    heading(browser, "信息员")
    browser.find_element(By.CSS_SELECTOR, "#collector-dongcun1b a.new-token").click()
    heading(browser, "为 赵六 生成新二维码？")
    assert "无法撤销" in browser.find_element(By.ID, "warning").text
    screenshot("confirm-new-code")
    browser.find_element(By.ID, "confirm").click()
    heading(browser, "设置 赵六 的手机")
    assert browser.find_element(By.ID, "flashes").text == "已为 赵六 生成新二维码，旧二维码已失效。"
    assert browser.find_element(By.ID, "server-url").text not in ("", first_url)
    # Revoking says what happened, with an undo.
    browser.find_element(By.LINK_TEXT, "返回信息员列表").click()
    heading(browser, "信息员")
    browser.find_element(By.CSS_SELECTOR, "#collector-dongcun1b button.revoke").click()
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "undo")))
    assert browser.find_element(By.ID, "flashes").text.startswith("已停用 赵六 的账号")
    screenshot("revoked")
    browser.find_element(By.ID, "undo").click()
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element(
        (By.ID, "flashes"), "已重新启用 赵六 的账号"))
    assert browser.find_element(By.CSS_SELECTOR, "#collector-dongcun1b .state").text == "没有二维码"


def test_a_cadre_merges_a_duplicate_and_unmerges_it(server, create_collector, publish, browser, screenshot):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    phone = server.client(token=create_collector("青山镇/东村/第一组").token)
    first, second = Member("王秀英", "female", "1975-05-06"), Member("王秀瑛", "female", "1975-05-06")
    assert phone.submit(household_visit(household="55555555-0000-4000-8000-000000000001", new=("001", "1号"),
                                        start="2026-11-01T09:00:00.000+08:00", members=[first, second])).status_code == 201
    while merge_next() is not None:
        commit()
    commit()
    browser.delete_all_cookies()
    sign_in(browser, server.url, "dongcun_cadre", "/duplicates")
    heading(browser, "疑似重复")
    screenshot("queue")
    browser.find_element(By.XPATH, f"//input[@name='keep' and @value='{first.uuid}']/following-sibling::button").click()
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "none")))
    assert browser.find_element(By.ID, "flashes").text.startswith("已合并：王秀瑛 并入 王秀英（保留的记录）。")
    screenshot("merged-flash")
    browser.find_element(By.CSS_SELECTOR, "#flashes button.undo").click()   # undo from the message: the pair is back
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "section.pair")))
    assert browser.find_element(By.ID, "flashes").text == "已撤销。"
    browser.find_element(By.XPATH, f"//input[@name='keep' and @value='{first.uuid}']/following-sibling::button").click()
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "none")))
    browser.get(f"{server.url}/people/{first.uuid}")
    heading(browser, "王秀英")
    screenshot("merged")
    browser.find_element(By.CSS_SELECTOR, "#merges button.unmerge").click()
    WebDriverWait(browser, 10).until(lambda driver: not driver.find_elements(By.ID, "merges"))
    browser.get(f"{server.url}/people/{second.uuid}")
    heading(browser, "王秀瑛")


def test_a_cadre_reviews_visits_and_settles_a_conflict(server, create_collector, publish, browser, screenshot):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    phone = server.client(token=create_collector("青山镇/东村/第一组").token)
    wang = Member("王秀英", "female", "1975-05-06", phone="13800000001")
    household = "77777777-0000-4000-8000-000000000001"
    assert phone.submit(household_visit(household=household, new=("001", "1号"), members=[wang],
                                        start="2026-11-01T09:00:00.000+08:00")).status_code == 201
    for number, day in (("13900000002", "05"), ("13700000003", "06")):
        assert phone.submit(household_visit(household=household, base_version=1, start=f"2026-11-{day}T09:00:00+08:00",
                                            updates=[dict(person_uuid=wang.uuid, base_version=1,
                                                          change="details_corrected", phone_now=number)])).status_code == 201
    while merge_next() is not None:
        commit()
    commit()
    browser.delete_all_cookies()
    sign_in(browser, server.url, "dongcun_cadre", "/inbox")
    heading(browser, "已同步的访视")
    rows = browser.find_elements(By.CSS_SELECTOR, "#inbox tbody tr")
    assert len(rows) == 3
    rows[0].find_element(By.TAG_NAME, "a").click()
    heading(browser, "入户访视 · 2026-11-06 · ")
    assert "137****0003" in browser.find_element(By.ID, "changes").text   # masked: the person page has it
    browser.find_element(By.CSS_SELECTOR, "input[name=state][value=has_issues]").click()
    browser.find_element(By.ID, "comment").send_keys("号码请再核实")
    browser.find_element(By.ID, "save-review").click()
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element(
        (By.ID, "review-comment"), "号码请再核实"))
    screenshot("flagged")
    browser.get(f"{server.url}/inbox")
    browser.find_elements(By.CSS_SELECTOR, "#inbox tbody tr")[1].find_element(By.TAG_NAME, "a").click()
    heading(browser, "访视")
    browser.find_element(By.ID, "save-review").click()   # nothing is preselected: the browser asks for a choice
    assert browser.find_element(By.CSS_SELECTOR, "input[name=state][value=approved]").get_attribute(
        "validationMessage") != ""
    browser.find_element(By.CSS_SELECTOR, "input[name=state][value=approved]").click()
    browser.find_element(By.ID, "save-review").click()
    WebDriverWait(browser, 10).until(expected_conditions.text_to_be_present_in_element(
        (By.ID, "review-state"), "已通过"))
    assert browser.find_element(By.ID, "flashes").text.startswith("已批准。")
    browser.get(f"{server.url}/conflicts")
    heading(browser, "冲突")
    screenshot("conflict")
    browser.find_element(By.CSS_SELECTOR, "input[name=value][value=__other__]").click()
    browser.find_element(By.CSS_SELECTOR, "input.other").send_keys("13600000004")
    browser.find_element(By.CSS_SELECTOR, "button.settle").click()
    WebDriverWait(browser, 10).until(expected_conditions.presence_of_element_located((By.ID, "none")))
    browser.get(f"{server.url}/people/{wang.uuid}")
    heading(browser, "王秀英")
    assert "13600000004" in browser.find_element(By.CSS_SELECTOR, "dl.fields").text


def test_a_visit_with_services_reads_at_phone_width(server, create_collector, publish, browser, screenshot):
    """A village cadre on a phone (375 px wide, Chinese) reads a follow-up's service record: every label shown, and
    nothing wider than the screen."""
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    phone = server.client(token=create_collector("青山镇/东村/第一组").token)
    wang, household = Member("王秀英", "female", "1990-05-06"), "99999999-0000-4000-8000-000000000001"
    assert phone.submit(household_visit(household=household, new=("001", "东村一组1号"), members=[wang],
                                        start="2026-11-01T09:00:00.000+08:00")).status_code == 201
    assert phone.submit(followup_with_services(
        person=wang.uuid, household=household, start="2026-11-20T10:00:00.000+08:00",
        services="health_guidance supplies", referral_to="镇卫生院（妇幼保健门诊，周一至周五上午）",
        referral_reason="孕期检查", supplies=[("folic_acid", "2"), ("condoms", "5000")], next_date="2026-12-20",
        notes="下次带上检查单")).status_code == 201
    while merge_next() is not None:
        commit()
    commit()
    browser.delete_all_cookies()
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})
    try:
        sign_in(browser, server.url, "dongcun_cadre", "/inbox")
        heading(browser, "已同步的访视")
        browser.find_elements(By.CSS_SELECTOR, "#inbox tbody tr")[0].find_element(By.TAG_NAME, "a").click()
        heading(browser, "随访 · 2026-11-20 · ")
        assert browser.execute_script("return window.innerWidth") == 375
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 375
        items = [element.text for element in browser.find_elements(By.CSS_SELECTOR, "#services article.item")]
        assert [text.splitlines()[0] for text in items] == [
            "提供的服务 · 健康指导", "转介 · 卫生院（服务站）就诊", "药具发放（应本人要求） · 叶酸", "药具发放（应本人要求） · 避孕套"]
        assert "数量\n2" in items[2] and "转介到哪里\n镇卫生院（妇幼保健门诊，周一至周五上午）" in items[1]
        assert "需要更正：数量超过1000" in items[3]
        wide = browser.execute_script(
            "return [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 375)"
            ".map(e => e.tagName + '#' + e.id + '.' + e.className)")
        assert wide == []
        assert browser.find_element(By.ID, "visit-outcome").text == "已完成随访"
        assert "本次提供了哪些服务\n健康指导、药具（应本人要求）" in browser.find_element(By.ID, "answers").text
        screenshot("visit-375")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
