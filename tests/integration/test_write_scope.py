"""Writes stay in the writer's area: every record a submission, decision, undo or replication call names is checked
against the sender's area before anything changes. Each test names records of another group, another village and
another town, and asserts the refusal and an unchanged register (and that a rebuild agrees)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid

import pytest
import requests
from lxml import etree
from requests.auth import HTTPDigestAuth
from sqlalchemy import select

from server.areas.operations import ensure_area
from server.areas.queries import by_full_name
from server.database import commit
from server.extensions import db
from server.register import queries as register_queries
from server.register.decisions import move_household, resolve_conflict, review_visit, set_tier, undo_decision
from server.register.models import (
    DuplicateCandidate,
    RegisterConflict,
    RegisterDecision,
    Visit,
)
from server.register.replays import rebuild_register
from server.submissions.models import Submission
from server.users.queries import principal_by_username
from sync.errors import OutsideArea
from sync.scope import REFUSALS
from tests.conftest import ROOT, merge_all
from tests.register_visits import Member, followup_visit, household_visit
from tests.web import WebClient

XLSFORMS = ROOT / "xlsforms"
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone.utc)
PASSWORD = "correct horse battery"
OWN = "青山镇/东村/第一组"
OTHERS = {"group": "青山镇/东村/第二组", "village": "青山镇/西村/第一组", "town": "白水镇/南村/第一组"}
START = "2026-11-01T09:00:00.000+08:00"
LATER = "2026-11-10T09:00:00.000+08:00"


def place_uuid(place: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"write-scope/{place}/{name}"))


@pytest.fixture
def world(server, create_collector, publish):
    """A collector per place (our group and the three others), each place with one registered household of two
    people; the cadres of 东村 and 西村, the town officers of 青山镇 and 白水镇."""
    publish(XLSFORMS / "household_visit.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    publish(XLSFORMS / "followup.xlsx", media=list((XLSFORMS / "fixtures").glob("*.csv")))
    phones = {}
    for place, area in {"own": OWN, **OTHERS}.items():
        phones[place] = server.client(token=create_collector(area, username=f"collector_{place}").token)
        send(phones[place], household_visit(
            household=place_uuid(place, "household"), new=(f"0{len(phones)}", f"{place}号"), start=START,
            members=[Member("王秀英" if place == "own" else f"李{place}", "female", "1975-05-06",
                            uuid=place_uuid(place, "head")),
                     Member("王刚" if place == "own" else f"李{place}子", "male", "2000-01-02", relationship="child",
                            uuid=place_uuid(place, "child"))]))
    for username, role, area in (("dongcun_cadre", "village_cadre", "青山镇/东村"),
                                 ("xicun_cadre", "village_cadre", "青山镇/西村"),
                                 ("qingshan_officer", "town_officer", "青山镇"),
                                 ("baishui_officer", "town_officer", "白水镇")):
        create_collector(area, username=username, role=role, password=PASSWORD)
    merge_all(NOW)
    return phones


def send(phone, xml: bytes) -> None:
    assert phone.submit(xml).status_code == 201


def snapshot() -> dict:
    shot = register_queries.register_snapshot()
    db.session.rollback()
    return shot


def refusals() -> list[str | None]:
    found = list(db.session.scalars(select(Visit.refusal).order_by(Visit.submission_id)))
    db.session.rollback()
    return found


def assert_rebuild_agrees() -> None:
    live = snapshot()
    rebuild_register()
    commit()
    assert snapshot() == live


def signed_in(server, username: str) -> WebClient:
    client = WebClient(server.url)
    assert client.sign_in(username, PASSWORD).status_code == 302
    return client


# ---- submissions: the merge refuses a visit naming records of another group -----------------------------------

def visit_renaming(place: str) -> bytes:
    """Our collector visits another place's household and corrects its head's name and ID number."""
    return household_visit(household=place_uuid(place, "household"), base_version=1, start=LATER, updates=[
        dict(person_uuid=place_uuid(place, "head"), base_version=1, change="details_corrected",
             name_corrected="改掉的名字", id_number_corrected="110101197505060020")])


def own_household_naming(place: str, **kwargs) -> bytes:
    """Our own household visited, with an update of another place's person slipped in."""
    return household_visit(household=place_uuid("own", "household"), base_version=1, start=LATER, **kwargs, updates=[
        dict(person_uuid=place_uuid(place, "head"), base_version=1, change="details_corrected",
             name_corrected="改掉的名字")])


def moving_their_person_in(place: str) -> bytes:
    return household_visit(household=place_uuid("own", "household"), base_version=1, start=LATER, updates=[
        dict(person_uuid=place_uuid(place, "head"), base_version=1, change="changed_household",
             to_household=place_uuid("own", "household"))])


def moving_our_person_out(place: str) -> bytes:
    return household_visit(household=place_uuid("own", "household"), base_version=1, start=LATER, updates=[
        dict(person_uuid=place_uuid("own", "child"), base_version=1, change="changed_household",
             to_household=place_uuid(place, "household"))])


def new_household_taking_their_uuid(place: str) -> bytes:
    """A "new household" naming another place's household: it would be renumbered and moved into our group."""
    return household_visit(household=place_uuid(place, "household"), new=("099", "我们组99号"), start=LATER,
                           members=[Member("新户主", "male", "1980-03-04")])


def splitting_their_household(place: str) -> bytes:
    return household_visit(household=str(uuid.uuid4()), new=("098", "分出来的户"), start=LATER,
                           split_from=place_uuid(place, "household"), split_members={place_uuid(place, "child"): 1})


def following_up_their_person(place: str) -> bytes:
    return followup_visit(person=place_uuid(place, "head"), household=place_uuid(place, "household"),
                          followup_type="postpartum", start=LATER)


VISITS = {visit.__name__: (visit, reason) for visit, reason in (
    (visit_renaming, "household_elsewhere"), (own_household_naming, "person_elsewhere"),
    (moving_their_person_in, "person_elsewhere"), (moving_our_person_out, "household_elsewhere"),
    (new_household_taking_their_uuid, "new_household_exists"), (splitting_their_household, "household_elsewhere"),
    (following_up_their_person, "household_elsewhere"))}


@pytest.mark.parametrize("place", sorted(OTHERS))
@pytest.mark.parametrize("visit", sorted(VISITS))
def test_a_visit_naming_another_places_records_is_refused_and_changes_nothing(server, world, visit, place):
    before = snapshot()
    make, reason = VISITS[visit]
    send(world["own"], make(place))
    merge_all(NOW)
    assert snapshot() == before
    assert refusals() == [None, None, None, None, reason]
    assert_rebuild_agrees()
    assert refusals() == [None, None, None, None, reason]


def test_the_collector_does_not_get_another_groups_people_on_the_phone_after_a_refused_takeover(server, world):
    send(world["own"], new_household_taking_their_uuid("town"))
    merge_all(NOW)
    households = phone_list(world["own"], "households.csv")
    assert [row["name"] for row in households] == [place_uuid("own", "household")]
    people = phone_list(world["own"], "people.csv")
    assert sorted(row["name"] for row in people) == sorted([place_uuid("own", "head"), place_uuid("own", "child")])


def phone_list(phone, name: str) -> list[dict]:
    """A list file of the household visit form's media, as Collect downloads it."""
    ns = {"x": "http://openrosa.org/xforms/xformsList", "m": "http://openrosa.org/xforms/xformsManifest"}
    forms = etree.fromstring(phone.form_list().content)
    manifest_url = forms.xpath("//x:xform[x:formID='household_visit']/x:manifestUrl/text()", namespaces=ns)[0]
    manifest = etree.fromstring(phone.get(manifest_url).content)
    url = manifest.xpath(f"//m:mediaFile[m:filename='{name}']/m:downloadUrl/text()", namespaces=ns)[0]
    return list(csv.DictReader(io.StringIO(phone.get(url).content.decode("utf-8-sig"))))


def test_switching_an_existing_household_to_new_on_the_phone_does_not_overwrite_it(server, world):
    """The form once kept the picked household's uuid for a "new household": the server no longer merges such a
    visit onto the household (it waits for the cadre, with the reason)."""
    before = snapshot()
    send(world["own"], household_visit(household=place_uuid("own", "household"), new=("077", "别处77号"),
                                       start=LATER, members=[Member("张桂兰", "female", "1950-01-01")]))
    merge_all(NOW)
    assert snapshot() == before
    assert refusals()[-1] == "new_household_exists"


def test_the_cadre_sees_the_refused_visit_and_why(server, world):
    send(world["own"], visit_renaming("town"))
    merge_all(NOW)
    cadre = signed_in(server, "dongcun_cadre")
    inbox = cadre.get("/inbox", headers={"Accept-Language": "zh"})
    assert inbox.text.count("未并入台账") == 1
    (refused,) = db.session.scalars(select(Visit.submission_id).where(Visit.refusal.is_not(None)))
    db.session.rollback()
    page = cadre.get(f"/visits/{refused}", headers={"Accept-Language": "zh"})
    assert REFUSALS["household_elsewhere"][0] in page.text


def test_a_refused_edit_leaves_the_version_it_replaces_in_force(server, world):
    instance_id = "uuid:our-correction"
    send(world["own"], household_visit(household=place_uuid("own", "household"), base_version=1, start=LATER,
                                       instance_id=instance_id, updates=[dict(
                                           person_uuid=place_uuid("own", "head"), base_version=1,
                                           change="details_corrected", phone_now="13800000001")]))
    merge_all(NOW)
    corrected = snapshot()
    send(world["own"], own_household_naming("town", deprecated_id=instance_id))
    merge_all(NOW)
    assert snapshot() == corrected
    assert refusals()[-1] == "person_elsewhere"
    assert_rebuild_agrees()


def test_an_undone_move_lets_a_refused_visit_in_and_a_rebuild_agrees(server, world):
    """The verdict is the register's at the visit's place: once another group's household is moved into ours by
    the town office, our visit to it is merged; the move undone, it is refused again."""
    officer = principal_by_username("qingshan_officer")
    group = by_full_name(OWN).id
    decision = move_household(officer, place_uuid("group", "household"), group, now=NOW)
    commit()
    send(world["own"], visit_renaming("group"))
    merge_all(NOW)
    assert refusals()[-1] is None
    assert_rebuild_agrees()
    undo_decision(officer, decision, now=NOW)
    commit()
    assert refusals()[-1] == "household_elsewhere"
    assert_rebuild_agrees()


# ---- decisions and their undoing are area-checked ---------------------------------------------------------------

def decisions_of_every_kind(world) -> dict[str, int]:
    """One decision of each kind about the records of 白水镇 (made by its town officer)."""
    officer = principal_by_username("baishui_officer")
    town_household, town_head = place_uuid("town", "household"), place_uuid("town", "head")
    send(world["town"], household_visit(household=place_uuid("town", "household"), base_version=1, start=LATER,
                                        updates=[dict(person_uuid=town_head, base_version=1,
                                                      change="details_corrected", phone_now="13911111111")]))
    send(world["town"], household_visit(household=place_uuid("town", "household"), base_version=1,
                                        start="2026-11-11T09:00:00.000+08:00",
                                        updates=[dict(person_uuid=town_head, base_version=1,
                                                      change="details_corrected", phone_now="13922222222")]))
    merge_all(NOW)
    conflict = db.session.scalar(select(RegisterConflict.id).where(RegisterConflict.record_uuid == town_head))
    ids = {"set_field": resolve_conflict(officer, conflict, "13933333333", now=NOW),
           "set_tier": set_tier(officer, town_head, "key", tiers=("key", "general", "followup"), now=NOW)}
    second_group = ensure_area("白水镇/南村/第二组")
    ids["move_household"] = move_household(officer, town_household, second_group.id, now=NOW)
    submission = db.session.scalar(select(Visit.submission_id).where(Visit.household_uuid == town_household)
                                   .order_by(Visit.submission_id.desc()))
    review_visit(officer, submission, "rejected", now=NOW)
    ids["reject_visit"] = db.session.scalar(select(RegisterDecision.id).where(RegisterDecision.kind == "reject_visit"))
    commit()
    return ids


def test_nobody_undoes_another_towns_decisions_by_their_id(server, world):
    ids = decisions_of_every_kind(world)
    group = by_full_name("白水镇/南村/第一组").path
    assert dict(db.session.execute(select(RegisterDecision.kind, RegisterDecision.area_path)).all()) == {
        "set_field": group, "set_tier": by_full_name("白水镇/南村").path, "move_household": group,
        "reject_visit": group}
    db.session.rollback()
    before = snapshot()
    for username in ("dongcun_cadre", "qingshan_officer"):
        client = signed_in(server, username)
        for kind, decision_id in ids.items():
            response = client.post(f"/decisions/{decision_id}/undo", {}, allow_redirects=False)
            assert (kind, response.status_code) == (kind, 403)
    assert db.session.scalars(select(RegisterDecision.undone_at)).all() == [None] * 4
    db.session.rollback()
    assert snapshot() == before
    # The town's own officer may.
    client = signed_in(server, "baishui_officer")
    assert client.post(f"/decisions/{ids['set_field']}/undo", {}, allow_redirects=False).status_code == 302


def test_a_decision_whose_area_is_unknown_is_refused(server, world):
    ids = decisions_of_every_kind(world)
    db.session.execute(RegisterDecision.__table__.update().where(RegisterDecision.id == ids["set_tier"])
                       .values(area_path=None))
    commit()
    with pytest.raises(OutsideArea):
        undo_decision(principal_by_username("baishui_officer"), ids["set_tier"], now=NOW)
    db.session.rollback()


def conflicting_moves(world) -> int:
    """Two visits of our group move our child to two different households of ours: a conflict on "household"."""
    targets = [place_uuid("own", f"household-{number}") for number in (2, 3)]
    for number, target in zip((2, 3), targets):
        send(world["own"], household_visit(household=target, new=(f"0{number}", f"{number}号"), start=START,
                                           members=[Member(f"赵{number}", "male", "1970-01-01")]))
    for hour, target in zip((10, 11), targets):
        send(world["own"], household_visit(
            household=place_uuid("own", "household"), base_version=1, start=f"2026-11-0{hour - 8}T09:00:00+08:00",
            updates=[dict(person_uuid=place_uuid("own", "child"), base_version=1, change="changed_household",
                          to_household=target)]))
    merge_all(NOW)
    conflict = db.session.scalar(select(RegisterConflict.id).where(RegisterConflict.field == "household"))
    db.session.rollback()
    return conflict


def test_a_conflict_is_not_settled_with_a_household_of_another_area(server, world):
    conflict = conflicting_moves(world)
    assert conflict is not None
    cadre = signed_in(server, "dongcun_cadre")
    page = cadre.get("/conflicts").text
    section = re.search(rf'<section class="conflict" id="conflict-{conflict}">.*?</section>', page, re.S).group(0)
    assert section.count('type="radio"') == 2 and "__other__" not in section   # one of the two households, no typing
    before = snapshot()
    for place in ("village", "town"):
        response = cadre.post(f"/conflicts/{conflict}", {"value": "__other__",
                                                         "other": place_uuid(place, "household")},
                              allow_redirects=False)
        assert response.status_code == 403
    response = cadre.post(f"/conflicts/{conflict}", {"value": "__other__", "other": str(uuid.uuid4())})
    assert response.status_code == 200   # refused with a message on the conflicts page
    assert '<li class="flash error">无法执行这个操作：记录已被处理，或不在同一个村。</li>' in response.text
    assert snapshot() == before
    response = cadre.post(f"/conflicts/{conflict}", {"value": place_uuid("own", "household")},
                          allow_redirects=False)
    assert response.status_code == 302


# ---- duplicate pairs whose records moved away ----------------------------------------------------------------

def test_a_pair_whose_record_moved_to_another_village_is_neither_shown_nor_decidable_there(server, world):
    send(world["own"], household_visit(household=place_uuid("own", "twin-household"), new=("03", "三号"), start=START,
                                       members=[Member("王秀瑛", "female", "1975-05-06")]))
    merge_all(NOW)
    (candidate,) = db.session.scalars(select(DuplicateCandidate.id).where(DuplicateCandidate.state == "open"))
    db.session.rollback()
    cadre = signed_in(server, "dongcun_cadre")
    assert f'/duplicates/{candidate}"' in cadre.get("/duplicates").text
    # The town office moves the twin's household to 西村.
    move_household(principal_by_username("qingshan_officer"), place_uuid("own", "twin-household"),
                   by_full_name(OTHERS["village"]).id, now=NOW)
    commit()
    assert f'/duplicates/{candidate}"' not in cadre.get("/duplicates").text
    assert f'/duplicates/{candidate}"' not in signed_in(server, "xicun_cadre").get("/duplicates").text
    for action in ({"action": "distinct"}, {"action": "merge", "keep": place_uuid("own", "head")}):
        assert cadre.post(f"/duplicates/{candidate}", action, allow_redirects=False).status_code == 403
    assert db.session.scalar(select(DuplicateCandidate.state).where(DuplicateCandidate.id == candidate)) == "open"
    db.session.rollback()


# ---- replication: a town sends only its own town's records ------------------------------------------------------

def replicate_decision(server, username: str, **decision) -> tuple[int, dict]:
    body = {"uuid": str(uuid.uuid4()), "decided_at": "2026-11-20T01:00:00Z", "undone_at": None,
            "after_instance_id": None, "field": None, "automatic": False, **decision}
    response = requests.post(f"{server.url}/api/v1/replication/decisions", json=body,
                             auth=HTTPDigestAuth(username, PASSWORD), timeout=30)
    return response.status_code, response.json()


def test_a_town_cannot_replicate_decisions_about_another_towns_records(server, world):
    before = snapshot()
    for kind, subject, target, field in (
            ("set_field", place_uuid("town", "head"), "篡改", "person:name"),
            ("set_tier", place_uuid("town", "head"), "key", None),
            ("merge_people", place_uuid("town", "head"), place_uuid("own", "head"), None),
            ("move_household", place_uuid("town", "household"), OWN, None),
            ("move_household", place_uuid("own", "household"), "白水镇/南村/第一组", None)):
        status, body = replicate_decision(server, "qingshan_officer", kind=kind, subject=subject, target=target,
                                          field=field)
        assert (kind, status, body["code"]) == (kind, 403, "403.1")
    assert snapshot() == before


@pytest.mark.parametrize("field, target, status", [
    ("person:secret", "x", 409), ("household:group", "青山镇/东村", 400),
    ("household:group", "白水镇/南村/第一组", 403), ("household:group", "青山镇/东村/" + "组" * 101, 400),
    ("nonsense", "x", 409)])
def test_a_replicated_decision_with_a_bad_field_or_group_is_a_clear_client_error(server, world, field, target,
                                                                                 status):
    subject = place_uuid("own", "household") if field.startswith("household") else place_uuid("own", "head")
    code, body = replicate_decision(server, "qingshan_officer", kind="set_field", subject=subject, target=target,
                                    field=field)
    assert (code, body["code"].split(".")[0]) == (status, str(status))


def test_the_decision_feed_does_not_name_another_towns_instance_ids(server, world):
    town_visits = {row for row in db.session.scalars(select(Visit.submission_id))}
    db.session.rollback()
    send(world["town"], household_visit(household=place_uuid("town", "household"), base_version=1, start=LATER,
                                        instance_id="uuid:baishui-secret-visit",
                                        updates=[dict(person_uuid=place_uuid("town", "head"), base_version=1,
                                                      change="details_corrected", phone_now="13955555555")]))
    merge_all(NOW)
    set_tier(principal_by_username("qingshan_officer"), place_uuid("own", "head"), "key",
             tiers=("key", "general", "followup"), now=NOW)
    commit()
    feed = requests.get(f"{server.url}/api/v1/replication/decisions", params={"after": 0},
                        auth=HTTPDigestAuth("qingshan_officer", PASSWORD), timeout=30).json()
    assert town_visits
    (decision,) = feed["decisions"]
    assert decision["after_instance_id"] != "uuid:baishui-secret-visit"
    assert "baishui-secret-visit" not in str(feed)


def replicate_submission(server, username: str, area: str, xml: bytes) -> requests.Response:
    return requests.post(f"{server.url}/api/v1/replication/submissions", params={
        "area": area, "collector": "town-collector", "received_at": "2026-11-20T09:00:00+08:00"},
        files={"xml_submission_file": ("submission.xml", xml, "text/xml")},
        auth=HTTPDigestAuth(username, PASSWORD), timeout=30)


def test_a_town_replicates_only_its_own_groups_and_their_visits_stay_in_their_group(server, world):
    """A town's submission for another town's group is refused at the door; one of its own groups that names
    another town's records is kept raw and refused by the merge, as the town's own merge refused it."""
    before = snapshot()
    refused = replicate_submission(server, "qingshan_officer", OTHERS["town"], visit_renaming("group"))
    assert (refused.status_code, refused.json()["code"]) == (403, "403.1")
    stored = replicate_submission(server, "qingshan_officer", OWN, visit_renaming("town"))
    assert stored.status_code == 201
    merge_all(NOW)
    assert snapshot() == before
    assert refusals()[-1] == "household_elsewhere"
    ours = db.session.scalar(select(Submission.instance_id).order_by(Submission.id.desc()))
    db.session.rollback()
    edit = replicate_submission(server, "qingshan_officer", OTHERS["group"], household_visit(
        household=place_uuid("group", "household"), base_version=1, start=LATER, deprecated_id=ours))
    assert (edit.status_code, edit.json()["code"]) == (403, "403.4")
