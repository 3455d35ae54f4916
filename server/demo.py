"""Demo data for a first look: one town, two villages, three groups, a collector each, a village cadre and a town
officer (whose home page is the town's dashboard), the forms in xlsforms/, a register built from demo registration
visits (tiers and a birth, so the due lists show), and visits that carry a service record (supplies, referrals,
support requests, services, an attempt), so the visit, person and household pages show one; and a person who moved
out of 东村 to 西村, whom 西村's cadre has yet to confirm (/moves); 西村's cadre, and a second town's office to send
service notices to; 孙丽's own copy of her information, asked for, produced and handed over (/people/<uuid>/copies);
and 东村's register (台账) exported by its cadre, on the town office's list of exports of personal data (the
dashboard)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable

from flask import current_app
from lxml import etree
from lxml.builder import E

from server import clock
from server.areas.operations import ensure_area
from server.copies.operations import hand_over, produce_copy, record_request
from server.database import commit
from server.exports.operations import register_export
from server.forms.operations import PublishResult, publish_form
from server.moves.operations import record_move
from server.privacy.consent import withdraw_consent
from server.register import queries as register_queries
from server.register.decisions import set_tier
from server.register.worker import merge_next
from server.schedules.current import current_schedule
from server.services.operations import record_referral_result
from server.storage import blob_store
from server.submissions.operations import receive_submission
from server.users import queries as user_queries
from server.users.operations import NewCredentials, add_user, rotate_token, set_password

__all__ = ["DEMO_CADRE", "DEMO_CADRE_XICUN", "DEMO_OTHER_OFFICER", "DEMO_OFFICER", "DEMO_GROUPS", "fixture_lists", "seed_demo", "xlsform_sources"]

# The questionnaires and their lists: package data of `xlsforms` (the checkout's folder, or the installed package).
XLSFORMS = resources.files("xlsforms")

# (group path, collector user name, collector's name)
DEMO_GROUPS = [
    ("青山镇/东村/第一组", "dongcun1", "王秀英"),
    ("青山镇/东村/第二组", "dongcun2", "李桂兰"),
    ("青山镇/西村/第一组", "xicun1", "张丽"),
]


# (village path, cadre user name, cadre's name): reviews the village, reads its due lists at /due.
DEMO_CADRE = ("青山镇/东村", "dongcun_cadre", "陈红")
# 西村's cadre: confirms the arrival the demo leaves waiting at /moves.
DEMO_CADRE_XICUN = ("青山镇/西村", "xicun_cadre", "赵敏")
# A second town (no villages yet) and its office: where the town office can send a service notice (/notices).
DEMO_OTHER_OFFICER = ("红山镇", "hongshan_officer", "孙主任")
# (town, officer's user name, officer's name): the town office, whose home page is the town's dashboard.
DEMO_OFFICER = ("青山镇", "qingshan_officer", "王主任")
# (no area, user name, name): the county, whose home page is the county's dashboard per town.
DEMO_COUNTY = (None, "county_admin", "刘科长")
# Households of the other demo groups (the fixture lists hold 东村第一组's): number, address, members as
# (name, sex, birth date, relationship).
_OTHER_HOUSEHOLDS = {
    "青山镇/东村/第二组": [("001", "东村二组1号", [("李建国", "male", "1965-02-03", "head"),
                                                 ("周玉兰", "female", "1967-08-19", "spouse")]),
                         ("002", "东村二组2号", [("何芳", "female", "1992-12-01", "head")])],
    "青山镇/西村/第一组": [("001", "西村一组1号", [("张德明", "male", "1958-06-06", "head"),
                                                 ("黄秀珍", "female", "1960-10-10", "spouse")])],
}
# Tiers given in review (person uuid from the fixture lists → tier) and a birth told on a visit (mother, days ago).
_DEMO_TIERS = {"9e2bff1a-96bc-56a0-ad3a-923e66f82158": "general", "375fb1d1-db66-5bb7-9a33-acde40defc39": "key",
               "52df4294-3b88-55f4-af16-6297ca27f83a": "key"}
_DEMO_BIRTH = ("6ea9d3db-46aa-51bc-9151-65eb9433a158", "fc944cb4-c3ec-5f58-bca5-9362b8883dd8", 9)
_HOUSEHOLD_003 = "fc944cb4-c3ec-5f58-bca5-9362b8883dd8"   # 赵明's (孙丽's) household in the fixture lists
_HOUSEHOLD_002 = "01527893-8084-5e89-9daf-9d200c3cce28"   # 张桂兰's
_LIU_WEI = "f4cfbcc6-8e25-5343-92a1-de0e0e305756"   # of 002, working away
_ZHAO_MING, _SUN_LI = "3becb39b-ae8d-52b6-ad12-e0f9d2e812b9", "6ea9d3db-46aa-51bc-9151-65eb9433a158"   # of 003


def _demo_uuid(*names: str) -> str:
    """The uuid of a demo household or person of the other groups (the same on every run)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "taizhang-demo/" + "/".join(names)))


@dataclass
class DemoResult:
    forms: list[PublishResult] = field(default_factory=list)
    collectors: list[tuple[NewCredentials, str]] = field(default_factory=list)
    cadre: tuple[NewCredentials, str] | None = None
    more_staff: list[tuple[str, NewCredentials]] = field(default_factory=list)   # (what they are for, account)
    officer: tuple[NewCredentials, str] | None = None
    county: NewCredentials | None = None
    visits: int = 0


def xlsform_sources() -> list[Traversable]:
    """The questionnaires shipped in xlsforms/, in name order."""
    sources = (item for item in XLSFORMS.iterdir() if item.name.endswith(".xlsx") and not item.name.startswith("~$"))
    return sorted(sources, key=lambda item: item.name)


def fixture_lists() -> list[Traversable]:
    return sorted((item for item in (XLSFORMS / "fixtures").iterdir() if item.name.endswith(".csv")),
                  key=lambda item: item.name)


def seed_demo() -> DemoResult:
    """Idempotent: areas and forms are created once; demo collectors get fresh passwords and tokens each run."""
    realm = current_app.config["TAIZHANG_REALM"]
    result = DemoResult()
    for group_path, username, name in DEMO_GROUPS:
        ensure_area(group_path)
        if user_queries.by_username(username) is None:
            creds = add_user(username, "collector", group_path, realm=realm, display_name=name, with_token=True)
        else:
            password = set_password(username, None, realm=realm).password
            creds = NewCredentials(username, password, rotate_token(username).token)
        result.collectors.append((creds, group_path))
    result.cadre = (_staff_account(DEMO_CADRE, "village_cadre", realm), DEMO_CADRE[0])
    result.more_staff.append((f"village cadre of {DEMO_CADRE_XICUN[0]} (expected arrivals at /moves)",
                              _staff_account(DEMO_CADRE_XICUN, "village_cadre", realm)))
    ensure_area(DEMO_OTHER_OFFICER[0])
    result.more_staff.append((f"town officer of {DEMO_OTHER_OFFICER[0]} (service notices received at /notices)",
                              _staff_account(DEMO_OTHER_OFFICER, "town_officer", realm)))
    result.officer = (_staff_account(DEMO_OFFICER, "town_officer", realm), DEMO_OFFICER[0])
    result.county = _staff_account(DEMO_COUNTY, "county_admin", realm)
    with ExitStack() as files:  # each resource as a file on disk (it already is, unless installed zipped)
        media = [files.enter_context(resources.as_file(item)) for item in fixture_lists()]
        for source in xlsform_sources():
            # The register lists among these media are generated per collector when phones ask (server.openrosa.media).
            result.forms.append(publish_form(files.enter_context(resources.as_file(source)), blob_store(),
                                             media=media))
    commit()
    if not register_queries.any_household():
        result.visits = _seed_register()
    return result


def _staff_account(account: tuple[str | None, str, str], role: str, realm: str) -> NewCredentials:
    """A demo staff account of an area (area, None for the county; user name, name): created once, given a fresh
    password each run."""
    area, username, name = account
    if user_queries.by_username(username) is None:
        return add_user(username, role, area, realm=realm, display_name=name)
    return NewCredentials(username, set_password(username, None, realm=realm).password, None)


def _seed_register() -> int:
    """Register the demo households through intake and the merge, as if the collectors had visited them; give
    some people a tier and tell a birth, so the due lists have something to show."""
    schedule = current_schedule()
    day = clock.today()
    visits = _fixture_registrations(day) + [
        (username, _registration(day - dt.timedelta(days=40 + index), group, number, address, members))
        for (group, username, _), households in ((g, _OTHER_HOUSEHOLDS.get(g[0], [])) for g in DEMO_GROUPS)
        for index, (number, address, members) in enumerate(households)]
    mother, household, days_ago = _DEMO_BIRTH
    visits.append(("dongcun1", _visit_xml(day - dt.timedelta(days=days_ago - 2), E.household_uuid(household),
                                          E.household_base_version("1"), E.service_needs("postpartum_followup"),
                                          E.postpartum(E.followup_person(mother), E.followup_event_date(
                                              (day - dt.timedelta(days=days_ago)).isoformat())))))
    services, referral_key = _service_visits(day)
    visits += services
    for username, xml in visits:
        receive_submission(user_queries.principal_by_username(username), xml, [], blobs=blob_store(),
                           max_attachment_bytes=0, device_id="collect:demo", user_agent="taizhang demo", now=clock.now())
        commit()
    while merge_next() is not None:
        commit()
    cadre = user_queries.principal_by_username(DEMO_CADRE[1])
    for person, tier in {**_DEMO_TIERS, _demo_uuid("青山镇/东村/第二组", "001", "周玉兰"): "general"}.items():
        set_tier(cadre, person, tier, tiers=schedule.tier_names, now=clock.now() - dt.timedelta(days=200))
    # The town office gives 西村's 黄秀珍 the key tier: the dashboard has figures for both villages.
    set_tier(user_queries.principal_by_username(DEMO_OFFICER[1]), _demo_uuid("青山镇/西村/第一组", "001", "黄秀珍"), "key",
             tiers=schedule.tier_names, now=clock.now() - dt.timedelta(days=200))
    record_referral_result(cadre, referral_key, "attended", now=clock.now() - dt.timedelta(days=1))
    # 刘伟 (working away) moved out to 西村 a week ago, as his cadre recorded: 西村's expected arrival at /moves.
    record_move(cadre, _LIU_WEI, "青山镇/西村", "", (day - dt.timedelta(days=7)).isoformat(),
                now=clock.now() - dt.timedelta(days=6))
    # 孙丽 asked for her own copy three days ago; her cadre produced it (a PDF) and handed it over the day after.
    asked = clock.now() - dt.timedelta(days=3)
    request = record_request(cadre, _SUN_LI, requested_by="孙丽", requester="self", copy_format="pdf",
                             day=clock.date_of(asked).isoformat(), now=asked)
    produce_copy(cadre, _SUN_LI, request.id, now=asked + dt.timedelta(hours=1))
    hand_over(cadre, _SUN_LI, request.id, handed_to="孙丽", now=asked + dt.timedelta(days=1))
    # 东村's cadre exports the village's register (台账): the town office's dashboard lists the export.
    register_export(cadre, DEMO_CADRE[0], io.BytesIO())
    # 孙丽 withdrew the consent to the pre-pregnancy check two days ago: her consent page lists it (to undo), and
    # the check, its referral and the visit's answers about it are hidden.
    withdraw_consent(cadre, _SUN_LI, (day - dt.timedelta(days=2)).isoformat(), "本人来电要求撤回", confirmed=True,
                     now=clock.now() - dt.timedelta(days=2))
    commit()
    return len(visits)


def _service_visits(day: dt.date) -> tuple[list[tuple[str, bytes]], str]:
    """Visits carrying a service record, and the key of a referral the cadre has recorded as attended. None of them
    changes the due lists the demo shows (no completed visit a tier or the birth's follow-up counts)."""
    group_two = "青山镇/东村/第二组"
    li_household, he_household = _demo_uuid(group_two, "001"), _demo_uuid(group_two, "002")
    he_fang, zhou = _demo_uuid(group_two, "002", "何芳"), _demo_uuid(group_two, "001", "周玉兰")
    pregnancy = f"uuid:{uuid.uuid4()}"
    visits = [
        ("dongcun1", _visit_xml(
            day - dt.timedelta(days=4), *_existing(_HOUSEHOLD_003),
            E.service_needs("prepregnancy_check supplies hardship_support"),
            E.prepregnancy(E.prepregnancy_names("赵明、孙丽"), E.prepregnancy_consent("yes")),   # withdrawn since
            _supply(_ZHAO_MING, "condoms", "10", "yes"),
            _supply(_SUN_LI, "folic_acid", "1200", "yes"),   # 1200: flagged for correction
            E.support(E.support_person(_ZHAO_MING), E.support_details("赵明务工受伤，家里暂时困难")),
            E.closing(E.next_visit((day + dt.timedelta(days=21)).isoformat()), E.location("30.65712 104.06573 498 5"),
                      E.notes("孙丽产后恢复良好，提醒按时做产后随访")))),
        ("dongcun2", _visit_xml(
            day - dt.timedelta(days=6), *_existing(he_household), E.service_needs("pregnancy_reported supplies"),
            E.pregnancy(E.pregnant_person(he_fang), E.pregnancy_consent("yes"), E.antenatal_referral("yes")),
            _supply(he_fang, "folic_acid", "2", "yes"), E.closing(E.next_visit((day + dt.timedelta(days=30)).isoformat())),
            instance_id=pregnancy)),
        ("dongcun2", _visit_xml(
            day - dt.timedelta(days=8), *_existing(li_household), E.service_needs("family_benefit elderly_support"),
            E.support(E.benefit_kind("reward"), E.support_person(zhou),
                      E.support_details("李建国、周玉兰申请计生家庭奖励扶助；二老希望有人定期探望")))),
        ("dongcun2", _followup_xml(
            day - dt.timedelta(days=2), zhou, li_household, "tier_general",
            E.services(E.services_given("health_guidance benefit_information"), E.referral("yes"),
                       E.referral_purpose("health_centre"), E.referral_place("青山镇卫生院"),
                       E.referral_reason("血压偏高，建议复查")),
            E.closing(E.next_date((day + dt.timedelta(days=60)).isoformat())))),
        ("dongcun1", _visit_xml(day - dt.timedelta(days=1), *_existing(_HOUSEHOLD_002), outcome="nobody_home")),
    ]
    return visits, f"{pregnancy}#2"   # the visit's items: 1 the folic acid, 2 the antenatal referral


def _existing(household: str) -> tuple:
    return (E.household_choice(E.mode("existing"), E.household(household)), E.household_uuid(household))


def _supply(person: str, item: str, quantity: str, given: str):
    """A supply a person asked for (the household visit's supplies repeat)."""
    return E.supplies(E.supply(E.supply_person(person), E.item(item), E.quantity(quantity), E.given(given)))


def _fixture_registrations(day: dt.date) -> list[tuple[str, bytes]]:
    """The households and people of fixtures/*.csv, registered by 东村第一组's collector months ago."""
    with (XLSFORMS / "fixtures" / "people.csv").open(encoding="utf-8", newline="") as handle:
        people = list(csv.DictReader(handle))
    with (XLSFORMS / "fixtures" / "households.csv").open(encoding="utf-8", newline="") as handle:
        households = list(csv.DictReader(handle))
    visits = []
    for index, household in enumerate(households):
        members = [E.new_members(E.new_person_uuid(person["name"]), E.new_member(
            E.reason("registration"), E.person_name_new(person["person_name"]), E.id_number(person["id_number"]),
            E.sex(person["sex"]), E.birth_date(person["birth_date"]), E.relationship(person["relationship"]),
            E.phone(person["phone"]), E.residence(person["residence"]), E.hukou(person["hukou"])))
            for person in people if person["household"] == household["name"]]
        when = day - dt.timedelta(days=120 - 30 * index)
        visits.append(("dongcun1", _visit_xml(when, E.household_choice(
            E.mode("new"), E.new_household_no(household["household_no"]), E.new_address(household["address"])),
            E.household_uuid(household["name"]), *members)))
    return visits


def _registration(day: dt.date, group: str, number: str, address: str, members) -> bytes:
    return _visit_xml(day, E.household_choice(E.mode("new"), E.new_household_no(number), E.new_address(address)),
                      E.household_uuid(_demo_uuid(group, number)), *[
                          E.new_members(E.new_person_uuid(_demo_uuid(group, number, name)), E.new_member(
                              E.reason("registration"), E.person_name_new(name), E.sex(sex), E.birth_date(born),
                              E.relationship(relationship), E.residence("here"), E.hukou("here")))
                          for name, sex, born, relationship in members])


def _visit_xml(day: dt.date, *content, outcome: str = "completed", instance_id: str | None = None) -> bytes:
    """A household_visit submission of the published version (completed and consented unless another outcome is
    given), dated `day` 10:00 in China."""
    started = f"{day.isoformat()}T10:00:00.000+08:00"
    completed = outcome == "completed"
    root = E.data(E.start(started), E.end(started), E.today(day.isoformat()), E.deviceid("collect:demo"),
                  E.outcome_group(E.outcome(outcome), *([E.consent("yes")] if completed else [])),
                  E.recording("yes" if completed else "no"), *content,
                  E.meta(E.instanceID(instance_id or f"uuid:{uuid.uuid4()}")),
                  id="household_visit", version=_published_version("household_visit"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _followup_xml(day: dt.date, person: str, household: str, followup_type: str, *content) -> bytes:
    """A completed follow-up of the published version, dated `day` 15:00 in China."""
    started = f"{day.isoformat()}T15:00:00.000+08:00"
    root = E.data(E.start(started), E.end(started), E.today(day.isoformat()), E.deviceid("collect:demo"),
                  E.person_uuid(person), E.household_uuid(household), E.person_base_version("1"),
                  E.due_type(followup_type), E.visit(E.followup_type(followup_type), E.outcome("completed")),
                  *content, E.meta(E.instanceID(f"uuid:{uuid.uuid4()}")),
                  id="followup", version=_published_version("followup"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _published_version(form_id: str) -> str:
    lines = (XLSFORMS / "versions.txt").read_text(encoding="utf-8").splitlines()
    versions = dict(line.split()[:2] for line in lines if line.strip())
    return versions[form_id]
