"""The field inventory (sync/field_inventory.py) accounts for every column of the models and every question of the
forms, names nothing that is gone, uses only known values, and docs/privacy.md is its rendering."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import openpyxl
import pytest

import server.models  # noqa: F401  (every table into the metadata)
from server.extensions import db
from sync import field_inventory
from sync.field_inventory import (
    AUDIENCES,
    FIELDS,
    FORMS,
    KEPT,
    NON_PERSONAL_TABLES,
    SECTIONS,
    SENSITIVITIES,
    TABLE_SECTIONS,
    column_keys,
    question_keys,
    render_markdown,
)
from sync.privacy import RETENTION_RULES

ROOT = Path(__file__).resolve().parents[2]
STRUCTURE = ("begin_group", "end_group", "begin_repeat", "end_repeat", "note")


def model_columns() -> set[str]:
    return {f"{table.name}.{column.name}" for table in db.metadata.tables.values() for column in table.columns}


def survey_questions(xlsx: Path) -> list[str]:
    """The `name` of every row of the survey sheet but groups, repeats and notes (as pyxform reads the types)."""
    book = openpyxl.load_workbook(xlsx, read_only=True, data_only=True)
    rows = [row for row in book["survey"].iter_rows(values_only=True) if any(row)]
    book.close()
    header = list(rows[0])
    type_at, name_at = header.index("type"), header.index("name")
    names = []
    for row in rows[1:]:
        kind = " ".join(str(row[type_at] or "").split()).replace(" ", "_").lower()
        if kind and not kind.startswith(STRUCTURE) and row[name_at]:
            names.append(str(row[name_at]))
    return names


def form_questions() -> set[str]:
    return {f"{form}:{name}" for form in FORMS for name in survey_questions(ROOT / "xlsforms" / f"{form}.xlsx")}


def test_every_column_of_the_models_has_an_entry():
    missing = sorted(model_columns() - column_keys())
    assert missing == [], f"columns without an entry in sync/field_inventory.py: {missing}"


def test_every_entry_names_a_column_that_exists():
    gone = sorted(column_keys() - model_columns())
    assert gone == [], f"entries naming columns that no longer exist: {gone}"


def test_every_question_of_the_forms_has_an_entry():
    missing = sorted(form_questions() - question_keys())
    assert missing == [], f"questions without an entry in sync/field_inventory.py: {missing}"


def test_every_question_entry_names_a_question_that_exists():
    gone = sorted(question_keys() - form_questions())
    assert gone == [], f"entries naming questions that no longer exist: {gone}"


def test_the_forms_read_are_the_questionnaires_in_xlsforms():
    assert sorted(FORMS) == sorted(path.stem for path in (ROOT / "xlsforms").glob("*.xlsx"))
    # The reader sees the questions of a form: those of a repeat and a calculation, not a group or a note.
    questions = survey_questions(ROOT / "xlsforms" / "household_visit.xlsx")
    assert {"id_number", "location", "new_person_uuid"} <= set(questions)
    assert not {"pregnancy", "household_note", "new_members"} & set(questions)


def test_each_field_has_one_entry():
    keys = Counter(key for field in FIELDS for key in field.keys)
    assert [key for key, count in keys.items() if count > 1] == []
    personal_tables = {field.sources[0] for field in FIELDS if not field.is_question}
    declared = [table.name for table in NON_PERSONAL_TABLES]
    assert len(declared) == len(set(declared))
    assert personal_tables & set(declared) == set()


def test_every_table_is_in_a_section_or_declared_without_personal_data():
    tables = set(db.metadata.tables)
    accounted = set(TABLE_SECTIONS) | {table.name for table in NON_PERSONAL_TABLES}
    assert sorted(tables - accounted) == [], "tables in neither TABLE_SECTIONS nor NON_PERSONAL_TABLES"
    assert sorted(accounted - tables) == [], "tables that no longer exist"
    assert set(TABLE_SECTIONS.values()) <= set(SECTIONS)


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.keys[0])
def test_every_value_is_a_known_one(field):
    assert field.kept in KEPT
    assert field.sensitivity in SENSITIVITIES
    assert set(field.seen_by) <= set(AUDIENCES)
    assert len(field.seen_by) == len(set(field.seen_by))
    assert field.purpose_zh.strip() and field.purpose_en.strip()
    assert set(field.sources) <= (set(FORMS) if field.is_question else set(TABLE_SECTIONS))


def test_the_kept_values_name_real_retention_rules():
    assert {rule for keeping in KEPT.values() for rule in keeping.rules} <= set(RETENTION_RULES)
    # Every retention rule removes something the inventory lists.
    used = {rule for field in FIELDS for rule in KEPT[field.kept].rules}
    assert used == set(RETENTION_RULES)


def test_the_fields_the_law_calls_sensitive_are_marked_so():
    by_key = {key: field for field in FIELDS for key in field.keys}
    for key in ("person.id_number", "visit.latitude", "visit.longitude", "service_item.kind", "service_anchor.kind",
                "life_event.kind", "household_visit:pregnancy_consent", "household_visit:location",
                "service_notice.id_number", "register_field_value.value", "submission.xml"):
        assert by_key[key].sensitivity == "sensitive", key
    for key in ("person.phone", "person.name", "household.address"):
        assert by_key[key].sensitivity == "personal", key
    assert by_key["visit.latitude"].kept == by_key["household_visit:location"].kept == "location"
    assert by_key["app_user.password_hash"].seen_by == ()
    assert by_key["person.id_number"].masked and by_key["person.phone"].masked
    assert by_key["household_visit:phone_now"].masked and by_key["household_visit:id_number_corrected"].masked
    assert not by_key["person.name"].masked and not by_key["household_visit:name_corrected"].masked


def test_a_missing_entry_is_caught(monkeypatch):
    """The check can fail: without an entry for person.phone, the column is reported missing."""
    kept = tuple(field for field in FIELDS if "person.phone" not in field.keys)
    monkeypatch.setattr(field_inventory, "FIELDS", kept)
    assert sorted(model_columns() - field_inventory.column_keys()) == ["person.phone"]


def test_docs_privacy_md_is_the_rendered_registry():
    written = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    assert written == render_markdown(), "docs/privacy.md is stale: python -m sync.field_inventory > docs/privacy.md"


def test_the_rendering_has_every_field_and_rule():
    text = render_markdown()
    lines = text.splitlines()
    for field in FIELDS:
        if field.technical:   # one row per table or form: "| `person`: `uuid`, `household_uuid`, `version` | …"
            where = f"`{field.sources[0]}`" if not field.is_question else "、".join(field.sources)
            assert any(line.startswith(f"| {where}: ") and f"`{field.name}`" in line.split(" | ")[0]
                       for line in lines), field.keys
        else:
            name = f"`{field.name}`" if field.is_question else f"`{field.sources[0]}.{field.name}`"
            assert any(line.startswith(f"| {name}") for line in lines), field.keys
    for rule in RETENTION_RULES.values():
        assert f"`{rule.config_key}`" in text
    assert "3301**********1234" in text and "138****5678" in text
    for link in ("(retention.md)", "(backup.md)", "(deploy.md)"):
        assert link in text
