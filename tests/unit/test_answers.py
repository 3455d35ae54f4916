"""sync.answers on the real questionnaires (compiled by pyxform) and JavaRosa-filled submissions: every answer in
words, grouped as on the phone, in both languages; old versions paired by element names."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from pyxform.xls2xform import convert

from sync.answers import Answer, AnswerGroup, format_location, read_answers

ROOT = Path(__file__).resolve().parents[2]
XML = ROOT / "tests" / "fixtures" / "xml"
NAMES = {("people.csv", "52df4294-3b88-55f4-af16-6297ca27f83a"): "陈静",
         ("people.csv", "08f581e9-f409-501e-ae6d-28b1973c9501"): "王磊",
         ("households.csv", "689047be-f51b-5fa2-83b1-af90b0d336cb"): "001 王建国",
         ("due.csv", "c88f87bb-3202-59e5-bd61-c774da23d382"): "孙丽：产后随访"}


def name_of(file: str, value: str) -> str | None:
    return NAMES.get((file, value))


@pytest.fixture(scope="module")
def xforms() -> dict[str, bytes]:
    return {form: convert(xlsform=str(ROOT / "xlsforms" / f"{form}.xlsx")).xform.encode()
            for form in ("household_visit", "followup")}


def outline(group: AnswerGroup) -> list:
    """A group as nested lists: (label, value) per answer, [label, …] per group."""
    return [group.label] + [outline(entry) if isinstance(entry, AnswerGroup) else (entry.label, entry.value)
                            for entry in group.entries]


def submission(name: str, change=None) -> bytes:
    root = etree.fromstring((XML / name).read_bytes())
    if change:
        change(root)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


# The follow-up as published before 2026120501 (it asked `referral_to`): the XForm an older visit is shown with.
EARLIER_FOLLOWUP = (ROOT / "tests" / "fixtures" / "forms" / "followup_2026120402.xml").read_bytes()


def test_a_followup_in_chinese():
    answers = read_answers(EARLIER_FOLLOWUP, submission("followup_postpartum.xml"), language="zh", name_of=name_of)
    assert outline(answers) == [
        "随访",
        ["随访谁", ("从本组待随访名单中选择（可输入姓名搜索）", "孙丽：产后随访")],
        ["随访情况", ("随访类型", "产后随访"), ("结果", "已完成随访")],
        ["提供的服务", ("本次提供了哪些服务", "产后保健指导、药具（应本人要求）"), ("是否需要转介", "是"),
         ("转介到哪里", "镇卫生院")],
        ["药具（应本人要求） 1", ("品种", "叶酸"), ("数量", "1")],
        ["结束", ("下次随访日期", "2026-12-20")],
    ]


def test_a_followup_in_english():
    answers = read_answers(EARLIER_FOLLOWUP, submission("followup_postpartum.xml"), language="en", name_of=name_of)
    services = answers.groups[2]
    assert services.label == "Services given"
    assert [(answer.label, answer.value, answer.path) for answer in services.answers] == [
        ("Services given during this follow-up", "Postpartum care guidance, Supplies (on request)",
         "services/services_given"),
        ("Referral needed?", "Yes", "services/referral"), ("Referred to", "镇卫生院", "services/referral_to")]
    assert outline(answers.groups[3]) == ["Supplies (on request) 1", ("Item", "Folic acid"), ("Quantity", "1")]


def test_a_household_visit_with_repeats_numbered_and_labels_naming_the_member(xforms):
    answers = read_answers(xforms["household_visit"], submission("household_visit_changes.xml"), language="zh",
                           name_of=name_of)
    assert outline(answers) == [
        "入户访视",
        ["访视哪一户", ("这一户是", "本组已登记的户"),
         ("选择本组的户（可输入户主姓名或户编号搜索）", "001 王建国")],
        ["访视结果", ("访视结果", "已完成访视"), ("户主或家庭成员是否同意登记本次访视的信息，用于提供服务？", "是")],
        ["自上次访视以来的变化", ("哪些成员的情况有变化？（没有变化就不选）", "陈静、王磊"), ("本户是否有新成员？", "新出生")],
        ["成员变化 1", ("陈静：发生了什么？", "迁出"), ("日期", "2026-11-01"), ("去向或来处（省市县乡）", "成都")],
        ["成员变化 2", ("王磊：发生了什么？", "返回居住"), ("日期", "2026-11-02"), ("现在的手机号", "139****1111")],
        ["新成员 1", ("姓名", "王小宝"), ("性别", "男"), ("出生日期", "2026-11-10"), ("与户主关系", "孙子女/外孙子女"),
         ("现在住在哪里", "在本地居住"), ("户籍", "本地户籍")],
        ("本户有哪些服务需求？（没有就不选）", "产后随访、药具（应本人要求）"),
        ["产后或术后随访", ("需要随访的人", "陈静"), ("分娩或手术日期", "2026-11-10")],
        ["药具（应本人要求） 1", ("品种", "叶酸"), ("数量", "2"), ("已当场发放", "是")],
    ]
    assert [answer.path for answer in answers.all_answers()][-3:] == [
        "supplies/supply/item", "supplies/supply/quantity", "supplies/supply/given"]


def test_notes_calculations_metadata_and_unanswered_questions_are_left_out(xforms):
    answers = read_answers(xforms["household_visit"], submission("household_visit_changes.xml"), language="zh",
                           name_of=name_of)
    paths = {answer.path for answer in answers.all_answers()}
    # household_note is a note (shown, not asked); household_uuid, head_name, recording are calculations; start,
    # deviceid and meta are filled in by the phone; next_visit was left empty.
    assert paths.isdisjoint({"changes/household_note", "household_uuid", "head_name", "recording", "start",
                             "deviceid", "meta/instanceID", "closing/next_visit", "new_members/new_person_uuid"})


def test_people_and_households_not_in_the_register(xforms):
    answers = read_answers(xforms["household_visit"], submission("household_visit_split.xml"), language="en",
                           name_of=lambda file, value: None)
    assert outline(answers.groups[2]) == [
        "Split from a household",
        ("Did this household split off a household already on your group's list?", "Yes"),
        ("Split off which household (type the head's name or the household number to search)",
         "(not in the register)"),
        ("Which members move to the new household?", "(not in the register), (not in the register)")]


def test_dates_notes_and_the_gps_point_of_the_closing_group(xforms):
    def close(root):
        closing = root.find("closing")
        closing.find("next_visit").text = "2026-12-24"
        closing.find("location").text = "31.2345678 121.1234567 512.0 4.5"
        closing.find("notes").text = "下周再来"

    answers = read_answers(xforms["household_visit"], submission("household_visit_changes.xml", close),
                           language="zh", name_of=name_of)
    assert outline(answers.groups[-1]) == ["结束访视", ("建议下次访视日期", "2026-12-24"),
                                           ("位置（可选）", "31.23457, 121.12346 (±4.5 m)"), ("备注", "下周再来")]


def test_an_answer_another_version_named_is_listed_under_its_element_name():
    """A later version calls the referral's place referral_place: paired by names, the earlier XForm has no label
    for it, so it is listed last by its element path rather than hidden."""
    def rename(root):
        root.find("services/referral_to").tag = "referral_place"

    answers = read_answers(EARLIER_FOLLOWUP, submission("followup_postpartum.xml", rename), language="zh",
                           name_of=name_of)
    assert ("转介到哪里", "镇卫生院") not in outline(answers.groups[2])
    assert outline(answers.groups[-1]) == ["本表单版本中没有的回答", ("services/referral_place", "镇卫生院")]


def test_a_choice_the_form_does_not_have_says_so(xforms):
    def odd(root):
        root.find("visit/followup_type").text = "annual_check"

    answers = read_answers(xforms["followup"], submission("followup_postpartum.xml", odd), language="en",
                           name_of=name_of)
    assert answers.groups[1].answers[0] == Answer("Kind of follow-up", "(an option not in the form: annual_check)",
                                                  "visit/followup_type")


def test_inline_labels_uploads_and_a_repeat_without_a_label():
    answers = read_answers((XML / "xform_households.xml").read_bytes(),
                           (XML / "submission_repeats.xml").read_bytes(), language="en",
                           name_of=lambda file, value: f"{file}:{value}")
    assert outline(answers)[:4] == ["Household follow-up", ("Household", "households.csv:H-001"),
                                    ("Photo", "1700000000001.jpg"),
                                    ["Item 1", ("Name", "Zhang San"), ("ID card", "1700000000002.jpg")]]
    assert outline(answers.groups[1]) == ["Item 2", ("Name", "Li Si")]
    assert len(answers.groups) == 4


@pytest.mark.parametrize("text, shown", [("31.2345678 121.1234567 512.0 4.5", "31.23457, 121.12346 (±4.5 m)"),
                                         ("31.2 121.1", "31.20000, 121.10000"),
                                         ("31.2 121.1 0 12.0", "31.20000, 121.10000 (±12 m)"),
                                         ("", None), ("north", None)])
def test_format_location(text, shown):
    assert format_location(text) == shown


def test_an_answer_the_forms_version_does_not_have_is_listed_last_not_hidden(xforms):
    """Shown with a later version's XForm (its own not published here), an older visit's answers are paired by
    name; one the later version no longer asks is listed at the end, under its name."""
    answers = read_answers(xforms["followup"], submission("followup_postpartum.xml"), language="zh", name_of=name_of)
    assert outline(answers)[-1] == ["本表单版本中没有的回答", ("services/referral_to", "镇卫生院")]
