"""The service record end to end: follow-ups filled by JavaRosa from the phone's own due list, sent over HTTP and
merged; the referral comes back on the due list after the days configured, a follow-up of it closes it; rebuild
gives the same service records; rejecting or editing a visit removes exactly its items; a visit naming a person
of another group stores nothing; decisions about items survive a rebuild and can be undone."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from pyxform.xls2xform import convert
from sqlalchemy import select

from server import clock
from server.database import commit
from server.extensions import db
from server.register.decisions import review_visit, undo_decision
from server.register.models import ServiceItemRecord, Visit
from server.register.replays import rebuild_register
from server.services import operations, queries
from server.users.queries import principal_by_username
from sync.errors import DecisionNotPossible, Forbidden
from tests.conftest import ROOT, merge_all
from tests.formengine import fill_form
from tests.integration.test_questionnaire_filling import phone_media
from tests.register_visits import Member, followup_visit, household_visit

XLSFORMS = ROOT / "xlsforms"
HOUSEHOLD = "77777777-0000-4000-8000-000000000001"
SUN = Member("孙丽", "female", "1996-03-04", relationship="head", uuid="77777777-0000-4000-8000-0000000000a1")
OTHER_GROUP_HOUSEHOLD = "77777777-0000-4000-8000-000000000002"
ZHAO = Member("赵敏", "female", "1990-01-02", relationship="head", uuid="77777777-0000-4000-8000-0000000000b1")
# JavaRosa fills the forms with the real today(): the server's clock is set around it.
TODAY = dt.date.today()
NOON = dt.datetime.combine(TODAY, dt.time(4, 0), tzinfo=dt.timezone.utc)   # 12:00 in China


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.fixture(scope="module")
def followup_xform() -> bytes:
    return convert(xlsform=XLSFORMS / "followup.xlsx", file_type=".xlsx").xform.encode()


@pytest.fixture
def village(server, create_collector, publish, monkeypatch):
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    for form in ("household_visit", "followup"):
        publish(XLSFORMS / f"{form}.xlsx", media=media)
    phone = server.client(token=create_collector("青山镇/东村/第一组", username="dongcun1").token)
    other = server.client(token=create_collector("青山镇/东村/第二组", username="dongcun2").token)
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre", password="cadre-password")
    create_collector("青山镇/西村", username="xicun_cadre", role="village_cadre", password="cadre-password")
    create_collector("青山镇", username="town_officer", role="town_officer", password="officer-password")
    now = {"at": NOON}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    # 孙丽 gave birth five days ago: she is due a postpartum follow-up.
    assert phone.submit(household_visit(household=HOUSEHOLD, new=("001", "东村一组1号"), members=[SUN],
                                        postpartum=(SUN.uuid, day(-5)),
                                        start=f"{day(-4)}T09:00:00.000+08:00")).status_code == 201
    assert other.submit(household_visit(household=OTHER_GROUP_HOUSEHOLD, new=("101", "东村二组1号"), members=[ZHAO],
                                        start=f"{day(-4)}T10:00:00.000+08:00")).status_code == 201
    merge_all()
    return {"phone": phone, "other": other, "clock": now}


def followup_media(phone) -> dict[str, bytes]:
    """The follow-up form's media as this phone downloads them (its group's lists, made by the server)."""
    return phone_media(phone, "followup")


def due_rows(phone) -> list[dict]:
    return list(csv.DictReader(io.StringIO(followup_media(phone)["due.csv"].decode())))


def fill_and_send(phone, xform: bytes, answers) -> str:
    result = fill_form(xform, answers, media=followup_media(phone))
    assert result.ok, result.violations
    assert phone.submit(result.xml).status_code == 201
    merge_all()
    return result.value("/data/meta/instanceID")


def items_of(instance_id: str) -> list[tuple]:
    rows = db.session.execute(select(ServiceItemRecord.seq, ServiceItemRecord.kind, ServiceItemRecord.person_uuid,
                                     ServiceItemRecord.code, ServiceItemRecord.quantity, ServiceItemRecord.place)
                              .where(ServiceItemRecord.item_key.startswith(instance_id + "#"))
                              .order_by(ServiceItemRecord.seq)).all()
    db.session.rollback()
    return [tuple(row) for row in rows]


def service_snapshot() -> list[tuple]:
    columns = [column for column in ServiceItemRecord.__table__.columns if column.name != "id"]
    rows = sorted(tuple(row) for row in db.session.execute(select(*columns)).all())
    visits = sorted(tuple(row) for row in db.session.execute(select(*Visit.__table__.columns)).all())
    db.session.rollback()
    return rows + visits


def test_a_referral_made_on_a_follow_up_comes_back_due_and_a_follow_up_of_it_closes_it(village, followup_xform):
    phone = village["phone"]
    (postpartum,) = [row for row in due_rows(phone) if row["person"] == SUN.uuid]
    assert (postpartum["due_type"], postpartum["item"]) == ("postpartum", "")
    visit = fill_and_send(phone, followup_xform, [
        ("/data/who/due_item", postpartum["name"]), ("/data/visit/outcome", "completed"),
        ("/data/services/services_given", "postpartum_care supplies"), ("/data/services/referral", "yes"),
        ("/data/services/referral_purpose", "health_centre"), ("/data/services/referral_place", "青山镇卫生院"),
        ("/data/services/referral_reason", "产后42天复查"),
        ("/data/supplies[1]/supply/item", "folic_acid"), ("/data/supplies[1]/supply/quantity", "2")])
    assert items_of(visit) == [(1, "service", SUN.uuid, "postpartum_care", None, None),
                               (2, "referral", SUN.uuid, "health_centre", None, "青山镇卫生院"),
                               (3, "supply", SUN.uuid, "folic_acid", 2, None)]
    # Not due yet: the referral is followed up from day 14 (the default schedule's [referrals]).
    assert [row["due_type"] for row in due_rows(phone)] == []
    village["clock"]["at"] = NOON + dt.timedelta(days=17)
    (referral,) = due_rows(phone)
    assert (referral["due_type"], referral["item"], referral["label"], referral["due_since"], referral["due_by"]) == (
        "referral", f"{visit}#2", f"孙丽：转介跟进（青山镇卫生院）（应于{day(30)}前）", day(14), day(30))
    # The collector follows the referral up from the list: she went.
    followed = fill_and_send(phone, followup_xform, [
        ("/data/who/due_item", referral["name"]), ("/data/visit/outcome", "completed"),
        ("/data/referral_followup/referral_result", "attended"), ("/data/services/services_given", "health_guidance"),
        ("/data/services/referral", "no")])
    assert items_of(followed) == [(1, "service", SUN.uuid, "health_guidance", None, None),
                                  (2, "referral_result", SUN.uuid, "attended", None, None)]
    assert due_rows(phone) == []
    placed = queries.item_of(f"{visit}#2")
    assert (placed.state.result, placed.state.is_open) == ("attended", False)
    # A rebuild reads the same service records from the raw visits.
    before = service_snapshot()
    rebuild_register()
    commit()
    assert service_snapshot() == before


def test_rejecting_or_editing_a_visit_removes_exactly_its_items(village, server):
    phone = village["phone"]
    first = "uuid:77777777-1111-4000-8000-000000000001"
    second = "uuid:77777777-1111-4000-8000-000000000002"
    for instance_id, quantity in ((first, "2"), (second, "5")):
        assert phone.submit(followup_visit(person=SUN.uuid, household=HOUSEHOLD, followup_type="postpartum",
                                           start=f"{day(-1)}T09:00:00.000+08:00", instance_id=instance_id,
                                           supplies=[("folic_acid", quantity)],
                                           referral=("health_centre", "青山镇卫生院", ""))).status_code == 201
    merge_all()
    assert [row[1:5] for row in items_of(first)] == [("service", SUN.uuid, "health_guidance", None),
                                                      ("referral", SUN.uuid, "health_centre", None),
                                                      ("supply", SUN.uuid, "folic_acid", 2)]
    kept = items_of(second)
    # The cadre rejects the first visit: its items go, the other visit's stay.
    cadre = principal_by_username("dongcun_cadre")
    submission_id = db.session.scalar(select(Visit.submission_id).join(
        ServiceItemRecord, ServiceItemRecord.submission_id == Visit.submission_id)
        .where(ServiceItemRecord.item_key == f"{first}#1"))
    review_visit(cadre, submission_id, "rejected", None)
    commit()
    assert items_of(first) == [] and items_of(second) == kept
    review_visit(cadre, submission_id, "approved", None)
    commit()
    assert len(items_of(first)) == 3
    # An edit of the second visit (Collect sends it with deprecatedID) replaces its items.
    edited = "uuid:77777777-1111-4000-8000-000000000003"
    xml = followup_visit(person=SUN.uuid, household=HOUSEHOLD, followup_type="postpartum", instance_id=edited,
                         start=f"{day(-1)}T09:00:00.000+08:00", supplies=[("condoms", "3")])
    xml = xml.replace(b"</instanceID>", f"</instanceID><deprecatedID>{second}</deprecatedID>".encode())
    assert phone.submit(xml).status_code == 201
    merge_all()
    assert items_of(second) == []
    assert [row[1:5] for row in items_of(edited)] == [("service", SUN.uuid, "health_guidance", None),
                                                       ("supply", SUN.uuid, "condoms", 3)]
    assert len(items_of(first)) == 3


def test_a_visit_giving_supplies_to_a_person_of_another_group_stores_nothing(village):
    phone = village["phone"]
    instance_id = "uuid:77777777-2222-4000-8000-000000000001"
    assert phone.submit(household_visit(household=HOUSEHOLD, base_version=1, start=f"{day(-1)}T09:00:00.000+08:00",
                                        instance_id=instance_id,
                                        supplies=[(ZHAO.uuid, "folic_acid", "2", "yes")])).status_code == 201
    merge_all()
    refusal = db.session.scalar(select(Visit.refusal).join(ServiceItemRecord, isouter=True,
                                onclause=ServiceItemRecord.submission_id == Visit.submission_id)
                                .order_by(Visit.submission_id.desc()).limit(1))
    db.session.rollback()
    assert refusal == "person_elsewhere"
    assert items_of(instance_id) == []


def test_odd_values_are_stored_flagged_and_a_correction_survives_rebuild_and_undo(village):
    phone = village["phone"]
    instance_id = "uuid:77777777-3333-4000-8000-000000000001"
    assert phone.submit(followup_visit(person=SUN.uuid, household=HOUSEHOLD, followup_type="postpartum", services=(),
                                       start=f"{day(-1)}T09:00:00.000+08:00", instance_id=instance_id,
                                       supplies=[("folic_acid", "5000"), ("gold", "x")])).status_code == 201
    merge_all()
    flagged = [(placed.item.code, placed.item.quantity, placed.item.quantity_text, placed.item.problems)
               for placed in queries.placed_items(person_uuid=SUN.uuid)]
    assert flagged == [("folic_acid", 5000, None, ("quantity_absurd",)),
                       ("gold", None, "x", ("quantity_not_a_number", "unknown_item"))]
    cadre, other_cadre = principal_by_username("dongcun_cadre"), principal_by_username("xicun_cadre")
    with pytest.raises(Forbidden):
        operations.correct_service_item(other_cadre, f"{instance_id}#1", "quantity", "50")
    for value in ("abc", "-1", "5000"):
        with pytest.raises(DecisionNotPossible):
            operations.correct_service_item(cadre, f"{instance_id}#1", "quantity", value)
    with pytest.raises(DecisionNotPossible):
        operations.correct_service_item(cadre, f"{instance_id}#2", "code", "gold_bars")
    decision = operations.correct_service_item(cadre, f"{instance_id}#1", "quantity", "50")
    operations.correct_service_item(cadre, f"{instance_id}#2", "code", "folic_acid")
    commit()
    rebuild_register()
    commit()
    fixed = queries.item_of(f"{instance_id}#1").item
    assert (fixed.quantity, fixed.problems) == (50, ())
    assert queries.item_of(f"{instance_id}#2").item.problems == ("quantity_not_a_number",)
    undo_decision(cadre, decision)
    commit()
    assert queries.item_of(f"{instance_id}#1").item.quantity == 5000


def test_support_outcomes_are_the_town_offices_to_record(village):
    phone = village["phone"]
    instance_id = "uuid:77777777-4444-4000-8000-000000000001"
    assert phone.submit(household_visit(
        household=HOUSEHOLD, base_version=1, start=f"{day(-1)}T09:00:00.000+08:00", instance_id=instance_id,
        support={"needs": ("family_benefit",), "details": "申请特别扶助", "benefit_kind": "special",
                 "person": SUN.uuid})).status_code == 201
    merge_all()
    key = f"{instance_id}#1"
    with pytest.raises(Forbidden):
        operations.record_support_outcome(principal_by_username("dongcun_cadre"), key, "outcome", "granted")
    officer = principal_by_username("town_officer")
    with pytest.raises(DecisionNotPossible):
        operations.record_support_outcome(officer, key, "outcome", "eligible")
    with pytest.raises(DecisionNotPossible):
        operations.record_referral_result(officer, key, "attended")   # not a referral
    for field, value in (("outcome", "granted"), ("decided_on", "2026-11-30"), ("paid_on", "2026-12-10"),
                         ("amount", "960.00")):
        operations.record_support_outcome(officer, key, field, value)
    commit()
    rebuild_register()
    commit()
    assert dict(queries.item_of(key).state.support) == {"outcome": "granted", "decided_on": "2026-11-30",
                                                        "paid_on": "2026-12-10", "amount": "960.00"}
