"""The village review workbook (reports/village_review.py): every indicator per village for the period and month by
month, rates as percentages (— without data), counts as numbers, the counts behind each rate, the formulas' words;
one A4 page wide; the same figures at the same time give the same bytes."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import openpyxl

from reports.village_review import ReviewIndicator, ReviewMonth, ReviewRow, VillageReview, build_village_review


@dataclass(frozen=True)
class Figure:
    numerator: int = 0
    denominator: int | None = None
    applies: bool = True


INDICATORS = (ReviewIndicator("随访率 Follow-up rate", "rate", "期内到期的访视中已完成的 ÷ 期内到期的访视\nvisits done ÷ due"),
              ReviewIndicator("月报及时率 Monthly report timeliness", "rate", "按期上报 ÷ 应上报\non time ÷ due"),
              ReviewIndicator("转介 Referrals made", "count", "期内走访提出的转介\nreferrals made"))
EAST = ReviewRow("东村", (Figure(3, 4), Figure(1, 1), Figure(2)))
WEST = ReviewRow("西村", (Figure(0, 0), Figure(0, 1), Figure(0)))
TOTAL = ReviewRow("合计 Total", (Figure(3, 4), Figure(1, 2), Figure(2)))
REVIEW = VillageReview(
    area="青山镇", title="村季度考评 Village quarterly review", period_label="2026年第4季度 (2026-Q4)",
    as_of=dt.date(2026, 12, 31), produced_at=dt.datetime(2027, 1, 3, 9, 30), indicators=INDICATORS,
    rows=(EAST, WEST), total=TOTAL,
    months=(ReviewMonth("2026年10月 (2026-10)", (EAST, WEST), TOTAL),
            ReviewMonth("2026年11月 (2026-11)", (ReviewRow("东村", (Figure(applies=False), Figure(0, 0), Figure(1))),
                                                WEST), TOTAL)))


def values(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(min_row=3, values_only=True)]


def test_the_review_sheet_has_a_row_per_village_and_the_total():
    book = openpyxl.load_workbook(io.BytesIO(build_village_review(REVIEW)))
    assert book.sheetnames == ["考评 Review", "按月 By month", "分子分母 Counts", "说明 Notes"]
    sheet = book["考评 Review"]
    assert sheet["A1"].value == "青山镇 村季度考评 Village quarterly review — 2026年第4季度 (2026-Q4)"
    assert values(sheet) == [["村 Village", "随访率 Follow-up rate", "月报及时率 Monthly report timeliness",
                              "转介 Referrals made"],
                             ["东村", 0.75, 1, 2], ["西村", "—", 0, 0], ["合计 Total", 0.75, 0.5, 2]]
    assert sheet["B4"].number_format == "0.0%" and sheet["D4"].number_format == "0"


def test_month_by_month_each_month_ends_with_its_total():
    sheet = openpyxl.load_workbook(io.BytesIO(build_village_review(REVIEW)))["按月 By month"]
    assert values(sheet)[1:] == [
        ["2026年10月 (2026-10)", "东村", 0.75, 1, 2], ["2026年10月 (2026-10)", "西村", "—", 0, 0],
        ["2026年10月 (2026-10)", "合计 Total", 0.75, 0.5, 2],
        ["2026年11月 (2026-11)", "东村", "不适用 n/a", "—", 1], ["2026年11月 (2026-11)", "西村", "—", 0, 0],
        ["2026年11月 (2026-11)", "合计 Total", 0.75, 0.5, 2]]


def test_the_counts_behind_each_rate_and_the_formulas_in_words():
    book = openpyxl.load_workbook(io.BytesIO(build_village_review(REVIEW)))
    assert values(book["分子分母 Counts"])[1:3] == [["东村", "随访率 Follow-up rate", 3, 4, 0.75],
                                                  ["东村", "月报及时率 Monthly report timeliness", 1, 1, 1]]
    assert len(values(book["分子分母 Counts"])) == 1 + 3 * 2      # two rates, two villages and the total
    notes = values(book["说明 Notes"])
    assert notes[1] == ["随访率 Follow-up rate", "期内到期的访视中已完成的 ÷ 期内到期的访视\nvisits done ÷ due"]
    assert [row[0] for row in notes[4:]] == ["—", "不适用 n/a", "合计 Total"]


def test_every_sheet_prints_one_a4_page_wide():
    book = openpyxl.load_workbook(io.BytesIO(build_village_review(REVIEW)))
    for sheet in book.worksheets:
        assert (sheet.page_setup.paperSize, sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (9, 1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == "$1:$3"


def test_the_same_figures_at_the_same_time_give_the_same_bytes():
    assert build_village_review(REVIEW) == build_village_review(REVIEW)
