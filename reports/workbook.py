"""Shared xlsx plumbing for the reports: a workbook that stores text as text, standard formats, A4 print setup."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import BinaryIO

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

__all__ = ["Formats", "new_workbook", "standard_formats", "print_setup", "sheet_name", "write_title", "notes_sheet",
           "ratio", "month_label", "A4"]

A4 = 9                          # xlsxwriter / Excel paper code
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31


@dataclass(frozen=True)
class Formats:
    """The formats every report uses, added once per workbook."""

    title: Format
    subtitle: Format
    header: Format              # bilingual column headers: bold, wrapped, shaded, bordered
    text: Format
    wrap: Format                # long text (explanations, notes)
    date: Format                # yyyy-mm-dd
    integer: Format
    percent: Format             # 0.0%
    total_text: Format
    total_integer: Format
    total_percent: Format


def new_workbook(output: str | BinaryIO, *, constant_memory: bool = False) -> Workbook:
    """A workbook writing to a path or binary file object.

    Text is always stored as text: a cell value like ``=HYPERLINK(...)`` from a form answer must not become a
    formula, nor a URL-looking string a hyperlink, nor a digit string (ID or phone number) a number.
    """
    return xlsxwriter.Workbook(output, {
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "constant_memory": constant_memory,
        "in_memory": not constant_memory,      # constant memory streams rows through temporary files
    })


def standard_formats(workbook: Workbook) -> Formats:
    font = {"font_name": "SimSun", "font_size": 10, "valign": "vcenter"}
    cell = {**font, "border": 1}
    total = {**cell, "bold": True, "bg_color": "#F2F2F2", "top": 2}
    add = workbook.add_format
    return Formats(
        title=add({**font, "bold": True, "font_size": 14}),
        subtitle=add({**font, "font_color": "#595959"}),
        header=add({**cell, "bold": True, "text_wrap": True, "align": "center", "bg_color": "#DDEBF7"}),
        text=add(cell),
        wrap=add({**cell, "text_wrap": True, "valign": "top"}),
        date=add({**cell, "num_format": "yyyy-mm-dd", "align": "left"}),
        integer=add({**cell, "num_format": "0"}),
        percent=add({**cell, "num_format": "0.0%"}),
        total_text=add(total),
        total_integer=add({**total, "num_format": "0"}),
        total_percent=add({**total, "num_format": "0.0%"}),
    )


def write_title(worksheet: Worksheet, formats: Formats, title: str, subtitle: str) -> None:
    """Rows 0 and 1 of a report sheet: the title and a line saying what and when."""
    worksheet.set_row(0, 22)            # before writing: a constant-memory sheet cannot go back to a row
    worksheet.write_string(0, 0, title, formats.title)
    worksheet.write_string(1, 0, subtitle, formats.subtitle)


def print_setup(worksheet: Worksheet, *, header_rows: int, title: str, last_row: int, last_col: int) -> None:
    """A4 landscape, one page wide, the top `header_rows` rows repeated on every page and frozen on screen,
    the title in the page header and "page / pages" in the footer, and an autofilter from the column headers
    (the last header row) down to `last_row` (the last data row; a total row below it stays out of sorting)."""
    worksheet.set_paper(A4)
    worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(0, header_rows - 1)
    worksheet.set_header("&C" + title.replace("&", "&&"))
    worksheet.set_footer("&C&P / &N")
    worksheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    worksheet.freeze_panes(header_rows, 0)
    worksheet.autofilter(header_rows - 1, 0, max(last_row, header_rows - 1), last_col)


def notes_sheet(workbook: Workbook, formats: Formats, title: str, subtitle: str,
                notes: tuple[tuple[str, str], ...]) -> None:
    """A "说明 Notes" sheet: one row per (item, definition), wrapped, printable like the others."""
    worksheet = workbook.add_worksheet("说明 Notes")
    write_title(worksheet, formats, title, subtitle)
    worksheet.write_row(2, 0, ("项目 Item", "定义 Definition"), formats.header)
    for row, note in enumerate(notes, start=3):
        worksheet.write_row(row, 0, note, formats.wrap)
    worksheet.set_column(0, 0, 22)
    worksheet.set_column(1, 1, 110)
    print_setup(worksheet, header_rows=3, title=title, last_row=2 + len(notes), last_col=1)


def sheet_name(text: str, used: set[str]) -> str:
    """A valid, unique (case-insensitively, as Excel compares) sheet name from any text; records it in `used`."""
    base = _SHEET_NAME_FORBIDDEN.sub("_", text).strip("'") or "_"
    name, number = base[:_SHEET_NAME_MAX], 1
    while name.casefold() in used:
        number += 1
        suffix = f"~{number}"
        name = base[:_SHEET_NAME_MAX - len(suffix)] + suffix
    used.add(name.casefold())
    return name


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when nothing was counted (shown as a dash, never as 0 %)."""
    return numerator / denominator if denominator else None


def month_label(month: dt.date) -> str:
    return f"{month.year}年{month.month}月 ({month:%Y-%m})"
