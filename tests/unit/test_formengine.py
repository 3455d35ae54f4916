"""Tests of the JavaRosa form-engine harness (tests/formengine) on small pyxform-built forms."""

from __future__ import annotations

import re
import shutil

import pytest
from pyxform.xls2xform import convert

from tests.formengine import FormEngineError, Violation, fill_form

if shutil.which("java") is None or shutil.which("javac") is None:
    pytest.skip("java/javac not on PATH: the JavaRosa form-engine harness needs a JDK", allow_module_level=True)


def xform(markdown: str) -> bytes:
    """XLSForm markdown tables -> XForm bytes."""
    return convert(xlsform=markdown, file_type=".md").xform.encode("utf-8")


HOUSEHOLDS_CSV = "name,label,head_name,size\nh1,Household 1,Zhang San,4\nh2,Household 2,Li Si,2\n"

TYPES = xform("""
| survey |
| | type               | name    | label   |
| | text               | name    | Name    |
| | integer            | age     | Age     |
| | decimal            | income  | Income  |
| | date               | visited | Visited |
| | select_one yn      | owner   | Owner?  |
| | select_multiple ws | water   | Water   |
| | geopoint           | where   | Where   |
| | text               | unused  | Unused  |
| choices |
| | list_name | name  | label |
| | yn        | yes   | Yes   |
| | yn        | no    | No    |
| | ws        | well  | Well  |
| | ws        | pipe  | Pipe  |
| | ws        | river | River |
""")

PHONE = xform("""
| survey |
| | type | name  | label::English (en) | label::中文 (zh) | constraint                   | constraint_message::English (en) | constraint_message::中文 (zh) | required |
| | text | name  | Name                | 姓名             |                              |                                  |                               | yes      |
| | text | phone | Phone               | 电话             | regex(., '^1[3-9][0-9]{9}$') | Not a mobile number              | 手机号码无效                   |          |
| settings |
| | default_language |
| | English (en)     |
""")


def test_answers_of_each_type_serialize():
    result = fill_form(TYPES, {
        "/data/name": "王小明",
        "/data/age": 42,
        "/data/income": "1234.5",
        "/data/visited": "2024-05-01",
        "/data/owner": "yes",
        "/data/water": ["well", "river"],
        "/data/where": "31.23 121.47 10 5",
    })
    assert result.ok, result.violations
    assert result.violations == []
    assert result.value("/data/name") == "王小明"
    assert result.value("/data/age") == "42"
    assert result.value("/data/income") == "1234.5"
    assert result.value("/data/visited") == "2024-05-01"
    assert result.value("/data/owner") == "yes"
    assert result.value("/data/water") == "well river"
    assert result.value("/data/where") == "31.23 121.47 10.0 5.0"
    assert result.value("/data/unused") == ""
    assert result.root.tag == "data" and result.root.get("id") == "data"
    assert result.screens == 8


@pytest.mark.parametrize(("language", "message"), [
    ("English (en)", "Not a mobile number"),
    ("中文 (zh)", "手机号码无效"),
])
def test_constraint_violation_is_reported_in_the_chosen_language(language, message):
    result = fill_form(PHONE, {"/data/name": "Li", "/data/phone": "12345"}, language=language)
    assert not result.ok
    assert result.xml == b""
    assert result.violations == [Violation("/data/phone", "constraint", message, "answer")]
    assert result.language == language
    assert result.languages == ["English (en)", "中文 (zh)"]


def test_valid_phone_passes_the_regex_constraint():
    result = fill_form(PHONE, {"/data/name": "Li", "/data/phone": "13812345678"})
    assert result.ok
    assert result.value("/data/phone") == "13812345678"


def test_required_field_left_empty_is_reported():
    result = fill_form(PHONE, {"/data/phone": "13812345678"}, strict=False)
    assert not result.ok
    assert result.violations == [Violation("/data/name", "required", "Sorry, this response is required!", "answer")]
    assert result.unused == ["/data/phone"]  # the walk stopped on the name screen, as Collect does
    assert result.screens == 1


def test_required_that_becomes_required_later_is_caught_at_finalize():
    form = xform("""
| survey |
| | type          | name   | label  | required          |
| | text          | reason | Reason | ${late} = 'yes'   |
| | select_one yn | late   | Late?  |                   |
| choices |
| | list_name | name | label |
| | yn        | yes  | Yes   |
| | yn        | no   | No    |
""")
    assert fill_form(form, {"/data/late": "no"}).ok
    result = fill_form(form, {"/data/late": "yes"})
    assert not result.ok
    assert result.violations == [Violation("/data/reason", "required", "Sorry, this response is required!", "finalize")]


REPEAT = xform("""
| survey |
| | type         | name    | label   | relevant       |
| | text         | village | Village |                |
| | begin repeat | members | Members |                |
| | text         | mname   | Name    |                |
| | integer      | mage    | Age     |                |
| | text         | job     | Job     | ${mage} >= 16  |
| | end repeat   |         |         |                |
| | text         | notes   | Notes   |                |
""")


def test_repeat_with_two_instances_serializes_both():
    result = fill_form(REPEAT, [
        ("/data/village", "东村"),
        ("/data/members/mname", "Ann"),  # [1] may be omitted
        ("/data/members/mage", "40"),
        ("/data/members/job", "farmer"),
        ("/data/members[2]/mname", "Bo"),
        ("/data/members[2]/mage", "9"),
        ("/data/notes", "done"),
    ])
    assert result.ok, result.violations
    members = result.root.findall("members")
    assert [(m.findtext("mname"), m.findtext("mage")) for m in members] == [("Ann", "40"), ("Bo", "9")]
    assert members[0].findtext("job") == "farmer"
    assert members[1].find("job") is None  # not relevant for a 9-year-old: left out of the submission
    assert result.value("/data/notes") == "done"
    # village, 3 questions of member 1, "add another?" (yes), 2 of member 2, "add another?" (no), notes
    assert result.screens == 1 + 3 + 1 + 2 + 1 + 1
    assert "add-repeat /data/members[2]" in result.trace
    assert "no-repeat /data/members[3]" in result.trace


def test_repeat_index_implies_the_instances_before_it():
    result = fill_form(REPEAT, {"/data/members[3]/mname": "Cy"})
    assert result.ok
    assert [m.findtext("mname") for m in result.root.findall("members")] == ["", "", "Cy"]


def test_explicit_repeat_count_zero_removes_the_default_instance():
    result = fill_form(REPEAT, {"/data/village": "v"}, repeats={"/data/members": 0})
    assert result.ok
    assert result.root.findall("members") == []


def test_nested_repeats():
    form = xform("""
| survey |
| | type         | name   | label  |
| | begin repeat | hh     | HH     |
| | text         | hname  | Head   |
| | begin repeat | person | Person |
| | text         | pname  | Name   |
| | end repeat   |        |        |
| | end repeat   |        |        |
""")
    result = fill_form(form, [
        ("/data/hh/hname", "A"),
        ("/data/hh/person/pname", "A1"),
        ("/data/hh/person[2]/pname", "A2"),
        ("/data/hh[2]/hname", "B"),
        ("/data/hh[2]/person/pname", "B1"),
    ])
    assert result.ok, result.violations
    households = result.root.findall("hh")
    assert [[p.findtext("pname") for p in h.findall("person")] for h in households] == [["A1", "A2"], ["B1"]]
    assert result.value("/data/hh[2]/hname") == "B"


LOOKUP = xform("""
| survey |
| | type                                | name  | label     | calculation                                             |
| | select_one_from_file households.csv | hh    | Household |                                                         |
| | calculate                           | head  |           | pulldata('households', 'head_name', 'name', ${hh})      |
| | calculate                           | size  |           | instance('households')/root/item[name=${hh}]/size       |
| | note                                | show  | Head: ${head} |                                                     |
""")


def test_select_one_from_file_and_csv_lookups():
    assert b'src="jr://file-csv/households.csv"' in LOOKUP
    result = fill_form(LOOKUP, {"/data/hh": "h2"}, media={"households.csv": HOUSEHOLDS_CSV})
    assert result.ok, result.violations
    assert result.value("/data/hh") == "h2"
    assert result.value("/data/head") == "Li Si"  # pulldata(), as Collect's ExternalDataHandlerPull
    assert result.value("/data/size") == "2"  # XPath into the CSV secondary instance


def test_select_one_from_file_rejects_a_value_not_in_the_csv():
    result = fill_form(LOOKUP, {"/data/hh": "h9"}, media={"households.csv": HOUSEHOLDS_CSV.encode()})
    assert not result.ok
    [violation] = result.violations
    assert (violation.path, violation.kind) == ("/data/hh", "invalid")
    assert "h1" in violation.message and "h2" in violation.message


def test_preloads_instance_id_start_today_deviceid():
    form = xform("""
| survey |
| | type     | name     | label |
| | start    | start    |       |
| | today    | today    |       |
| | deviceid | deviceid |       |
| | text     | q        | Q     |
""")
    result = fill_form(form, {"/data/q": "x"}, properties={"deviceid": "collect:abc123"})
    assert result.ok
    assert re.fullmatch(r"uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        result.value("/data/meta/instanceID"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)", result.value("/data/start"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", result.value("/data/today"))
    assert result.value("/data/deviceid") == "collect:abc123"
    other = fill_form(form, {"/data/q": "x"})
    assert other.value("/data/meta/instanceID") != result.value("/data/meta/instanceID")


def test_field_list_group_counts_as_one_screen():
    form = xform("""
| survey |
| | type        | name    | label   | appearance | required |
| | text        | before  | Before  |            |          |
| | begin group | contact | Contact | field-list |          |
| | text        | phone   | Phone   |            |          |
| | text        | email   | Email   |            |          |
| | integer     | people  | People  |            | yes      |
| | end group   |         |         |            |          |
| | begin group | plain   | Plain   |            |          |
| | text        | x       | X       |            |          |
| | text        | y       | Y       |            |          |
| | end group   |         |         |            |          |
""")
    answers = {"/data/contact/phone": "1", "/data/contact/email": "a@b", "/data/contact/people": 3}
    result = fill_form(form, answers)
    assert result.ok
    assert result.screens == 1 + 1 + 2  # before, the field-list, x, y (a plain group is not a screen)
    assert result.trace == ["question /data/before", "field-list /data/contact",
                            "question /data/plain/x", "question /data/plain/y"]
    assert result.value("/data/contact/people") == "3"
    # a required question inside the field list is reported like any other
    missing = fill_form(form, {"/data/contact/phone": "1"})
    assert missing.violations == [Violation("/data/contact/people", "required",
                                            "Sorry, this response is required!", "answer")]


def test_answer_to_a_non_relevant_question_is_unused():
    answers = [("/data/members/mname", "Kid"), ("/data/members/mage", "5"), ("/data/members/job", "none")]
    with pytest.raises(FormEngineError, match="never reached"):
        fill_form(REPEAT, answers)
    result = fill_form(REPEAT, answers, strict=False)
    assert result.ok
    assert result.unused == ["/data/members/job"]


def test_unknown_language_is_a_harness_error():
    with pytest.raises(FormEngineError, match="not in form languages"):
        fill_form(PHONE, {"/data/name": "x"}, language="Français (fr)")


PICKER = xform("""
| survey |
| | type                                | name   | label     | relevant          | calculation                               | default  |
| | select_one mode                     | mode   | Mode      |                   |                                           | existing |
| | select_one_from_file households.csv | hh     | Household | ${mode} = 'known' |                                           |          |
| | text                                | new_no | Number    | ${mode} = 'new'   |                                           |          |
| | calculate                           | shared |           |                   | if(${mode} = 'new', once(uuid()), ${hh})  |          |
| | calculate                           | fresh  |           |                   | once(uuid())                              |          |
| | calculate                           | chosen |           |                   | if(${mode} = 'new', ${fresh}, ${hh})      |          |
| choices |
| | list_name | name  | label |
| | mode      | known | Known |
| | mode      | new   | New   |
""")


def test_earlier_answers_changed_on_a_second_pass_keep_what_the_model_remembers():
    """A collector picks a household, swipes back and switches to a new one: the picker is no longer relevant (and
    left out of the submission) but its value stays in the model, so a once() that ran while it was picked keeps it."""
    result = fill_form(PICKER, {"/data/mode": "new", "/data/new_no": "7"},
                       earlier={"/data/mode": "known", "/data/hh": "h1"}, media={"households.csv": HOUSEHOLDS_CSV})
    assert result.ok, result.violations
    assert result.trace == ["question /data/mode", "question /data/hh", "back-to-start",
                            "question /data/mode", "question /data/new_no"]
    assert result.value("/data/hh") is None
    assert result.value("/data/shared") == "h1"  # once() kept the picked household's id
    assert result.value("/data/chosen") == result.value("/data/fresh") != "h1"
    assert len(result.value("/data/fresh")) == 36


def test_an_earlier_answer_never_reached_is_unused():
    with pytest.raises(FormEngineError, match="never reached"):
        fill_form(PICKER, {"/data/mode": "new"}, earlier={"/data/mode": "new", "/data/hh": "h1"},
                  media={"households.csv": HOUSEHOLDS_CSV})


def test_a_trigger_fills_a_question_of_the_same_repeat_from_a_csv_when_the_picker_changes():
    """pyxform's `trigger` column (setvalue on xforms-value-changed), as household_visit fills in where an expected
    arrival came from; an empty CSV gives an empty list, which a relevant can test for."""
    form = xform("""
| survey |
| | type                              | name     | label | relevant                                  | calculation                                              | trigger     |
| | begin_repeat                      | members  | M     |                                           |                                                          |             |
| | select_one_from_file arrivals.csv | arriving | Who   | count(instance('arrivals')/root/item) > 0 |                                                          |             |
| | text                              | origin   | From  |                                           | instance('arrivals')/root/item[name=${arriving}]/origin | ${arriving} |
| | end_repeat                        | members  |       |                                           |                                                          |             |
""")
    arrivals = "name,label,origin\np1,孙丽,青山镇 东村\np2,周婷,青山镇 西村\n"
    result = fill_form(form, {"/data/members/arriving": "p2", "/data/members[2]/arriving": "p1"},
                       media={"arrivals.csv": arrivals})
    assert result.ok, result.violations
    assert [(m.findtext("arriving"), m.findtext("origin")) for m in result.root.findall("members")] == [
        ("p2", "青山镇 西村"), ("p1", "青山镇 东村")]
    empty = fill_form(form, {"/data/members/origin": "外县"}, media={"arrivals.csv": "name,label,origin\n"})
    assert empty.trace[0] == "question /data/members/origin"
    assert [(m.findtext("arriving"), m.findtext("origin")) for m in empty.root.findall("members")] == [(None, "外县")]
