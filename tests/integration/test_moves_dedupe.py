"""Arrivals nobody expected, through HTTP on SQLite and PostgreSQL: a person who moved out of 东村 and was registered
as a stranger in 西村 (same town) and in 南村 (another town of the server) is offered to the arriving village's
cadre as "is this the person who moved out of … on …?"; merging keeps the departed record, who now lives in the
new household with both histories; undo restores both; a rebuild agrees; another village, the village they left,
or a person no longer moved away is refused; the merge follows to the county."""

# ruff: noqa: F811 - the fixtures imported from the tests that define them are the tests' arguments
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import delete, select

from server.areas.models import Area
from server.database import commit
from server.extensions import db
from server.register import queries as register_queries
from server.register.decisions import record_decision
from server.register.duplicates import scan_moves
from server.register.models import DuplicateCandidate, LifeEventRecord, Person, RegisterDecision
from server.register.replays import rebuild_register
from server.users.queries import principal_by_username
from sync.decisions import CONFIRM_ARRIVAL, RECORD_MOVE, move_target
from sync.errors import DecisionNotPossible, NotMovedAway
from tests.conftest import merge_all
from tests.integration.test_transfer_replicate import (  # noqa: F401 - fixtures
    NOW,
    county,
    portable_snapshot,
    replicator,
    settled,
    town_servers,
    towns,
)
from tests.integration.test_write_scope import (  # noqa: F401 - the fixture world
    PASSWORD,
    assert_rebuild_agrees,
    place_uuid,
    send,
    signed_in,
    snapshot,
    world,
)
from tests.register_visits import Member, household_visit
from tests.web import WebClient

HEAD, CHILD, HOUSEHOLD = place_uuid("own", "head"), place_uuid("own", "child"), place_uuid("own", "household")
MOVES = "2026-11-12T09:00:00.000+08:00"
ARRIVES = "2026-11-15T09:00:00.000+08:00"


def visible(html: str) -> str:
    """A page's text as read (tags, and the ids their attributes hold, left out)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html))


def questions(client: WebClient) -> list[str]:
    return [visible(text).strip() for text in re.findall(r'<h2 class="question">(.*?)</h2>',
                                                          client.get("/duplicates").text, re.S)]


def pairs() -> list[tuple]:
    rows = [(row.village_id, {row.a_uuid, row.b_uuid}, row.departed_uuid, row.reasons, row.score, row.automatic,
             row.state) for row in db.session.scalars(select(DuplicateCandidate).order_by(DuplicateCandidate.id))]
    db.session.rollback()
    return rows


def village_id(full_name: str) -> int:
    found = db.session.scalar(select(Area.id).where(Area.full_name == full_name))
    db.session.rollback()
    return found


def person(uuid: str) -> tuple | None:
    row = db.session.get(Person, uuid)
    found = None if row is None else (row.name, row.household_uuid, row.residence)
    db.session.rollback()
    return found


def events(uuid: str) -> list[tuple]:
    rows = [(row.kind, str(row.event_date), full_name) for row, full_name in db.session.execute(
        select(LifeEventRecord, Area.full_name).outerjoin(Area, Area.id == LifeEventRecord.group_id)
        .where(LifeEventRecord.person_uuid == uuid).order_by(LifeEventRecord.id))]
    db.session.rollback()
    return rows


def test_an_arrival_nobody_expected_is_offered_as_the_person_who_left_and_merged_by_its_cadre(world, server,
                                                                                             create_collector):
    create_collector("白水镇/南村", username="nancun_cadre", role="village_cadre", password=PASSWORD)
    # 东村's collector records that 王秀英 moved to 西村 and her son 王刚 to 白水镇 (a place, as written).
    send(world["own"], household_visit(household=HOUSEHOLD, base_version=1, start=MOVES, updates=[
        dict(person_uuid=HEAD, base_version=1, change="moved_out", event_date="2026-11-03", place="青山镇西村"),
        dict(person_uuid=CHILD, base_version=1, change="moved_out", event_date="2026-11-05", place="白水镇")]))
    # 西村's collector registers her as a new member, 南村's registers 王钢 (a homophone) and another 王刚.
    arrival, son, stranger = (Member("王秀英", "female", "1975-05-06", relationship="other", reason="moved_in"),
                              Member("王钢", "male", "2000-01-02", relationship="other"),
                              Member("王刚", "male", "1999-09-09", relationship="other"))
    send(world["village"], household_visit(household=place_uuid("village", "household"), base_version=1,
                                           start=ARRIVES, members=[arrival]))
    send(world["town"], household_visit(household=place_uuid("town", "household"), base_version=1, start=ARRIVES,
                                        members=[son, stranger]))
    merge_all(NOW)
    xicun, nancun = village_id("青山镇/西村"), village_id("白水镇/南村")
    assert pairs() == [
        (xicun, {arrival.uuid, HEAD}, HEAD, "same_name same_birth_date same_sex moved", 0.7, False, "open"),
        (nancun, {son.uuid, CHILD}, CHILD, "same_name_pinyin same_birth_date same_sex moved", 0.65, False, "open")]
    (xicun_pair, nancun_pair) = [row.id for row in db.session.scalars(
        select(DuplicateCandidate).order_by(DuplicateCandidate.id))]
    db.session.rollback()

    # Each arriving village's cadre (and town office) reads the question; the village they left does not.
    xicun_cadre, nancun_cadre = signed_in(server, "xicun_cadre"), signed_in(server, "nancun_cadre")
    dongcun_cadre = signed_in(server, "dongcun_cadre")
    assert questions(xicun_cadre) == ["是否是 2026-11-03 从 青山镇 › 东村 迁出的 王秀英？"]
    assert questions(nancun_cadre) == ["是否是 2026-11-05 从 青山镇 › 东村 迁出的 王刚？"]
    assert questions(signed_in(server, "qingshan_officer")) == ["是否是 2026-11-03 从 青山镇 › 东村 迁出的 王秀英？"]
    assert questions(signed_in(server, "baishui_officer")) == ["是否是 2026-11-05 从 青山镇 › 东村 迁出的 王刚？"]
    assert questions(dongcun_cadre) == []
    page = visible(xicun_cadre.get("/duplicates").text)
    assert "一人从别村迁出，另一人在本村新登记：迁移可解释两条记录" in page and "姓名相同" in page
    assert "01号户" not in page      # of the person who left: name, sex, birth date, village and day, not their record

    # Neither the village they left nor a third village decides the pair; nothing changes.
    before = snapshot()
    for stranger_cadre in (dongcun_cadre, nancun_cadre):
        for action in ({"action": "merge", "keep": HEAD}, {"action": "distinct"}):
            assert stranger_cadre.post(f"/duplicates/{xicun_pair}", action).status_code == 403
    # Keeping the new record instead of the person who left is no merge of a move.
    kept_new = xicun_cadre.post(f"/duplicates/{xicun_pair}", {"action": "merge", "keep": arrival.uuid})
    assert kept_new.status_code == 409 and DecisionNotPossible.message_zh in kept_new.text
    assert snapshot() == before and [row[-1] for row in pairs()] == ["open", "open"]

    # 王刚 came back to 东村: the pair is no longer offered, and merging it is refused.
    send(world["own"], household_visit(household=HOUSEHOLD, base_version=2, start="2026-11-18T09:00:00.000+08:00",
                                       updates=[dict(person_uuid=CHILD, base_version=2, change="returned")]))
    merge_all(NOW)
    assert questions(nancun_cadre) == []
    returned = nancun_cadre.post(f"/duplicates/{nancun_pair}", {"action": "merge", "keep": CHILD})
    assert returned.status_code == 409 and NotMovedAway.message_zh in returned.text
    assert person(son.uuid) == ("王钢", place_uuid("town", "household"), "here")

    # 西村's cadre says it is her: the person who left is kept, now living in the 西村 household, both histories.
    merged = xicun_cadre.post(f"/duplicates/{xicun_pair}", {"action": "merge", "keep": HEAD})
    assert merged.status_code == 200 and questions(xicun_cadre) == []
    assert person(arrival.uuid) is None
    assert person(HEAD) == ("王秀英", place_uuid("village", "household"), "here")
    assert events(HEAD) == [("registered", "2026-11-01", "青山镇/东村/第一组"),
                            ("moved_out", "2026-11-03", "青山镇/东村/第一组"),
                            ("moved_in", "None", "青山镇/西村/第一组")]
    decision = db.session.scalar(select(RegisterDecision).where(RegisterDecision.kind == "merge_moved"))
    assert (decision.subject_uuid, decision.target, decision.area_path, decision.candidate_id) == (
        arrival.uuid, HEAD, db.session.scalar(select(Area.path).where(Area.id == xicun)), xicun_pair)
    decision_id = decision.id
    db.session.rollback()
    assert pairs()[0][-1] == "merged"
    assert xicun_cadre.get(f"/people/{HEAD}").status_code == 200
    assert_rebuild_agrees()

    # The village she left cannot undo it; her new village's cadre can: both records are back, the pair open.
    assert dongcun_cadre.post(f"/decisions/{decision_id}/undo", {}).status_code == 403
    assert xicun_cadre.post(f"/decisions/{decision_id}/undo", {"back": "/duplicates"}).status_code == 200
    assert person(arrival.uuid) == ("王秀英", place_uuid("village", "household"), "here")
    assert person(HEAD) == ("王秀英", HOUSEHOLD, "moved_away")
    assert questions(xicun_cadre) == ["是否是 2026-11-03 从 青山镇 › 东村 迁出的 王秀英？"]
    assert_rebuild_agrees()

    # The full scan finds the pair of the person who moved away, and not of the one who came back.
    db.session.execute(delete(DuplicateCandidate).where(DuplicateCandidate.id == nancun_pair))
    commit()
    assert scan_moves(now=NOW) == 1
    commit()
    assert [(row[0], row[1], row[2], row[-1]) for row in pairs()] == [(xicun, {arrival.uuid, HEAD}, HEAD, "open")]


def test_a_merged_arrival_and_its_undoing_follow_to_the_county(county, towns, settled, tmp_path):
    qingshan, _ = towns
    mother = Member("孙丽", "female", "1996-03-04")
    arrival = Member("孙丽", "female", "1996-03-04", relationship="other", reason="moved_in")
    qingshan.send("东村/第一组", household_visit(household="h-east", new=("001", "东门"), members=[mother],
                                              start="2026-11-01T09:00:00.000+08:00"))
    qingshan.send("东村/第一组", household_visit(household="h-east", base_version=1, start=MOVES, updates=[
        dict(person_uuid=mother.uuid, base_version=1, change="moved_out", event_date="2026-11-03", place="西村")]))
    qingshan.send("西村/第一组", household_visit(household="h-west", new=("002", "西门"), members=[arrival],
                                              start=ARRIVES))
    qingshan.merge()
    with qingshan.live.app.app_context():
        pair = db.session.scalar(select(DuplicateCandidate.id).where(DuplicateCandidate.departed_uuid == mother.uuid))
        db.session.rollback()
    office = WebClient(qingshan.live.url)
    assert office.sign_in("qingshan-office", "town-secret").status_code == 302
    assert office.post(f"/duplicates/{pair}", {"action": "merge", "keep": mother.uuid},
                       allow_redirects=False).status_code == 302

    state = tmp_path / "state.json"
    replicator(qingshan, county, state).run()
    merge_all(NOW)
    sent = replicator(qingshan, county, state).run()
    assert (len(sent.decisions_sent), sent.decisions_refused) == (1, [])
    assert portable_snapshot() == qingshan.snapshot()
    assert person(arrival.uuid) is None and person(mother.uuid) == ("孙丽", "h-west", "here")
    rebuild_register()
    commit()
    assert portable_snapshot() == qingshan.snapshot()

    with qingshan.live.app.app_context():
        decision_id = db.session.scalar(select(RegisterDecision.id).where(RegisterDecision.kind == "merge_moved"))
        db.session.rollback()
    assert office.post(f"/decisions/{decision_id}/undo", {}, allow_redirects=False).status_code == 302
    replicator(qingshan, county, state).run()
    assert person(arrival.uuid) == ("孙丽", "h-west", "here") and person(mother.uuid) == ("孙丽", "h-east",
                                                                                         "moved_away")
    assert portable_snapshot() == qingshan.snapshot()

    # A move recorded by the town office and the arrival it confirms follow too.
    with qingshan.live.app.app_context():
        office_id, east = principal_by_username("qingshan-office").id, register_queries.household_area("h-east")
        record_decision(RECORD_MOVE, arrival.uuid, move_target("青山镇/东村", "", dt.date(2026, 11, 20)), by=office_id,
                        now=NOW, area_path=register_queries.household_area("h-west").group_path)
        record_decision(CONFIRM_ARRIVAL, arrival.uuid, "h-east", field="2026-11-21", by=office_id, now=NOW,
                        area_path=east.group_path)
        commit()
    sent = replicator(qingshan, county, state).run()
    assert (len(sent.decisions_sent), sent.decisions_refused) == (2, [])
    assert person(arrival.uuid) == ("孙丽", "h-east", "here")
    assert portable_snapshot() == qingshan.snapshot()
    rebuild_register()
    commit()
    assert portable_snapshot() == qingshan.snapshot()
