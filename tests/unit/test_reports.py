"""Report builders: small fixtures written to xlsx and read back with openpyxl, cell by cell."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import posixpath
import re
import zipfile
from dataclasses import replace

import openpyxl
import pytest
from lxml import etree

from reports.coverage import CoverageReport, CoverageRow, MonthlyRate, OverdueItem, build_coverage_report
from reports.monthly_change import (
    GroupChanges,
    LateCorrection,
    MonthlyChangeReport,
    PersonChange,
    VillageSync,
    build_monthly_change_report,
)
from reports.register_export import GroupRows, PersonRow, build_register_export, register_export_bytes
from reports.workbook import RowStream, excel_serial, group_sheet_names, new_workbook, sheet_name, text_cell
from sync.service_counts import SummaryTable

D = dt.date
INJECTION = '=HYPERLINK("http://example.com","点我")'


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def related_parts(archive: zipfile.ZipFile, part: str, kind: str) -> list[str]:
    """The parts `part` refers to with relationships of type `kind` (e.g. "drawing", "chart"), as archive paths."""
    folder, name = posixpath.split(part)
    relationships_part = posixpath.join(folder, "_rels", name + ".rels")
    if relationships_part not in archive.namelist():
        return []
    relationships = etree.fromstring(archive.read(relationships_part))
    return [posixpath.normpath(posixpath.join(folder, relationship.get("Target")))
            for relationship in relationships if relationship.get("Type").rsplit("/", 1)[-1] == kind]


def charts_on(data: bytes, sheet: str) -> int:
    """How many charts the saved workbook draws on the named sheet (sheet → drawing → charts in the package)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = etree.fromstring(archive.read("xl/workbook.xml"))
        (relationship_id,) = workbook.xpath(
            "//m:sheet[@name=$name]/@r:id", name=sheet,
            namespaces={"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"})
        relationships = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        (target,) = [relationship.get("Target") for relationship in relationships
                     if relationship.get("Id") == relationship_id]
        sheet_part = posixpath.normpath(posixpath.join("xl", target))
        return sum(len(related_parts(archive, drawing, "chart"))
                   for drawing in related_parts(archive, sheet_part, "drawing"))


def row_values(worksheet, row: int) -> list:
    return [cell.value for cell in worksheet[row]]


def assert_print_setup(worksheet, *, autofilter: str, frozen: str = "A4", title_rows: str = "$1:$3",
                       orientation: str = "landscape") -> None:
    assert worksheet.freeze_panes == frozen
    assert worksheet.auto_filter.ref == autofilter
    assert worksheet.page_setup.orientation == orientation
    assert worksheet.page_setup.paperSize == 9
    assert (worksheet.page_setup.fitToWidth or 1) == 1        # 1 page wide: the default, so not written
    assert worksheet.page_setup.fitToHeight == 0                # as many pages tall as needed
    assert worksheet.sheet_properties.pageSetUpPr.fitToPage
    assert worksheet.print_title_rows == title_rows
    assert worksheet.oddFooter.center.text == "&P / &N"


# ---- monthly change report ------------------------------------------------------------------------------------

MONTHLY = MonthlyChangeReport(
    town="青山镇",
    month=D(2026, 11, 1),
    produced_at=dt.datetime(2026, 12, 2, 9, 30),
    groups=(
        GroupChanges("东村", "一组", opening=120, births=2, deaths=1, marriages=1, moved_in=3, moved_out=1,
                     left_to_work=4, returned=2, moved_within=1),
        GroupChanges("东村", INJECTION, opening=80, births=1),
        GroupChanges("西村", "一组", opening=200, deaths=2, moved_in=1, left_to_work=5, returned=1, registered=1),
    ),
    late_corrections=(LateCorrection("西村", "一组", D(2026, 10, 1), "births", 1),
                      LateCorrection("东村", "一组", D(2026, 9, 1), "deaths", 2),
                      LateCorrection("东村", "一组", D(2026, 10, 1), "marriages", 1)),
    sync=(VillageSync("东村", groups=2, groups_synced=2), VillageSync("西村", groups=3, groups_synced=2)),
    changes=(
        PersonChange("东村", "一组", "births", D(2026, 11, 3), "张小宝", "001", "张伟", visit=17, collector="王小红"),
        PersonChange("东村", "一组", "left_to_work", D(2026, 11, 9), "李芳", "001", "张伟", visit=18,
                     collector="王小红", place="广东省深圳市"),
        PersonChange("东村", "一组", "marriages", D(2026, 11, 12), INJECTION, "002", "张强", visit=19,
                     collector="王小红", spouse_name="陈静"),
        PersonChange("东村", "一组", "changed_household", D(2026, 11, 20), "张丽", "003", "", visit=20,
                     collector="王小红"),
    ),
    services=(
        SummaryTable("访视 Visits (by outcome)", ("完成 Completed", "无人在家 Nobody home", "访视合计 All visits"),
                     (("东村", (2, 1, 3)), ("西村", (4, 0, 4)))),
        SummaryTable("药具发放数量（应本人要求）Supplies given on request (quantity)",
                     ("叶酸 Folic acid", "避孕套 Condoms", "合计 Total"), (("东村", (3, 10, 13)), ("西村", (0, 0, 0)))),
    ),
)


def test_monthly_change_sheets_and_summary():
    data = build_monthly_change_report(MONTHLY)
    workbook = load(data)
    assert workbook.sheetnames == ["镇汇总 Town summary", "服务情况 Services", "东村", "东村 变更名单 Changes", "西村",
                                   "西村 变更名单 Changes", "迟报更正 Late corrections", "说明 Notes"]
    summary = workbook["镇汇总 Town summary"]
    assert summary["A1"].value == "青山镇 月变更报告单 Monthly change report — 2026年11月 (2026-11)"
    assert summary["A2"].value == "生成时间 Produced 2026-12-02 09:30 · 迟报更正 Late corrections: 3"
    assert row_values(summary, 3) == [
        "村 Village", "期初人数 Opening", "出生 Births", "死亡 Deaths", "结婚 Marriages", "迁入 Moved in",
        "迁出 Moved out", "外出务工 Left to work away", "返回 Returned", "新登记 Registered", "期末人数 Closing",
        "区域内迁移 Moved within the area", "小组数 Groups",
        "按期同步小组 Groups synced by the 2nd", "按期 On time"]
    # 东村: 120+2-1+3-1-4+2 = 121 and 80+1 = 81
    assert row_values(summary, 4) == ["东村", 200, 3, 1, 1, 3, 1, 4, 2, 0, 202, 1, 2, 2, "是 Yes"]
    assert row_values(summary, 5) == ["西村", 200, 0, 2, 0, 1, 0, 5, 1, 1, 196, 0, 3, 2, "否 No"]
    # The one who moved from 东村 to 西村 is one person moving within the town: not one more in and one more out.
    assert row_values(summary, 6) == ["合计 Total", 400, 3, 3, 1, 3, 0, 9, 3, 1, 398, 1, 5, 4, "1/2"]
    assert_print_setup(summary, autofilter="A3:O5")
    assert summary.oddHeader.center.text == "青山镇 月变更报告单 Monthly change report — 2026年11月 (2026-11)"
    assert charts_on(data, "镇汇总 Town summary") == 1


def test_monthly_change_village_sheet_keeps_formula_like_names_as_text():
    village = load(build_monthly_change_report(MONTHLY))["东村"]
    assert row_values(village, 3)[:2] == ["小组 Group", "期初人数 Opening"]
    assert row_values(village, 4) == ["一组", 120, 2, 1, 1, 3, 1, 4, 2, 0, 121]
    assert row_values(village, 5) == [INJECTION, 80, 1, 0, 0, 0, 0, 0, 0, 0, 81]
    assert village["A5"].data_type == "s"
    assert row_values(village, 6) == ["东村 合计 Total", 200, 3, 1, 1, 3, 1, 4, 2, 0, 202]
    assert_print_setup(village, autofilter="A3:K5")


def test_monthly_change_late_corrections_and_notes():
    workbook = load(build_monthly_change_report(MONTHLY))
    late = workbook["迟报更正 Late corrections"]
    assert row_values(late, 3) == ["村 Village", "小组 Group", "所属月份 Month", "事项 Event", "人数 Count",
                                   "对人数的影响 Effect on count"]
    assert [row_values(late, row) for row in (4, 5, 6)] == [
        ["东村", "一组", "2026-09", "死亡 Deaths", 2, -2],
        ["东村", "一组", "2026-10", "结婚 Marriages", 1, 0],
        ["西村", "一组", "2026-10", "出生 Births", 1, 1]]
    assert_print_setup(late, autofilter="A3:F6", orientation="portrait")      # narrow: portrait
    notes = [row_values(workbook["说明 Notes"], row)[0] for row in range(4, 15)]
    assert notes == ["期初人数 Opening", "期末人数 Closing", "新登记 Registered", "结婚 Marriages",
                     "迁入、迁出 Moves in and out", "区域内迁移 Moved within the area", "统计口径 What counts",
                     "报送期限 Deadline", "迟报更正 Late corrections", "变更名单 Changes", "服务情况 Services"]
    assert "2nd of the next month" in workbook["说明 Notes"]["B11"].value


def test_monthly_change_lists_each_villages_changes_person_by_person():
    workbook = load(build_monthly_change_report(MONTHLY))
    changes = workbook["东村 变更名单 Changes"]
    assert changes["A1"].value == "青山镇 › 东村 变更名单 Changes, person by person — 2026年11月 (2026-11)"
    # A village's own report names it once.
    own = load(build_monthly_change_report(dataclasses.replace(MONTHLY, town="青山镇 › 东村")))
    assert own["东村 变更名单 Changes"]["A1"].value == "青山镇 › 东村 变更名单 Changes, person by person — 2026年11月 (2026-11)"
    assert row_values(changes, 3) == ["小组 Group", "户编号 Household no.", "户主 Head", "姓名 Name", "变更 Change",
                                      "去向、来处或配偶 Where to / from, spouse", "日期 Date", "访视 Visit",
                                      "信息员 Collector"]
    assert [row_values(changes, row) for row in (4, 5, 6, 7)] == [
        ["一组", "001", "张伟", "张小宝", "出生 Birth", None, dt.datetime(2026, 11, 3), "访视 #17", "王小红"],
        ["一组", "001", "张伟", "李芳", "外出务工 Left to work away", "去向 To: 广东省深圳市", dt.datetime(2026, 11, 9),
         "访视 #18", "王小红"],
        ["一组", "002", "张强", INJECTION, "结婚 Marriage", "配偶 Spouse: 陈静", dt.datetime(2026, 11, 12), "访视 #19",
         "王小红"],
        ["一组", "003", None, "张丽", "迁到本组另一户 Moved to another household of the group", None,
         dt.datetime(2026, 11, 20), "访视 #20", "王小红"]]
    assert changes["D6"].data_type == "s" and changes["G4"].number_format == "yyyy-mm-dd"
    assert_print_setup(changes, autofilter="A3:I7")
    nothing = workbook["西村 变更名单 Changes"]
    assert row_values(nothing, 4)[0] == "本月没有变更 No changes this month"


def test_monthly_change_service_counts_sheet():
    services = load(build_monthly_change_report(MONTHLY))["服务情况 Services"]
    assert services["A1"].value == "青山镇 服务情况 Services — 2026年11月 (2026-11)"
    assert [row_values(services, row)[:4] for row in range(4, 14)] == [
        ["访视 Visits (by outcome)", None, None, None],
        ["村 Village", "完成 Completed", "无人在家 Nobody home", "访视合计 All visits"],
        ["东村", 2, 1, 3],
        ["西村", 4, 0, 4],
        ["合计 Total", 6, 1, 7],
        [None, None, None, None],
        ["药具发放数量（应本人要求）Supplies given on request (quantity)", None, None, None],
        ["村 Village", "叶酸 Folic acid", "避孕套 Condoms", "合计 Total"],
        ["东村", 3, 10, 13],
        ["西村", 0, 0, 0]]
    assert row_values(services, 14)[:4] == ["合计 Total", 3, 10, 13]
    assert services.page_setup.orientation == "landscape" and services.page_setup.paperSize == 9
    assert services.print_title_rows == "$1:$2" and services.oddFooter.center.text == "&P / &N"
    assert (services.page_setup.scale or 100) == 100 and not services.row_breaks.brk   # small sections: one page


def test_monthly_change_service_sections_are_not_split_between_pages():
    """A section that does not fit on what is left of a page starts a new one; a wide one prints smaller."""
    villages = tuple((f"第{number}村", (number, 0, number)) for number in range(1, 12))
    report = replace(MONTHLY, services=(SummaryTable("甲 A", ("一", "二", "合计 Total"), villages),
                                        SummaryTable("乙 B", ("一", "二", "合计 Total"), villages)))
    services = load(build_monthly_change_report(report))["服务情况 Services"]
    assert services["A19"].value == "乙 B"
    assert [brk.id for brk in services.row_breaks.brk] == [18]        # above 乙 B's title, row 19
    assert (services.page_setup.scale or 100) == 100
    wide = SummaryTable("宽表 Wide", tuple(f"第{number}列" for number in range(14)), (("东村", (0,) * 14),))
    services = load(build_monthly_change_report(replace(MONTHLY, services=(wide,))))["服务情况 Services"]
    assert services.page_setup.scale == 56                            # fifteen columns on the page's width
    assert not services.row_breaks.brk


def test_monthly_change_rejects_unknown_event_kind():
    with pytest.raises(ValueError, match="unknown event kind"):
        LateCorrection("东村", "一组", D(2026, 10, 1), "fines", 1)
    with pytest.raises(ValueError, match="unknown change"):
        PersonChange("东村", "一组", "birth", D(2026, 10, 1), "张小宝", "001", "张伟", visit=1, collector="王小红")


# ---- coverage ---------------------------------------------------------------------------------------------

COVERAGE = CoverageReport(
    town="青山镇",
    period_start=D(2026, 10, 1),
    period_end=D(2026, 10, 31),
    as_of=D(2026, 11, 22),
    produced_at=dt.datetime(2026, 11, 22, 8, 0),
    rows=(CoverageRow("东村", "一组", due=10, on_time=6, late=2, overdue=2),
          CoverageRow("东村", "二组", due=5, on_time=5, late=0, overdue=0),
          CoverageRow("西村", "一组", due=0, on_time=0, late=0, overdue=0)),
    overdue=(
        OverdueItem("王芳", "东村", "一组", "李秀英", "H-003", "重点服务对象例行访视", D(2026, 10, 1), 22,
                    D(2026, 8, 3), "2026年10月没有完成的访视，已逾期 22 天；上次访视 2026-08-03。"),
        OverdueItem("王芳", "东村", "一组", INJECTION, "H-001", "产后随访", D(2026, 9, 20), 40, None, "产后随访逾期。"),
        OverdueItem("陈静", "东村", "二组", "张桂兰", "H-010", "一般服务对象例行访视", D(2026, 7, 1), 53,
                    D(2026, 3, 1), "逾期 53 天。"),
    ),
    monthly_rates=tuple(MonthlyRate(month, 0.8 + number / 100) for number, month in enumerate(
        [D(2025, 11, 1), D(2025, 12, 1), *(D(2026, month, 1) for month in range(1, 11))])),
)


def test_coverage_summary_rates_and_charts():
    data = build_coverage_report(COVERAGE)
    workbook = load(data)
    assert workbook.sheetnames == ["随访汇总 Coverage summary", "分组 By group", "逾期名单 Overdue by collector",
                                   "月度随访率 Monthly rate", "说明 Notes"]
    summary = workbook["随访汇总 Coverage summary"]
    assert row_values(summary, 3) == ["村 Village", "应访 Due", "按时完成 Done on time", "逾期后完成 Done late",
                                      "逾期未访 Overdue", "随访率 Follow-up rate", "及时率 Timeliness"]
    assert row_values(summary, 4) == ["东村", 15, 11, 2, 2, pytest.approx(13 / 15), pytest.approx(11 / 13)]
    assert row_values(summary, 5) == ["西村", 0, 0, 0, 0, "—", "—"]
    assert row_values(summary, 6) == ["合计 Total", 15, 11, 2, 2, pytest.approx(13 / 15), pytest.approx(11 / 13)]
    assert summary["F4"].number_format == "0.0%"
    assert_print_setup(summary, autofilter="A3:G5")
    assert charts_on(data, "随访汇总 Coverage summary") == 2  # overdue by village (bar), follow-up rate by month (line)
    groups = workbook["分组 By group"]
    assert row_values(groups, 4) == ["东村", "一组", 10, 6, 2, 2, 0.8, 0.75]
    assert row_values(groups, 7) == ["合计 Total", None, 15, 11, 2, 2, pytest.approx(13 / 15), pytest.approx(11 / 13)]
    assert_print_setup(groups, autofilter="A3:H6", orientation="portrait")
    trend = workbook["月度随访率 Monthly rate"]
    assert [trend.cell(row, 1).value for row in (4, 15)] == ["2025-11", "2026-10"]


def test_coverage_overdue_lists_by_collector():
    worksheet = load(build_coverage_report(COVERAGE))["逾期名单 Overdue by collector"]
    assert row_values(worksheet, 3) == [
        "信息员 Collector", "村 Village", "小组 Group", "姓名 Name", "户号 Household no.", "服务项目 Rule",
        "应访起始 Due since", "逾期天数 Days overdue", "上次访视 Last visit", "说明 Explanation"]
    assert row_values(worksheet, 4) == [
        "王芳", "东村", "一组", INJECTION, "H-001", "产后随访", dt.datetime(2026, 9, 20), 40, "无 None",
        "产后随访逾期。"]                                       # most overdue first within a collector
    assert worksheet["D4"].data_type == "s"
    assert worksheet["G4"].number_format == "yyyy-mm-dd"
    assert row_values(worksheet, 5)[:9] == ["王芳", "东村", "一组", "李秀英", "H-003", "重点服务对象例行访视",
                                            dt.datetime(2026, 10, 1), 22, dt.datetime(2026, 8, 3)]
    assert row_values(worksheet, 6)[0] == "陈静"
    assert [page_break.id for page_break in worksheet.row_breaks.brk] == [5]   # 陈静 starts a new page
    assert_print_setup(worksheet, autofilter="A3:J6")


def test_coverage_row_must_add_up():
    with pytest.raises(ValueError, match="must equal due"):
        CoverageRow("东村", "一组", due=10, on_time=6, late=2, overdue=1)


def test_coverage_without_trend_has_one_chart():
    report = CoverageReport("青山镇", D(2026, 10, 1), D(2026, 10, 31), D(2026, 11, 22),
                            dt.datetime(2026, 11, 22, 8, 0), rows=COVERAGE.rows)
    data = build_coverage_report(report)
    assert "月度随访率 Monthly rate" not in load(data).sheetnames
    assert charts_on(data, "随访汇总 Coverage summary") == 1


# ---- register export ---------------------------------------------------------------------------------------

def person(household_no: str, name: str, relationship: str, **overrides) -> PersonRow:
    values = dict(household_no=household_no, address=f"东村{household_no}号", name=name, sex="female",
                  birth_date=D(1990, 5, 17), id_number="510722199005170021", relationship=relationship,
                  phone="13800001234", lives="here", hukou="here", status="living", tier="general")
    return PersonRow(**(values | overrides))


def register_groups():
    yield GroupRows("青山镇", "东村", "一组", iter([
        person("001", "李秀英", "head"),
        person("001", INJECTION, "child", sex="male", birth_date=None, lives="working_away", hukou="elsewhere"),
        person("002", "张桂兰", "户主（旧）", lives="moved_away", tier="", status="died"),
    ]))
    yield GroupRows("青山镇", "东村", "二组", iter([person("101", "陈静", "head", tier="key")]))


def test_register_export_rows_grouped_by_household():
    workbook = load(register_export_bytes(register_groups(), exported_at=dt.datetime(2026, 11, 22, 8, 0)))
    assert workbook.sheetnames == ["目录 Index", "一组", "二组"]
    sheet = workbook["一组"]
    assert sheet["A1"].value == "青山镇 东村 一组 台账 Register"
    assert row_values(sheet, 3) == ["户号 Household no.", "地址 Address", "姓名 Name", "性别 Sex",
                                    "出生日期 Birth date", "身份证号 ID number", "与户主关系 Relationship", "电话 Phone",
                                    "居住 Lives", "户籍 Hukou", "状态 Status", "服务分级 Tier"]
    assert row_values(sheet, 4) == ["001", "东村001号", "李秀英", "女", dt.datetime(1990, 5, 17), "510722199005170021",
                                    "户主", "13800001234", "在本地居住", "本地户籍", "健在", "一般服务对象"]
    assert row_values(sheet, 5) == ["001", "东村001号", INJECTION, "男", None, "510722199005170021", "子女",
                                    "13800001234", "外出务工", "外地户籍", "健在", "一般服务对象"]
    assert sheet["C5"].data_type == "s" and sheet["F4"].data_type == "s"
    # an odd value no list knows is shown as written; no tier is an empty cell
    assert row_values(sheet, 6) == ["002", "东村002号", "张桂兰", "女", dt.datetime(1990, 5, 17), "510722199005170021",
                                    "户主（旧）", "13800001234", "已搬走", "本地户籍", "已故", None]
    assert sheet["E4"].number_format == "yyyy-mm-dd"
    # a line above each household's first row; none between its members
    assert [sheet.cell(row, 1).border.top.style for row in (4, 5, 6)] == ["thin", None, "thin"]
    assert_print_setup(sheet, autofilter="A3:L6")
    # each column as wide as its widest value (a Chinese character counts two), a tenth more and a margin
    assert sheet.column_dimensions["F"].width == pytest.approx(18 * 1.1 + 2, abs=0.8)       # the ID number
    assert sheet.column_dimensions["L"].width == pytest.approx(12 * 1.1 + 2, abs=0.8)       # 一般服务对象
    index = workbook["目录 Index"]
    assert index["A2"].value == "导出时间 Exported 2026-11-22 08:00"
    assert row_values(index, 4) == ["青山镇", "东村", "一组", "一组", 3, 2]
    assert row_values(index, 5) == ["青山镇", "东村", "二组", "二组", 1, 1]
    assert index["D4"].hyperlink.location == "'一组'!A1"
    assert index.page_setup.orientation == "portrait"


def test_register_export_in_english_words():
    workbook = load(register_export_bytes(register_groups(), language="en"))
    assert row_values(workbook["一组"], 5)[3:] == [
        "Male", None, "510722199005170021", "Child", "13800001234", "Working away", "Registered elsewhere", "Living",
        "General service target"]


def test_a_group_name_two_villages_share_is_named_with_its_village():
    groups = [GroupRows("青山镇", "东村", "第一组", [person("001", "李秀英", "head")]),
              GroupRows("青山镇", "东村", "第二组", [person("002", "张伟", "head")]),
              GroupRows("青山镇", "西村", "第一组", [person("101", "陈静", "head")])]
    assert load(register_export_bytes(groups)).sheetnames == ["目录 Index", "东村第一组", "第二组", "西村第一组"]


def test_register_export_writes_to_a_path(tmp_path):
    path = tmp_path / "register.xlsx"
    build_register_export(register_groups(), str(path))
    assert openpyxl.load_workbook(path)["二组"]["C4"].value == "陈静"


ODD_TEXTS = ("plain", " leading", "trailing ", "a&b<c>d\"'", "x\x01y", "_x0041_", "\x1f", "中 文", "\ufffe", "a\nb", "\t",
             "=HYPERLINK(\"http://x\")", "")


def test_a_row_stream_writes_the_cells_xlsxwriter_writes(tmp_path):
    """The same cells (odd texts, a date, a blank, each with a format) written by xlsxwriter and by a RowStream
    under a header row: the same sheet data and dimension, byte for byte."""
    path = tmp_path / "twins.xlsx"
    workbook = new_workbook(str(path), constant_memory=True)
    text, date = workbook.add_format({"bold": True}), workbook.add_format({"num_format": "yyyy-mm-dd"})
    days = (dt.date(1990, 5, 17), dt.date(1900, 3, 1), dt.date(2026, 12, 31), dt.date(1899, 6, 1))
    own, streamed = workbook.add_worksheet("own"), workbook.add_worksheet("streamed")
    for sheet in (own, streamed):
        sheet.write_row(0, 0, ("header", "header"), text)
    for row, value in enumerate(ODD_TEXTS, start=1):
        own.write_string(row, 0, value, text) if value else own.write_blank(row, 0, None, text)
        own.write_datetime(row, 1, days[row % len(days)], date)
    stream = RowStream(streamed, 1, 2)
    for row, value in enumerate(ODD_TEXTS, start=1):
        day = days[row % len(days)]
        serial = excel_serial(day) if day >= dt.date(1900, 3, 1) else f"{streamed._convert_date_time(day):.16G}"
        cell = text_cell(f"A{row + 1}", RowStream.style(text), value) if value else \
            f'<c r="A{row + 1}"{RowStream.style(text)}/>'
        assert stream.row(f'{cell}<c r="B{row + 1}"{RowStream.style(date)}><v>{serial}</v></c>') == row
    assert stream.close() == len(ODD_TEXTS)
    workbook.close()
    with zipfile.ZipFile(path) as archive:
        parts = [archive.read(f"xl/worksheets/sheet{number}.xml").decode() for number in (1, 2)]

    def data(xml: str) -> tuple[str, str]:
        return (re.search(r"<dimension[^>]*>", xml).group(0), re.search(r"<sheetData>.*</sheetData>", xml, re.S).group(0))

    assert data(parts[0]) == data(parts[1])
    assert "_x005F_x0041_" in parts[1] and 'xml:space="preserve"> leading' in parts[1] and "a&amp;b&lt;c" in parts[1]


def test_the_countys_export_has_a_sheet_per_town_with_village_and_group_columns():
    groups = [GroupRows("白马镇", "南村", "第一组", [person("001", "李秀英", "head")]),
              GroupRows("青山镇", "东村", "第一组", [person("001", "张伟", "head"), person("001", "李芳", "spouse")]),
              GroupRows("青山镇", "西村", "第一组", [person("001", "陈静", "head", address=" 西村 ")])]
    workbook = load(register_export_bytes(groups, by_town=True))
    assert workbook.sheetnames == ["目录 Index", "白马镇", "青山镇"]
    sheet = workbook["青山镇"]
    assert sheet["A1"].value == "青山镇 台账 Register"
    assert row_values(sheet, 3)[:3] == ["村 Village", "小组 Group", "户号 Household no."]
    assert [row_values(sheet, row)[:5] for row in (4, 5, 6)] == [
        ["东村", "第一组", "001", "东村001号", "张伟"], ["东村", "第一组", "001", "东村001号", "李芳"],
        ["西村", "第一组", "001", " 西村 ", "陈静"]]
    # the same household number in the next group is another household: a line above it
    assert [sheet.cell(row, 1).border.top.style for row in (4, 5, 6)] == ["thin", None, "thin"]
    assert sheet["G5"].value == dt.datetime(1990, 5, 17) and sheet["G5"].number_format == "yyyy-mm-dd"
    assert_print_setup(sheet, autofilter="A3:N6")
    index = workbook["目录 Index"]
    assert [row_values(index, row) for row in (4, 5, 6)] == [["白马镇", "南村", "第一组", "白马镇", 1, 1],
                                                             ["青山镇", "东村", "第一组", "青山镇", 2, 1],
                                                             ["青山镇", "西村", "第一组", "青山镇", 1, 1]]
    assert [index.cell(row, 4).hyperlink.location for row in (4, 5, 6)] == ["'白马镇'!A4", "'青山镇'!A4",
                                                                             "'青山镇'!A6"]


def test_sheet_names_are_valid_and_unique():
    used: set[str] = set()
    names = [sheet_name(text, used) for text in ("东村一组", "东村一组", "a/b:c*d?[e]", "x" * 40, "X" * 40)]
    assert names == ["东村一组", "东村一组~2", "a_b_c_d__e_", "x" * 31, "X" * 29 + "~2"]
    assert group_sheet_names([("东村", "第一组"), ("东村", "第二组"), ("西村", "第一组"), ("西村", "目录 Index")],
                             {"目录 index"}) == ["东村第一组", "第二组", "西村第一组", "目录 Index~2"]
    assert group_sheet_names([("东村", "第一组"), ("东村", "第一组")], set()) == ["第一组", "第一组~2"]   # two towns


def test_a_moves_row_says_where_to_or_from_and_a_change_entered_on_the_web_says_so():
    out = PersonChange("东村", "一组", "moved_out", D(2026, 11, 3), "李芳", "001", "张伟", visit=None,
                       collector="东村专干", place="青山镇西村")
    arrived = PersonChange("西村", "一组", "moved_in", D(2026, 11, 9), "李芳", "007", "王强", visit=21,
                           collector="赵敏", place="青山镇东村")
    report = replace(MONTHLY, changes=(out, arrived))
    workbook = load(build_monthly_change_report(report))
    assert row_values(workbook["东村 变更名单 Changes"], 4) == [
        "一组", "001", "张伟", "李芳", "迁出 Moved out", "迁往 To: 青山镇西村", dt.datetime(2026, 11, 3),
        "网上登记 Entered on the web", "东村专干"]
    assert row_values(workbook["西村 变更名单 Changes"], 4) == [
        "一组", "007", "王强", "李芳", "迁入 Moved in", "来自 From: 青山镇东村", dt.datetime(2026, 11, 9), "访视 #21",
        "赵敏"]


def test_the_countys_summary_is_by_town_with_no_names():
    county = replace(MONTHLY, town="全县", county=True, groups=(
        GroupChanges("白马镇", "第一组", opening=10, moved_in=1, moved_within=0),
        GroupChanges("青山镇", "第一组", opening=20, moved_out=2, moved_within=1),
        GroupChanges("青山镇", "第二组", opening=5, moved_in=1)), late_corrections=(),
        sync=(VillageSync("白马镇", 1, 1), VillageSync("青山镇", 2, 2)))
    workbook = load(build_monthly_change_report(county))
    assert workbook.sheetnames == ["县汇总 County summary", "迟报更正 Late corrections", "说明 Notes"]
    summary = workbook["县汇总 County summary"]
    assert row_values(summary, 3)[:2] == ["镇 Town", "期初人数 Opening"]
    assert row_values(summary, 4) == ["白马镇", 10, 0, 0, 0, 1, 0, 0, 0, 0, 11, 0, 1, 1, "是 Yes"]
    assert row_values(summary, 5) == ["青山镇", 25, 0, 0, 0, 1, 2, 0, 0, 0, 24, 1, 2, 2, "是 Yes"]
    assert row_values(summary, 6) == ["合计 Total", 35, 0, 0, 0, 1, 1, 0, 0, 0, 35, 1, 3, 3, "2/2"]
