"""A person's own copy: the PDF and xlsx builders (reports/person_copy.py), read back with pypdf and openpyxl, and the
rules of a copy request and its hand-over (sync.privacy)."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from pypdf import PdfReader

from reports.person_copy import CopyTable, PersonCopy, build_copy_pdf, build_copy_workbook
from sync.errors import CopyAlreadyHandedOver, CopyNotProduced, CopyRequestDayInvalid, CopyRequestInvalid
from sync.privacy import check_copy_production, check_copy_request, check_handover

PRODUCED = dt.datetime(2026, 11, 22, 4, 5, tzinfo=dt.timezone.utc)      # 12:05 in China
TODAY = dt.date(2026, 11, 22)


def a_copy(visits: int = 3) -> PersonCopy:
    return PersonCopy(
        "王秀英", PRODUCED, "东村专干", [("申请人", "王秀英（本人）"), ("申请日期", "2026-11-20")],
        [("姓名", "王秀英"), ("身份证号", "110101197505060025"), ("联系电话", "13812345678")],
        [CopyTable("访视记录", ("日期", "访视", "信息员", "访视结果"),
                   [(f"2026-11-{day % 28 + 1:02d}", "入户访视 · 第一组", f"信息员{day}", "已完成访视")
                    for day in range(visits)]),
         CopyTable("服务记录", ("日期", "类别", "内容", "详情", "结果"),
                   [("2026-11-05", "转介", "卫生院（服务站）就诊", "转介到哪里：青山镇卫生院\n说明：血压偏高",
                     "已去就诊（已参加）（2026-11-22）")]),
         CopyTable("协查通报", ("发出时间", "发文单位"), [])])


def pages(content: bytes) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(content)).pages]


def test_the_pdf_has_the_heading_the_person_who_produced_it_when_and_every_section():
    content = build_copy_pdf(a_copy())
    assert content.startswith(b"%PDF-")
    [text] = pages(content)
    assert text.startswith("个人信息副本王秀英生成时间：2026-11-2212:05（北京时间）；生成人：东村专干")
    for words in ("申请人王秀英（本人）", "身份证号110101197505060025", "联系电话13812345678", "访视记录",
                  "2026-11-01入户访视・第一组信息员0已完成访视", "转介到哪里：青山镇卫生院说明：血压偏高", "协查通报无",
                  "个人信息副本：王秀英第1页/共1页"):
        assert words in text, words
    assert "·" not in text          # the built-in font has no glyph for it: printed as ・


def test_a_long_table_splits_across_pages_with_its_header_and_page_numbers():
    texts = pages(build_copy_pdf(a_copy(visits=120)))
    assert len(texts) >= 3
    for number, text in enumerate(texts, start=1):
        assert text.endswith(f"第{number}页/共{len(texts)}页")
    assert texts[1].startswith("访视记录日期访视信息员访视结果")    # the heading kept with its table
    for text in texts[2:]:     # the header row repeated at the top of each page the table runs onto
        assert text.startswith("日期访视信息员访视结果")
    assert sum(text.count("已完成访视") for text in texts) == 120


def test_the_same_copy_gives_the_same_bytes_and_another_copy_other_bytes():
    assert build_copy_pdf(a_copy()) == build_copy_pdf(a_copy())
    assert build_copy_workbook(a_copy()) == build_copy_workbook(a_copy())
    assert build_copy_pdf(a_copy()) != build_copy_pdf(a_copy(visits=4))
    assert build_copy_workbook(a_copy()) != build_copy_workbook(a_copy(visits=4))


def test_the_workbook_has_a_sheet_per_section_text_as_text_printable_on_a4():
    book = openpyxl.load_workbook(io.BytesIO(build_copy_workbook(a_copy())))
    assert book.sheetnames == ["基本信息", "访视记录", "服务记录", "协查通报"]
    first = book["基本信息"]
    assert [first.cell(row, 1).value for row in (1, 2)] == [
        "个人信息副本 · 王秀英", "生成时间：2026-11-22 12:05（北京时间）；生成人：东村专干"]
    assert [[cell for cell in row] for row in first.iter_rows(min_row=3, values_only=True)] == [
        ["项目", "内容"], ["申请人", "王秀英（本人）"], ["申请日期", "2026-11-20"], ["姓名", "王秀英"],
        ["身份证号", "110101197505060025"], ["联系电话", "13812345678"]]
    assert first.cell(7, 2).data_type == "s"      # an ID number stays text, never a number
    services = book["服务记录"]
    assert [cell for cell in next(services.iter_rows(min_row=4, values_only=True))] == [
        "2026-11-05", "转介", "卫生院（服务站）就诊", "转介到哪里：青山镇卫生院\n说明：血压偏高", "已去就诊（已参加）（2026-11-22）"]
    assert [cell for cell in next(book["协查通报"].iter_rows(min_row=4, values_only=True))] == ["无", None]
    for sheet in book.worksheets:
        assert sheet.page_setup.paperSize == 9 and sheet.print_title_rows == "$1:$3"


def test_a_copy_request_is_recorded_with_its_day_when_it_says_who_asked_and_the_form():
    assert check_copy_request(" 王秀英 ", "self", "pdf", "2026-11-20", TODAY) == dt.date(2026, 11, 20)
    assert check_copy_request("王刚", "representative", "xlsx", "2026-11-22", TODAY) == TODAY


@pytest.mark.parametrize(("requested_by", "requester", "copy_format", "day", "error"), [
    ("", "self", "pdf", "2026-11-20", CopyRequestInvalid),
    ("   ", "self", "pdf", "2026-11-20", CopyRequestInvalid),
    ("王" * 101, "self", "pdf", "2026-11-20", CopyRequestInvalid),
    ("王秀英", "neighbour", "pdf", "2026-11-20", CopyRequestInvalid),
    ("王秀英", "self", "docx", "2026-11-20", CopyRequestInvalid),
    ("王秀英", "self", "pdf", "2026-11-23", CopyRequestDayInvalid),
    ("王秀英", "self", "pdf", "20/11/2026", CopyRequestDayInvalid),
    ("王秀英", "self", "pdf", "", CopyRequestDayInvalid),
])
def test_a_copy_request_missing_something_is_refused(requested_by, requester, copy_format, day, error):
    with pytest.raises(error):
        check_copy_request(requested_by, requester, copy_format, day, TODAY)


def test_a_copy_is_handed_over_once_after_it_was_produced_and_not_produced_again_after():
    check_copy_production(None)
    assert check_handover(PRODUCED, None) == ""
    assert check_handover(PRODUCED, None, " 王刚 ") == "王刚"
    with pytest.raises(CopyRequestInvalid):
        check_handover(PRODUCED, None, "王" * 101)
    with pytest.raises(CopyNotProduced):
        check_handover(None, None)
    with pytest.raises(CopyAlreadyHandedOver):
        check_handover(PRODUCED, PRODUCED)
    with pytest.raises(CopyAlreadyHandedOver):
        check_copy_production(PRODUCED)
