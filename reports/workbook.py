"""Shared xlsx plumbing for the reports: a workbook that stores text as text, standard formats, A4 print setup."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import BinaryIO

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

__all__ = ["Formats", "new_workbook", "standard_formats", "print_setup", "sheet_name", "group_sheet_names",
           "write_title", "table_head", "notes_sheet", "ratio", "month_label", "A4", "text_width", "wrapped_lines", "ColumnWidths",
           "LINE_HEIGHT", "RowStream", "text_cell", "is_plain_row", "excel_serial"]

A4 = 9                          # xlsxwriter / Excel paper code
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31
LINE_HEIGHT = 14                # points: one line of 10-point text in a row
# How wide a sheet may be (in characters, all columns together) to print portrait; wider ones print landscape.
_PORTRAIT_WIDTH = 100


@dataclass(frozen=True)
class Formats:
    """The formats every report uses, added once per workbook."""

    title: Format
    subtitle: Format
    title_merged: Format        # the title merged across the sheet's columns, wrapped
    subtitle_merged: Format
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
        title_merged=add({**font, "bold": True, "font_size": 14, "text_wrap": True, "align": "left"}),
        subtitle_merged=add({**font, "font_color": "#595959", "text_wrap": True, "align": "left"}),
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


def write_title(worksheet: Worksheet, formats: Formats, title: str, subtitle: str, *, last_col: int = 0,
                width: float | None = None) -> None:
    """Rows 0 and 1 of a report sheet: the title and a line saying what and when. Given the sheet's columns
    (`last_col`, and their `width` in characters all together), each is merged across them and wraps, its row tall
    enough, so no word of it falls off the printed page."""
    if last_col and width:
        title_lines = wrapped_lines(title, width / 1.4)         # 14-point characters
        subtitle_lines = wrapped_lines(subtitle, width)
        worksheet.set_row(0, max(22, 20 * title_lines))
        worksheet.set_row(1, LINE_HEIGHT * subtitle_lines + 2 if subtitle_lines > 1 else None)
        worksheet.merge_range(0, 0, 0, last_col, title, formats.title_merged)
        worksheet.merge_range(1, 0, 1, last_col, subtitle, formats.subtitle_merged)
        return
    worksheet.set_row(0, 22)            # before writing: a constant-memory sheet cannot go back to a row
    worksheet.write_string(0, 0, title, formats.title)
    worksheet.write_string(1, 0, subtitle, formats.subtitle)


def print_setup(worksheet: Worksheet, *, header_rows: int, title: str, last_row: int, last_col: int,
                width: float | None = None) -> None:
    """A4, one page wide, the top `header_rows` rows repeated on every page and frozen on screen, the title in the
    page header and "page / pages" in the footer, and an autofilter from the column headers (the last header row)
    down to `last_row` (the last data row; a total row below it stays out of sorting). Portrait when the columns
    (`width`, in characters, all together) fit a portrait page, else (or when not given) landscape."""
    worksheet.set_paper(A4)
    if width is not None and width <= _PORTRAIT_WIDTH:
        worksheet.set_portrait()
    else:
        worksheet.set_landscape()
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(0, header_rows - 1)
    worksheet.set_header("&C" + title.replace("&", "&&"))
    worksheet.set_footer("&C&P / &N")
    worksheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    worksheet.freeze_panes(header_rows, 0)
    worksheet.autofilter(header_rows - 1, 0, max(last_row, header_rows - 1), last_col)


def text_width(text: str) -> int:
    """How wide a text prints, in characters of a column's width: a Chinese (or other wide) character counts two
    (counted from its UTF-8 length, three bytes a character: fast enough for a county's register)."""
    return len(text) + (len(text.encode()) - len(text)) // 2


_TOKENS = re.compile(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+|\s+")


def wrapped_lines(text: str, width: float) -> int:
    """How many lines a text wraps to in a column `width` characters wide, broken as a spreadsheet breaks it:
    between words, or between any two Chinese characters (and at its own line breaks)."""
    room = max(1.0, width - 1.5)
    lines = 0
    for paragraph in str(text).split("\n"):
        lines, used = lines + 1, 0.0
        for token in _TOKENS.findall(paragraph):
            wide = text_width(token) * 1.1
            if token.isspace():
                used += wide
            elif used and used + wide > room:
                lines, used = lines + 1 + int(wide // room), wide % room
            else:
                used += wide
    return max(1, lines)


class ColumnWidths:
    """The widest value seen in each column; then each column as wide as its widest value (so nothing prints cut
    or as ####), between `minimum` and `maximum` characters (a wider value wraps, its row made tall enough)."""

    def __init__(self, minimum: float = 6, maximum: float = 60) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.seen: dict[int, float] = {}

    def see(self, col: int, value) -> None:
        if value is None:
            return
        if type(value) is str and "\n" not in value:
            wide = text_width(value)
        elif isinstance(value, dt.date):
            wide = 10
        elif isinstance(value, float):
            wide = len(f"{value:,.2f}")
        else:
            wide = max((text_width(line) for line in str(value).split("\n")), default=0)
        self.seen[col] = max(self.seen.get(col, 0), wide)

    def see_row(self, first_col: int, values) -> None:
        for col, value in enumerate(values, start=first_col):
            self.see(col, value)

    def see_headers(self, first_col: int, headers) -> None:
        """Headers wrap: a column must hold their longest word (or a Chinese part: 户主关系 of 户主关系 Relationship)."""
        for col, header in enumerate(headers, start=first_col):
            self.see(col, max((token for token in re.findall(r"[\u2e80-\uffff]+|[^\s\u2e80-\uffff]+", header)),
                              key=text_width, default=""))

    def width(self, col: int) -> float:
        """The column's width: its widest value, a tenth more (fonts differ) and a margin, within the bounds."""
        return round(min(self.maximum, max(self.minimum, self.seen.get(col, 0) * 1.1 + 2)), 1)

    def apply(self, worksheet: Worksheet, columns: int, formats: dict[int, Format] | None = None) -> float:
        """Set the first `columns` columns' widths; returns their sum (for print_setup's orientation)."""
        total = 0.0
        for col in range(columns):
            width = self.width(col)
            worksheet.set_column(col, col, width, (formats or {}).get(col))
            total += width
        return total

    def total(self, columns: int) -> float:
        return sum(self.width(col) for col in range(columns))

    def height(self, values, first_col: int = 0) -> float | None:
        """The height of a row whose long texts wrap (headers, explanations), or None when each fits on one line."""
        lines = max((wrapped_lines(value, self.width(col)) for col, value in enumerate(values, first_col)
                     if isinstance(value, str)), default=1)
        return LINE_HEIGHT * lines + 4 if lines > 1 else None


def table_head(worksheet: Worksheet, formats: Formats, widths: ColumnWidths, headers, title: str,
               subtitle: str) -> float:
    """A table's top: its columns as wide as `widths` saw, the title above, the header row (the third) tall enough
    for its wrapped words; returns the columns' total width (for print_setup)."""
    width = widths.apply(worksheet, len(headers))
    write_title(worksheet, formats, title, subtitle, last_col=len(headers) - 1, width=width)
    worksheet.set_row(2, widths.height(headers))
    worksheet.write_row(2, 0, headers, formats.header)
    return width


def notes_sheet(workbook: Workbook, formats: Formats, title: str, subtitle: str,
                notes: tuple[tuple[str, str], ...]) -> None:
    """A "说明 Notes" sheet: one row per (item, definition), wrapped, each row tall enough for its definition,
    printable like the others."""
    worksheet = workbook.add_worksheet("说明 Notes")
    headers = ("项目 Item", "定义 Definition")
    widths = ColumnWidths(maximum=100)
    widths.see_row(0, headers)
    for note in notes:
        widths.see_row(0, note)
    width = widths.apply(worksheet, 2)
    write_title(worksheet, formats, title, subtitle, last_col=1, width=width)
    worksheet.write_row(2, 0, headers, formats.header)
    for row, note in enumerate(notes, start=3):
        worksheet.set_row(row, widths.height(note))
        worksheet.write_row(row, 0, note, formats.wrap)
    print_setup(worksheet, header_rows=3, title=title, last_row=2 + len(notes), last_col=1, width=width)


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


def group_sheet_names(groups, used: set[str]) -> list[str]:
    """The sheet names of groups, given as (village, group) in sheet order: the group's own name (第一组), with its
    village before it (东村第一组) when groups of two villages share the name; valid and unique (see sheet_name: a
    county's two 东村第一组 become 东村第一组 and 东村第一组~2), recorded in `used`."""
    groups = list(groups)
    villages_of: dict[str, set[str]] = {}
    for village, group in groups:
        villages_of.setdefault(group, set()).add(village)
    return [sheet_name(group if len(villages_of[group]) == 1 else f"{village}{group}", used)
            for village, group in groups]


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when nothing was counted (shown as a dash, never as 0 %)."""
    return numerator / denominator if denominator else None


def month_label(month: dt.date) -> str:
    return f"{month.year}年{month.month}月 ({month:%Y-%m})"


# What a text cell's XML must not hold as it is: XML's own characters, control characters (written _xHHHH_) and a
# literal _xHHHH_ (its underscore escaped), as xlsxwriter escapes them; leading or trailing white space is kept with
# xml:space="preserve".
_NOT_PLAIN = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_NOT_PLAIN_ANYWHERE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_NOT_PLAIN_ROW: dict[str, re.Pattern] = {}
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()     # day 0 of Excel's serial dates after 1 March 1900


def text_cell(ref: str, style: str, value: str) -> str:
    """A cell holding `value` (under 32,767 characters: xlsxwriter would cut it, this does not) as an inline string,
    as xlsxwriter writes it in a constant-memory sheet; `style` from `RowStream.style`."""
    if _NOT_PLAIN.search(value) is None:
        return f'<c r="{ref}"{style} t="inlineStr"><is><t>{value}</t></is></c>'
    value = XMLwriter._escape_control_characters(value)
    preserve = ' xml:space="preserve"' if _preserve_whitespace(value) else ""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{preserve}>{escaped}</t></is></c>'


def is_plain_row(texts: str, separator: str) -> bool:
    """Whether none of a row's texts, run together with `separator` (a character `text_cell` writes as it is and
    that is no white space, such as U+E000), needs escaping or xml:space="preserve" in a cell."""
    pattern = _NOT_PLAIN_ROW.get(separator)
    if pattern is None:
        pattern = _NOT_PLAIN_ROW[separator] = re.compile(
            rf"{_NOT_PLAIN_ANYWHERE.pattern}|^\s|\s$|\s{re.escape(separator)}|{re.escape(separator)}\s")
    return pattern.search(texts) is None


def excel_serial(day: dt.date) -> str:
    """A date (from 1 March 1900) as Excel's serial number, as xlsxwriter writes it."""
    return str(day.toordinal() - _EXCEL_EPOCH)


class RowStream:
    """Data rows written straight into a constant-memory worksheet's row file, each row as one piece of XML.

    xlsxwriter's own `write_string` costs ~15 µs a cell (its checks, a cell object, the cell's XML built attribute by
    attribute): a county's register, ten million cells, took 160 s. The XML given here must be what xlsxwriter writes
    for the same cells (`text_cell`: an inline string escaped as it escapes it; a date as its serial number,
    `excel_serial`; a blank with its format: `<c r="A4" s="5"/>`), each cell with its format given (xlsxwriter
    would leave a cell without one to the column's format, which a constant-memory sheet sets only after its rows).
    Use: the rows above written with xlsxwriter first, then `RowStream(worksheet, first_row, columns)`, `row()` for
    each row in order, `close()`; then only the sheet's settings (widths, print setup, autofilter), no more cells."""

    def __init__(self, worksheet: Worksheet, first_row: int, columns: int) -> None:
        if not worksheet.constant_memory or worksheet.previous_row > first_row or worksheet.table.get(first_row):
            raise ValueError("a row stream needs a constant-memory sheet whose rows so far are above it")
        worksheet._write_single_row(first_row)      # the last row written with xlsxwriter goes to the file first
        self.worksheet, self.columns = worksheet, columns
        self.letters = tuple(xl_col_to_name(col) for col in range(columns))
        self.next_row = first_row
        self._pending: list[str] = []

    @staticmethod
    def style(cell_format: Format | None) -> str:
        """A format as a cell's attribute (` s="5"`), "" for none."""
        return f' s="{cell_format._get_xf_index()}"' if cell_format is not None else ""

    def row(self, cells: str) -> int:
        """Write the next row, its cells' XML given (their references name row `next_row` + 1); returns the row's
        number (0-based)."""
        number = self.next_row
        if number >= self.worksheet.xls_rowmax:
            raise ValueError(f"a sheet holds at most {self.worksheet.xls_rowmax:,} rows")
        self.next_row += 1
        self._pending.append(f'<row r="{number + 1}">{cells}</row>')
        if len(self._pending) >= 512:
            self.flush()
        return number

    def flush(self) -> None:
        self.worksheet.fh.write("".join(self._pending))
        self._pending.clear()

    def close(self) -> int:
        """Write what is pending and tell the sheet its last row and column; returns the last row written (the
        header row above when none was)."""
        self.flush()
        last = self.next_row - 1
        if self.next_row > self.worksheet.previous_row:
            self.worksheet._check_dimensions(last, self.columns - 1)
            self.worksheet.previous_row = self.next_row
        return last
