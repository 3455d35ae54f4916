"""The registry of named registers on plain rows: each register's values in column order, codes shown with the form
version's words, else the registry's, a code nobody knows as written; and the registry's own consistency."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from sync.code_labels import CODE_LABELS
from sync.form_labels import FormLabels
from sync.registers import (
    REGISTERS,
    SOURCES,
    AwayRow,
    Column,
    EventRow,
    FollowupRow,
    ItemRow,
    Source,
    Words,
    cell_text,
    register_named,
)
from sync.services import ITEM_KINDS, REFERRAL_PURPOSES, REFERRAL_RESULTS, SUPPLY_ITEMS, SUPPORT_OUTCOMES

ZH, EN = Words("zh"), Words("en")
PLACE = dict(village="东村", group="第一组", household_no="001")
# A form version's own words: the 2026120501 follow-up says the health centre differently than the registry.
FORM = FormLabels(questions={}, default_language="zh", choices={
    "referral_purpose": {"health_centre": {"zh": "镇卫生院就诊", "en": "Town health centre"}},
    "supply_item": {"folic_acid": {"zh": "叶酸片"}}})


def event(kind: str, **values) -> EventRow:
    return EventRow(kind=kind, **{"person_name": "王小宝", "submission_id": 7, "visit_date": dt.date(2026, 12, 10),
                                  "sex": "male", "birth_date": "2026-12-08", "event_date": None, **PLACE, **values})


def item(kind: str, **values) -> ItemRow:
    return ItemRow(kind=kind, **{"person_name": "李芳", "submission_id": 9, "visit_date": dt.date(2026, 12, 12), **PLACE,
                                 **values})


def test_births_deaths_marriages_and_moves():
    born = event("birth", event_date=dt.date(2026, 12, 8))
    assert REGISTERS["births"].row(born, ZH) == ("东村", "第一组", "001", "王小宝", "男", dt.date(2026, 12, 8),
                                                 dt.date(2026, 12, 10))
    assert REGISTERS["births"].row(born, EN)[4] == "Male"
    died = event("death", event_date=dt.date(2026, 12, 1), sex="female", birth_date="1930-02-03")
    assert REGISTERS["deaths"].row(died, ZH) == ("东村", "第一组", "001", "王小宝", "女", dt.date(1930, 2, 3),
                                                 dt.date(2026, 12, 1), dt.date(2026, 12, 10))
    married = event("marriage", event_date=dt.date(2026, 12, 2), spouse_name="李芳")
    assert REGISTERS["marriages"].row(married, ZH) == ("东村", "第一组", "001", "王小宝", "男", "李芳",
                                                       dt.date(2026, 12, 2), dt.date(2026, 12, 10))
    moved = event("moved_out", event_date=dt.date(2026, 12, 9), place="广东省深圳市")
    assert REGISTERS["moved-out"].row(moved, ZH) == ("东村", "第一组", "001", "王小宝", "男", dt.date(2026, 12, 8),
                                                     "广东省深圳市", dt.date(2026, 12, 9), dt.date(2026, 12, 10))
    arrived = event("moved_in", event_date=None, place=None)
    assert REGISTERS["moved-in"].row(arrived, ZH)[6:8] == ("", None)


def test_moves_say_where_from_and_where_to_by_name():
    """A move out is listed in the village left and a move in in the village arrived in (docs/moves.md); each names
    its other end: the destination, or the village of the person's move out before it, else the place as written."""
    out = event("moved_out", event_date=dt.date(2026, 12, 9), place="女方家", origin="青山镇东村",
                destination="青山镇西村")
    arrived = event("moved_in", event_date=dt.date(2026, 12, 11), place="东村", origin="青山镇东村",
                    destination="青山镇西村", **{"village": "西村", "household_no": "007"})
    assert REGISTERS["moved-out"].row(out, ZH)[6] == "青山镇西村"
    assert REGISTERS["moved-in"].row(arrived, ZH)[6] == "青山镇东村"
    assert REGISTERS["moves"].row(out, ZH) == ("东村", "第一组", "001", "王小宝", "男", dt.date(2026, 12, 8), "迁出",
                                               "青山镇东村", "青山镇西村", dt.date(2026, 12, 9), dt.date(2026, 12, 10))
    assert REGISTERS["moves"].row(arrived, EN)[:10] == (
        "西村", "第一组", "007", "王小宝", "Male", dt.date(2026, 12, 8), "Moved in", "青山镇东村", "青山镇西村",
        dt.date(2026, 12, 11))
    assert REGISTERS["arrivals"].row(arrived, ZH)[8] == "青山镇东村"
    # From outside the register: the origin as written.
    assert REGISTERS["moved-in"].row(event("moved_in", place="外省"), ZH)[6] == "外省"


def test_arrivals_say_whether_someone_moved_in_or_came_back():
    came_back = event("returned", event_date=dt.date(2026, 12, 3), place="浙江省杭州市", phone="13900000002",
                      address="东村1号")
    assert REGISTERS["arrivals"].row(came_back, ZH) == (
        "东村", "第一组", "001", "东村1号", "王小宝", "男", dt.date(2026, 12, 8), "返回居住", "浙江省杭州市",
        dt.date(2026, 12, 3), "139****0002", dt.date(2026, 12, 10))
    assert REGISTERS["arrivals"].row(came_back, Words("zh", full=True))[10] == "13900000002"   # asked in full
    assert REGISTERS["arrivals"].row(came_back, EN)[7] == "Came back"
    assert REGISTERS["arrivals"].row(event("moved_in"), EN)[7] == "Moved in"


def test_people_working_away_with_where_when_and_their_phone_now():
    away = AwayRow(person_name="王伟", residence="working_away", left_on=dt.date(2026, 12, 7),
                   destination="浙江省杭州市", sex="male", birth_date="2004-09-10", phone="13900000002",
                   submission_id=8, **PLACE)
    assert REGISTERS["working-away"].row(away, ZH) == ("东村", "第一组", "001", "王伟", "男", dt.date(2004, 9, 10),
                                                       "浙江省杭州市", dt.date(2026, 12, 7), "139****0002", "外出务工")
    assert REGISTERS["working-away"].row(away, Words("zh", full=True))[8] == "13900000002"
    assert REGISTERS["working-away"].masked and REGISTERS["arrivals"].masked and not REGISTERS["births"].masked
    back = AwayRow(person_name="王伟", residence="here", submission_id=None, **PLACE)
    assert REGISTERS["working-away"].row(back, EN)[6:] == ("", None, "", "Lives here")


def test_follow_ups_with_outcome_and_services_in_the_forms_words():
    visit = FollowupRow(followup_type="postpartum", outcome="completed", person_name="李芳", submission_id=10,
                        visit_date=dt.date(2026, 12, 12), next_visit=dt.date(2027, 1, 10), collector="collector1",
                        services=(("postpartum_care", None), ("other", "教她抱孩子")), **PLACE)
    assert REGISTERS["followups"].row(visit, ZH) == (
        "东村", "第一组", "001", "李芳", "产后随访", dt.date(2026, 12, 12), "已完成", "产后保健指导；教她抱孩子",
        dt.date(2027, 1, 10), "collector1")
    attempted = FollowupRow(followup_type="post_operation", outcome="nobody_home", person_name="李芳",
                            submission_id=11, visit_date=dt.date(2026, 12, 18), **PLACE)
    assert REGISTERS["followups"].row(attempted, EN)[4:] == ("After an operation", dt.date(2026, 12, 18),
                                                            "Nobody home", "", None, "")


def test_supplies_given_or_requested_and_odd_quantities_as_written():
    given = item("supply", code="folic_acid", quantity=2, given=True)
    assert REGISTERS["supplies"].row(given, ZH) == ("东村", "第一组", "001", "李芳", "叶酸", 2, "当场发放",
                                                    dt.date(2026, 12, 12), "")
    assert REGISTERS["supplies"].row(given, Words("zh", FORM))[4] == "叶酸片"          # the version's own word
    assert REGISTERS["supplies"].row(given, Words("en", FORM))[4] == "叶酸片"          # (its default language)
    odd = item("supply", code="aspirin", quantity=None, quantity_text="两盒", given=False,
               problems=("quantity_not_a_number", "unknown_item"))
    assert REGISTERS["supplies"].row(odd, ZH)[4:] == ("aspirin", "两盒", "应要求，待发放", dt.date(2026, 12, 12),
                                                      "数量不是数字；药具品种不在清单中")
    assert REGISTERS["supplies"].row(odd, EN)[8] == "The quantity is not a number; The supply item is not on the list"


def test_referrals_open_or_closed_with_their_result():
    open_one = item("referral", place="镇卫生院", text="产后复查")
    assert REGISTERS["referrals"].row(open_one, ZH) == ("东村", "第一组", "001", "李芳", "", "镇卫生院", "产后复查",
                                                        dt.date(2026, 12, 12), "", None, "未完成", "")
    not_yet = item("referral", code="health_centre", place="县妇幼保健院", result="not_attended",
                   result_on=dt.date(2026, 12, 20))
    assert REGISTERS["referrals"].row(not_yet, ZH)[4:] == ("卫生院（服务站）就诊", "县妇幼保健院", "",
                                                           dt.date(2026, 12, 12), "还没有去", dt.date(2026, 12, 20),
                                                           "未完成", "")
    attended = item("referral", code="health_centre", place="县妇幼保健院", result="attended",
                    result_on=dt.date(2026, 12, 20))
    assert REGISTERS["referrals"].row(attended, Words("en", FORM))[4:] == (
        "Town health centre", "县妇幼保健院", "", dt.date(2026, 12, 12), "Attended", dt.date(2026, 12, 20), "Closed", "")
    assert REGISTERS["referrals"].row(item("referral", code="other", problems=("referral_nowhere",)), ZH)[-1] == \
        "没有写转介到哪里"
    assert REGISTERS["referrals"].open_filter and not REGISTERS["supplies"].open_filter


def test_pre_pregnancy_checks_done_when_their_referral_was_attended():
    told = item("prepregnancy_check", text="王强、李芳", consent=True, referred=True)
    assert REGISTERS["prepregnancy-checks"].row(told, ZH) == ("东村", "第一组", "001", "王强、李芳", "是", "是", "否",
                                                              dt.date(2026, 12, 12))
    checked = item("prepregnancy_check", text="王强、李芳", consent=True, referred=True, result="attended")
    assert REGISTERS["prepregnancy-checks"].row(checked, EN)[4:7] == ("Yes", "Yes", "Yes")
    declined = item("prepregnancy_check", text="王强、李芳", consent=False)
    assert REGISTERS["prepregnancy-checks"].row(declined, ZH)[4:7] == ("否", "否", "否")


def test_support_requests_with_what_the_town_office_recorded():
    request = item("support_request", code="family_benefit", detail="special", text="独生子女伤残",
                   support={"outcome": "granted", "decided_on": "2026-12-01", "paid_on": "2026-12-15",
                            "amount": "1200.50"})
    assert REGISTERS["support-requests"].row(request, ZH) == (
        "东村", "第一组", "001", "计生家庭奖励扶助", "计生家庭特别扶助", "李芳", "独生子女伤残", dt.date(2026, 12, 12),
        "已批准", dt.date(2026, 12, 1), dt.date(2026, 12, 15), Decimal("1200.50"))
    waiting = item("support_request", code="elderly_support", text="行动不便", person_name=None)
    assert REGISTERS["elderly-hardship"].row(waiting, EN) == (
        "东村", "第一组", "001", "Elderly support", "", "行动不便", dt.date(2026, 12, 12), "", None, None, None)
    assert REGISTERS["elderly-hardship"].source == Source("service_items", ("support_request",),
                                                          ("elderly_support", "hardship_support"))


def test_words_prefer_the_form_version_then_the_registry_then_the_code_as_written():
    assert Words("zh", FORM).code("referral_purpose", "health_centre") == "镇卫生院就诊"
    assert Words("zh", FORM).code("referral_purpose", "other") == "其他"         # not in the version: the registry's
    assert Words("en").code("supply_item", "made_up") == "made_up"
    assert Words("en").code("supply_item", None) == "" and Words("en").code("supply_item", "") == ""
    assert (ZH.yes_no(True), ZH.yes_no(False), ZH.yes_no(None)) == ("是", "否", "")


def test_cells_as_the_pages_show_them():
    assert [cell_text(value) for value in (None, "", "叶酸", 2, Decimal("1200.50"), dt.date(2026, 12, 8))] == [
        "", "", "叶酸", "2", "1200.50", "2026-12-08"]


def test_the_registry_answers_the_same_questions_for_every_register():
    assert list(REGISTERS) == ["births", "deaths", "marriages", "moved-in", "moved-out", "moves", "working-away",
                               "arrivals",
                               "followups", "supplies", "referrals", "prepregnancy-checks", "support-requests",
                               "elderly-hardship"]
    for name, register in REGISTERS.items():
        assert register_named(name) is register
        assert register.label_zh and register.label_en and register.about_zh and register.about_en
        assert register.source.reads in SOURCES
        keys = [column.key for column in register.columns]
        assert len(keys) == len(set(keys)), name
        assert all(column.label_zh and column.label_en for column in register.columns)
        if register.source.reads == "service_items":
            assert set(register.source.kinds) <= set(ITEM_KINDS)
        # Nothing of a GPS point, a UUID or anything compliance-like is a column.
        assert not {"latitude", "longitude", "location", "uuid", "person_uuid", "household_uuid"} & set(keys)
    assert register_named("gps") is None


def test_the_registry_has_words_for_every_code_of_the_service_record():
    for list_name, codes in (("supply_item", SUPPLY_ITEMS), ("referral_purpose", REFERRAL_PURPOSES),
                             ("referral_result", REFERRAL_RESULTS), ("support_outcome", SUPPORT_OUTCOMES)):
        assert set(CODE_LABELS[list_name]) == set(codes), list_name


def test_a_register_whose_values_do_not_fit_its_columns_is_refused():
    misfit = dataclasses.replace(REGISTERS["births"], values=lambda row, words: (1, 2, 3))
    with pytest.raises(ValueError, match="births register has 7 columns, not 3"):
        misfit.row(event("birth"), ZH)
    with pytest.raises(ValueError, match="type"):
        Column("x", "x", "x", "colour")
    with pytest.raises(ValueError, match="reads one of"):
        Source("gps_points")
