"""Collector onboarding by the town office: the QR code's settings work in Collect; new codes and revoking."""

from __future__ import annotations

import html
import re

import pytest

from sync.collect_settings import decode_settings
from tests.web import WebClient

PASSWORD = "officer-password"


@pytest.fixture
def office(server, create_collector, publish, household_visit_xform):
    publish(household_visit_xform)
    create_collector("青山镇", username="qingshan_officer", role="town_officer", password=PASSWORD)
    create_collector("白沙镇", username="baisha_officer", role="town_officer", password=PASSWORD)
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇/东村/第二组")  # the group exists
    client = WebClient(server.url)
    client.sign_in("qingshan_officer", PASSWORD)
    return {"server": server, "web": client}


def settings_on(page) -> dict:
    payload = html.unescape(re.search(r'<textarea id="payload" hidden>([^<]+)</textarea>', page.text).group(1))
    return decode_settings(payload)


def test_a_new_collector_scans_the_code_and_collect_works_with_it(office):
    page = office["web"].post("/collectors", {"username": "dongcun2b", "display_name": "李四",
                                              "group": "青山镇/东村/第二组"})
    assert page.status_code == 200 and '<div id="qr"><svg' in page.text
    settings = settings_on(page)
    url = settings["general"]["server_url"]
    assert re.fullmatch(rf"{re.escape(office['server'].url)}/key/[A-Za-z0-9]{{64}}", url)
    assert settings["project"]["name"] == "台账 青山镇/东村/第二组"
    listed = office["server"].client(token=url.rsplit("/", 1)[1]).form_list()
    assert listed.status_code == 200 and "<formID>household_visit</formID>" in listed.text
    assert 'id="collector-dongcun2b"' in office["web"].get("/collectors").text


def test_a_new_code_replaces_the_old_and_revoking_stops_the_phone(office):
    first = settings_on(office["web"].post("/collectors", {"username": "dongcun2b", "group": "青山镇/东村/第二组"}))
    old_token = first["general"]["server_url"].rsplit("/", 1)[1]
    second = settings_on(office["web"].post("/collectors/dongcun2b/token", {}))
    new_token = second["general"]["server_url"].rsplit("/", 1)[1]
    assert office["server"].client(token=old_token).form_list().status_code == 403
    assert office["server"].client(token=new_token).form_list().status_code == 200
    revoked = office["web"].post("/collectors/dongcun2b/revoke", {}, allow_redirects=False)
    assert revoked.headers["Location"] == "/collectors"
    assert office["server"].client(token=new_token).form_list().status_code == 403
    log = office["web"].get("/audit").text
    assert re.findall(r'<td class="what">(\w+)</td>\s*<td class="subject">dongcun2b</td>', log) == [
        "停用信息员账户", "生成信息员二维码", "新建信息员"]


def test_only_the_town_office_of_the_group_sets_up_collectors(office):
    other = WebClient(office["server"].url)
    other.sign_in("baisha_officer", PASSWORD)
    refused = other.post("/collectors", {"username": "x1", "group": "青山镇/东村/第二组"})
    assert refused.status_code == 403
    cadre = WebClient(office["server"].url)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    assert cadre.get("/collectors").status_code == 403
    assert office["web"].post("/collectors", {"username": "bad name", "group": "青山镇/东村/第二组"}).status_code == 400
