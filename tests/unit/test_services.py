"""Reading a visit's service record (sync/services.py): every answer of both forms, in every form version, into
typed items; odd values kept and flagged; an item as it stands after the decisions and follow-ups about it."""

from __future__ import annotations

import datetime as dt

import pytest

from sync.errors import DecisionNotPossible
from sync.services import (
    ITEM_KINDS,
    ItemChange,
    Location,
    ServiceItem,
    check_correction,
    check_support_value,
    corrected_item,
    item_key,
    item_state,
    layout_for,
    parse_item_key,
    parse_location,
)
from sync.visits import read_visit
from tests.conftest import ROOT
from tests.register_visits import FORM_VERSIONS, Member, followup_visit, household_visit

HOUSEHOLD, WANG, LI = "h-1", "p-wang", "p-li"
FIXTURES = ROOT / "tests" / "fixtures" / "xml"


def items(xml: bytes) -> list[dict]:
    """The items of a visit as plain dicts of their set columns (kind and seq always)."""
    return [{name: getattr(item, name) for name in item.__slots__
             if name in ("kind", "seq") or getattr(item, name) not in (None, ())}
            for item in read_visit(xml).services.items]


def test_the_current_versions_are_the_ones_the_layouts_know():
    assert FORM_VERSIONS == {"followup": "2026120501", "household_visit": "2026120502"}
    assert layout_for("followup", "2026120501")["referral_place"] == "services/referral_place"
    assert layout_for("followup", "2026112201")["referral_place"] == "services/referral_to"
    assert layout_for("followup", "2026112201")["referral_purpose"] is None
    assert layout_for("household_visit", "2026120401")["supply_person"] is None
    assert layout_for("household_visit", "")["notes"] == "closing/notes"   # a version not written: the oldest


def test_a_household_visit_says_every_service_answer():
    xml = household_visit(
        household=HOUSEHOLD, base_version=1, start="2026-11-05T09:00:00.000+08:00", instance_id="uuid:hv-1",
        services=("health_guidance", "benefit_information", "other"), services_other="帮助预约体检",
        supplies=[(WANG, "folic_acid", "3", "yes"), (LI, "condoms", "10", "no")],
        pregnancy=(WANG, "yes", "yes"), prepregnancy=("李强、王秀英", "yes"),
        support={"needs": ("family_benefit", "elderly_support"), "details": "父母年老", "benefit_kind": "special",
                 "person": LI},
        other_needs="需要修缮房屋", next_visit="2026-12-05", notes="下次带叶酸", location="30.27415 120.15515 12.5 4.8")
    assert items(xml) == [
        {"kind": "service", "seq": 1, "code": "health_guidance"},
        {"kind": "service", "seq": 2, "code": "benefit_information"},
        {"kind": "service", "seq": 3, "code": "other", "text": "帮助预约体检"},
        {"kind": "supply", "seq": 4, "person_uuid": WANG, "code": "folic_acid", "quantity": 3, "given": True},
        {"kind": "supply", "seq": 5, "person_uuid": LI, "code": "condoms", "quantity": 10, "given": False},
        {"kind": "referral", "seq": 6, "person_uuid": WANG, "code": "antenatal_guidance"},
        {"kind": "pregnancy_guidance", "seq": 7, "person_uuid": WANG, "refers_to": "uuid:hv-1#6"},
        {"kind": "referral", "seq": 8, "code": "prepregnancy_check"},
        {"kind": "prepregnancy_check", "seq": 9, "text": "李强、王秀英", "consent": True, "refers_to": "uuid:hv-1#8"},
        {"kind": "support_request", "seq": 10, "person_uuid": LI, "code": "family_benefit", "text": "父母年老",
         "detail": "special"},
        {"kind": "support_request", "seq": 11, "person_uuid": LI, "code": "elderly_support", "text": "父母年老"},
        {"kind": "support_request", "seq": 12, "person_uuid": LI, "code": "other", "text": "需要修缮房屋"},
    ]
    record = read_visit(xml).services
    assert (record.next_visit, record.notes, record.location) == (
        dt.date(2026, 12, 5), "下次带叶酸", Location(30.27415, 120.15515, 12.5, 4.8))


def test_pregnancy_guidance_is_stored_only_with_her_consent():
    without = household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-05T09:00:00.000+08:00",
                              pregnancy=(WANG, "no", None))
    assert items(without) == []
    no_referral = household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-05T09:00:00.000+08:00",
                                  pregnancy=(WANG, "yes", "no"), instance_id="uuid:hv-2")
    assert items(no_referral) == [{"kind": "pregnancy_guidance", "seq": 1, "person_uuid": WANG}]


def test_a_pre_pregnancy_check_without_consent_is_told_but_not_referred():
    """Declined: only the fact that it was offered is kept, not who was told (the couple's names)."""
    xml = household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-05T09:00:00.000+08:00",
                          prepregnancy=("李强", "no"))
    assert items(xml) == [{"kind": "prepregnancy_check", "seq": 1, "consent": False}]


def test_a_visit_not_recorded_keeps_no_service_items_but_its_closing_answers():
    for outcome in ("nobody_home", "refused", "moved_away"):
        xml = household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-05T09:00:00.000+08:00",
                              outcome=outcome, next_visit="2026-11-12", notes="周末再来")
        visit = read_visit(xml)
        assert (visit.services.items, visit.services.next_visit, visit.services.notes) == (
            (), dt.date(2026, 11, 12), "周末再来")


def test_a_follow_up_of_the_current_version_says_every_service_answer():
    xml = followup_visit(person=WANG, household=HOUSEHOLD, followup_type="postpartum", instance_id="uuid:fu-1",
                         start="2026-11-05T09:00:00.000+08:00", services=("postpartum_care", "other"),
                         referral=("health_centre", "青山镇卫生院", "产后42天复查"),
                         supplies=[("folic_acid", "2"), ("other", "1")], next_date="2026-11-20", notes="已讲解")
    assert items(xml) == [
        {"kind": "service", "seq": 1, "person_uuid": WANG, "code": "postpartum_care"},
        {"kind": "service", "seq": 2, "person_uuid": WANG, "code": "other"},
        {"kind": "referral", "seq": 3, "person_uuid": WANG, "code": "health_centre", "place": "青山镇卫生院",
         "text": "产后42天复查"},
        {"kind": "supply", "seq": 4, "person_uuid": WANG, "code": "folic_acid", "quantity": 2, "given": True},
        {"kind": "supply", "seq": 5, "person_uuid": WANG, "code": "other", "quantity": 1, "given": True},
    ]
    assert read_visit(xml).services.next_visit == dt.date(2026, 11, 20)
    assert read_visit(xml).next_visit == dt.date(2026, 11, 20)


def test_a_follow_up_of_an_earlier_version_is_read_by_its_own_field_names():
    """Version 2026112201 asked only where to (referral_to), not why: the purpose stays unknown."""
    xml = followup_visit(person=WANG, household=HOUSEHOLD, followup_type="postpartum", version="2026112201",
                         start="2026-11-05T09:00:00.000+08:00", referral=("health_centre", "镇卫生院", "复查"))
    assert b"<referral_to>" in xml and b"referral_place" not in xml
    assert items(xml)[1] == {"kind": "referral", "seq": 2, "person_uuid": WANG, "place": "镇卫生院", "text": "复查"}
    fixture = read_visit((FIXTURES / "followup_postpartum.xml").read_bytes())
    assert [(item.kind, item.code, item.place, item.quantity) for item in fixture.services.items] == [
        ("service", "postpartum_care", None, None), ("referral", None, "镇卫生院", None),
        ("supply", "folic_acid", None, 1)]


def test_a_household_visit_of_an_earlier_version_has_no_supply_person_nor_services_given():
    xml = (FIXTURES / "household_visit_changes.xml").read_bytes()
    visit = read_visit(xml)
    assert visit.form_version == "2026112204"
    assert [(item.kind, item.person_uuid, item.code, item.quantity, item.given) for item in visit.services.items] == [
        ("supply", None, "folic_acid", 2, True)]


def test_a_follow_up_of_a_referral_records_its_result_against_the_referral():
    xml = followup_visit(person=WANG, household=HOUSEHOLD, followup_type="referral", services=(),
                         start="2026-11-25T09:00:00.000+08:00", referral_result=("uuid:fu-1#3", "attended"))
    assert items(xml) == [{"kind": "referral_result", "seq": 1, "person_uuid": WANG, "code": "attended",
                           "refers_to": "uuid:fu-1#3"}]
    lost = followup_visit(person=WANG, household=HOUSEHOLD, followup_type="referral", services=(),
                          start="2026-11-25T09:00:00.000+08:00", referral_result=("", "attended"))
    assert items(lost)[0]["problems"] == ("referral_unknown",)


def test_the_javarosa_filled_instances_of_the_new_versions():
    """Instances the real form engine wrote (tests/integration/test_questionnaire_filling.py fills them)."""
    supplies = read_visit((FIXTURES / "followup_referral_supplies.xml").read_bytes()).services.items
    assert [(item.kind, item.code, item.place, item.text, item.quantity) for item in supplies] == [
        ("service", "postpartum_care", None, None, None), ("referral", "health_centre", "青山镇卫生院", "产后42天复查", None),
        ("supply", "folic_acid", None, None, 2)]
    household = read_visit((FIXTURES / "household_visit_services.xml").read_bytes()).services.items
    assert [(item.kind, item.code, item.detail, item.text) for item in household] == [
        ("service", "health_guidance", None, None), ("service", "other", None, "帮助预约体检"),
        ("supply", "folic_acid", None, None), ("support_request", "family_benefit", "special", "申请特别扶助")]
    assert all(item.person_uuid for item in household[2:])


@pytest.mark.parametrize(("written", "quantity", "text", "problems"), [
    ("2", 2, None, ()),
    ("-3", -3, None, ("quantity_not_positive",)),
    ("0", 0, None, ("quantity_not_positive",)),
    ("5000", 5000, None, ("quantity_absurd",)),
    ("two", None, "two", ("quantity_not_a_number",)),
    ("", None, None, ("quantity_not_a_number",)),
])
def test_an_odd_quantity_is_kept_as_written_and_flagged(written, quantity, text, problems):
    xml = followup_visit(person=WANG, household=HOUSEHOLD, followup_type="postpartum", services=(),
                         start="2026-11-05T09:00:00.000+08:00", supplies=[("folic_acid", written)])
    (supply,) = read_visit(xml).services.items
    assert (supply.quantity, supply.quantity_text, supply.problems) == (quantity, text, problems)


def test_an_unknown_item_and_a_referral_to_nowhere_are_flagged_not_dropped():
    xml = followup_visit(person=WANG, household=HOUSEHOLD, followup_type="postpartum", services=(),
                         start="2026-11-05T09:00:00.000+08:00", supplies=[("gold_bars", "1")],
                         referral=("other", "", ""))
    assert [(item.kind, item.code, item.problems) for item in read_visit(xml).services.items] == [
        ("referral", "other", ("referral_nowhere",)), ("supply", "gold_bars", ("unknown_item",))]


def test_people_of_a_household_being_registered_are_named_and_found_among_its_new_members():
    mother = Member("孙丽", "female", "1995-03-04", uuid="p-sun")
    xml = household_visit(household="h-new", new=("009", "9号"), members=[mother],
                          start="2026-11-05T09:00:00.000+08:00", supplies=[("", "folic_acid", "1", "yes")])
    # The builder picks people; in a household being registered the form names them instead.
    named = xml.replace("<supply_person></supply_person>".encode(),
                        "<supply_person_name>孙丽</supply_person_name>".encode())
    assert named != xml
    (supply,) = read_visit(named).services.items
    assert (supply.person_name, supply.person_uuid) == ("孙丽", "p-sun")


def test_item_keys():
    assert item_key("uuid:abc", 3) == "uuid:abc#3"
    assert parse_item_key("uuid:abc#3") == ("uuid:abc", 3)
    assert parse_item_key("uuid:abc") is None and parse_item_key("#1") is None and parse_item_key("x#0") is None


def test_locations():
    assert parse_location("30.1 120.2") == Location(30.1, 120.2, None, None)
    assert parse_location("30.1 120.2 5") == Location(30.1, 120.2, 5.0, None)
    assert parse_location("91 0 0 0") is None and parse_location("north") is None and parse_location("") is None


AT = dt.datetime(2026, 11, 10, 8, tzinfo=dt.timezone.utc)


def test_an_item_as_it_stands_after_corrections_results_and_outcomes():
    supply = ServiceItem("supply", 1, code="folic_acid", quantity=5000, problems=("quantity_absurd",))
    fixed = item_state(supply, [ItemChange(AT, "correct_service", "quantity", "50")]).item
    assert (fixed.quantity, fixed.problems) == (50, ())
    referral = ServiceItem("referral", 2, code="health_centre", place="青山镇卫生院")
    later = AT + dt.timedelta(days=3)
    state = item_state(referral, [ItemChange(later, "referral_result", None, "attended", by_visit=True),
                                  ItemChange(AT, "referral_result", None, "not_attended")])
    assert (state.result, state.result_at, state.is_open) == ("attended", later, False)
    assert item_state(referral, [ItemChange(AT, "referral_result", None, "not_attended")]).is_open
    request = ServiceItem("support_request", 3, code="family_benefit")
    state = item_state(request, [ItemChange(AT, "support_outcome", "outcome", "granted"),
                                 ItemChange(AT, "support_outcome", "amount", "960.00")])
    assert dict(state.support) == {"outcome": "granted", "amount": "960.00"}
    # A decision of another kind's column changes nothing.
    assert item_state(request, [ItemChange(AT, "correct_service", "quantity", "3")]).item == request


def test_corrections_are_checked():
    check_correction("quantity", "50")
    for column, value in (("quantity", "abc"), ("quantity", "-1"), ("quantity", "5000"), ("given", "maybe"),
                          ("spouse_name", "x"), ("text", "长" * 201)):
        with pytest.raises(DecisionNotPossible):
            check_correction(column, value)
    with pytest.raises(ValueError):
        corrected_item(ServiceItem("service", 1, code="other"), "quantity", "3")


def test_support_outcomes_are_checked():
    for field, value in (("outcome", "granted"), ("decided_on", "2026-11-30"), ("paid_on", ""), ("amount", "960.5"),
                         ("note", "按季度发放")):
        check_support_value(field, value)
    for field, value in (("outcome", "eligible"), ("decided_on", "soon"), ("amount", "-1"), ("amount", "1e9"),
                         ("amount", "1.234"), ("amount", "NaN"), ("eligibility", "yes")):
        with pytest.raises(DecisionNotPossible):
            check_support_value(field, value)


def test_every_kind_has_labels_in_both_languages():
    assert list(ITEM_KINDS) == ["service", "supply", "referral", "referral_result", "prepregnancy_check",
                                "pregnancy_guidance", "support_request"]
    assert all(kind.label_zh and kind.label_en for kind in ITEM_KINDS.values())


def test_values_longer_than_their_columns_are_cut_and_flagged_and_huge_quantities_kept_as_text():
    xml = followup_visit(person=WANG, household=HOUSEHOLD, followup_type="postpartum", services=(),
                         start="2026-11-05T09:00:00.000+08:00", supplies=[("x" * 500, "9" * 40)],
                         referral=("health_centre", "镇" * 300, "原因"))
    referral, supply = read_visit(xml).services.items
    assert (len(referral.place), referral.problems) == (200, ("too_long",))
    assert (len(supply.code), supply.quantity, supply.quantity_text, supply.problems) == (
        40, None, "9" * 40, ("quantity_absurd", "unknown_item", "too_long"))
