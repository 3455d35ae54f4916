"""People who move, on the phone, end to end over HTTP as Collect does (docs/moves.md § On the phone): a woman of
东村 who gave birth moves to 西村 on a visit JavaRosa fills from the phone's own lists; 西村's collector finds her on
the expected arrivals (arrivals.csv from the manifest) and picks her as a member who moved in; her record (same
uuid) lives in 西村 and her postpartum follow-up is due there; a second phone confirming again changes nothing;
南村's collector is refused; a rebuild gives the same register."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re

import pytest
from lxml import etree
from pyxform.xls2xform import convert
from sqlalchemy import select

from server import clock
from server.areas.models import Area
from server.extensions import db
from server.register import queries as register_queries
from server.register.models import LifeEventRecord, Person, Visit
from server.register.replays import rebuild_register
from server.submissions.models import Submission
from tests.conftest import ROOT, merge_all
from tests.formengine import fill_form
from tests.integration.test_readable_pages import readable
from tests.register_visits import Member, household_visit
from tests.web import WebClient

XLSFORMS = ROOT / "xlsforms"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
FORM_LIST = "{http://openrosa.org/xforms/xformsList}"
DONG, XI, NAN = "88888888-0000-4000-8000-000000000001", "88888888-0000-4000-8000-000000000002", \
    "88888888-0000-4000-8000-000000000003"
SUN = Member("孙丽", "female", "1996-03-04", relationship="spouse", uuid="88888888-0000-4000-8000-0000000000a1")
ZHAO = Member("赵刚", "male", "1994-02-02", uuid="88888888-0000-4000-8000-0000000000a2")
LI = Member("李强", "male", "1993-07-07", uuid="88888888-0000-4000-8000-0000000000b1")
WU = Member("吴明", "male", "1970-01-01", uuid="88888888-0000-4000-8000-0000000000c1")
ARRIVALS_HEADER = "name,label,person_name,sex,birth_date,base_version,origin\n"
# JavaRosa fills the forms with the real today(): the server's clock is set around it.
TODAY = dt.date.today()
NOON = dt.datetime.combine(TODAY, dt.time(4, 0), tzinfo=dt.timezone.utc)   # 12:00 in China


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.fixture(scope="module")
def visit_xform() -> bytes:
    return convert(xlsform=XLSFORMS / "household_visit.xlsx", file_type=".xlsx").xform.encode()


def lists(phone, form_id: str) -> dict[str, bytes]:
    """A form's media as this phone downloads them through the manifest (each hash the md5 of the bytes)."""
    listed = etree.fromstring(phone.form_list().content)
    url = next(item.findtext(f"{FORM_LIST}manifestUrl") for item in listed.iterfind(f".//{FORM_LIST}xform")
               if item.findtext(f"{FORM_LIST}formID") == form_id)
    found = {}
    for media in etree.fromstring(phone.get(url).content).iterfind(f"{MANIFEST}mediaFile"):
        content = phone.get(media.findtext(f"{MANIFEST}downloadUrl")).content
        assert media.findtext(f"{MANIFEST}hash") == f"md5:{hashlib.md5(content).hexdigest()}"
        found[media.findtext(f"{MANIFEST}filename")] = content
    return found


def rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def names(phone, form_id: str, filename: str, column: str = "person_name") -> list[str]:
    return [row[column] for row in rows(lists(phone, form_id)[filename])]


def fill_and_send(phone, xform: bytes, answers, media: dict[str, bytes]) -> str:
    result = fill_form(xform, answers, media=media)
    assert result.ok, result.violations
    assert phone.submit(result.xml).status_code == 201
    return result.value("/data/meta/instanceID")


def area_id(full_name: str) -> int:
    return db.session.scalar(select(Area.id).where(Area.full_name == full_name))


def events_of(uuid: str) -> list[tuple]:
    """A person's life events with the group they lived in and a move's destination, by area name."""
    found = [(row.kind, str(row.event_date), row.place, row.group_id, row.destination_id)
             for row in db.session.scalars(select(LifeEventRecord).where(LifeEventRecord.person_uuid == uuid)
                                           .order_by(LifeEventRecord.id))]
    names_of = {area.id: area.full_name for area in db.session.scalars(select(Area))}
    db.session.rollback()
    return [(kind, date, place, names_of.get(group), names_of.get(destination))
            for kind, date, place, group, destination in found]


def register() -> dict:
    """The whole register, with every life event's group and destination (rebuild must give it back)."""
    shot = register_queries.register_snapshot()
    shot["event_areas"] = sorted((row.person_uuid, row.kind, str(row.event_date), row.group_id or 0,
                                  row.destination_id or 0, row.submission_id or 0)
                                 for row in db.session.scalars(select(LifeEventRecord)))
    db.session.rollback()
    return shot


def refusals() -> dict[str, str | None]:
    """Each merged visit's refusal by instance id (None: merged into the register)."""
    found = dict(db.session.execute(select(Submission.instance_id, Visit.refusal)
                                    .join(Visit, Visit.submission_id == Submission.id)).all())
    db.session.rollback()
    return found


def submission_id(instance_id: str) -> int:
    found = db.session.scalar(select(Submission.id).where(Submission.instance_id == instance_id))
    db.session.rollback()
    return found


def person(uuid: str) -> tuple:
    row = db.session.get(Person, uuid)
    found = (row.name, row.household_uuid, row.residence, row.relationship, row.version)
    db.session.rollback()
    return found


@pytest.fixture
def county(server, create_collector, publish, monkeypatch):
    """东村, 西村 and 南村 of 青山镇 with a collector each (西村 two: two phones), the real forms published with the
    fixture lists (the register lists among them made per collector), a household registered in each village;
    孙丽 of 东村 gave birth five days ago and is due a postpartum follow-up."""
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    for form in ("household_visit", "followup"):
        publish(XLSFORMS / f"{form}.xlsx", media=media)
    phones = {name: server.client(token=create_collector(area, username=name).token, device_id=f"collect:{name}")
              for name, area in (("dongcun1", "青山镇/东村/第一组"), ("xicun1", "青山镇/西村/第一组"),
                                 ("xicun1b", "青山镇/西村/第一组"), ("nancun1", "青山镇/南村/第一组"))}
    for village in ("东村", "西村"):
        create_collector(f"青山镇/{village}", username=f"{village}_cadre", role="village_cadre",
                         password="cadre-password")
    monkeypatch.setattr(clock, "now", lambda: NOON)
    for name, household, number, members in (("dongcun1", DONG, "001", [ZHAO, SUN]), ("xicun1", XI, "001", [LI]),
                                             ("nancun1", NAN, "001", [WU])):
        assert phones[name].submit(household_visit(
            household=household, new=(number, f"{number}号"), members=members,
            postpartum=(SUN.uuid, day(-5)) if household == DONG else None,
            start=f"{day(-10)}T09:00:00.000+08:00")).status_code == 201
    merge_all()
    return {**phones, "url": server.url}


def test_a_woman_who_moves_from_dongcun_to_xicun_is_picked_there_and_her_follow_up_goes_with_her(county, visit_xform):
    dong, xi, xi_second, nan = (county[name] for name in ("dongcun1", "xicun1", "xicun1b", "nancun1"))
    assert names(dong, "followup", "due.csv") == ["孙丽"]
    before = lists(xi, "household_visit")
    assert before["arrivals.csv"].decode() == ARRIVALS_HEADER
    # Every phone offers the town, its villages and a place outside as where a move goes.
    assert rows(before["destinations.csv"]) == [
        {"name": "青山镇", "label": "青山镇"}, {"name": "青山镇/东村", "label": "青山镇 东村"},
        {"name": "青山镇/南村", "label": "青山镇 南村"}, {"name": "青山镇/西村", "label": "青山镇 西村"},
        {"name": "outside", "label": "其他地方（县外）"}]

    # 东村's collector records that she moved out (she married into 西村), picking 西村 from the phone's list.
    moved = fill_and_send(dong, visit_xform, [
        ("/data/household_choice/mode", "existing"), ("/data/household_choice/household", DONG),
        ("/data/outcome_group/outcome", "completed"), ("/data/outcome_group/consent", "yes"),
        ("/data/changes/changed_people", SUN.uuid),
        ("/data/person_updates[1]/person_update/change", "moved_out"),
        ("/data/person_updates[1]/person_update/event_date", day(-2)),
        ("/data/person_updates[1]/person_update/destination", "青山镇/西村"),
        ("/data/person_updates[1]/person_update/place", "嫁到西村"),
    ], lists(dong, "household_visit"))
    merge_all()
    assert person(SUN.uuid) == ("孙丽", DONG, "moved_away", "spouse", 2)
    # She is on 西村's expected arrivals (both its phones), nobody else's; 东村's phone no longer offers her as a
    # member to visit or a follow-up to do, and 西村's does not yet.
    arrivals = lists(xi, "household_visit")["arrivals.csv"]
    assert arrivals != before["arrivals.csv"]
    assert rows(arrivals) == [{"name": SUN.uuid, "label": f"孙丽（女，1996-03-04）从东村迁出 {day(-2)}",
                               "person_name": "孙丽", "sex": "female", "birth_date": "1996-03-04",
                               "base_version": "2", "origin": "青山镇 东村"}]
    stale_media = lists(xi_second, "household_visit")
    assert stale_media["arrivals.csv"] == arrivals
    for phone in (dong, nan):
        assert lists(phone, "household_visit")["arrivals.csv"].decode() == ARRIVALS_HEADER
    assert names(dong, "household_visit", "people.csv") == ["赵刚"]
    assert names(dong, "followup", "due.csv") == []
    assert names(xi, "followup", "due.csv") == []
    # 西村's cadre finds her on the moves page's expected arrivals, with where she left and when.
    xi_cadre, dong_cadre = WebClient(county["url"]), WebClient(county["url"])
    assert xi_cadre.sign_in("西村_cadre", "cadre-password").status_code == 302
    assert dong_cadre.sign_in("东村_cadre", "cadre-password").status_code == 302
    moves_page = xi_cadre.get("/moves").text
    assert f'id="expected-{SUN.uuid}"' in moves_page
    assert "孙丽" in readable(moves_page) and day(-2) in readable(moves_page)

    # 西村's collector visits 李强's household and picks her from the expected arrivals.
    arrived = fill_and_send(xi, visit_xform, [
        ("/data/household_choice/mode", "existing"), ("/data/household_choice/household", XI),
        ("/data/outcome_group/outcome", "completed"), ("/data/outcome_group/consent", "yes"),
        ("/data/changes/household_events", "moved_in"),
        ("/data/new_members[1]/new_member/why_new", "moved_in"),
        ("/data/new_members[1]/new_member/arriving_person", SUN.uuid),
        ("/data/new_members[1]/new_member/relationship", "spouse"),
        ("/data/new_members[1]/new_member/event_date", day(-1)),
    ], lists(xi, "household_visit"))
    merge_all()
    # The same record (same uuid, her history kept) lives in 西村; the events say where she lived when.
    assert person(SUN.uuid) == ("孙丽", XI, "here", "spouse", 3)
    assert events_of(SUN.uuid) == [
        ("registered", day(-10), None, "青山镇/东村/第一组", None),
        ("moved_out", day(-2), "嫁到西村", "青山镇/东村/第一组", "青山镇/西村"),
        ("moved_in", day(-1), "青山镇 东村", "青山镇/西村/第一组", None)]
    # Her postpartum follow-up is due on 西村's phone, not on 东村's; nobody is expected any more.
    assert names(xi, "followup", "due.csv") == ["孙丽"]
    assert names(dong, "followup", "due.csv") == []
    assert names(xi, "household_visit", "people.csv") == ["孙丽", "李强"]
    assert lists(xi, "household_visit")["arrivals.csv"].decode() == ARRIVALS_HEADER
    assert f'id="expected-{SUN.uuid}"' not in xi_cadre.get("/moves").text
    # 东村's cadre no longer sees what is recorded about her now: the person page is the former resident's, without
    # 西村's visit, which stays closed to them; 西村's cadre reads it.
    former = dong_cadre.get(f"/people/{SUN.uuid}")
    assert former.status_code == 200 and 'id="former-resident"' in former.text
    assert f"/visits/{submission_id(arrived)}" not in former.text
    assert f"/visits/{submission_id(moved)}" in former.text
    assert dong_cadre.get(f"/visits/{submission_id(arrived)}").status_code == 403
    assert xi_cadre.get(f"/visits/{submission_id(arrived)}").status_code == 200

    # 西村's second phone, with the list it downloaded before, confirms her again: nothing changes.
    again = fill_and_send(xi_second, visit_xform, [
        ("/data/household_choice/mode", "existing"), ("/data/household_choice/household", XI),
        ("/data/outcome_group/outcome", "completed"), ("/data/outcome_group/consent", "yes"),
        ("/data/changes/household_events", "moved_in"),
        ("/data/new_members[1]/new_member/why_new", "moved_in"),
        ("/data/new_members[1]/new_member/arriving_person", SUN.uuid),
        ("/data/new_members[1]/new_member/relationship", "spouse"),
        ("/data/new_members[1]/new_member/event_date", day(-1)),
    ], stale_media)
    merge_all()
    assert person(SUN.uuid) == ("孙丽", XI, "here", "spouse", 3)
    assert [event[0] for event in events_of(SUN.uuid)] == ["registered", "moved_out", "moved_in"]

    # 南村's collector (a phone whose list never held her) claims her for a 南村 household: refused, kept with the
    # reason, nothing changed.
    claimed = "uuid:88888888-0000-4000-8000-00000000f001"
    assert nan.submit(household_visit(household=NAN, base_version=1, start=f"{day(0)}T09:00:00.000+08:00",
                                      instance_id=claimed, members=[Member(
                                          "", "", "", uuid=SUN.uuid, relationship="spouse", event_date=day(0),
                                          origin="青山镇 东村", arriving_version=3)])).status_code == 201
    merge_all()
    assert person(SUN.uuid) == ("孙丽", XI, "here", "spouse", 3)
    found = refusals()
    assert [found[instance] for instance in (moved, arrived, again, claimed)] == [None, None, None, "not_expected"]

    # The cadres read the visits in words: where she went, whom 西村's collector picked.
    for village, instance, question, value in (
            ("东村", moved, "迁往哪里（本县的镇、村，或县外）", "青山镇 西村"),
            ("西村", arrived, "是预计迁入的人吗？（从名单中选；不在名单上的不选）", "孙丽")):
        cadre = WebClient(county["url"])
        assert cadre.sign_in(f"{village}_cadre", "cadre-password").status_code == 302
        page = readable(cadre.get(f"/visits/{submission_id(instance)}").text)
        assert (question, value) in re.findall(
            r'<span class="question">([^<]+)</span> <span class="value">([^<]+)</span>', page)

    # A rebuild replays every visit into the same register, the groups and destinations of the events included.
    live = register()
    assert rebuild_register() == 6   # every visit but the refused one
    db.session.commit()
    assert register() == live
