"""A named register's workbook: one sheet, the title and the filters with the time produced, the headers in the
reader's language, values typed (dates, numbers, amounts, text kept as text), printable."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl

from reports.registers import RegisterSheet, build_register_workbook
from sync.registers import REGISTERS

PRODUCED = dt.datetime(2026, 12, 20, 10, 0)


def sheet_of(content: bytes):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert len(workbook.worksheets) == 1
    return workbook.worksheets[0]


def rows_of(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_a_register_in_chinese_with_its_filters_and_typed_values():
    support = REGISTERS["support-requests"]
    content = build_register_workbook(RegisterSheet(
        label=support.label_zh, area="青山镇/东村", language="zh",
        filters=(("地区", "青山镇/东村"), ("期间", "2026-11-01 至 2026-11-30")), produced_at=PRODUCED,
        columns=support.columns,
        rows=[("东村", "第一组", "001", "计生家庭奖励扶助", "", "李芳", "=HYPERLINK(\"x\")", dt.date(2026, 11, 20),
               "已批准", dt.date(2026, 12, 1), None, Decimal("1200.50"))]))
    sheet = sheet_of(content)
    assert sheet.title == "扶助申请登记"
    rows = rows_of(sheet)
    assert rows[0][0] == "青山镇/东村 扶助申请登记"
    assert rows[1][0] == "地区：青山镇/东村；期间：2026-11-01 至 2026-11-30；制表时间：2026-12-20 10:00（北京时间）"
    assert rows[2] == ["村", "组", "户编号", "类别", "扶助项目", "对象", "需要什么帮助", "申请日期", "结果", "决定日期",
                       "发放日期", "金额（元）"]
    assert rows[3] == ["东村", "第一组", "001", "计生家庭奖励扶助", None, "李芳", "=HYPERLINK(\"x\")",
                       dt.datetime(2026, 11, 20), "已批准", dt.datetime(2026, 12, 1), None, 1200.5]
    assert sheet.cell(4, 7).data_type == "s"          # an answer is never a formula
    assert sheet.cell(4, 8).number_format == "yyyy-mm-dd" and sheet.cell(4, 12).number_format == "0.00"
    assert len(rows) == 4


def test_headers_and_title_rows_in_english_and_print_setup():
    births = REGISTERS["births"]
    sheet = sheet_of(build_register_workbook(RegisterSheet(
        label=births.label_en, area="青山镇", language="en", filters=(("Area", "青山镇"),), produced_at=PRODUCED,
        columns=births.columns,
        rows=[("东村", "第一组", "001", "王小宝", "Male", dt.date(2026, 12, 8), dt.date(2026, 12, 10))] * 3)))
    rows = rows_of(sheet)
    assert rows[1][0] == "Area: 青山镇; Produced: 2026-12-20 10:00 (China time)"
    assert rows[2] == ["Village", "Group", "Household no.", "Name", "Sex", "Born on", "Recorded (visit)"]
    assert rows[5] == ["东村", "第一组", "001", "王小宝", "Male", dt.datetime(2026, 12, 8), dt.datetime(2026, 12, 10)]
    assert sheet.auto_filter.ref == "A3:G6"
    assert sheet.print_title_rows == "$1:$3"
    assert sheet.page_setup.orientation == "portrait" and sheet.page_setup.paperSize == 9     # seven columns fit
    assert sheet.page_setup.fitToHeight == 0 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.freeze_panes == "A4"


def test_an_empty_register_says_so():
    moved = REGISTERS["moved-in"]
    sheet = sheet_of(build_register_workbook(RegisterSheet(
        label=moved.label_zh, area="青山镇/西村", language="zh", filters=(), produced_at=PRODUCED,
        columns=moved.columns, rows=[])))
    rows = rows_of(sheet)
    assert rows[1][0] == "制表时间：2026-12-20 10:00（北京时间）"
    assert rows[3][0] == "（本期没有记录）"
    assert len(rows) == 4


def test_a_label_with_a_slash_still_names_the_sheet():
    arrivals = REGISTERS["arrivals"]
    sheet = sheet_of(build_register_workbook(RegisterSheet(
        label=arrivals.label_zh, area="青山镇", language="zh", filters=(), produced_at=PRODUCED,
        columns=arrivals.columns, rows=[])))
    assert sheet.title == "流入_迁入人员"
    assert rows_of(sheet)[0][0] == "青山镇 流入/迁入人员"
