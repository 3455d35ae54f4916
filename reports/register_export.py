"""The register export (台账): one sheet per group, one row per person grouped by household, streamed row by row."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from reports.workbook import new_workbook, print_setup, sheet_name, standard_formats, write_title

__all__ = ["LIVES_LABELS", "HEADERS", "PersonRow", "GroupRows", "build_register_export", "register_export_bytes"]

LIVES_LABELS = {"here": "在家 Here", "working_away": "外出务工 Working away", "moved_away": "迁出 Moved away"}
HEADERS = ("户号 Household no.", "地址 Address", "姓名 Name", "性别 Sex", "出生日期 Birth date", "身份证号 ID number",
           "与户主关系 Relationship", "电话 Phone", "居住 Lives", "户籍 Hukou", "状态 Status", "服务分级 Tier")
_WIDTHS = (10, 22, 10, 6, 11, 20, 12, 13, 18, 10, 8, 10)
_DATE_COL = HEADERS.index("出生日期 Birth date")
_INDEX = "目录 Index"


@dataclass(frozen=True)
class PersonRow:
    """One person as the register shows them; members of a household come one after another."""

    household_no: str
    address: str
    name: str
    sex: str
    birth_date: dt.date | None
    id_number: str
    relationship: str
    phone: str
    lives: str              # a key of LIVES_LABELS (shown bilingual) or text shown as it is
    hukou: str
    status: str
    tier: str


@dataclass(frozen=True)
class GroupRows:
    """One group and its people, ordered by household; `people` may be a one-pass iterator."""

    town: str
    village: str
    group: str
    people: Iterable[PersonRow]


def build_register_export(groups: Iterable[GroupRows], output: str | BinaryIO, *,
                          exported_at: dt.datetime | None = None) -> None:
    """Write the export to a path or a binary file object, holding one row at a time (constant memory).

    A "目录 Index" sheet comes first: one row per group with its sheet (linked), people and households."""
    workbook = new_workbook(output, constant_memory=True)
    formats = standard_formats(workbook)
    # Data cells take their look from the column; a household's first row has its own formats, with a line
    # above it separating households.
    font = {"font_name": "SimSun", "font_size": 10}
    column_text = workbook.add_format(font)
    column_date = workbook.add_format({**font, "num_format": "yyyy-mm-dd", "align": "left"})
    household_text = workbook.add_format({**font, "top": 1})
    household_date = workbook.add_format({**font, "top": 1, "num_format": "yyyy-mm-dd", "align": "left"})
    index = workbook.add_worksheet(_INDEX)
    write_title(index, formats, "台账目录 Register index",
                f"导出时间 Exported {exported_at:%Y-%m-%d %H:%M}" if exported_at else "")
    index.set_row(2, 30)
    index.write_row(2, 0, ("镇 Town", "村 Village", "小组 Group", "工作表 Sheet", "人数 People", "户数 Households"),
                    formats.header)
    used = {_INDEX.casefold()}
    index_row = 2
    for group in groups:
        title = f"{group.town} {group.village} {group.group} 台账 Register"
        worksheet = workbook.add_worksheet(sheet_name(f"{group.village}{group.group}", used))
        for col, width in enumerate(_WIDTHS):
            worksheet.set_column(col, col, width, column_date if col == _DATE_COL else column_text)
        write_title(worksheet, formats, title, f"{group.town} / {group.village} / {group.group}")
        worksheet.set_row(2, 42)
        worksheet.write_row(2, 0, HEADERS, formats.header)
        write_string, row, households, previous_household = worksheet.write_string, 2, 0, None
        for person in group.people:
            row += 1
            new_household = person.household_no != previous_household
            households += new_household
            previous_household = person.household_no
            text = household_text if new_household else None
            for col, value in enumerate((person.household_no, person.address, person.name, person.sex, None,
                                         person.id_number, person.relationship, person.phone,
                                         LIVES_LABELS.get(person.lives, person.lives), person.hukou, person.status,
                                         person.tier)):
                if col != _DATE_COL:
                    write_string(row, col, value, text)
                elif person.birth_date is not None:
                    worksheet.write_datetime(row, col, person.birth_date, household_date if new_household else None)
                elif new_household:
                    worksheet.write_blank(row, col, None, household_date)
        print_setup(worksheet, header_rows=3, title=title, last_row=row, last_col=len(HEADERS) - 1)
        # A finished sheet's temporary file is reopened at close: without this a county (6,000 groups) would
        # hold 6,000 files open at once.
        worksheet._opt_close()
        index_row += 1
        index.write_row(index_row, 0, (group.town, group.village, group.group), formats.text)
        index.write_url(index_row, 3, f"internal:'{worksheet.name}'!A1", formats.text, worksheet.name)
        index.write_row(index_row, 4, (row - 2, households), formats.integer)
    index.set_column(0, 3, 14)
    index.set_column(4, 5, 12)
    print_setup(index, header_rows=3, title="台账目录 Register index", last_row=index_row, last_col=5)
    workbook.close()


def register_export_bytes(groups: Iterable[GroupRows], *, exported_at: dt.datetime | None = None) -> bytes:
    """The export as bytes, for small inputs (a village); a county should stream to a file."""
    output = io.BytesIO()
    build_register_export(groups, output, exported_at=exported_at)
    return output.getvalue()
