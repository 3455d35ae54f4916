"""The real questionnaires filled by JavaRosa (ODK Collect's form engine) along their main paths, then sent to
the server exactly as Collect sends them."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from lxml import etree
from pyxform.xls2xform import convert
from sqlalchemy import select

from server.extensions import db
from server.register.models import Household, Person
from sync.visits import (
    HouseholdObservation,
    LifeEvent,
    PersonObservation,
    Visit,
    read_visit,
)
from tests.conftest import ROOT, merge_all, stored_submissions
from tests.formengine import fill_form

XLSFORMS = ROOT / "xlsforms"
FIXTURES = XLSFORMS / "fixtures"
MEDIA = {path.name: path for path in FIXTURES.glob("*.csv")}
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"


def resident_id(birth: str, male: bool, order: int = 1) -> str:
    body = f"510723{birth.replace('-', '')}{order:02d}{1 if male else 2}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]


def fixture_row(list_name: str, **match) -> dict:
    with open(FIXTURES / list_name, newline="") as handle:
        return next(row for row in csv.DictReader(handle) if all(row[k] == v for k, v in match.items()))


@pytest.fixture(scope="module")
def xforms() -> dict[str, bytes]:
    return {name: convert(xlsform=XLSFORMS / f"{name}.xlsx", file_type=".xlsx").xform.encode()
            for name in ("household_visit", "followup")}


@pytest.fixture
def phone(server, create_collector, publish):
    """A collector whose server has both questionnaires and the fixture lists, as the demo publishes them."""
    for name in ("household_visit", "followup"):
        publish(XLSFORMS / f"{name}.xlsx", media=list(MEDIA.values()))
    return server.client(token=create_collector().token)


def known_household(number: str, outcome: str = "completed") -> list[tuple[str, str]]:
    """The first screens of a visit to a household on the list, with consent when the visit happened."""
    answers = [("/data/household_choice/mode", "existing"),
               ("/data/household_choice/household", fixture_row("households.csv", household_no=number)["name"]),
               ("/data/outcome_group/outcome", outcome)]
    return answers + ([("/data/outcome_group/consent", "yes")] if outcome == "completed" else [])


def new_household(number: str, split_from: str | None = None) -> list[tuple[str, str]]:
    """The first screens of registering a household, split off `split_from` (a household UUID) or not."""
    answers = [("/data/household_choice/mode", "new"), ("/data/household_choice/new_household_no", number),
               ("/data/household_choice/new_address", f"东村一组{int(number)}号"),
               ("/data/outcome_group/outcome", "completed"), ("/data/outcome_group/consent", "yes")]
    return answers + ([("/data/split/splits_off", "yes"), ("/data/split/split_from", split_from)] if split_from else [])


def fill(xforms, form: str, answers, media=MEDIA, **kwargs):
    result = fill_form(xforms[form], answers, media=media, **kwargs)
    assert result.ok, result.violations
    return result


def member(n: int, name: str, sex: str, birth: str, relationship: str) -> list[tuple[str, str]]:
    """A new member's answers (reason left to the form: registration in a new household)."""
    return [(f"/data/new_members[{n}]/new_member/person_name_new", name),
            (f"/data/new_members[{n}]/new_member/sex", sex),
            (f"/data/new_members[{n}]/new_member/birth_date", birth),
            (f"/data/new_members[{n}]/new_member/relationship", relationship)]


def phone_media(phone, form_id: str = "household_visit") -> dict[str, bytes]:
    """A form's media as this phone downloads them (the register lists generated for its group)."""
    listed = etree.fromstring(phone.form_list().content)
    url = next(item.findtext("{http://openrosa.org/xforms/xformsList}manifestUrl")
               for item in listed.iterfind(".//{http://openrosa.org/xforms/xformsList}xform")
               if item.findtext("{http://openrosa.org/xforms/xformsList}formID") == form_id)
    return {media.findtext(f"{MANIFEST}filename"): phone.get(media.findtext(f"{MANIFEST}downloadUrl")).content
            for media in etree.fromstring(phone.get(url).content).iterfind(f"{MANIFEST}mediaFile")}


def send(phone, result) -> Visit:
    """Submit as Collect does; returns what the server stored, as read_visit reads it."""
    response = phone.submit(result.xml)
    assert response.status_code == 201, response.text
    stored = {row["instance_id"]: bytes(row["xml"]) for row in stored_submissions()}
    return read_visit(stored[result.value("/data/meta/instanceID")])


def test_known_household_with_no_changes_is_quick_and_accepted(phone, xforms):
    household = fixture_row("households.csv", household_no="001")
    result = fill(xforms, "household_visit", known_household("001") + [
        ("/data/closing/next_visit", (dt.date.today() + dt.timedelta(days=30)).isoformat()),
    ])
    assert result.screens <= 10
    assert result.value("/data/members_now") == "王建国、李秀英、王磊、陈静"
    assert result.value("/data/household_uuid") == household["name"]
    assert result.value("/data/household_base_version") == household["base_version"]
    assert result.value("/data/recording") == "yes"
    send(phone, result)


def test_new_household_with_members_is_registered(phone, xforms):
    head_id = resident_id("1985-06-15", male=True)
    result = fill(xforms, "household_visit", new_household("004") + [
        ("/data/new_members[1]/new_member/person_name_new", "周强"),
        ("/data/new_members[1]/new_member/id_number", head_id),
        ("/data/new_members[1]/new_member/sex", "male"),
        ("/data/new_members[1]/new_member/birth_date", "1985-06-15"),
        ("/data/new_members[1]/new_member/relationship", "head"),
        ("/data/new_members[1]/new_member/phone", "13812340000"),
        ("/data/new_members[2]/new_member/person_name_new", "周小花"),
        ("/data/new_members[2]/new_member/sex", "female"),
        ("/data/new_members[2]/new_member/birth_date", "2015-03-03"),
        ("/data/new_members[2]/new_member/relationship", "child"),
    ])
    uuids = {result.value("/data/new_members[1]/new_person_uuid"), result.value("/data/new_members[2]/new_person_uuid")}
    assert len(uuids) == 2 and all(len(u) == 36 for u in uuids)
    assert len(result.value("/data/household_uuid")) == 36
    assert result.value("/data/household_base_version") == ""
    assert result.value("/data/new_members[1]/new_member/id_number") == head_id
    assert [result.value(f"/data/new_members[{n}]/new_member/reason") for n in (1, 2)] == ["registration"] * 2
    assert result.value("/data/instance_name") == f"004 周强 {dt.date.today().isoformat()}"
    send(phone, result)


def test_birth_with_postpartum_follow_up_need_is_recorded(phone, xforms):
    mother = fixture_row("people.csv", person_name="孙丽")
    born = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    result = fill(xforms, "household_visit", known_household("003") + [
        ("/data/changes/household_events", "birth"),
        ("/data/new_members[1]/new_member/why_new", "birth"),
        ("/data/new_members[1]/new_member/person_name_new", "赵小雨"),
        ("/data/new_members[1]/new_member/sex", "female"),
        ("/data/new_members[1]/new_member/birth_date", born),
        ("/data/new_members[1]/new_member/relationship", "child"),
        ("/data/service_needs", "postpartum_followup"),
        ("/data/postpartum/followup_person", mother["name"]),
        ("/data/postpartum/followup_event_date", born),
    ])
    assert result.value("/data/new_members/new_member/reason") == "birth"
    assert result.value("/data/postpartum/followup_person") == mother["name"]
    send(phone, result)


def test_member_moving_out_is_recorded_with_the_version_seen(phone, xforms):
    member = fixture_row("people.csv", person_name="陈静")
    result = fill(xforms, "household_visit", known_household("001") + [
        ("/data/changes/changed_people", member["name"]),
        ("/data/person_updates[1]/person_update/change", "moved_out"),
        ("/data/person_updates[1]/person_update/event_date", (dt.date.today() - dt.timedelta(days=3)).isoformat()),
        ("/data/person_updates[1]/person_update/destination", "outside"),
        ("/data/person_updates[1]/person_update/place", "四川省成都市"),
    ])
    assert result.value("/data/person_updates/person_uuid") == member["name"]
    assert result.value("/data/person_updates/person_base_version") == member["base_version"]
    [moved] = send(phone, result).people
    assert (moved.fields, moved.event.place, moved.event.destination) == ({"residence": "moved_away"}, "四川省成都市", None)


def test_a_move_names_a_village_of_the_county_from_the_list_or_a_place_outside_written_out(phone, xforms):
    """destinations.csv: full names with "/" and Chinese as the values JavaRosa sends back; a place outside must be
    written, a village of the county needs no more."""
    member = fixture_row("people.csv", person_name="陈静")
    moved_on = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    answers = known_household("001") + [
        ("/data/changes/changed_people", member["name"]),
        ("/data/person_updates[1]/person_update/change", "moved_out"),
        ("/data/person_updates[1]/person_update/event_date", moved_on)]
    result = fill(xforms, "household_visit", answers + [
        ("/data/person_updates[1]/person_update/destination", "青山镇/西村")])
    assert (result.value("/data/person_updates/person_update/destination"),
            result.value("/data/person_updates/person_update/place")) == ("青山镇/西村", "")
    [moved] = send(phone, result).people
    assert moved == PersonObservation(member["name"], int(member["base_version"]), {"residence": "moved_away"},
                                      LifeEvent(kind="moved_out", date=dt.date.fromisoformat(moved_on),
                                                destination="青山镇/西村"))
    unwritten = fill_form(xforms["household_visit"], answers + [
        ("/data/person_updates[1]/person_update/destination", "outside")], media=MEDIA, strict=False)
    assert [(v.kind, v.path, v.message) for v in unwritten.violations] == [
        ("required", "/data/person_updates/person_update/place", "迁往县外时请写明去向。")]
    nowhere = fill_form(xforms["household_visit"], answers, media=MEDIA, strict=False)
    assert [(v.kind, v.path) for v in nowhere.violations] == [
        ("required", "/data/person_updates/person_update/destination")]


def test_someone_expected_is_picked_as_a_member_who_moved_in_and_only_asked_what_is_new(phone, xforms):
    """A member picked from arrivals.csv: the register's person (UUID and the version the phone saw), where they came
    from filled in from the list; name, sex, birth date, ID number, residence and hukou not asked."""
    expected = fixture_row("arrivals.csv", person_name="周婷")
    arrived = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    result = fill(xforms, "household_visit", known_household("002") + [
        ("/data/changes/household_events", "moved_in"),
        ("/data/new_members[1]/new_member/why_new", "moved_in"),
        ("/data/new_members[1]/new_member/arriving_person", expected["name"]),
        ("/data/new_members[1]/new_member/relationship", "child_in_law"),
        ("/data/new_members[1]/new_member/phone", "13912340000"),
        ("/data/new_members[1]/new_member/event_date", arrived),
    ])
    assert [result.value(f"/data/new_members/new_member/{name}") for name in (
        "arriving_person", "arriving_version", "origin", "person_name_new", "sex", "birth_date", "residence",
        "hukou")] == [expected["name"], expected["base_version"], "青山镇 西村", None, None, None, None, None]
    household = fixture_row("households.csv", household_no="002")["name"]
    [person] = send(phone, result).people
    assert person == PersonObservation(
        expected["name"], int(expected["base_version"]),
        {"household": household, "relationship": "child_in_law", "phone": "13912340000", "residence": "here"},
        LifeEvent(kind="moved_in", date=dt.date.fromisoformat(arrived), place="青山镇 西村"), arrival=True)
    # Not on the list: left empty, the stranger is registered with every detail.
    stranger = fill_form(xforms["household_visit"], known_household("002") + [
        ("/data/changes/household_events", "moved_in"), ("/data/new_members[1]/new_member/why_new", "moved_in"),
        ("/data/new_members[1]/new_member/relationship", "other")], media=MEDIA, strict=False)
    assert [(v.kind, v.path) for v in stranger.violations] == [
        ("required", "/data/new_members/new_member/person_name_new")]
    # Nobody expected (an empty list): the question is not asked.
    nobody = fill(xforms, "household_visit", known_household("002") + [
        ("/data/changes/household_events", "moved_in"), ("/data/new_members[1]/new_member/why_new", "moved_in")]
        + member(1, "吴刚", "male", "1979-08-08", "other")
        + [("/data/new_members[1]/new_member/event_date", arrived)],
        media={**MEDIA, "arrivals.csv": "name,label,person_name,sex,birth_date,base_version,origin\n"})
    assert (nobody.value("/data/new_members/new_member/arriving_person"),
            nobody.value("/data/new_members/new_member/person_name_new")) == (None, "吴刚")


def test_member_moving_to_another_household_of_the_group_is_recorded(phone, xforms):
    member = fixture_row("people.csv", person_name="张桂兰")
    target = fixture_row("households.csv", household_no="003")
    moved_on = (dt.date.today() - dt.timedelta(days=5)).isoformat()
    result = fill(xforms, "household_visit", known_household("002") + [
        ("/data/changes/changed_people", member["name"]),
        ("/data/person_updates[1]/person_update/change", "changed_household"),
        ("/data/person_updates[1]/person_update/to_household", target["name"]),
        ("/data/person_updates[1]/person_update/event_date", moved_on),
    ])
    [moved] = send(phone, result).people
    assert moved == PersonObservation(member["name"], int(member["base_version"]), {"household": target["name"]},
                                      LifeEvent(kind="changed_household", date=dt.date.fromisoformat(moved_on)))


def test_moving_to_another_household_offers_only_the_others(xforms):
    household = fixture_row("households.csv", household_no="002")
    result = fill_form(xforms["household_visit"], known_household("002") + [
        ("/data/changes/changed_people", fixture_row("people.csv", person_name="张桂兰")["name"]),
        ("/data/person_updates[1]/person_update/change", "changed_household"),
        ("/data/person_updates[1]/person_update/to_household", household["name"]),
    ], media=MEDIA, strict=False)
    assert [(v.kind, v.path.rsplit("/", 1)[-1]) for v in result.violations] == [("invalid", "to_household")]


def test_household_split_moves_the_chosen_members_with_the_versions_seen(phone, xforms):
    old = fixture_row("households.csv", household_no="001")
    moving = [fixture_row("people.csv", person_name=name) for name in ("王磊", "陈静")]
    result = fill(xforms, "household_visit", new_household("004", split_from=old["name"]) + [
        ("/data/split/split_people", [person["name"] for person in moving]),
    ])
    assert result.value("/data/new_members") is None  # the members move over, they are not registered again
    assert [result.value(f"/data/split_members[{n}]/split_person_base_version") for n in (1, 2)] == [
        person["base_version"] for person in moving]
    visit = send(phone, result)
    household_uuid = result.value("/data/household_uuid")
    assert dict(visit.household.fields) == {"household_no": "004", "address": "东村一组4号", "split_from": old["name"]}
    assert [(p.person_uuid, p.base_version, dict(p.fields), p.event) for p in visit.people] == [
        (person["name"], int(person["base_version"]), {"household": household_uuid},
         LifeEvent(kind="household_split", date=dt.date.today())) for person in moving]


def test_household_split_with_someone_from_outside_the_group(phone, xforms):
    old = fixture_row("households.csv", household_no="001")
    son = fixture_row("people.csv", person_name="王磊")
    result = fill(xforms, "household_visit", new_household("005", split_from=old["name"]) + [
        ("/data/split/split_people", son["name"]),
        ("/data/changes/household_events", "moved_in"),
        ("/data/new_members[1]/new_member/why_new", "moved_in"),
        ("/data/new_members[1]/new_member/person_name_new", "刘芳"),
        ("/data/new_members[1]/new_member/sex", "female"),
        ("/data/new_members[1]/new_member/birth_date", "1996-08-08"),
        ("/data/new_members[1]/new_member/relationship", "spouse"),
        ("/data/new_members[1]/new_member/event_date", (dt.date.today() - dt.timedelta(days=20)).isoformat()),
        ("/data/new_members[1]/new_member/origin", "西村三组"),
    ])
    visit = send(phone, result)
    assert [(p.person_uuid, p.event.kind) for p in visit.people] == [
        (son["name"], "household_split"), (result.value("/data/new_members/new_person_uuid"), "moved_in")]


def test_follow_up_done_from_the_due_list(phone, xforms):
    due = fixture_row("due.csv", person_name="孙丽", due_type="postpartum")
    result = fill(xforms, "followup", [
        ("/data/who/due_item", due["name"]),
        ("/data/visit/outcome", "completed"),
        ("/data/services/services_given", "postpartum_care health_guidance"),
        ("/data/services/referral", "no"),
        ("/data/closing/next_date", (dt.date.today() + dt.timedelta(days=14)).isoformat()),
    ])
    assert result.value("/data/visit/followup_type") == "postpartum"  # prefilled from the due list
    assert result.value("/data/person_uuid") == due["person"]
    assert result.value("/data/person_base_version") == due["base_version"]
    send(phone, result)


def test_nobody_home_records_only_the_outcome(phone, xforms):
    result = fill(xforms, "household_visit", known_household("002", outcome="nobody_home"))
    assert result.screens <= 4
    assert result.value("/data/recording") == "no"
    send(phone, result)


@pytest.mark.parametrize("language, message", [("中文 (zh)", "身份证号码不正确"), ("English (en)", "The ID number is not valid")])
def test_id_number_with_a_wrong_check_character_is_refused_at_the_door(xforms, language, message):
    good = resident_id("1985-06-15", male=True)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    result = fill_form(xforms["household_visit"], new_household("005") + [
        ("/data/new_members[1]/new_member/person_name_new", "钱进"),
        ("/data/new_members[1]/new_member/id_number", bad),
    ], media=MEDIA, language=language, strict=False)
    assert not result.ok
    [violation] = result.violations
    assert (violation.kind, violation.path.endswith("/id_number")) == ("constraint", True)
    assert message in violation.message


def test_sex_that_contradicts_the_id_number_is_refused(xforms):
    result = fill_form(xforms["household_visit"], new_household("006") + [
        ("/data/new_members[1]/new_member/person_name_new", "孙红"),
        ("/data/new_members[1]/new_member/id_number", resident_id("1990-01-01", male=True)),
        ("/data/new_members[1]/new_member/sex", "female"),
    ], media=MEDIA, strict=False)
    assert [(v.kind, v.path.rsplit("/", 1)[-1]) for v in result.violations] == [("constraint", "sex")]
    assert "性别与身份证号码不一致" in result.violations[0].message


def test_mobile_phone_in_the_wrong_format_is_refused(xforms):
    result = fill_form(xforms["household_visit"], new_household("007") + [
        ("/data/new_members[1]/new_member/person_name_new", "李四"),
        ("/data/new_members[1]/new_member/sex", "male"),
        ("/data/new_members[1]/new_member/birth_date", "1980-02-02"),
        ("/data/new_members[1]/new_member/relationship", "head"),
        ("/data/new_members[1]/new_member/phone", "1234567"),
    ], media=MEDIA, strict=False)
    assert [(v.kind, v.path.rsplit("/", 1)[-1]) for v in result.violations] == [("constraint", "phone")]


def test_a_household_picked_then_switched_to_new_gets_its_own_uuid_and_the_picked_one_is_unchanged(phone, xforms):
    """The collector picks a household of the list, goes back and registers a new household instead: the new one
    gets a UUID of its own (never the picked one's), and the picked household keeps its number, address and
    people."""
    registered = fill(xforms, "household_visit", new_household("008") + member(1, "吴刚", "male", "1979-08-08", "head"))
    send(phone, registered)
    merge_all()
    media = phone_media(phone)
    picked = next(csv.DictReader(io.StringIO(media["households.csv"].decode())))
    assert (picked["household_no"], picked["head_name"]) == ("008", "吴刚")
    result = fill(xforms, "household_visit", new_household("009") + member(1, "周强", "male", "1985-06-15", "head"),
                  media=media, earlier=[("/data/household_choice/mode", "existing"),
                                        ("/data/household_choice/household", picked["name"])])
    assert "back-to-start" in result.trace
    new_uuid = result.value("/data/household_uuid")
    assert len(new_uuid) == 36 and new_uuid != picked["name"]
    assert new_uuid == result.value("/data/new_household_uuid")
    assert (result.value("/data/household_base_version"), result.value("/data/household_no"),
            result.value("/data/head_name")) == ("", "009", "周强")
    assert result.value("/data/instance_name") == f"009 周强 {dt.date.today().isoformat()}"
    assert send(phone, result).household == HouseholdObservation(new_uuid, None, {"household_no": "009",
                                                                                  "address": "东村一组9号"})
    merge_all()
    households = {h.uuid: (h.household_no, h.address, h.version) for h in db.session.scalars(select(Household))}
    assert households == {picked["name"]: ("008", "东村一组8号", 1), new_uuid: ("009", "东村一组9号", 1)}
    assert sorted((p.name, p.household_uuid) for p in db.session.scalars(select(Person))) == [
        ("吴刚", picked["name"]), ("周强", new_uuid)]
    db.session.rollback()


def test_a_birth_in_a_known_household_is_recorded_as_a_birth_and_the_reason_is_asked(phone, xforms):
    born = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    answers = known_household("002") + [("/data/changes/household_events", "birth")] + member(
        1, "刘小宝", "male", born, "grandchild")
    unanswered = fill_form(xforms["household_visit"], answers, media=MEDIA, strict=False)
    assert [(v.kind, v.path) for v in unanswered.violations] == [
        ("required", "/data/new_members/new_member/why_new")]  # never a hidden "registration"
    result = fill(xforms, "household_visit", answers + [("/data/new_members[1]/new_member/why_new", "birth")])
    assert result.value("/data/new_members/new_member/reason") == "birth"
    [baby] = send(phone, result).people
    assert baby.event == LifeEvent(kind="birth", date=dt.date.fromisoformat(born))


def test_members_of_a_new_household_are_registered_unless_born_or_moved_in(xforms):
    result = fill(xforms, "household_visit", new_household("004") + member(1, "周强", "male", "1985-06-15", "head")
                  + member(2, "周宝", "male", (dt.date.today() - dt.timedelta(days=2)).isoformat(), "child")
                  + [("/data/new_members[2]/new_member/why_new", "birth")])
    assert [result.value(f"/data/new_members[{n}]/new_member/reason") for n in (1, 2)] == ["registration", "birth"]


def test_the_saved_form_is_named_by_household_number_head_and_date(xforms):
    result = fill(xforms, "household_visit", known_household("002", outcome="nobody_home"))
    assert result.value("/data/instance_name") == f"002 张桂兰 {dt.date.today().isoformat()}"


@pytest.mark.parametrize("due_by_days_ago, overdue_days, days_left, notes", [
    (65, "65", "-65", ["overdue_note"]), (0, "0", "0", ["due_note"]), (-3, "-3", "3", ["due_note"])])
def test_the_phone_counts_the_days_overdue_from_its_own_today(xforms, due_by_days_ago, overdue_days, days_left, notes):
    """JavaRosa's today() is the machine's date: the list's due date is set that many days before it."""
    due_by = (dt.date.today() - dt.timedelta(days=due_by_days_ago)).isoformat()
    due_list = ("name,label,person,household,person_name,due_type,due_since,due_by,last_visit,base_version,item\n"
                f"d1,孙丽：产后随访（应于{due_by}前）,p1,h1,孙丽,postpartum,2026-01-01,{due_by},,2,\n")
    result = fill_form(xforms["followup"], [("/data/who/due_item", "d1"), ("/data/visit/outcome", "nobody_home")],
                       media={**MEDIA, "due.csv": due_list})
    assert result.ok, result.violations
    assert (result.value("/data/due_by"), result.value("/data/overdue_days"), result.value("/data/days_left")) == (
        due_by, overdue_days, days_left)
    assert [name for name in ("overdue_note", "due_note") if result.value(f"/data/visit/{name}") is not None] == notes


def test_follow_up_with_a_referral_and_supplies_records_purpose_place_reason_and_items(phone, xforms):
    due = fixture_row("due.csv", person_name="孙丽", due_type="postpartum")
    result = fill(xforms, "followup", [
        ("/data/who/due_item", due["name"]),
        ("/data/visit/outcome", "completed"),
        ("/data/services/services_given", "postpartum_care supplies"),
        ("/data/services/referral", "yes"),
        ("/data/services/referral_purpose", "health_centre"),
        ("/data/services/referral_place", "青山镇卫生院"),
        ("/data/services/referral_reason", "产后42天复查"),
        ("/data/supplies[1]/supply/item", "folic_acid"),
        ("/data/supplies[1]/supply/quantity", "2"),
    ])
    assert [result.value(path) for path in (
        "/data/services/services_given", "/data/services/referral", "/data/services/referral_purpose",
        "/data/services/referral_place", "/data/services/referral_reason", "/data/supplies[1]/supply/item",
        "/data/supplies[1]/supply/quantity", "/data/supplies[2]/supply/item", "/data/referral_item",
        "/data/referral_followup/referral_result")] == [
        "postpartum_care supplies", "yes", "health_centre", "青山镇卫生院", "产后42天复查", "folic_acid", "2", None, "",
        None]
    assert result.value("/data/services/referral_to") is None  # replaced by purpose and place in 2026120501
    assert result.root.get("version") == "2026120501"
    send(phone, result)


def test_a_referral_is_required_to_say_what_for_and_where(xforms):
    due = fixture_row("due.csv", person_name="孙丽", due_type="postpartum")
    result = fill_form(xforms["followup"], [
        ("/data/who/due_item", due["name"]), ("/data/visit/outcome", "completed"),
        ("/data/services/services_given", "health_guidance"), ("/data/services/referral", "yes"),
    ], media=MEDIA, strict=False)
    assert [(v.kind, v.path) for v in result.violations] == [("required", "/data/services/referral_purpose")]


def test_follow_up_of_a_referral_from_the_due_list_records_the_referral_and_its_result(phone, xforms):
    due = fixture_row("due.csv", person_name="孙丽", due_type="referral")
    result = fill(xforms, "followup", [
        ("/data/who/due_item", due["name"]),
        ("/data/visit/outcome", "completed"),
        ("/data/referral_followup/referral_result", "attended"),
        ("/data/services/services_given", "health_guidance"),
        ("/data/services/referral", "no"),
    ])
    assert [result.value(path) for path in (
        "/data/due_type", "/data/visit/followup_type", "/data/referral_item", "/data/referral_followup/referral_result",
        "/data/person_uuid", "/data/services/referral_purpose")] == [
        "referral", "referral", "uuid:3f2a9c7e-0000-4000-8000-000000000001#1", "attended", due["person"], None]
    send(phone, result)


def test_the_result_of_a_referral_is_asked_only_when_the_follow_up_happened(xforms):
    due = fixture_row("due.csv", person_name="孙丽", due_type="referral")
    result = fill(xforms, "followup", [("/data/who/due_item", due["name"]), ("/data/visit/outcome", "nobody_home")])
    assert (result.value("/data/referral_item"), result.value("/data/referral_followup")) == (
        "uuid:3f2a9c7e-0000-4000-8000-000000000001#1", None)


def test_household_visit_records_services_given_supplies_for_a_person_and_a_family_benefit_request(phone, xforms):
    household = fixture_row("households.csv", household_no="001")
    daughter_in_law = fixture_row("people.csv", person_name="陈静")
    head = fixture_row("people.csv", person_name="王建国")
    result = fill(xforms, "household_visit", known_household("001") + [
        ("/data/service_needs", "supplies family_benefit"),
        ("/data/services_given_group/services_given", "health_guidance other"),
        ("/data/services_given_group/services_other", "帮助预约体检"),
        ("/data/supplies[1]/supply/supply_person", daughter_in_law["name"]),
        ("/data/supplies[1]/supply/item", "folic_acid"),
        ("/data/supplies[1]/supply/quantity", "3"),
        ("/data/supplies[1]/supply/given", "yes"),
        ("/data/support/benefit_kind", "special"),
        ("/data/support/support_person", head["name"]),
        ("/data/support/support_details", "独生子女伤残，申请特别扶助"),
    ])
    assert [result.value(path) for path in (
        "/data/household_uuid", "/data/services_given_group/services_given", "/data/services_given_group/services_other",
        "/data/supplies[1]/supply/supply_person", "/data/supplies[1]/supply/supply_person_name",
        "/data/supplies[1]/supply/item", "/data/supplies[1]/supply/quantity", "/data/supplies[1]/supply/given",
        "/data/support/benefit_kind", "/data/support/support_person", "/data/support/support_person_name",
        "/data/support/support_details")] == [
        household["name"], "health_guidance other", "帮助预约体检", daughter_in_law["name"], None, "folic_acid", "3",
        "yes", "special", head["name"], None, "独生子女伤残，申请特别扶助"]
    assert result.root.get("version") == "2026120502"
    send(phone, result)


def test_services_given_may_be_left_empty_and_support_without_a_family_benefit_asks_no_kind(xforms):
    result = fill(xforms, "household_visit", known_household("002") + [
        ("/data/service_needs", "elderly_support"),
        ("/data/support/support_details", "独居老人，需要定期探望"),
    ])
    assert [result.value(path) for path in (
        "/data/services_given_group/services_given", "/data/services_given_group/services_other",
        "/data/support/benefit_kind", "/data/support/support_person")] == ["", None, None, ""]


def test_supplies_are_asked_for_by_someone_of_the_household(xforms):
    outsider = fixture_row("people.csv", person_name="张桂兰")
    answers = known_household("001") + [("/data/service_needs", "supplies"),
                                         ("/data/supplies[1]/supply/item", "condoms"),
                                         ("/data/supplies[1]/supply/quantity", "5"),
                                         ("/data/supplies[1]/supply/given", "yes")]
    unanswered = fill_form(xforms["household_visit"], answers, media=MEDIA, strict=False)
    assert [(v.kind, v.path) for v in unanswered.violations] == [("required", "/data/supplies/supply/supply_person")]
    picked_elsewhere = fill_form(xforms["household_visit"], answers + [
        ("/data/supplies[1]/supply/supply_person", outsider["name"])], media=MEDIA, strict=False)
    assert [(v.kind, v.path.rsplit("/", 1)[-1]) for v in picked_elsewhere.violations] == [("invalid", "supply_person")]


def test_a_new_household_names_who_asked_for_supplies_and_for_whom_support_is_requested(xforms):
    result = fill(xforms, "household_visit", new_household("004") + member(1, "周强", "male", "1985-06-15", "head") + [
        ("/data/service_needs", "supplies family_benefit"),
        ("/data/supplies[1]/supply/supply_person_name", "周强"),
        ("/data/supplies[1]/supply/item", "condoms"),
        ("/data/supplies[1]/supply/quantity", "10"),
        ("/data/supplies[1]/supply/given", "no"),
        ("/data/support/benefit_kind", "reward"),
        ("/data/support/support_person_name", "周强"),
        ("/data/support/support_details", "申请农村计生家庭奖励扶助"),
    ])
    assert [result.value(path) for path in (
        "/data/supplies[1]/supply/supply_person", "/data/supplies[1]/supply/supply_person_name",
        "/data/support/benefit_kind", "/data/support/support_person", "/data/support/support_person_name")] == [
        None, "周强", "reward", None, "周强"]
