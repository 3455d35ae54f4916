"""Quarterly and yearly village review workbook (村季度/年度考评): every indicator per village for the period and
month by month, the numerators and denominators, and the formulas in words; plain data in, xlsx bytes out."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Protocol

from xlsxwriter.worksheet import Worksheet

from reports.workbook import (
    ColumnWidths,
    Formats,
    new_workbook,
    notes_sheet,
    print_setup,
    standard_formats,
    table_head,
)

__all__ = ["Figure", "ReviewIndicator", "ReviewRow", "ReviewMonth", "VillageReview", "build_village_review"]

NO_DATA = "—"
NOT_APPLICABLE = "不适用 n/a"


class Figure(Protocol):
    """An indicator's value for an area (sync.indicators.Value): a rate's numerator and denominator, a count's
    number in `numerator` (denominator None); `applies` False where it does not apply."""

    numerator: int
    denominator: int | None
    applies: bool


@dataclass(frozen=True)
class ReviewIndicator:
    label: str          # both languages: 随访率 Follow-up rate
    unit: str           # rate or count
    formula: str        # both languages, the words of its formula


@dataclass(frozen=True)
class ReviewRow:
    name: str                       # the village (or 合计 Total)
    figures: tuple[Figure, ...]     # in the indicators' order


@dataclass(frozen=True)
class ReviewMonth:
    label: str                      # 2026年10月 (2026-10)
    rows: tuple[ReviewRow, ...]
    total: ReviewRow


@dataclass(frozen=True)
class VillageReview:
    area: str                       # 青山镇 (or 青山镇 › 东村)
    title: str                      # 村季度考评 Village quarterly review
    period_label: str               # 2026年第4季度 (2026-Q4)
    as_of: dt.date                  # what was due and done is judged on this day
    produced_at: dt.datetime        # wall time where the town is
    indicators: tuple[ReviewIndicator, ...]
    rows: tuple[ReviewRow, ...]     # per village, the whole period
    total: ReviewRow
    months: tuple[ReviewMonth, ...]
    notes: tuple[tuple[str, str], ...] = ()     # further notes after the formulas


def _write_figure(worksheet: Worksheet, row: int, col: int, indicator: ReviewIndicator, figure: Figure,
                  formats: Formats, total: bool) -> None:
    text, number = (formats.total_text, formats.total_integer) if total else (formats.text, formats.integer)
    if not figure.applies:
        worksheet.write_string(row, col, NOT_APPLICABLE, text)
    elif indicator.unit == "count":
        worksheet.write_number(row, col, figure.numerator, number)
    elif not figure.denominator:
        worksheet.write_string(row, col, NO_DATA, text)
    else:
        worksheet.write_number(row, col, figure.numerator / figure.denominator,
                               formats.total_percent if total else formats.percent)


def _figures_sheet(workbook, formats: Formats, name: str, title: str, subtitle: str, review: VillageReview,
                   blocks: list[tuple[str | None, tuple[ReviewRow, ...], ReviewRow]]) -> None:
    """A table of every indicator (columns) per village (rows); each block (a month, or the whole period) ends
    with its total row; `label` of a block (a month) in the first column."""
    worksheet = workbook.add_worksheet(name)
    by_month = blocks[0][0] is not None
    headers = (*(("月份 Month",) if by_month else ()), "村 Village", *(item.label for item in review.indicators))
    widths = ColumnWidths(minimum=9, maximum=24)
    widths.see_headers(0, headers)
    first = 1 if by_month else 0
    for label, rows, total in blocks:
        if label:
            widths.see(0, label)
        for line in (*rows, total):
            widths.see(first, line.name)
    width = table_head(worksheet, formats, widths, headers, title, subtitle)
    row = 3
    for label, rows, total in blocks:
        for line in (*rows, total):
            is_total = line is total
            if by_month:
                worksheet.write_string(row, 0, label, formats.total_text if is_total else formats.text)
            worksheet.write_string(row, first, line.name, formats.total_text if is_total else formats.text)
            for col, (indicator, figure) in enumerate(zip(review.indicators, line.figures), start=first + 1):
                _write_figure(worksheet, row, col, indicator, figure, formats, is_total)
            row += 1
    print_setup(worksheet, header_rows=3, title=title, last_row=row - 1, last_col=len(headers) - 1, width=width)


_COUNT_HEADERS = ("村 Village", "指标 Indicator", "分子 Numerator", "分母 Denominator", "结果 Value")


def _counts_sheet(workbook, formats: Formats, title: str, subtitle: str, review: VillageReview) -> None:
    """Each rate's numerator and denominator per village for the period (what the percentages are made of)."""
    worksheet = workbook.add_worksheet("分子分母 Counts")
    rates = [(index, indicator) for index, indicator in enumerate(review.indicators) if indicator.unit == "rate"]
    lines = [(line, indicator, line.figures[index]) for line in (*review.rows, review.total) for index, indicator in rates]
    widths = ColumnWidths(minimum=9, maximum=30)
    widths.see_headers(0, _COUNT_HEADERS)
    for line, indicator, _figure in lines:
        widths.see_row(0, (line.name, indicator.label))
    width = table_head(worksheet, formats, widths, _COUNT_HEADERS, title, subtitle)
    for row, (line, indicator, figure) in enumerate(lines, start=3):
        total = line is review.total
        text, number = (formats.total_text, formats.total_integer) if total else (formats.text, formats.integer)
        worksheet.write_string(row, 0, line.name, text)
        worksheet.write_string(row, 1, indicator.label, text)
        if figure.applies:
            worksheet.write_number(row, 2, figure.numerator, number)
            worksheet.write_number(row, 3, figure.denominator or 0, number)
        else:
            worksheet.write_string(row, 2, NOT_APPLICABLE, text)
            worksheet.write_string(row, 3, NOT_APPLICABLE, text)
        _write_figure(worksheet, row, 4, indicator, figure, formats, total)
    print_setup(worksheet, header_rows=3, title=title, last_row=2 + len(lines), last_col=len(_COUNT_HEADERS) - 1,
                width=width)


_GENERAL_NOTES = (
    ("—", "比率的分母为0（没有可统计的）：不是0%，也不是100%。\nA rate with nothing to count (a zero denominator): "
          "neither 0 % nor 100 %."),
    (NOT_APPLICABLE, "该指标不适用于这一级（例如月报及时率只适用于村及以上）。\n"
                     "The indicator does not apply at this level (e.g. report timeliness applies to villages and up)."),
    ("合计 Total", "合计行由各村的分子、分母相加后再计算比率，不是各村比率的平均数。\n"
                  "The total adds the villages' numerators and denominators, then divides: not an average of rates."),
)


def build_village_review(review: VillageReview) -> bytes:
    """The review as xlsx bytes: the period per village, month by month, the counts behind each rate, the notes.
    The workbook's creation time is `produced_at`, so the same figures at the same time give the same bytes."""
    output = io.BytesIO()
    workbook = new_workbook(output)
    workbook.set_properties({"title": f"{review.area} {review.title} {review.period_label}",
                             "created": review.produced_at.replace(tzinfo=None)})
    formats = standard_formats(workbook)
    subtitle = (f"期间 Period {review.period_label} · 统计至 Counted up to {review.as_of:%Y-%m-%d} · "
                f"生成时间 Produced {review.produced_at:%Y-%m-%d %H:%M}")
    head = f"{review.area} {review.title} — {review.period_label}"
    _figures_sheet(workbook, formats, "考评 Review", head, subtitle, review, [(None, review.rows, review.total)])
    if review.months:
        _figures_sheet(workbook, formats, "按月 By month", f"{head} 按月 By month", subtitle, review,
                       [(month.label, month.rows, month.total) for month in review.months])
    _counts_sheet(workbook, formats, f"{head} 分子分母 Counts", subtitle, review)
    notes_sheet(workbook, formats, f"{head} 说明 Notes", subtitle,
                tuple((item.label, item.formula) for item in review.indicators) + _GENERAL_NOTES + review.notes)
    workbook.close()
    return output.getvalue()
