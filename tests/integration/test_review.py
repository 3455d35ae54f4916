"""Reviewing synced visits and settling conflicts over HTTP: the inbox, a visit's changes, approve / has issues /
reject (which takes the visit out of the register, and back in), keeping one of two values or a corrected one."""

from __future__ import annotations

import re

import pytest
from lxml import etree
from sqlalchemy import select

from server import database
from server.areas.operations import find_area
from server.database import commit
from server.extensions import db
from server.register import browsing
from server.register import queries as register_queries
from server.register.models import Person, RegisterConflict
from server.register.queries import INBOX_ORDERS
from server.register.replays import rebuild_register
from server.register.schemas import INBOX_SORTS
from server.services import browsing as service_pages
from server.users.operations import add_user
from tests.conftest import REALM, ROOT, merge_all
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "cadre-password"
XLSFORMS = ROOT / "xlsforms"
HOUSEHOLD = "66666666-0000-4000-8000-000000000001"


def phone_of(person_uuid: str) -> str | None:
    phone = db.session.get(Person, person_uuid).phone
    db.session.rollback()
    return phone


@pytest.fixture
def village(server, create_collector, publish):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    phone = server.client(token=create_collector("青山镇/东村/第一组", username="dongcun1").token)
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre", password=PASSWORD)
    wang = Member("王秀英", "female", "1975-05-06", phone="13800000001")
    assert phone.submit(household_visit(household=HOUSEHOLD, new=("001", "1号"), members=[wang],
                                        start="2026-11-01T09:00:00.000+08:00")).status_code == 201
    # Two phones that both saw version 1 change her number differently: a conflict.
    for number, day in (("13900000002", "05"), ("13700000003", "06")):
        assert phone.submit(household_visit(household=HOUSEHOLD, base_version=1, start=f"2026-11-{day}T09:00:00.000+08:00",
                                            updates=[dict(person_uuid=wang.uuid, base_version=1,
                                                          change="details_corrected", phone_now=number)])).status_code == 201
    merge_all()
    cadre = WebClient(server.url)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    return {"server": server, "cadre": cadre, "wang": wang, "phone": phone}


def households_csv_url(village) -> str:
    listed = etree.fromstring(village["phone"].form_list("household_visit").content)
    manifest = village["phone"].get(listed.findtext(".//{http://openrosa.org/xforms/xformsList}manifestUrl"))
    return next(media.findtext("{http://openrosa.org/xforms/xformsManifest}downloadUrl")
                for media in etree.fromstring(manifest.content)
                if media.findtext("{http://openrosa.org/xforms/xformsManifest}filename") == "households.csv")


def visit_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr id="visit-(\d+)">', page)]


def test_the_inbox_lists_visits_newest_first_and_shows_what_each_changed(village):
    cadre = village["cadre"]
    ids = visit_ids(cadre.get("/inbox").text)
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    assert visit_ids(cadre.get("/inbox", params={"collector": "nobody"}).text) == []
    assert visit_ids(cadre.get("/inbox", params={"since": "2026-11-06"}).text) == ids[:1]
    page = cadre.get("/inbox").text
    (group_id,) = re.findall(r'<option value="(\d+)" >青山镇 › 东村 › 第一组</option>', page)
    assert visit_ids(cadre.get("/inbox", params={"group_id": group_id}).text) == ids
    dongcun, xicun = find_area("青山镇/东村").id, find_area("青山镇/西村").id   # a village's (the month sign-off's link)
    db.session.rollback()
    assert visit_ids(cadre.get("/inbox", params={"village_id": dongcun}).text) == ids
    assert visit_ids(cadre.get("/inbox", params={"village_id": xicun}).text) == []
    assert '<input type="hidden" name="village_id" value="%d">' % dongcun in cadre.get(
        "/inbox", params={"village_id": dongcun}).text          # kept when the other filters change
    page = cadre.get(f"/visits/{ids[0]}").text
    assert re.search(r'<td><a href="/people/[^"]+">王秀英</a></td><td>手机</td>\s*<td>139\*\*\*\*0002</td><td>137\*\*\*\*0003</td>',
                     page)
    assert cadre.get("/inbox", params={"since": "soon"}).status_code == 400


def test_the_inbox_is_a_work_queue_in_names_and_labels_paged_with_counts(village, monkeypatch):
    """The collector by display name (a drop-down of the area's collectors), the household by number and head, the
    outcome and review state in words, China time; 50 a page with "1–50 of N" and a link to the next."""
    cadre = village["cadre"]
    page = cadre.get("/inbox").text
    row = re.search(r'<tr id="visit-\d+">(.*?)</tr>', page, re.S).group(1)
    assert '<td class="collector">dongcun1</td>' in row    # no display name given: the user name
    assert '<td class="household">001号户（户主 王秀英）</td>' in row and '<td class="outcome">已完成访视</td>' in row
    assert '<td class="review">未审核</td>' in row and "2026-11-06 09:00" in row
    assert '<option value="dongcun1" >dongcun1</option>' in page
    assert '<p id="inbox-count">第 1–3 条，共 3 条</p>' in page and 'rel="next"' not in page
    monkeypatch.setattr(browsing, "INBOX_PAGE_SIZE", 2)
    first, second = cadre.get("/inbox").text, cadre.get("/inbox", params={"page": 2}).text
    assert '<p id="inbox-count">第 1–2 条，共 3 条</p>' in first and 'rel="next" href="/inbox?page=2"' in first
    assert '<p id="inbox-count">第 3–3 条，共 3 条</p>' in second and 'rel="prev" href="/inbox?page=1"' in second
    assert visit_ids(first) + visit_ids(second) == visit_ids(page)
    assert cadre.get("/inbox", params={"page": "0"}).status_code == 400


def test_the_inbox_counts_only_up_to_a_cap_and_says_more_than_beyond_it(village, monkeypatch):
    """A county's inbox holds millions of visits: the count stops at server.database.COUNT_CAP rows (or the end of
    the page asked for) and says "more than"; the next page is still linked, and the last page counts exactly. (An
    area's inbox is counted exactly.)"""
    add_user("county_reader", "county_admin", None, realm=REALM, password=PASSWORD)
    commit()
    cadre = WebClient(village["server"].url)
    cadre.sign_in("county_reader", PASSWORD)
    monkeypatch.setattr(browsing, "INBOX_PAGE_SIZE", 1)
    monkeypatch.setattr(database, "COUNT_CAP", 1)
    first, second, third = (cadre.get("/inbox", params={"page": page}).text for page in (1, 2, 3))
    assert '<p id="inbox-count">第 1–1 条，共超过 1 条</p>' in first and 'rel="next" href="/inbox?page=2"' in first
    assert '<p id="inbox-count">第 2–2 条，共超过 2 条</p>' in second and 'rel="next" href="/inbox?page=3"' in second
    assert '<p id="inbox-count">第 3–3 条，共 3 条</p>' in third and 'rel="next"' not in third
    assert '<option value="dongcun1"' not in first    # the county's collectors are offered once a village is chosen
    dongcun = find_area("青山镇/东村").id
    db.session.rollback()
    chosen = cadre.get("/inbox", params={"village_id": dongcun}).text
    assert '<option value="dongcun1" >dongcun1</option>' in chosen
    assert '<p id="inbox-count">第 1–1 条，共 3 条</p>' in village["cadre"].get("/inbox").text


def test_conflicts_are_paged_oldest_first_with_counts(village, monkeypatch):
    """A county holds thousands of open conflicts: CONFLICTS_PAGE_SIZE a page, "1–50 of N" and the next page linked
    once there is more than one page (one page reads as before, without a count)."""
    cadre = village["cadre"]
    assert 'id="conflicts-count"' not in cadre.get("/conflicts").text
    first_conflict = db.session.scalars(select(RegisterConflict)).one()
    db.session.add(RegisterConflict(record_uuid=first_conflict.record_uuid, field="name", value="王秀英",
                                    instance_id=first_conflict.instance_id, other_value="王秀云",
                                    other_instance_id=first_conflict.other_instance_id, state="open"))
    db.session.commit()
    second_id = db.session.scalars(select(RegisterConflict.id).order_by(RegisterConflict.id.desc())).first()
    db.session.rollback()
    monkeypatch.setattr(service_pages, "CONFLICTS_PAGE_SIZE", 1)
    one, two = cadre.get("/conflicts").text, cadre.get("/conflicts", params={"page": 2}).text
    assert f'id="conflict-{first_conflict.id}"' in one and f'id="conflict-{second_id}"' not in one
    assert '<p id="conflicts-count">第 1–1 条，共 2 条</p>' in one and 'rel="next" href="/conflicts?page=2"' in one
    assert f'id="conflict-{second_id}"' in two and 'rel="prev" href="/conflicts?page=1"' in two
    assert '<p id="conflicts-count">第 2–2 条，共 2 条</p>' in two and 'rel="next"' not in two
    assert cadre.get("/conflicts", params={"page": "0"}).status_code == 400


def test_the_inbox_names_the_people_of_each_visit_and_sorts_as_asked(village):
    cadre = village["cadre"]
    newest_first = visit_ids(cadre.get("/inbox").text)
    page = cadre.get("/inbox").text
    people = dict(re.findall(r'<tr id="visit-(\d+)">.*?<td class="people">([^<]*)</td>', page, re.S))
    assert people[str(newest_first[-1])] == "王秀英"          # the visit that registered her
    assert visit_ids(cadre.get("/inbox", params={"sort": "received_first"}).text) == newest_first[::-1]
    assert visit_ids(cadre.get("/inbox", params={"sort": "filled_first"}).text) == newest_first[::-1]
    assert visit_ids(cadre.get("/inbox", params={"sort": "filled"}).text) == newest_first
    assert visit_ids(cadre.get("/inbox", params={"sort": "household"}).text) == newest_first
    assert '<option value="filled_first" selected>最早填写的在前</option>' in cadre.get(
        "/inbox", params={"sort": "filled_first"}).text
    assert cadre.get("/inbox", params={"sort": "id"}).status_code == 400
    assert set(INBOX_SORTS) == set(INBOX_ORDERS)


def test_a_rejected_visit_leaves_the_register_and_comes_back_when_approved(village):
    cadre, wang = village["cadre"], village["wang"]
    latest = visit_ids(cadre.get("/inbox").text)[0]
    assert phone_of(wang.uuid) == "13700000003"
    cadre.post(f"/visits/{latest}/review", {"state": "has_issues", "comment": "号码请再核实"})
    page = cadre.get(f"/visits/{latest}").text
    assert '<span id="review-state">有问题</span>' in page and "号码请再核实" in page
    # The collector sees the comment with the household on the phone.
    listed = village["phone"].get(households_csv_url(village)).text
    assert "001 王秀英（审核意见：号码请再核实）" in listed
    cadre.post(f"/visits/{latest}/review", {"state": "rejected"})
    assert phone_of(wang.uuid) == "13900000002"
    assert visit_ids(cadre.get("/inbox", params={"state": "rejected"}).text) == [latest]
    live = register_queries.register_snapshot()
    db.session.rollback()
    rebuild_register()
    commit()
    assert register_queries.register_snapshot() == live
    db.session.rollback()
    cadre.post(f"/visits/{latest}/review", {"state": "approved"})
    assert phone_of(wang.uuid) == "13700000003"
    assert visit_ids(cadre.get("/inbox", params={"state": "received"}).text) == visit_ids(cadre.get("/inbox").text)[1:]


@pytest.mark.parametrize("choice, other, expected", [("13900000002", "", "13900000002"),
                                                      ("__other__", "13600000004", "13600000004")])
def test_a_conflict_is_settled_with_one_of_the_values_or_a_corrected_one(village, choice, other, expected):
    cadre, wang = village["cadre"], village["wang"]
    page = cadre.get("/conflicts").text
    (conflict_id,) = re.findall(r'<section class="conflict" id="conflict-(\d+)">', page)
    assert re.search(r'<h2><a href="/people/[^"]+">王秀英</a> · 手机</h2>', page)
    cadre.post(f"/conflicts/{conflict_id}", {"value": choice, "other": other})
    assert phone_of(wang.uuid) == expected
    assert 'id="none"' in cadre.get("/conflicts").text
    live = register_queries.register_snapshot()
    db.session.rollback()
    rebuild_register()
    commit()
    assert register_queries.register_snapshot() == live


@pytest.mark.parametrize("other, message", [
    ("abc123", "手机号须为11位，以1开头（如13812345678）。（abc123）"),
    ("12345678901", "手机号须为11位，以1开头（如13812345678）。（12345678901）"),
])
def test_a_corrected_value_the_field_cannot_hold_is_refused_with_a_message_and_the_conflict_stays(village, other,
                                                                                                   message):
    cadre, wang = village["cadre"], village["wang"]
    (conflict_id,) = re.findall(r'id="conflict-(\d+)"', cadre.get("/conflicts").text)
    answer = cadre.post(f"/conflicts/{conflict_id}", {"value": "__other__", "other": other})
    assert answer.status_code == 200 and f'<li class="flash error">{message}</li>' in answer.text
    assert f'id="conflict-{conflict_id}"' in answer.text and phone_of(wang.uuid) == "13700000003"


def test_reviews_and_conflicts_stay_in_the_village(village):
    other = WebClient(village["server"].url)
    other.sign_in("xicun_cadre", PASSWORD)
    latest = visit_ids(village["cadre"].get("/inbox").text)[0]
    assert visit_ids(other.get("/inbox").text) == []
    assert other.get(f"/visits/{latest}").status_code == 403
    assert other.post(f"/visits/{latest}/review", {"state": "rejected"}).status_code == 403
    assert 'id="none"' in other.get("/conflicts").text
    assert phone_of(village["wang"].uuid) == "13700000003"
