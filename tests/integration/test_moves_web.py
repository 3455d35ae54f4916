"""People who move, on the web, through HTTP on SQLite and PostgreSQL: a move out recorded by 东村's cadre, the
expected arrival on 西村's moves page, confirmed into a 西村 household; what each area then sees of the person (the
new village: the person and the open items that travel with them, not 东村's visits; 东村: its own records of the
time the person lived there, not 西村's visits); every refusal (another area's person or household, an unknown
destination, a person not expected, an arrival confirmed twice) changes nothing; the town office's list of moves
that waited too long, with the clock moved on."""

# ruff: noqa: F811 - the fixtures imported from the tests that define them are the tests' arguments
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from server import clock
from server.audit.models import AuditEvent
from server.extensions import db
from server.register.models import Person, RegisterDecision
from tests.conftest import merge_all
from tests.integration.test_write_scope import (  # noqa: F401 - the fixture world
    PASSWORD,
    assert_rebuild_agrees,
    place_uuid,
    send,
    signed_in,
    snapshot,
    world,
)
from tests.register_visits import followup_visit, household_visit

NOW = dt.datetime(2026, 11, 22, 4, 0, tzinfo=dt.timezone.utc)     # 2026-11-22 12:00 in China
HEAD, CHILD, HOUSEHOLD = place_uuid("own", "head"), place_uuid("own", "child"), place_uuid("own", "household")
XICUN_HOUSEHOLD, XICUN_HEAD = place_uuid("village", "household"), place_uuid("village", "head")
NANCUN_HOUSEHOLD, GROUP2_HOUSEHOLD = place_uuid("town", "household"), place_uuid("group", "household")


def visible(html: str) -> str:
    """A page's text as read (its style and script, tags and their attributes left out)."""
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html))


def person(uuid: str) -> tuple:
    found = db.session.get(Person, uuid)
    values = (found.household_uuid, found.residence)
    db.session.rollback()
    return values


def decisions() -> list[tuple]:
    rows = [(row.kind, row.subject_uuid, row.target, row.field, row.undone_at is not None)
            for row in db.session.scalars(select(RegisterDecision).order_by(RegisterDecision.id))]
    db.session.rollback()
    return rows


def audited(action: str) -> int:
    count = len(list(db.session.scalars(select(AuditEvent.id).where(AuditEvent.action == action))))
    db.session.rollback()
    return count


def timeline(html: str) -> dict[int, str]:
    """The visits of a person's service history: linked (the reader may open it) or elsewhere (only its open
    items shown), by submission id."""
    return {int(found): "linked" if how.startswith("<a") else "elsewhere"
            for found, how in re.findall(r'<li id="history-(\d+)">(<a href|<span class="elsewhere")', html)}


def refused(client, path: str, data: dict, status: int, code: str | None = None) -> None:
    """A post refused with this status (and error code), and the register as it was."""
    before, made = snapshot(), decisions()
    response = client.post(path, data, allow_redirects=False, headers={"Accept": "text/html"})
    assert response.status_code == status, response.text[:500]
    if code is not None:
        assert code in response.text
    assert snapshot() == before
    assert decisions() == made


def test_a_move_recorded_on_the_web_confirmed_where_the_person_arrives(server, world, create_collector, monkeypatch):
    at = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: at["now"])
    create_collector("青山镇/北村", username="beicun_cadre", role="village_cadre", password=PASSWORD)
    # 东村 records a postpartum follow-up to come, a support request and a referral about 王秀英.
    send(world["own"], followup_visit(person=HEAD, household=HOUSEHOLD, followup_type="post_operation",
                                      start="2026-11-05T09:00:00.000+08:00", notes="东村的随访备注",
                                      referral=("health_centre", "青山镇卫生院", "血压偏高")))
    send(world["own"], household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-14T09:00:00.000+08:00",
                                       postpartum=(HEAD, "2026-11-12"),
                                       support={"needs": ("family_benefit",), "details": "申请奖励扶助",
                                                "benefit_kind": "reward", "person": HEAD}))
    merge_all(NOW)
    dongcun, xicun, beicun = (signed_in(server, name) for name in ("dongcun_cadre", "xicun_cadre", "beicun_cadre"))
    qingshan, baishui = signed_in(server, "qingshan_officer"), signed_in(server, "baishui_officer")
    dongcun_visits = timeline(dongcun.get(f"/people/{HEAD}").text)
    assert list(dongcun_visits.values()) == ["linked", "linked"]

    # The move out, from the person's page: a menu of the county's towns and villages, or outside it.
    page = dongcun.get(f"/people/{HEAD}")
    assert f'href="/people/{HEAD}/move" id="record-move"' in page.text
    form = dongcun.get(f"/people/{HEAD}/move")
    assert form.status_code == 200
    assert '<option value="青山镇/西村">青山镇 › 西村</option>' in form.text
    assert '<optgroup label="白水镇">' in form.text
    assert '<option value="outside">' in form.text
    assert '<option value="青山镇/东村">' not in form.text     # her own village: no move out
    for client in (xicun, beicun, baishui):     # another village's or town's person
        assert client.get(f"/people/{HEAD}/move").status_code == 403
        refused(client, f"/people/{HEAD}/move", {"destination": "青山镇/西村", "day": "2026-11-15"}, 403)
    refused(dongcun, f"/people/{HEAD}/move", {"destination": "青山镇/没有这个村", "day": "2026-11-15"}, 404, "404.50")
    refused(dongcun, f"/people/{HEAD}/move", {"destination": "青山镇/东村", "day": "2026-11-15"}, 409, "409.53")
    refused(dongcun, f"/people/{HEAD}/move", {"destination": "outside", "place": " ", "day": "2026-11-15"}, 400,
            "400.51")
    refused(dongcun, f"/people/{HEAD}/move", {"destination": "青山镇/西村", "day": "2026-11-23"}, 400, "400.50")
    refused(dongcun, f"/people/{HEAD}/move", {"destination": "青山镇/西村", "day": "15/11/2026"}, 400, "400.50")
    assert "本县没有这个村或镇" in dongcun.post(f"/people/{HEAD}/move", {"destination": "青山镇/没有这个村",
                                                                        "day": "2026-11-15"}).text
    moved = dongcun.post(f"/people/{HEAD}/move", {"destination": "青山镇/西村", "day": "2026-11-15"},
                         allow_redirects=False)
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/people/{HEAD}")
    assert person(HEAD) == (HOUSEHOLD, "moved_away")
    assert decisions() == [("record_move", HEAD, '{"date":"2026-11-15","place":"","to":"青山镇/西村"}', None, False)]
    page = dongcun.get(f"/people/{HEAD}").text
    assert "已登记迁出：王秀英" in visible(page)
    assert "迁往 青山镇 › 西村 · 2026-11-15" in visible(page)
    assert 'id="record-move"' not in page
    refused(dongcun, f"/people/{HEAD}/move", {"destination": "青山镇/西村", "day": "2026-11-16"}, 409, "409.50")

    # 西村 expects her (not 北村, not 白水镇); 东村 lists her departure as expected at 西村.
    moves = xicun.get("/moves")
    assert moves.status_code == 200
    row = re.search(rf'<tr id="expected-{HEAD}">(.*?)</tr>', moves.text, re.S).group(1)
    assert "王秀英" in row and "女" in row and "1975-05-06" in row and "青山镇 › 东村" in row
    assert re.search(r'class="waiting"[^>]*>7<', row)
    households = re.search(r'<select id="household-[^"]+" name="household">(.*?)</select>', row, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)">([^<]*)</option>', households) == [
        (XICUN_HOUSEHOLD, "03号户（户主 李village） · 第一组")]
    relationships = re.search(r'<select id="relationship-[^"]+" name="relationship" required>(.*?)</select>', row,
                              re.S).group(1)
    assert re.findall(r'<option value="([^"]*)">', relationships)[:3] == ["", "head", "spouse"]
    for client in (beicun, baishui, dongcun):
        assert f'id="expected-{HEAD}"' not in client.get("/moves").text
    assert f'id="expected-{HEAD}"' in qingshan.get("/moves").text
    departures = visible(dongcun.get("/moves").text)
    assert "王秀英 青山镇 › 东村 › 第一组 2026-11-15 待迁入 青山镇 › 西村 · 7天" in departures
    assert "王秀英" not in visible(xicun.get("/moves").text).split("迁出")[-1]
    assert audited("moves.read") >= 7

    # Confirming where she is not expected, in another area's household, or someone not expected: refused.
    arrival = {"household": XICUN_HOUSEHOLD, "relationship": "spouse", "day": "2026-11-20"}
    refused(xicun, f"/moves/arrivals/{HEAD}", {**arrival, "relationship": "queen"}, 400)
    refused(xicun, f"/moves/arrivals/{HEAD}", {**arrival, "household": NANCUN_HOUSEHOLD}, 403)
    refused(xicun, f"/moves/arrivals/{HEAD}", {**arrival, "household": GROUP2_HOUSEHOLD}, 403)
    refused(baishui, f"/moves/arrivals/{HEAD}", {**arrival, "household": NANCUN_HOUSEHOLD}, 409, "409.52")
    refused(dongcun, f"/moves/arrivals/{HEAD}", {**arrival, "household": GROUP2_HOUSEHOLD}, 409, "409.52")
    refused(xicun, f"/moves/arrivals/{XICUN_HEAD}", arrival, 409, "409.52")
    refused(xicun, "/moves/arrivals/nobody", arrival, 404)
    refused(xicun, f"/moves/arrivals/{HEAD}", {**arrival, "household": "no-such-household"}, 404)
    refused(xicun, f"/moves/arrivals/{HEAD}", {**arrival, "day": "2026-11-14"}, 400, "400.50")
    confirmed = xicun.post(f"/moves/arrivals/{HEAD}", arrival, allow_redirects=False)
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/moves")
    assert person(HEAD) == (XICUN_HOUSEHOLD, "here")
    assert db.session.get(Person, HEAD).relationship == "spouse"   # the head of 东村's household is 西村's spouse
    db.session.rollback()
    assert "已确认迁入：王秀英" in visible(xicun.get("/moves").text)
    refused(xicun, f"/moves/arrivals/{HEAD}", arrival, 409, "409.51")     # a double click, or a second cadre
    refused(qingshan, f"/moves/arrivals/{HEAD}", arrival, 409, "409.51")
    assert f'id="expected-{HEAD}"' not in xicun.get("/moves").text
    assert "已迁入 青山镇 › 西村（2026-11-20）" in visible(dongcun.get("/moves").text)

    # 西村 sees her and what travels with her (the open referral and support request, the follow-up due after
    # the birth), not 东村's visits.
    page = xicun.get(f"/people/{HEAD}")
    assert page.status_code == 200
    text = visible(page.text)
    assert "青山镇卫生院" in text and "申请奖励扶助" in text
    assert "迁出 · 2026-11-15 · 青山镇 › 西村" in text
    # Her history keeps what 东村 recorded, without links into 东村's visits and households (403 there).
    assert f'href="/households/{HOUSEHOLD}"' not in page.text
    assert not any(f'href="/visits/{visit}"' in page.text for visit in dongcun_visits)
    assert text.count("青山镇 › 东村登记，尚未办结") == 2
    assert timeline(page.text) == dict.fromkeys(dongcun_visits, "elsewhere")
    followup = min(dongcun_visits)     # its referral travels, not the guidance given
    assert f'id="item-{followup}-2"' in page.text and f'id="item-{followup}-1"' not in page.text
    for visit in dongcun_visits:
        assert xicun.get(f"/visits/{visit}").status_code == 403
    due = visible(xicun.get("/due?area=青山镇/西村").text)
    assert "王秀英" in due
    assert 'id="record-move"' in page.text and 'id="former-resident"' not in page.text

    # 西村's collector visits her; 东村 sees her as a former resident: its own visits, not 西村's.
    send(world["village"], followup_visit(person=HEAD, household=XICUN_HOUSEHOLD, followup_type="postpartum",
                                          start="2026-11-21T09:00:00.000+08:00", base_version=3,
                                          notes="西村的随访备注"))
    merge_all(NOW)
    (xicun_visit,) = (found for found, how in timeline(xicun.get(f"/people/{HEAD}").text).items() if how == "linked")
    household = xicun.get(f"/households/{XICUN_HOUSEHOLD}").text     # the same on her new household's page
    registered = 3    # the visit that registered the household (the world's third)
    assert timeline(household) == {**dict.fromkeys(dongcun_visits, "elsewhere"), xicun_visit: "linked",
                                   registered: "linked"}
    assert f'id="item-{followup}-2"' in household and f'id="item-{followup}-1"' not in household
    former = dongcun.get(f"/people/{HEAD}")
    assert former.status_code == 200
    assert 'id="former-resident"' in former.text and 'id="record-move"' not in former.text
    assert timeline(former.text) == dongcun_visits
    text = visible(former.text)
    assert "迁往 青山镇 › 西村 · 2026-11-15" in text
    assert "青山镇 › 东村 › 第一组" in text and "李village" not in text and "迁入" not in text.split("服务记录")[0]
    assert dongcun.get(f"/visits/{xicun_visit}").status_code == 403
    assert timeline(qingshan.get(f"/people/{HEAD}").text) == {**dongcun_visits, xicun_visit: "linked"}
    for client in (beicun, baishui):
        assert client.get(f"/people/{HEAD}").status_code == 403
    assert f'id="expected-{HEAD}"' not in qingshan.get("/moves").text

    # A move to the town (no village named), left waiting: the town office's list once it waited over 30 days.
    assert dongcun.post(f"/people/{CHILD}/move", {"destination": "青山镇", "day": "2026-11-01"},
                        allow_redirects=False).status_code == 302
    assert f'id="expected-{CHILD}"' in xicun.get("/moves").text         # expected anywhere in the town
    assert 'id="aged-none"' in qingshan.get("/moves").text
    assert 'id="aged"' not in xicun.get("/moves").text                   # the town office's list only
    at["now"] = dt.datetime(2026, 12, 2, 4, 0, tzinfo=dt.timezone.utc)
    qingshan, baishui, dongcun, xicun = (signed_in(server, name) for name in (    # ten days on: signed in again
        "qingshan_officer", "baishui_officer", "dongcun_cadre", "xicun_cadre"))
    aged = qingshan.get("/moves").text
    assert re.findall(r'<tr id="aged-\d+" class="(\w+)">\s*<td class="name" data-label="[^"]*"><a href="/people/'
                      r'([^"]+)">', aged) == [("expected", CHILD)]
    assert 'id="aged-none"' in baishui.get("/moves").text

    # Undone as any decision: the child lives in 东村 again, expected nowhere.
    undo_id = max(row.id for row in db.session.scalars(select(RegisterDecision)))
    db.session.rollback()
    assert dongcun.post(f"/decisions/{undo_id}/undo", {"back": f"/people/{CHILD}"},
                        allow_redirects=False).status_code == 302
    assert person(CHILD) == (HOUSEHOLD, "here")
    assert f'id="expected-{CHILD}"' not in xicun.get("/moves").text
    assert_rebuild_agrees()
