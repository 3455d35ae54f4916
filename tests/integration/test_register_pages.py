"""The register pages over HTTP: the duplicate queue (merge, not the same), unmerge from a person's page, search,
household pages; scoped to the reader's area and audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.register.worker import merge_next
from sync.identity import id_check_character
from tests.conftest import ROOT
from tests.register_visits import Member, household_visit
from tests.web import WebClient

PASSWORD = "cadre-password"
XLSFORMS = ROOT / "xlsforms"
HOUSEHOLD_1, HOUSEHOLD_2 = "44444444-0000-4000-8000-000000000001", "44444444-0000-4000-8000-000000000002"


def resident_id(birth: str, male: bool) -> str:
    first_17 = f"510722{birth.replace('-', '')}01{1 if male else 2}"
    return first_17 + id_check_character(first_17)


@pytest.fixture
def village(server, create_collector, publish):
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    phones = [server.client(token=create_collector(group).token) for group in ("青山镇/东村/第一组", "青山镇/东村/第二组")]
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password=PASSWORD)
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre", password=PASSWORD)
    first = Member("王秀英", "female", "1975-05-06", phone="13800000001")
    second = Member("王秀瑛", "female", "1975-05-06", id_number=resident_id("1975-05-06", male=False))
    for phone, household, member, number in ((phones[0], HOUSEHOLD_1, first, "001"), (phones[1], HOUSEHOLD_2, second, "009")):
        assert phone.submit(household_visit(household=household, new=(number, f"{number}号"), members=[member],
                                            start="2026-11-01T09:00:00.000+08:00")).status_code == 201
    while merge_next() is not None:
        commit()
    commit()
    cadre = WebClient(server.url)
    cadre.sign_in("dongcun_cadre", PASSWORD)
    return {"server": server, "cadre": cadre, "first": first, "second": second}


def test_merge_from_the_queue_and_unmerge_from_the_person_page(village):
    cadre, first, second = village["cadre"], village["first"], village["second"]
    queue = cadre.get("/duplicates").text
    (candidate_id,) = re.findall(r'<section class="pair" id="pair-(\d+)">', queue)
    assert "<li>姓名读音相同（同音字）</li>" in queue and "相似度 0.65" in queue
    merged = cadre.post(f"/duplicates/{candidate_id}", {"action": "merge", "keep": first.uuid}, allow_redirects=False)
    assert merged.headers["Location"] == "/duplicates"
    after = cadre.get("/duplicates").text
    assert f'id="pair-{candidate_id}"' not in after
    assert "<li>两户中有同一个人（已合并）</li>" in after  # the two households are proposed in turn
    page = cadre.get(f"/people/{first.uuid}")
    assert page.status_code == 200 and "<h1>王秀英</h1>" in page.text
    assert "<dd>" + resident_id("1975-05-06", male=False) + "</dd>" in page.text  # taken over from the duplicate
    (decision_id,) = re.findall(r'action="/decisions/(\d+)/undo"', page.text)
    assert cadre.get(f"/people/{second.uuid}").status_code == 404
    undone = cadre.post(f"/decisions/{decision_id}/undo", {"back": f"/people/{first.uuid}"}, allow_redirects=False)
    assert undone.headers["Location"] == f"/people/{first.uuid}"
    assert cadre.get(f"/people/{second.uuid}").status_code == 200
    assert "<dd></dd>" in cadre.get(f"/people/{first.uuid}").text.split("身份证号码</dt>")[1][:12]
    assert f'id="pair-{candidate_id}"' in cadre.get("/duplicates").text
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    db.session.rollback()
    assert [a for a in actions if a.startswith("register.")] == ["register.merge_people",
                                                                  "register.undo_merge_people"]


def test_not_the_same_person_leaves_both(village):
    cadre = village["cadre"]
    (candidate_id,) = re.findall(r'id="pair-(\d+)"', cadre.get("/duplicates").text)
    cadre.post(f"/duplicates/{candidate_id}", {"action": "distinct"})
    assert 'id="none"' in cadre.get("/duplicates").text
    for person in (village["first"], village["second"]):
        assert cadre.get(f"/people/{person.uuid}").status_code == 200


@pytest.mark.parametrize("query", ["王秀英", "wang xiu ying", "wang xiu", resident_id("1975-05-06", male=False)])
def test_search_by_characters_pinyin_and_id_number(village, query):
    """Characters find homophones too (the same pinyin); an ID number finds its one person."""
    found = village["cadre"].get("/search", params={"q": query}).text
    names = re.findall(r'<a href="/people/[^"]+">([^<]+)</a>', found)
    expected = {"王秀英": ["王秀瑛", "王秀英"], "wang xiu ying": ["王秀瑛", "王秀英"], "wang xiu": ["王秀瑛", "王秀英"]}
    assert names == expected.get(query, ["王秀瑛"])


def test_pages_are_scoped_to_the_readers_village_and_audited(village):
    other = WebClient(village["server"].url)
    other.sign_in("xicun_cadre", PASSWORD)
    assert other.get(f"/people/{village['first'].uuid}").status_code == 403
    assert other.get(f"/households/{HOUSEHOLD_1}").status_code == 403
    assert re.findall(r'<a href="/people/', other.get("/search", params={"q": "王秀英"}).text) == []
    assert 'id="none"' in other.get("/duplicates").text
    household = village["cadre"].get(f"/households/{HOUSEHOLD_1}")
    assert household.status_code == 200 and "王秀英" in household.text
    events = [(e.action, e.subject) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    db.session.rollback()
    assert ("household.read", HOUSEHOLD_1) in events and ("person.search", None) in events
    forged = village["cadre"].post("/duplicates/1", {"action": "distinct"}, token=False)
    assert forged.status_code == 400
