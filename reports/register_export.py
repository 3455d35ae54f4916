"""The register export (台账): one sheet per group (named by the group), one row per person grouped by household,
codes in words, streamed row by row."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
from collections.abc import Iterable
from typing import BinaryIO

from reports.workbook import ColumnWidths, group_sheet_names, new_workbook, print_setup, standard_formats, write_title
from sync.code_labels import code_label

__all__ = ["HEADERS", "CODE_LISTS", "PersonRow", "GroupRows", "build_register_export", "register_export_bytes"]

HEADERS = ("户号 Household no.", "地址 Address", "姓名 Name", "性别 Sex", "出生日期 Birth date", "身份证号 ID number",
           "与户主关系 Relationship", "电话 Phone", "居住 Lives", "户籍 Hukou", "状态 Status", "服务分级 Tier")
# The columns holding codes, by their choice list (sync.code_labels): shown in words, a value no list knows as written.
CODE_LISTS = {"sex": "sex", "relationship": "relationship", "lives": "residence", "hukou": "hukou",
              "status": "status", "tier": "tier"}
_DATE_COL = HEADERS.index("出生日期 Birth date")
_INDEX = "目录 Index"
_INDEX_HEADERS = ("镇 Town", "村 Village", "小组 Group", "工作表 Sheet", "人数 People", "户数 Households")


@dataclasses.dataclass(frozen=True)
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
    lives: str              # codes (CODE_LISTS), shown in words
    hukou: str
    status: str
    tier: str

    def values(self, language: str) -> tuple[str, ...]:
        """The row's text cells in column order (the birth date's place empty), codes in the language's words."""
        def word(field: str) -> str:
            code = getattr(self, field)
            return code_label(CODE_LISTS[field], code, language) or code
        return (self.household_no, self.address, self.name, word("sex"), "", self.id_number, word("relationship"),
                self.phone, word("lives"), word("hukou"), word("status"), word("tier"))


@dataclasses.dataclass(frozen=True)
class GroupRows:
    """One group (its own name, e.g. 第一组) and its people, ordered by household; `people` may be a one-pass
    iterator."""

    town: str
    village: str
    group: str
    people: Iterable[PersonRow]
    sheet: str = ""         # its sheet's name (reports.workbook.group_sheet_names of every group to come), or ""


def build_register_export(groups: Iterable[GroupRows], output: str | BinaryIO, *,
                          exported_at: dt.datetime | None = None, language: str = "zh") -> None:
    """Write the export to a path or a binary file object, holding one row at a time (constant memory).

    A "目录 Index" sheet comes first: one row per group with its sheet (linked), people and households. A group's
    sheet is named by the group (第一组), or by village and group (东村第一组) when groups of two villages share a
    name: each group's `sheet` when `groups` is streamed, else the groups are read first to name them. Codes are in
    the `language`'s words ("zh" or "en"); the headers are bilingual."""
    groups = iter(groups)
    first = next(groups, None)
    groups = itertools.chain([first] if first else [], groups)
    if first is not None and not first.sheet:
        groups = list(groups)
        groups = [dataclasses.replace(group, sheet=name) for group, name in zip(groups, group_sheet_names(
            ((group.village, group.group) for group in groups), {_INDEX.casefold()}))]
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
    index_widths = ColumnWidths()
    index_widths.see_headers(0, _INDEX_HEADERS)
    index.set_row(2, index_widths.height(_INDEX_HEADERS))     # widths only grow: the headers stay whole
    index.write_row(2, 0, _INDEX_HEADERS, formats.header)
    index_row = 2
    for group in groups:
        title = f"{group.town} {group.village} {group.group} 台账 Register"
        worksheet = workbook.add_worksheet(group.sheet)
        widths = ColumnWidths()
        widths.see_headers(0, HEADERS)
        widths.see(_DATE_COL, dt.date.min)
        write_title(worksheet, formats, title, f"{group.town} / {group.village} / {group.group}")
        worksheet.set_row(2, widths.height(HEADERS))
        worksheet.write_row(2, 0, HEADERS, formats.header)
        write_string, row, households, previous_household = worksheet.write_string, 2, 0, None
        for person in group.people:
            row += 1
            new_household = person.household_no != previous_household
            households += new_household
            previous_household = person.household_no
            text = household_text if new_household else None
            values = person.values(language)
            widths.see_row(0, values)
            for col, value in enumerate(values):
                if col != _DATE_COL:
                    if value:
                        write_string(row, col, value, text)
                    elif new_household:
                        worksheet.write_blank(row, col, None, text)
                elif person.birth_date is not None:
                    worksheet.write_datetime(row, col, person.birth_date, household_date if new_household else None)
                elif new_household:
                    worksheet.write_blank(row, col, None, household_date)
        # Written at the end (a constant-memory sheet keeps its columns apart from its rows until it is closed).
        width = widths.apply(worksheet, len(HEADERS), {col: column_date if col == _DATE_COL else column_text
                                                       for col in range(len(HEADERS))})
        print_setup(worksheet, header_rows=3, title=title, last_row=row, last_col=len(HEADERS) - 1, width=width)
        # A finished sheet's temporary file is reopened at close: without this a county (6,000 groups) would
        # hold 6,000 files open at once.
        worksheet._opt_close()
        index_row += 1
        index_widths.see_row(0, (group.town, group.village, group.group, worksheet.name))
        index.write_row(index_row, 0, (group.town, group.village, group.group), formats.text)
        index.write_url(index_row, 3, f"internal:'{worksheet.name}'!A1", formats.text, worksheet.name)
        index.write_row(index_row, 4, (row - 2, households), formats.integer)
    width = index_widths.apply(index, len(_INDEX_HEADERS))
    print_setup(index, header_rows=3, title="台账目录 Register index", last_row=index_row, last_col=5, width=width)
    workbook.close()


def register_export_bytes(groups: Iterable[GroupRows], *, exported_at: dt.datetime | None = None,
                          language: str = "zh") -> bytes:
    """The export as bytes, for small inputs (a village); a county should stream to a file."""
    output = io.BytesIO()
    build_register_export(groups, output, exported_at=exported_at, language=language)
    return output.getvalue()
