"""Errors as people see them: for a browser, a page in the site's layout in the reader's language (400, 403, 404,
405, 413, 429, 500, 503 and an expired form), with what to do and a way back, the HTTP status kept and nothing of a
server error's insides; other clients keep plain text, JSON or OpenRosa XML."""

from __future__ import annotations

import html
import re
import uuid

import pytest
import requests

from server.database import commit
from sync import errors
from tests.conftest import ROOT, merge_all
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "cadre-password"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"}


@pytest.fixture
def village(server, create_collector, publish):
    """A person of 东村; cadres of 东村 and 西村 signed in with a browser's Accept header."""
    publish(ROOT / "xlsforms" / "household_visit.xlsx", media=list((ROOT / "xlsforms" / "fixtures").glob("*.csv")))
    collector = create_collector("青山镇/东村/第一组")
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre", password=PASSWORD)
    wang = Member("王秀英", "female", "1990-05-06")
    assert server.client(token=collector.token).submit(household_visit(
        household=str(uuid.uuid4()), new=("001", "东村一组1号"), start="2026-11-03T09:00:00.000+08:00",
        members=[wang])).status_code == 201
    merge_all()
    commit()
    browsers = {}
    for name in ("dongcun_cadre", "xicun_cadre"):
        browsers[name] = WebClient(server.url)
        browsers[name].session.headers.update(BROWSER)
        assert browsers[name].sign_in(name, PASSWORD).status_code == 302
    return {"server": server, "url": server.url, "person": wang.uuid, **browsers}


def shown(response: requests.Response) -> dict[str, str]:
    """What an error page says: its heading, message, advice, the way back (link and words) and the code."""
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.text

    def one(pattern: str) -> str:
        (found,) = re.findall(pattern, text, re.S)
        return html.unescape(found.strip()) if isinstance(found, str) else tuple(html.unescape(f) for f in found)

    return {"title": one(r"<title>(.*?)</title>"), "heading": one(r'<h1 id="error-heading">(.*?)</h1>'),
            "message": one(r'<p class="error" id="error-message">(.*?)</p>'),
            "advice": one(r'<p id="error-advice">(.*?)</p>'), "back": one(r'<a id="back" href="([^"]*)">([^<]*)</a>'),
            "details": re.sub(r"\s+", " ", one(r'<details class="support" id="error-details">.*?<p>(.*?)</p>'))}


NOT_FOUND_ADVICE = "网址可能有误，或该记录已被合并或删除。请从首页重新进入。"


def test_an_unknown_address_is_a_page_in_the_layout_with_the_way_home(village):
    response = village["dongcun_cadre"].get("/no-such-page")
    assert response.status_code == 404
    assert shown(response) == {
        "title": "找不到页面 · 台账", "heading": "找不到页面", "message": errors.NotFound.message_zh,
        "advice": NOT_FOUND_ADVICE, "back": ("/", "返回首页"), "details": "错误代码 404.1"}
    assert '<a href="/inbox">' in response.text and 'id="logout"' in response.text   # the site's header, signed in
    # Someone not signed in gets the same page, without the staff's links.
    anonymous = requests.get(village["url"] + "/no-such-page", headers=BROWSER, timeout=30)
    assert anonymous.status_code == 404 and shown(anonymous)["heading"] == "找不到页面"
    assert '<a href="/inbox">' not in anonymous.text


def test_the_way_back_is_the_previous_page_of_this_site_only(village):
    url = village["url"]
    came_from = village["dongcun_cadre"].get("/no-such-page", headers={"Referer": f"{url}/inbox?page=2"})
    assert shown(came_from)["back"] == ("/inbox?page=2", "返回上一页")
    for elsewhere in ("https://evil.example/inbox", "http://127.0.0.1:1/inbox", f"{url.replace('http:', 'https:')}/x",
                      "javascript:alert(1)", "not a url", "http://[broken/x"):
        page = village["dongcun_cadre"].get("/no-such-page", headers={"Referer": elsewhere})
        assert shown(page)["back"] == ("/", "返回首页"), elsewhere


def test_the_page_is_in_the_readers_language(village):
    village["dongcun_cadre"].get("/language/en")
    page = shown(village["dongcun_cadre"].get("/no-such-page"))
    assert (page["heading"], page["message"], page["back"]) == (
        "Page not found", errors.NotFound.message_en, ("/", "Go to the home page"))
    assert page["advice"] == ("The address may be mistyped, or the record may have been merged or removed. Start "
                              "again from your home page.")


def test_another_villages_person_is_refused_with_a_page(village):
    response = village["xicun_cadre"].get(f"/people/{village['person']}",
                                         headers={"Referer": f"{village['url']}/search?q=%E7%8E%8B"})
    assert response.status_code == 403
    assert shown(response) == {
        "title": "不允许 · 台账", "heading": "不允许", "message": errors.Forbidden.message_zh,
        "advice": "这超出了您负责的范围或职责。如确有需要，请联系镇办公室。", "back": ("/search?q=%E7%8E%8B", "返回上一页"),
        "details": "错误代码 403.1 · this record is outside your area"}
    assert "王秀英" not in response.text


def test_a_method_the_address_does_not_take(village):
    response = village["dongcun_cadre"].get("/conflicts/1")
    assert response.status_code == 405
    page = shown(response)
    assert (page["heading"], page["message"], page["advice"]) == (
        "不能这样使用这个地址", errors.MethodNotAllowed.message_zh, "请使用页面上的按钮和链接，不要直接输入网址。")


def test_an_expired_form_says_so_and_leads_back_to_it(village):
    cadre = village["dongcun_cadre"]
    assert cadre.get("/account/password").status_code == 200   # the form, with its token, was shown
    response = cadre.post("/account/password", {"csrf_token": "expired", "current": PASSWORD, "new": "new-password-1"},
                          token=False, headers={"Referer": f"{village['url']}/account/password"})
    assert response.status_code == 400
    assert shown(response) == {
        "title": "页面已过期 · 台账", "heading": "页面已过期",
        "message": "该页面已过期（超过有效时间，或已在别处退出），或表单不是从本站提交的。",
        "advice": "请返回上一页，刷新后重新提交。", "back": ("/account/password", "返回上一页"),
        "details": "错误代码 400.13 · The CSRF token is invalid."}
    assert WebClient(village["url"]).sign_in("dongcun_cadre", PASSWORD).status_code == 302   # nothing changed


def test_a_body_too_large(village, monkeypatch):
    monkeypatch.setitem(village["server"].app.config, "MAX_CONTENT_LENGTH", 1000)
    response = village["dongcun_cadre"].post("/account/password", {"current": "x" * 5000}, token=False)
    assert response.status_code == 413
    page = shown(response)
    assert (page["heading"], page["message"], page["advice"]) == (
        "内容太大", errors.PayloadTooLarge.message_zh, "请发送较小的文件。")


def test_too_many_sign_ins(village, monkeypatch):
    monkeypatch.setitem(village["server"].app.config, "TAIZHANG_LOGIN_LIMIT", "3 per minute")
    client = WebClient(village["url"])
    client.session.headers.update(BROWSER)
    for _attempt in range(5):
        response = client.sign_in(f"nobody-{uuid.uuid4().hex[:8]}", "wrong-password")
        if response.status_code == 429:
            break
    assert response.status_code == 429
    page = shown(response)
    assert (page["heading"], page["message"], page["advice"]) == (
        "尝试次数太多", errors.TooManyRequests.message_zh, "请等几分钟后再试。")


def test_a_server_error_shows_no_details(village, monkeypatch):
    def broken():
        raise RuntimeError("王秀英 110101199003077777 at /srv/taizhang/server/registers/views.py")

    monkeypatch.setitem(village["server"].app.view_functions, "registers.index", broken)
    response = village["dongcun_cadre"].get("/registers/")
    assert response.status_code == 500
    assert shown(response) == {
        "title": "服务器出错 · 台账", "heading": "服务器出错", "message": errors.TaizhangError.message_zh,
        "advice": "请过几分钟再试。如果一直出现，请告诉负责这台服务器的人员：您当时在做什么、是什么时间。",
        "back": ("/", "返回首页"), "details": "错误代码 500.1"}
    for secret in ("王秀英", "110101199003077777", "RuntimeError", "Traceback", "views.py"):
        assert secret not in response.text


def test_a_busy_server(village, monkeypatch):
    def busy():
        raise errors.ServiceUnavailable("database away")

    monkeypatch.setitem(village["server"].app.view_functions, "registers.index", busy)
    response = village["dongcun_cadre"].get("/registers/")
    assert response.status_code == 503
    page = shown(response)
    assert (page["heading"], page["message"], page["details"]) == (
        "服务器出错", "服务器暂时繁忙，或数据库暂时无法连接。", "错误代码 503.1")


def test_when_the_page_cannot_be_made_the_message_is_plain_text(village, monkeypatch):
    def away():
        raise errors.ServiceUnavailable()

    monkeypatch.setitem(village["server"].app.jinja_env.globals, "current_staff", away)
    response = village["dongcun_cadre"].get("/no-such-page")
    assert (response.status_code, response.headers["Content-Type"]) == (404, "text/plain; charset=utf-8")
    assert response.text == f"{errors.NotFound.message_zh} / {errors.NotFound.message_en}\n"


def test_other_clients_keep_their_formats(village):
    url = village["url"]
    plain = requests.get(f"{url}/no-such-page", timeout=30)   # Accept: */* (curl, programs)
    assert (plain.status_code, plain.headers["Content-Type"], plain.text) == (
        404, "text/plain; charset=utf-8", f"{errors.NotFound.message_zh} / {errors.NotFound.message_en}\n")
    api = village["dongcun_cadre"].get("/api/v1/due", params={"area": "青山镇/西村"})
    assert (api.status_code, api.headers["Content-Type"], api.json()["code"]) == (403, "application/json", "403.1")
    phone = requests.get(f"{url}/key/{'x' * 40}/formList", headers={**BROWSER, "X-OpenRosa-Version": "1.0"},
                         timeout=30)
    assert (phone.status_code, phone.headers["Content-Type"]) == (403, "text/xml; charset=utf-8")
    assert '<message nature="error">' in phone.text
