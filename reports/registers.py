"""A named register (登记册) as an xlsx workbook: one sheet, the filters and the time produced in the title rows."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from reports.workbook import ColumnWidths, new_workbook, print_setup, sheet_name, standard_formats, table_head
from sync.registers import Column, Value

__all__ = ["RegisterSheet", "build_register_workbook"]

_HEADER_ROWS = 3        # title, filters and time produced, column headers


@dataclass(frozen=True)
class RegisterSheet:
    """What the workbook shows, in the reader's language (`language` "zh" or "en"): the register's label and the
    area's name (the title), the filters as (what, value) pairs, when it was produced (the town's wall time) and
    the rows' values in column order."""

    label: str
    area: str
    language: str
    filters: tuple[tuple[str, str], ...]
    produced_at: dt.datetime
    columns: tuple[Column, ...]
    rows: Iterable[tuple[Value, ...]]


def _subtitle(sheet: RegisterSheet) -> str:
    zh = sheet.language == "zh"
    produced = (f"制表时间：{sheet.produced_at:%Y-%m-%d %H:%M}（北京时间）" if zh
                else f"Produced: {sheet.produced_at:%Y-%m-%d %H:%M} (China time)")
    separator = "；" if zh else "; "
    return separator.join([*(f"{what}：{value}" if zh else f"{what}: {value}" for what, value in sheet.filters),
                           produced])


def build_register_workbook(sheet: RegisterSheet) -> bytes:
    """The register as xlsx bytes: A4 (portrait when its columns fit, else landscape), one page wide, the header
    rows repeated on every page, each column as wide as its widest value (a long text wraps, its row tall
    enough)."""
    output = io.BytesIO()
    workbook = new_workbook(output)
    formats = standard_formats(workbook)
    cell = {"font_name": "SimSun", "font_size": 10, "valign": "vcenter", "border": 1}
    amount = workbook.add_format({**cell, "num_format": "0.00"})
    text = workbook.add_format({**cell, "text_wrap": True})     # a long text wraps, centred like the rest
    title = f"{sheet.area} {sheet.label}"
    worksheet = workbook.add_worksheet(sheet_name(sheet.label, set()))
    headers = [column.label(sheet.language) for column in sheet.columns]
    rows = [tuple(values) for values in sheet.rows]
    widths = ColumnWidths(minimum=6, maximum=40)
    widths.see_headers(0, headers)
    for values in rows:
        widths.see_row(0, [f"{value:.2f}" if isinstance(value, Decimal) else value for value in values])
    width = table_head(worksheet, formats, widths, headers, title, _subtitle(sheet))
    row = _HEADER_ROWS - 1
    for row, values in enumerate(rows, start=_HEADER_ROWS):
        worksheet.set_row(row, widths.height(values))
        for col, value in enumerate(values):
            if value is None or value == "":
                worksheet.write_blank(row, col, None, formats.text)
            elif isinstance(value, dt.date):
                worksheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), formats.date)
            elif isinstance(value, Decimal):
                worksheet.write_number(row, col, float(value), amount)
            elif isinstance(value, int) and not isinstance(value, bool):
                worksheet.write_number(row, col, value, formats.integer)
            else:
                worksheet.write_string(row, col, str(value), text)
    if row < _HEADER_ROWS:
        row = _HEADER_ROWS
        worksheet.write_string(row, 0, "（本期没有记录）" if sheet.language == "zh" else "(nothing in this period)",
                               formats.text)
    print_setup(worksheet, header_rows=_HEADER_ROWS, title=title, last_row=row,
                last_col=len(sheet.columns) - 1, width=width)
    workbook.close()
    return output.getvalue()
