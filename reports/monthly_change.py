"""The town's monthly change report (月变更报告单): register changes of one calendar month, by village and group, each
change person by person, and the month's service counts."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from reports.workbook import (
    A4,
    LINE_HEIGHT,
    ColumnWidths,
    Formats,
    month_label,
    new_workbook,
    notes_sheet,
    print_setup,
    sheet_name,
    standard_formats,
    table_head,
    wrapped_lines,
    write_title,
)
from sync.service_counts import SummaryTable

__all__ = ["EVENT_KINDS", "EVENT_EFFECT", "CHANGE_LABELS", "GroupChanges", "LateCorrection", "VillageSync",
           "PersonChange", "MonthlyChangeReport", "build_monthly_change_report"]

# The counted events, in column order, with their bilingual headers and their effect on the head count.
EVENT_KINDS = {
    "births": "出生 Births",
    "deaths": "死亡 Deaths",
    "marriages": "结婚 Marriages",
    "moved_in": "迁入 Moved in",
    "moved_out": "迁出 Moved out",
    "left_to_work": "外出务工 Left to work away",
    "returned": "返回 Returned",
    "registered": "新登记 Registered",
}
EVENT_EFFECT = {"births": 1, "deaths": -1, "marriages": 0, "moved_in": 1, "moved_out": -1, "left_to_work": -1,
                "returned": 1, "registered": 1}
_OPENING, _CLOSING = "期初人数 Opening", "期末人数 Closing"

# What a person's change is called on the list: the counted events, and the moves between households of a group
# (listed, not counted).
CHANGE_LABELS = {
    "births": "出生 Birth",
    "deaths": "死亡 Death",
    "marriages": "结婚 Marriage",
    "moved_in": "迁入 Moved in",
    "moved_out": "迁出 Moved out",
    "left_to_work": "外出务工 Left to work away",
    "returned": "返回居住 Came back",
    "registered": "新登记 Registered",
    "changed_household": "迁到本组另一户 Moved to another household of the group",
    "household_split": "分户 Moved to a household split off",
}
_DESTINATION, _ORIGIN = ("moved_out", "left_to_work"), ("moved_in", "returned")


@dataclass(frozen=True)
class GroupChanges:
    """One group's month: the head count at the start of the month and the events dated in it.

    `opening` is the previous month's closing recomputed with everything known when this report is produced,
    so it already includes the late corrections listed in this report."""

    village: str
    group: str
    opening: int
    births: int = 0
    deaths: int = 0
    marriages: int = 0
    moved_in: int = 0
    moved_out: int = 0
    left_to_work: int = 0
    returned: int = 0
    registered: int = 0     # registered for the first time: a new household, or someone missed before
    moved_within: int = 0   # of its moves out, people who arrived in another group of the report's area this month

    @property
    def closing(self) -> int:
        return self.opening + sum(EVENT_EFFECT[kind] * getattr(self, kind) for kind in EVENT_KINDS)


@dataclass(frozen=True)
class LateCorrection:
    """Events dated in an earlier month that reached the server after that month's report was produced."""

    village: str
    group: str
    month: dt.date          # the first day of the month the events belong to
    kind: str               # a key of EVENT_KINDS
    count: int

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}; expected one of {', '.join(EVENT_KINDS)}")


@dataclass(frozen=True)
class VillageSync:
    """Whether a village's collectors had synced the month by the deadline (the 2nd of the next month)."""

    village: str
    groups: int
    groups_synced: int      # groups whose collector synced the month by the deadline

    @property
    def complete(self) -> bool:
        return self.groups_synced >= self.groups


@dataclass(frozen=True)
class PersonChange:
    """One person's change on the list: who, in which household, what, when, and the visit that told it."""

    village: str
    group: str
    kind: str                   # a key of CHANGE_LABELS
    day: dt.date
    person_name: str
    household_no: str
    head_name: str
    visit: int | None           # the visit's number (its submission id: the visit page /visits/<n>); None:
                                # entered on the web
    collector: str              # the collector's name (entered on the web: the staff member's)
    place: str | None = None    # a move's destination or origin, by name
    spouse_name: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in CHANGE_LABELS:
            raise ValueError(f"unknown change {self.kind!r}; expected one of {', '.join(CHANGE_LABELS)}")

    @property
    def source(self) -> str:
        """The visit that told it, or that it was entered on the web."""
        return f"访视 #{self.visit}" if self.visit is not None else "网上登记 Entered on the web"

    @property
    def detail(self) -> str:
        """Where to or from (a move), or whom (a marriage)."""
        if self.kind == "moved_out" and self.place:
            return f"迁往 To: {self.place}"
        if self.kind in _DESTINATION and self.place:
            return f"去向 To: {self.place}"
        if self.kind in _ORIGIN and self.place:
            return f"来自 From: {self.place}"
        if self.kind == "marriages" and self.spouse_name:
            return f"配偶 Spouse: {self.spouse_name}"
        return ""


@dataclass(frozen=True)
class MonthlyChangeReport:
    town: str
    month: dt.date                          # the first day of the reported month
    produced_at: dt.datetime
    groups: tuple[GroupChanges, ...]        # in display order; villages appear in their first group's order
    late_corrections: tuple[LateCorrection, ...] = ()
    sync: tuple[VillageSync, ...] = ()
    changes: tuple[PersonChange, ...] = ()  # the month's changes, in list order (sync.monthly_change.month_changes)
    services: tuple[SummaryTable, ...] = ()  # the month's service counts by village (sync.service_counts)
    county: bool = False    # the county's summary: one row per town (`GroupChanges.village` and `VillageSync.village`
                            # name the town), no sheets per village, no names (each town's report has them)


_COUNT_HEADERS = (_OPENING, *EVENT_KINDS.values(), _CLOSING)
_SYNC_HEADERS = ("小组数 Groups", "按期同步小组 Groups synced by the 2nd", "按期 On time")
_WITHIN = "区域内迁移 Moved within the area"
_CHARTED = ("births", "deaths", "moved_in", "moved_out", "left_to_work", "returned")


def _counts(row: GroupChanges) -> list[int]:
    return [row.opening, *(getattr(row, kind) for kind in EVENT_KINDS), row.closing]


def _village_totals(rows: Iterable[GroupChanges]) -> list[int]:
    return [sum(column) for column in zip(*(_counts(row) for row in rows))]


def _area_totals(rows: list[GroupChanges]) -> list[int]:
    """The area's total row: the column sums, except that a move between two groups of the area is one person
    moving inside it: not one more in and one more out of the area (it is counted in the moved-within column)."""
    totals = _village_totals(rows) if rows else [0] * len(_COUNT_HEADERS)
    within = sum(row.moved_within for row in rows)
    for kind in ("moved_in", "moved_out"):
        totals[1 + list(EVENT_KINDS).index(kind)] -= within
    return [*totals, within]


def _write_count_table(worksheet: Worksheet, formats: Formats, first_row: int, labels: list[tuple[str, ...]],
                       counts: list[list[int]], total_label: tuple[str, ...],
                       totals: list[int] | None = None) -> int:
    """Label columns then count columns, one row per entry, then a total row (the column sums unless `totals`
    are given); returns the total row's index."""
    for offset, (label, values) in enumerate(zip(labels, counts)):
        worksheet.write_row(first_row + offset, 0, label, formats.text)
        worksheet.write_row(first_row + offset, len(label), values, formats.integer)
    total_row = first_row + len(labels)
    worksheet.write_row(total_row, 0, total_label, formats.total_text)
    if totals is None:
        totals = [sum(column) for column in zip(*counts)] if counts else [0] * len(_COUNT_HEADERS)
    worksheet.write_row(total_row, len(total_label), totals, formats.total_integer)
    return total_row


def _count_widths(headers: tuple[str, ...], labels: list[tuple[str, ...]], total_label: tuple[str, ...]) -> ColumnWidths:
    """Widths of a count table: the headers' words, the labels, numbers (up to six digits)."""
    widths = ColumnWidths(minimum=8)
    widths.see_headers(0, headers)
    for label in [*labels, total_label]:
        widths.see_row(0, label)
    return widths


def _summary_sheet(workbook, formats: Formats, report: MonthlyChangeReport, subtitle: str,
                   by_village: dict[str, list[GroupChanges]]) -> None:
    worksheet = workbook.add_worksheet(_SUMMARY[report.county])
    title = f"{report.town} 月变更报告单 Monthly change report — {month_label(report.month)}"
    headers = ("镇 Town" if report.county else "村 Village", *_COUNT_HEADERS, _WITHIN, *_SYNC_HEADERS)
    villages = list(by_village)
    widths = _count_widths(headers, [(village,) for village in villages], ("合计 Total",))
    width = table_head(worksheet, formats, widths, headers, title, subtitle)
    total_row = _write_count_table(worksheet, formats, 3, [(village,) for village in villages],
                                   [[*_village_totals(by_village[village]),
                                     sum(row.moved_within for row in by_village[village])] for village in villages],
                                   ("合计 Total",), totals=_area_totals(list(report.groups)))
    sync = {entry.village: entry for entry in report.sync}
    sync_col = 2 + len(_COUNT_HEADERS)
    for offset, village in enumerate(villages):
        if village in sync:
            entry = sync[village]
            worksheet.write_row(3 + offset, sync_col, (entry.groups, entry.groups_synced), formats.integer)
            worksheet.write_string(3 + offset, sync_col + 2, "是 Yes" if entry.complete else "否 No", formats.text)
        else:
            worksheet.write_row(3 + offset, sync_col, ("", "", "—"), formats.text)
    worksheet.write_row(total_row, sync_col, (sum(entry.groups for entry in report.sync),
                                              sum(entry.groups_synced for entry in report.sync)),
                        formats.total_integer)
    worksheet.write_string(total_row, sync_col + 2,
                           f"{sum(entry.complete for entry in report.sync)}/{len(report.sync)}", formats.total_text)
    print_setup(worksheet, header_rows=3, title=title, last_row=total_row - 1, last_col=len(headers) - 1,
                width=width)
    if villages:
        _change_chart(workbook, worksheet, last_row=total_row - 1, county=report.county)


_SUMMARY = {False: "镇汇总 Town summary", True: "县汇总 County summary"}


def _change_chart(workbook, worksheet: Worksheet, *, last_row: int, county: bool = False) -> None:
    chart = workbook.add_chart({"type": "column"})
    for kind in _CHARTED:
        col = 2 + list(EVENT_KINDS).index(kind)
        chart.add_series({"name": [worksheet.name, 2, col], "categories": [worksheet.name, 3, 0, last_row, 0],
                          "values": [worksheet.name, 3, col, last_row, col]})
    chart.set_title({"name": "各镇变动 Changes by town" if county else "各村变动 Changes by village",
                     "name_font": {"size": 11}})
    chart.set_y_axis({"name": "人 People", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 900, "height": 360})
    worksheet.insert_chart(last_row + 3, 0, chart)


def _village_sheet(workbook, formats: Formats, report: MonthlyChangeReport, subtitle: str, used: set[str],
                   village: str, rows: list[GroupChanges]) -> None:
    worksheet = workbook.add_worksheet(sheet_name(village, used))
    title = f"{_place(report, village)} 月变更报告单 Monthly change report — {month_label(report.month)}"
    headers = ("小组 Group", *_COUNT_HEADERS)
    total_label = (f"{village} 合计 Total",)
    widths = _count_widths(headers, [(row.group,) for row in rows], total_label)
    width = table_head(worksheet, formats, widths, headers, title, subtitle)
    total_row = _write_count_table(worksheet, formats, 3, [(row.group,) for row in rows],
                                   [_counts(row) for row in rows], total_label)
    print_setup(worksheet, header_rows=3, title=title, last_row=total_row - 1, last_col=len(headers) - 1,
                width=width)


_CHANGE_HEADERS = ("小组 Group", "户编号 Household no.", "户主 Head", "姓名 Name", "变更 Change",
                   "去向、来处或配偶 Where to / from, spouse", "日期 Date", "访视 Visit", "信息员 Collector")


def _place(report: MonthlyChangeReport, village: str) -> str:
    """A village as a sheet's title names it: within the report's area (青山镇 › 东村), once (a village's own report)."""
    if report.town == village or report.town.endswith(f"› {village}"):
        return report.town
    return f"{report.town} › {village}"


def _changes_sheet(workbook, formats: Formats, wrapped: Format, report: MonthlyChangeReport, subtitle: str,
                   used: set[str], village: str, changes: list[PersonChange]) -> None:
    """The village's changes person by person, one row each, below a header repeated on every printed page."""
    worksheet = workbook.add_worksheet(sheet_name(f"{village} 变更名单 Changes", used))
    title = f"{_place(report, village)} 变更名单 Changes, person by person — {month_label(report.month)}"
    lines = [(change.group, change.household_no, change.head_name, change.person_name, CHANGE_LABELS[change.kind],
              change.detail, change.day, change.source, change.collector) for change in changes]
    widths = ColumnWidths(minimum=8, maximum=36)
    widths.see_headers(0, _CHANGE_HEADERS)
    for line in lines:
        widths.see_row(0, line)
    width = table_head(worksheet, formats, widths, _CHANGE_HEADERS, title, subtitle)
    for row, line in enumerate(lines, start=3):
        worksheet.set_row(row, widths.height(line))  # spreadsheets do not grow a row for wrapped text on their own
        worksheet.write_row(row, 0, line[:4], formats.text)
        worksheet.write_row(row, 4, line[4:6], wrapped)
        worksheet.write_datetime(row, 6, line[6], formats.date)
        worksheet.write_row(row, 7, line[7:], formats.text)
    if not changes:
        worksheet.write_string(3, 0, "本月没有变更 No changes this month", formats.text)
    print_setup(worksheet, header_rows=3, title=title, last_row=2 + max(len(changes), 1),
                last_col=len(_CHANGE_HEADERS) - 1, width=width)


# The 服务情况 sheet's print geometry: A4 landscape inside the margins below, in points (1/72 inch).
_PAGE_WIDTH, _PAGE_HEIGHT = 842 - 2 * 0.4 * 72, 595 - 2 * 0.6 * 72
_TITLE_ROWS_HEIGHT, _ROW_HEIGHT = 22 + 15, 15
_SERVICE_WIDTHS = (14, 11)      # at least: the village column, then every number column (characters)


def _services_sheet(workbook, formats: Formats, report: MonthlyChangeReport, subtitle: str) -> None:
    """服务情况: each section a small table, villages down and the town's total below, one under the other; A4
    landscape at a scale that fits the widest section on the page's width, the title repeated on every printed
    page, and a page break before a section that would not fit on what is left of the page (so none is split
    unless it is longer than a page)."""
    worksheet = workbook.add_worksheet("服务情况 Services")
    title = f"{report.town} 服务情况 Services — {month_label(report.month)}"
    write_title(worksheet, formats, title, subtitle)
    section_format = workbook.add_format({"font_name": "SimSun", "font_size": 11, "bold": True})
    widest = max((1 + len(table.columns) for table in report.services), default=1)
    # One width for the villages, one for every number column: wide enough for the longest word of a header.
    sizes = ColumnWidths(minimum=_SERVICE_WIDTHS[0])
    sizes.see_headers(0, ["村 Village", "合计 Total", *(village for table in report.services for village, _ in table.rows)])
    numbers = ColumnWidths(minimum=_SERVICE_WIDTHS[1])
    numbers.see_headers(0, [column for table in report.services for column in table.columns])
    village_width = max(sizes.width(col) for col in sizes.seen)
    number_width = max((numbers.width(col) for col in numbers.seen), default=numbers.width(0))
    scale = _print_scale(widest, village_width, number_width)
    page_room = (_PAGE_HEIGHT - _TITLE_ROWS_HEIGHT * scale / 100) * 100 / scale
    row, used, breaks = 3, _ROW_HEIGHT, []
    for table in report.services:
        header_height = LINE_HEIGHT * max(wrapped_lines(column, number_width) for column in table.columns) + 4
        height = _ROW_HEIGHT + header_height + _ROW_HEIGHT * (len(table.rows) + 1)
        if used + height > page_room and row > 3:
            breaks.append(row)
            used = 0
        used += height + _ROW_HEIGHT
        worksheet.write_string(row, 0, table.title, section_format)
        worksheet.write_row(row + 1, 0, ("村 Village", *table.columns), formats.header)
        worksheet.set_row(row + 1, header_height)
        for offset, (village, numbers_) in enumerate(table.rows, start=row + 2):
            worksheet.write_string(offset, 0, village, formats.text)
            worksheet.write_row(offset, 1, numbers_, formats.integer)
        total_row = row + 2 + len(table.rows)
        worksheet.write_string(total_row, 0, "合计 Total", formats.total_text)
        totals = [sum(column) for column in zip(*(numbers_ for _, numbers_ in table.rows))] or [0] * len(table.columns)
        worksheet.write_row(total_row, 1, totals, formats.total_integer)
        row = total_row + 2
    if not report.services:
        worksheet.write_string(3, 0, "没有服务记录 No service records", formats.text)
    worksheet.set_column(0, 0, village_width)
    worksheet.set_column(1, max(widest - 1, 1), number_width)
    worksheet.set_paper(A4)
    worksheet.set_landscape()
    worksheet.set_print_scale(scale)    # not "fit to page": spreadsheets ignore page breaks then
    worksheet.set_h_pagebreaks(breaks)
    worksheet.repeat_rows(0, 1)
    worksheet.set_header("&C" + title.replace("&", "&&"))
    worksheet.set_footer("&C&P / &N")
    worksheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)


def _print_scale(columns: int, village_width: float, number_width: float) -> int:
    """The print scale (percent) at which a village column and `columns - 1` number columns fit the page's width:
    a column is as many characters of the default font wide, plus 5 pixels, 96 pixels to the inch; a character is
    7 pixels in Excel (Calibri) and about 10 in LibreOffice's stand-in font, and the wider is taken."""
    pixels = sum(width * 10 + 5 for width in (village_width, *[number_width] * (columns - 1)))
    return max(10, min(100, int(_PAGE_WIDTH / 72 * 96 / pixels * 100 * 0.95)))


def _late_corrections_sheet(workbook, formats: Formats, report: MonthlyChangeReport, subtitle: str) -> None:
    worksheet = workbook.add_worksheet("迟报更正 Late corrections")
    title = f"{report.town} 迟报更正 Late corrections — {month_label(report.month)}"
    headers = ("村 Village", "小组 Group", "所属月份 Month", "事项 Event", "人数 Count", "对人数的影响 Effect on count")
    corrections = sorted(report.late_corrections, key=lambda item: (item.month, item.village, item.group))
    lines = [(item.village, item.group, f"{item.month:%Y-%m}", EVENT_KINDS[item.kind]) for item in corrections]
    widths = ColumnWidths(minimum=8)
    widths.see_headers(0, headers)
    for line in lines:
        widths.see_row(0, line)
    width = table_head(worksheet, formats, widths, headers, title, subtitle)
    for row, (item, line) in enumerate(zip(corrections, lines), start=3):
        worksheet.write_row(row, 0, line, formats.text)
        worksheet.write_row(row, 4, (item.count, EVENT_EFFECT[item.kind] * item.count), formats.integer)
    if not corrections:
        worksheet.write_string(3, 0, "本月没有迟报更正 No late corrections this month", formats.text)
    print_setup(worksheet, header_rows=3, title=title, last_row=2 + max(len(corrections), 1),
                last_col=len(headers) - 1, width=width)


_NOTES = (
    ("期初人数 Opening",
     "上月期末人数，按本报表生成时已知的全部记录重新计算（含本表所列迟报更正）。\n"
     "The previous month's closing count, recomputed with everything known when this report was produced "
     "(including the late corrections listed here)."),
    ("期末人数 Closing",
     "期初 + 出生 + 迁入 + 返回 + 新登记 − 死亡 − 迁出 − 外出务工。\n"
     "Opening + births + moved in + returned + registered − deaths − moved out − left to work away."),
    ("新登记 Registered",
     "首次登记的人（新登记的户，或以前漏登的人）。\n"
     "People registered for the first time (a newly registered household, or someone missed before)."),
    ("结婚 Marriages", "计数，但不改变人数（迁入、迁出另行登记）。\n"
                      "Counted, but do not change the head count (a move in or out is recorded on its own)."),
    ("迁入、迁出 Moves in and out",
     "按人迁移时所住的小组计：迁出计入迁出的村（名单写明迁往哪里），迁入计入迁入的村（名单写明从哪个村迁来，"
     "即此人上一次迁出的村；没有迁出记录的，按登记的来处）。\n"
     "Counted in the group the person lived in: a move out in the village left (the list says where to), a move in "
     "in the village arrived in (the list says where from: the village of their last move out, else the origin as "
     "recorded)."),
    ("区域内迁移 Moved within the area",
     "本月从本报表范围内一个小组迁出、又在本月迁入范围内另一个小组的人，按人计一次（计在迁出的村）。各村表照常计迁入、迁出；"
     "「合计」行的迁入、迁出只计迁入、迁出本范围的人，区域内迁移另列，所以合计按人计、不重复。"
     "迁出与迁入不在同一个月的，迁出月计为迁出，迁入月计为迁入。\n"
     "People who moved out of one group of the report's area and into another of its groups this month, each "
     "counted once (in the village they left). Each village's row keeps its moves in and out; the total row's moves "
     "in and out are people moving into or out of the area only, and moves within are counted apart, so the total "
     "counts people, not records. A move out and its move in in different months count as a move out in the first "
     "and a move in in the second."),
    ("统计口径 What counts",
     "按事项发生日期（手机上的日期）归入月份，而不是上传日期。\n"
     "Events are counted in the month of their date on the phone, not the day they reached the server."),
    ("报送期限 Deadline",
     "月变更报告单于次月2日前报镇计生办。「按期」= 该村所有小组的信息员在次月2日（含）前已同步本月记录。\n"
     "Due at the town office by the 2nd of the next month. \"On time\" = every group's collector had synced the "
     "month by the 2nd of the next month (inclusive)."),
    ("迟报更正 Late corrections",
     "以前月份的事项在该月报表生成之后才到达服务器的，不改动已打印的报表，而在下一份报表的「迟报更正」表中列出；"
     "其净影响已计入本月期初人数，所以本月期初 = 上月报表期末 + 更正的净影响。\n"
     "Events of an earlier month that reached the server after that month's report was produced never change a "
     "printed report: they are listed on the next report's \"Late corrections\" sheet, and their net effect is "
     "already in this month's opening, so this opening = last report's closing + the corrections' net effect."),
    ("变更名单 Changes",
     "每村一张：本月（按事项日期）每个人的变更，即计数表所计的各项，外加迁到本组另一户和分户（列出，不计入人数）。"
     "「访视 #n」是记录该变更的访视编号，在系统中打开 /visits/n 可查看该次访视；「网上登记」是专干或镇计生办在网上登记的"
     "（信息员一栏写登记人）。迟报更正只在「迟报更正」表中计数。\n"
     "One sheet per village: each person's change dated in the month, as counted on the village's sheet, plus moves "
     "to another household of the group and household splits (listed, not counted). \"访视 #n\" is the visit that "
     "recorded it: its page is /visits/n; \"网上登记 Entered on the web\" was entered by a cadre or the town office "
     "(named in the collector's column). Late corrections are counted on their own sheet only."),
    ("服务情况 Services",
     "按访视日期（手机上的日期）归入月份，按户所在的村统计；被判定超出信息员小组范围的访视不计。"
     "访视：完成与未完成（无人在家、拒绝、已搬走）。服务：本月访视提供的服务（次）。"
     "药具：只计已当场发放的，按品种计数量；数量有误（非数字、不大于零、超过1000）的待更正后才计入数量；"
     "已申请未发放的另计次数。转介：本月新转介；本月结案 = 本月由随访或专干记录为已就诊或拒绝（不论何时转介）；"
     "月末未结案 = 月末前转介、到月末尚未就诊或拒绝。扶助与关爱需求：本月收到的申请（次），不作资格判断。"
     "服务记录按更正后的内容统计。\n"
     "Counted by the visit's date on the phone and the household's village; visits refused as outside their "
     "collector's group are not counted. Visits: completed, and attempted but not completed (nobody home, refused, "
     "moved away). Services: given on the month's visits (times). Supplies: only those handed out, quantity by item; "
     "an odd quantity (not a number, zero or less, over 1,000) counts once corrected; requested but not given yet "
     "counted apart (times). Referrals: made this month; closed this month = attended or declined as recorded this "
     "month by a follow-up or a cadre (whenever made); open at the month's end = made by then and neither attended nor "
     "declined by then. Support requested: requests received (times), never judged. Service records count as "
     "corrected."),
)


def build_monthly_change_report(report: MonthlyChangeReport) -> bytes:
    """The report as xlsx bytes: town summary (with a chart), service counts, for each village its counts and its
    changes person by person, late corrections, notes; the county's: its summary by town, late corrections,
    notes."""
    output = io.BytesIO()
    workbook = new_workbook(output)
    formats = standard_formats(workbook)
    # A list's cell of wrapped text, centred like the others (the standard wrap format is for notes, at the top).
    wrapped = workbook.add_format({"font_name": "SimSun", "font_size": 10, "valign": "vcenter", "border": 1,
                                   "text_wrap": True})
    subtitle = (f"生成时间 Produced {report.produced_at:%Y-%m-%d %H:%M} · "
                f"迟报更正 Late corrections: {len(report.late_corrections)}")
    by_village: dict[str, list[GroupChanges]] = defaultdict(list)
    for row in report.groups:
        by_village[row.village].append(row)
    changes_of: dict[str, list[PersonChange]] = defaultdict(list)
    for change in report.changes:
        changes_of[change.village].append(change)
    _summary_sheet(workbook, formats, report, subtitle, by_village)
    if not report.county:
        _services_sheet(workbook, formats, report, subtitle)
    used = {"镇汇总 town summary", "服务情况 services", "迟报更正 late corrections", "说明 notes"}
    for village in [] if report.county else [*by_village, *(village for village in changes_of
                                                              if village not in by_village)]:
        if village in by_village:
            _village_sheet(workbook, formats, report, subtitle, used, village, by_village[village])
        _changes_sheet(workbook, formats, wrapped, report, subtitle, used, village, changes_of[village])
    _late_corrections_sheet(workbook, formats, report, subtitle)
    notes_sheet(workbook, formats, f"{report.town} 月变更报告单说明 Notes — {month_label(report.month)}", subtitle,
                _NOTES)
    workbook.close()
    return output.getvalue()
