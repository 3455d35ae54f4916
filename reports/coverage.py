"""Visit coverage report: visits due and done per village and group, rates, and named overdue lists per collector."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.workbook import (
    ColumnWidths,
    Formats,
    new_workbook,
    notes_sheet,
    print_setup,
    ratio,
    standard_formats,
    table_head,
    write_title,
)

__all__ = ["CoverageRow", "OverdueItem", "MonthlyRate", "CoverageReport", "build_coverage_report"]


@dataclass(frozen=True)
class CoverageRow:
    """One group's flags whose due_by fell in the period, by what became of them as of the report date."""

    village: str
    group: str
    due: int
    on_time: int        # a qualifying visit on or before the flag's due_by
    late: int           # a qualifying visit after due_by
    overdue: int        # no qualifying visit

    def __post_init__(self) -> None:
        if self.on_time + self.late + self.overdue != self.due:
            raise ValueError(f"{self.village}/{self.group}: on time + late + overdue must equal due")


@dataclass(frozen=True)
class OverdueItem:
    """One overdue flag as the collector must act on it."""

    collector: str
    village: str
    group: str
    person_name: str
    household_no: str
    rule_label: str
    due_since: dt.date
    overdue_days: int
    last_visit: dt.date | None
    explanation: str            # Flag.explain(schedule, "zh")


@dataclass(frozen=True)
class MonthlyRate:
    month: dt.date              # the first day of the month
    rate: float | None          # the town's follow-up rate for flags due that month; None when none were due


@dataclass(frozen=True)
class CoverageReport:
    town: str
    period_start: dt.date
    period_end: dt.date         # inclusive
    as_of: dt.date              # the day visits were counted up to
    produced_at: dt.datetime
    rows: tuple[CoverageRow, ...]
    overdue: tuple[OverdueItem, ...] = ()
    monthly_rates: tuple[MonthlyRate, ...] = ()   # oldest first, usually the last 12 months


_COUNT_HEADERS = ("应访 Due", "按时完成 Done on time", "逾期后完成 Done late", "逾期未访 Overdue",
                  "随访率 Follow-up rate", "及时率 Timeliness")
_SUMMARY = "随访汇总 Coverage summary"
_TREND = "月度随访率 Monthly rate"


def _write_rates(worksheet: Worksheet, row: int, col: int, counts: tuple[int, int, int, int],
                 integer, percent, text) -> None:
    due, on_time, late, overdue = counts
    worksheet.write_row(row, col, counts, integer)
    for offset, value in enumerate((ratio(on_time + late, due), ratio(on_time, on_time + late))):
        if value is None:
            worksheet.write_string(row, col + 4 + offset, "—", text)
        else:
            worksheet.write_number(row, col + 4 + offset, value, percent)


def _counts(rows: list[CoverageRow]) -> tuple[int, int, int, int]:
    return (sum(row.due for row in rows), sum(row.on_time for row in rows), sum(row.late for row in rows),
            sum(row.overdue for row in rows))


def _coverage_sheet(workbook: Workbook, formats: Formats, name: str, title: str, subtitle: str,
                    labels: list[tuple[str, ...]], counts: list[tuple[int, int, int, int]],
                    label_headers: tuple[str, ...], *, charts: bool = False) -> Worksheet:
    """A table of counts and rates; landscape when it has `charts` below it (they are wider than the table)."""
    worksheet = workbook.add_worksheet(name)
    headers = (*label_headers, *_COUNT_HEADERS)
    widths = ColumnWidths(minimum=8)
    widths.see_headers(0, headers)
    for label in [*labels, ("合计 Total",)]:
        widths.see_row(0, label)
    total_width = table_head(worksheet, formats, widths, headers, title, subtitle)
    width = len(label_headers)
    for row, (label, values) in enumerate(zip(labels, counts), start=3):
        worksheet.write_row(row, 0, label, formats.text)
        _write_rates(worksheet, row, width, values, formats.integer, formats.percent, formats.text)
    total_row = 3 + len(labels)
    worksheet.write_row(total_row, 0, ("合计 Total",) + ("",) * (width - 1), formats.total_text)
    totals = tuple(sum(column) for column in zip(*counts)) if counts else (0, 0, 0, 0)
    _write_rates(worksheet, total_row, width, totals, formats.total_integer, formats.total_percent,
                 formats.total_text)
    print_setup(worksheet, header_rows=3, title=title, last_row=total_row - 1, last_col=len(headers) - 1,
                width=None if charts else total_width)
    return worksheet


_OVERDUE_HEADERS = ("信息员 Collector", "村 Village", "小组 Group", "姓名 Name", "户号 Household no.", "服务项目 Rule",
                    "应访起始 Due since", "逾期天数 Days overdue", "上次访视 Last visit", "说明 Explanation")


def _overdue_sheet(workbook: Workbook, formats: Formats, title: str, subtitle: str,
                   items: tuple[OverdueItem, ...]) -> None:
    worksheet = workbook.add_worksheet("逾期名单 Overdue by collector")
    ordered = sorted(items, key=lambda item: (item.collector, item.village, item.group, -item.overdue_days,
                                              item.household_no, item.person_name))
    lines = [(item.collector, item.village, item.group, item.person_name, item.household_no, item.rule_label,
              item.due_since, str(item.overdue_days), item.last_visit or "无 None", item.explanation)
             for item in ordered]
    widths = ColumnWidths(minimum=8, maximum=50)
    widths.see_headers(0, _OVERDUE_HEADERS)
    for line in lines:
        widths.see_row(0, line)
    width = table_head(worksheet, formats, widths, _OVERDUE_HEADERS, title, subtitle)
    page_breaks = []
    for row, (item, line) in enumerate(zip(ordered, lines), start=3):
        if row > 3 and item.collector != ordered[row - 4].collector:
            page_breaks.append(row)         # each collector's list starts on its own printed page
        worksheet.set_row(row, widths.height(line))
        worksheet.write_row(row, 0, line[:6], formats.text)
        worksheet.write_datetime(row, 6, item.due_since, formats.date)
        worksheet.write_number(row, 7, item.overdue_days, formats.integer)
        if item.last_visit is None:
            worksheet.write_string(row, 8, "无 None", formats.text)
        else:
            worksheet.write_datetime(row, 8, item.last_visit, formats.date)
        worksheet.write_string(row, 9, item.explanation, formats.wrap)
    if not ordered:
        worksheet.write_string(3, 0, "没有逾期 Nothing overdue", formats.text)
    worksheet.set_h_pagebreaks(page_breaks)
    print_setup(worksheet, header_rows=3, title=title, last_row=2 + max(len(ordered), 1),
                last_col=len(_OVERDUE_HEADERS) - 1, width=width)


def _trend_sheet(workbook: Workbook, formats: Formats, title: str, subtitle: str,
                 rates: tuple[MonthlyRate, ...]) -> None:
    worksheet = workbook.add_worksheet(_TREND)
    headers = ("月份 Month", "随访率 Follow-up rate")
    widths = ColumnWidths(minimum=10)
    widths.see_headers(0, headers)
    width = widths.apply(worksheet, 2)
    write_title(worksheet, formats, title, subtitle, last_col=1, width=width)
    worksheet.set_row(2, widths.height(headers))
    worksheet.write_row(2, 0, headers, formats.header)
    for row, entry in enumerate(rates, start=3):
        worksheet.write_string(row, 0, f"{entry.month:%Y-%m}", formats.text)
        if entry.rate is None:
            worksheet.write_blank(row, 1, None, formats.percent)
        else:
            worksheet.write_number(row, 1, entry.rate, formats.percent)
    print_setup(worksheet, header_rows=3, title=title, last_row=2 + len(rates), last_col=1, width=width)


def _charts(workbook: Workbook, summary: Worksheet, villages: int, months: int) -> None:
    overdue = workbook.add_chart({"type": "bar"})
    overdue.add_series({"name": [_SUMMARY, 2, 4], "categories": [_SUMMARY, 3, 0, 2 + villages, 0],
                        "values": [_SUMMARY, 3, 4, 2 + villages, 4], "fill": {"color": "#C0504D"},
                        "data_labels": {"value": True, "position": "inside_end",
                                                       "font": {"color": "white"}}})
    overdue.set_title({"name": "各村逾期未访 Overdue by village", "name_font": {"size": 11}})
    overdue.set_legend({"none": True})
    overdue.set_y_axis({"reverse": True})           # villages top to bottom in table order
    overdue.set_size({"width": 560, "height": 40 * villages + 120})
    summary.insert_chart(villages + 6, 0, overdue)
    if not months:
        return
    trend = workbook.add_chart({"type": "line"})
    trend.add_series({"name": [_TREND, 2, 1], "categories": [_TREND, 3, 0, 2 + months, 0],
                      "values": [_TREND, 3, 1, 2 + months, 1], "marker": {"type": "circle"}})
    trend.set_title({"name": "随访率（近12个月）Follow-up rate, last 12 months", "name_font": {"size": 11}})
    trend.set_y_axis({"min": 0, "max": 1, "num_format": "0%"})
    trend.set_legend({"none": True})
    trend.set_size({"width": 560, "height": 300})
    summary.insert_chart(villages + 6, 6, trend)


_NOTES = (
    ("应访 Due",
     "应访时限（due_by）落在统计期内的访视项目（每人每项规则每个周期或每次事件一项）：分级访视为该月/季/年，"
     "事件随访为事件后第 overdue_after_day 天。\n"
     "Flags whose due_by (the last day a visit counts as on time) falls in the period: one per person, rule and "
     "calendar period (tier rules: the period's last day) or anchor event (event rules: day overdue_after_day)."),
    ("按时完成 Done on time",
     "在 due_by 当天或之前有一次合格访视（已完成的入户访视或该规则的随访，按手机上的访视日期）。迟到服务器的访视按其日期计。\n"
     "A qualifying visit (a completed household visit, or a completed follow-up of the rule's code, by its date "
     "on the phone) on or before due_by. A visit that reached the server late counts by its date."),
    ("逾期后完成 Done late",
     "合格访视在 due_by 之后、统计日之前。分级访视的 due_by 是周期最后一天，之后的访视属于下一周期，"
     "因此逾期后完成只出现在事件随访（在 overdue_after_day 之后、expires_after_day 之前随访）。\n"
     "A qualifying visit after due_by, up to the as-of date. For tier rules due_by is the period's last day and a "
     "later visit belongs to the next period, so done late arises for event rules (visited after "
     "overdue_after_day, no later than expires_after_day)."),
    ("逾期未访 Overdue",
     "截至统计日没有合格访视（包括已超过 expires_after_day 不再随访的事件）。应访 = 按时 + 逾期后完成 + 逾期未访。\n"
     "No qualifying visit as of the as-of date (including event follow-ups no longer asked for after "
     "expires_after_day). Due = on time + late + overdue."),
    ("随访率 Follow-up rate", "（按时完成 + 逾期后完成）÷ 应访；应访为0时显示「—」。\n"
                             "(done on time + done late) ÷ due; \"—\" when nothing was due."),
    ("及时率 Timeliness", "按时完成 ÷（按时完成 + 逾期后完成）；没有完成的访视时显示「—」。\n"
                         "done on time ÷ (done on time + done late); \"—\" when nothing was done."),
    ("逾期名单 Overdue lists",
     "统计日仍逾期的项目，按信息员分页打印，最久逾期在前；逾期天数与说明同手机上的待访清单。名单含个人信息，只发给负责的信息员。\n"
     "Items still overdue on the as-of date, one printed page run per collector, most overdue first; days "
     "overdue and explanations as on the phone's due list. The lists name people: give each collector only theirs."),
)


def build_coverage_report(report: CoverageReport) -> bytes:
    """The report as xlsx bytes: village summary (charts), groups, overdue lists by collector, trend, notes."""
    output = io.BytesIO()
    workbook = new_workbook(output)
    formats = standard_formats(workbook)
    period = f"{report.period_start:%Y-%m-%d} – {report.period_end:%Y-%m-%d}"
    subtitle = (f"统计期 Period {period} · 统计至 Counted up to {report.as_of:%Y-%m-%d} · "
                f"生成时间 Produced {report.produced_at:%Y-%m-%d %H:%M}")
    by_village: dict[str, list[CoverageRow]] = defaultdict(list)
    for row in report.rows:
        by_village[row.village].append(row)
    summary = _coverage_sheet(workbook, formats, _SUMMARY, f"{report.town} 随访情况 Visit coverage — {period}",
                              subtitle, [(village,) for village in by_village],
                              [_counts(rows) for rows in by_village.values()], ("村 Village",), charts=True)
    _coverage_sheet(workbook, formats, "分组 By group", f"{report.town} 各组随访情况 Visit coverage by group — {period}",
                    subtitle, [(row.village, row.group) for row in report.rows],
                    [(row.due, row.on_time, row.late, row.overdue) for row in report.rows],
                    ("村 Village", "小组 Group"))
    _overdue_sheet(workbook, formats, f"{report.town} 逾期名单 Overdue lists — {report.as_of:%Y-%m-%d}", subtitle,
                   report.overdue)
    if report.monthly_rates:
        _trend_sheet(workbook, formats, f"{report.town} 月度随访率 Monthly follow-up rate", subtitle,
                     report.monthly_rates)
    notes_sheet(workbook, formats, f"{report.town} 随访指标说明 Notes — {period}", subtitle, _NOTES)
    if by_village:
        _charts(workbook, summary, len(by_village), len(report.monthly_rates))
    workbook.close()
    return output.getvalue()
