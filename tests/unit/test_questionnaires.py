"""The questionnaires in xlsforms/: compile and pass ODK Validate, twins in sync, bilingual, in scope, documented."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from pyxform.xls2json_backends import md_to_dict
from pyxform.xls2xform import convert

from xlsforms import sheets

ROOT = Path(__file__).resolve().parents[2]
XLSFORMS = ROOT / "xlsforms"
FORMS = ["followup", "household_visit"]
LANGUAGES = ("中文 (zh)", "English (en)")
STRUCTURE = {"end_group", "end_repeat"}

# Things the system never records (DEVELOPERS.md scope boundary), as they could appear in names, labels or choices.
FORBIDDEN = ["iud", "上环", "取环", "环检", "孕检", "查孕", "准生", "生育证", "生育指标", "计划外", "政策外",
             "社会抚养费", "罚款", "结扎", "绝育", "permit", "quota", "fine", "out-of-plan", "out_of_plan",
             "sterili", "compliance", "contraceptive_method", "method_used", "节育措施", "避孕方法"]


def sheet_rows(form: str) -> dict:
    return md_to_dict((XLSFORMS / "text" / f"{form}.md").read_text())


def test_forms_are_the_expected_set():
    assert sheets.forms() == FORMS
    assert sorted(p.stem for p in XLSFORMS.glob("*.xlsx")) == FORMS


@pytest.mark.parametrize("form", FORMS)
def test_form_compiles_and_passes_odk_validate(form):
    warnings: list[str] = []
    result = convert(xlsform=XLSFORMS / f"{form}.xlsx", validate=True, warnings=warnings, file_type=".xlsx")
    assert f'id="{form}"' in result.xform
    assert warnings == []


@pytest.mark.parametrize("form", FORMS)
def test_text_twin_compiles_to_the_same_xform(form):
    from_xlsx = convert(xlsform=XLSFORMS / f"{form}.xlsx", file_type=".xlsx").xform
    from_text = convert(xlsform=XLSFORMS / "text" / f"{form}.md", file_type=".md").xform
    assert from_text == from_xlsx


def test_twins_in_sync_and_versions_raised_on_change():
    assert sheets.out_of_sync() == []


def test_changing_content_without_a_version_bump_is_caught(tmp_path, monkeypatch):
    markdown = (XLSFORMS / "text" / "followup.md").read_text()
    changed = markdown.replace("| 下次随访日期 |", "| 下一次随访日期 |")
    assert changed != markdown
    assert sheets.content_hash(changed) != sheets.content_hash(markdown)
    assert sheets.version_of(changed) == sheets.version_of(markdown)


@pytest.mark.parametrize("form", FORMS)
def test_only_functions_odk_collect_implements(form):
    """XPath 1.0's substring() passes ODK Validate but Collect's engine lacks it: ODK forms use substr()."""
    xform = convert(xlsform=XLSFORMS / "text" / f"{form}.md", file_type=".md").xform
    assert "substring(" not in xform


@pytest.mark.parametrize("form", FORMS)
def test_every_text_exists_in_both_languages(form):
    data = sheet_rows(form)
    missing = []
    for sheet in ("survey", "choices"):
        for row in data[sheet]:
            for column in ("label", "hint", "constraint_message", "required_message"):
                present = [bool(row.get(f"{column}::{language}")) for language in LANGUAGES]
                if any(present) and not all(present):
                    missing.append((sheet, row.get("name"), column))
                if column == "label" and sheet == "choices" and not all(present):
                    missing.append((sheet, row.get("name"), column))
    assert missing == []
    assert data["settings"][0]["default_language"] == "中文 (zh)"


@pytest.mark.parametrize("form", FORMS)
def test_every_constraint_and_required_field_explains_itself(form):
    for row in sheet_rows(form)["survey"]:
        if row.get("constraint"):
            assert row.get("constraint_message::中文 (zh)"), row["name"]
        if row.get("required") == "yes":
            assert row.get("required_message::English (en)"), row["name"]


@pytest.mark.parametrize("form", FORMS)
def test_text_stands_between_any_two_outputs(form):
    """JavaRosa drops the white space between two outputs ("户：002张桂兰"): put words or punctuation there."""
    texts = [(row["name"], column, value) for row in sheet_rows(form)["survey"] for column, value in row.items()
             if column.split("::")[0] in ("label", "hint") and value]
    assert [text for text in texts if re.search(r"\}\s*\$\{", text[2])] == []


@pytest.mark.parametrize("form", FORMS)
def test_nothing_outside_the_service_scope(form):
    data = sheet_rows(form)
    texts = [str(value).lower() for sheet in ("survey", "choices") for row in data[sheet] for value in row.values()
             if value]
    found = sorted({term for term in FORBIDDEN for text in texts
                    if re.search(rf"(?<![a-z]){re.escape(term)}", text) if term.isascii()}
                   | {term for term in FORBIDDEN for text in texts if not term.isascii() and term in text})
    assert found == []


@pytest.mark.parametrize("form", FORMS)
def test_every_field_has_a_documented_purpose(form):
    readme = (XLSFORMS / "README.md").read_text()
    section = readme.split(f"\n`{form}`:\n", 1)[1].split("\n\n`", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    groups_and_fields = {row["name"] for row in sheet_rows(form)["survey"]
                         if row.get("type") not in STRUCTURE and not row.get("type", "").startswith("begin_")}
    assert groups_and_fields - documented == set()


def contract_columns(list_name: str) -> list[str]:
    readme = (XLSFORMS / "README.md").read_text()
    table = readme.split(f"**`{list_name}`**", 1)[1].split("\n\n", 2)[1]
    columns = []
    for line in table.splitlines()[2:]:
        columns += re.findall(r"`([a-z_]+)`", line.split("|")[1])
    return columns


@pytest.mark.parametrize("list_name", ["households.csv", "people.csv", "due.csv", "destinations.csv", "arrivals.csv"])
def test_fixture_lists_follow_the_documented_contract(list_name):
    with open(XLSFORMS / "fixtures" / list_name, newline="") as handle:
        header = next(csv.reader(handle))
    assert header == contract_columns(list_name)


def test_fixture_id_numbers_have_valid_check_characters_and_match_birth_and_sex():
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    with open(XLSFORMS / "fixtures" / "people.csv", newline="") as handle:
        people = [row for row in csv.DictReader(handle) if row["id_number"]]
    assert people
    for person in people:
        number = person["id_number"]
        check = "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], weights)) % 11]
        assert number[17] == check
        assert number[6:14] == person["birth_date"].replace("-", "")
        assert (int(number[16]) % 2 == 1) == (person["sex"] == "male")
