"""The workbooks as they print: each converted to PDF by LibreOffice (headless) and read back with poppler, as the
town office would print them: A4 pages (portrait or landscape as the sheet fits), the title in the page header, page
"n / N" in the footer, and every value of every sheet printed whole (no cell cut at its border, no ####)."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from reports.coverage import build_coverage_report
from reports.monthly_change import build_monthly_change_report
from reports.register_export import GroupRows, register_export_bytes
from reports.registers import RegisterSheet, build_register_workbook
from sync.registers import REGISTERS
from sync.service_counts import ChoiceWords, ItemRow, service_counts, summary_tables
from tests.unit.test_reports import COVERAGE, MONTHLY, person, register_groups
from tests.unit.test_service_counts import ITEMS, LABELS, NOVEMBER, VISITS
from tests.unit.test_workbook_words import register_workbook

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TOOLS = ("soffice", "pdftoppm", "pdfinfo", "pdftotext")


@pytest.fixture(scope="module")
def office():
    tools = [shutil.which(name) for name in TOOLS]
    if not all(tools):
        if os.environ.get("TAIZHANG_REQUIRE_OFFICE"):
            pytest.fail("LibreOffice and poppler are needed: apt-get install libreoffice-calc-nogui poppler-utils")
        pytest.skip("LibreOffice or poppler-utils are not installed")
    return dict(zip(TOOLS, tools))


# A town of eleven villages: the service counts' sections take more than a page; an item not on the list widens the
# supplies' section to ten columns.
SERVICES = summary_tables(
    service_counts(VISITS, [*ITEMS, ItemRow("西村", "supply", "vitamins", NOVEMBER, quantity=2, given=True)], NOVEMBER),
    ["东村", "西村", *(f"第{n}村" for n in range(3, 12))], ChoiceWords([LABELS]))


def long_support_requests() -> bytes:
    """A register with long answers: a detail of three lines' worth, a far-away place."""
    support = REGISTERS["support-requests"]
    return build_register_workbook(RegisterSheet(
        label=support.label_zh, area="青山镇 › 东村", language="zh",
        filters=(("地区", "青山镇 › 东村"), ("期间", "2026-11-01 至 2026-11-30")),
        produced_at=dt.datetime(2026, 12, 20, 10), columns=support.columns,
        rows=[("东村", "第一组", "001", "计生家庭奖励扶助", "农村部分计划生育家庭奖励扶助制度", "李芳",
               "父母年老，身体不好，需要有人照料；家里收入少，孩子在外地读书，希望得到困难家庭帮扶和养老关爱",
               dt.date(2026, 11, 20), "已批准", dt.date(2026, 12, 1), None, Decimal("12000.50"))] * 3))


WORKBOOKS = {
    "monthly_change": lambda: build_monthly_change_report(replace(MONTHLY, services=SERVICES)),
    "coverage": lambda: build_coverage_report(COVERAGE),
    "register_export": lambda: register_export_bytes(register_groups(), exported_at=dt.datetime(2026, 11, 22, 8)),
    "register_export_en": lambda: register_export_bytes(register_groups(), language="en"),
    "register_export_long": lambda: register_export_bytes([GroupRows("青山镇", "东村", "第一组", [
        person(f"{number // 3:03d}", f"张{number}", "head" if number % 3 == 0 else "child") for number in range(150)])]),
    "support_requests_long": long_support_requests,
    **{f"register_{name}": (lambda name=name: register_workbook(name, "zh")) for name in REGISTERS},
    "register_referrals_en": lambda: register_workbook("referrals", "en"),
}


@pytest.fixture(scope="module")
def printed(office, tmp_path_factory):
    """Every workbook converted to PDF by one LibreOffice run: name → (xlsx bytes, PDF path)."""
    folder = tmp_path_factory.mktemp("printed")
    contents = {name: build() for name, build in WORKBOOKS.items()}
    for name, content in contents.items():
        (folder / f"{name}.xlsx").write_bytes(content)
    subprocess.run([office["soffice"], f"-env:UserInstallation=file://{folder}/profile", "--headless", "--convert-to",
                    "pdf", "--outdir", str(folder), *(str(folder / f"{name}.xlsx") for name in contents)],
                   check=True, capture_output=True, timeout=600)
    return {name: (content, folder / f"{name}.pdf") for name, content in contents.items()}


def shown(cell) -> str | None:
    """A cell's value as the sheet shows it (its number format), or None for an empty cell."""
    value, number_format = cell.value, cell.number_format
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if number_format == "0.0%":
            return f"{value * 100:.1f}%"
        if number_format == "0.00":
            return f"{value:.2f}"
        return f"{value:g}"
    return str(value)


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def printed_whole(value: str, text: str) -> bool:
    """Whether a value is in the pages' text: as it is, or (a wrapped cell whose lines the PDF's text interleaves
    with the next cells') its characters in order within a stretch little longer than itself; a cut value has lost
    characters and is neither."""
    value = squeezed(value)
    if value in text:
        return True
    reach = 2 * len(value) + 30
    for start in (match.start() for match in re.finditer(re.escape(value[0]), text)):
        position = start
        for char in value[1:]:
            position = text.find(char, position + 1, start + reach)
            if position < 0:
                break
        else:
            return True
    return False


def run(tool: str, *arguments: str) -> str:
    return subprocess.run([tool, *arguments], check=True, capture_output=True, text=True, timeout=60).stdout


# What must be legible on the printed pages (each on one line of the PDF's text).
PRINTED = {
    "monthly_change": ("青山镇 服务情况 Services — 2026年11月 (2026-11)", "访视 Visits (by outcome)",
                       "青山镇 › 东村 变更名单 Changes, person by person — 2026年11月 (2026-11)", "配偶 Spouse: 陈静",
                       "去向 To: 广东省深圳市", "2026-11-12", "访视 #19", "本月没有变更 No changes this month"),
}


@pytest.mark.parametrize("name", sorted(WORKBOOKS))
def test_each_workbook_prints_on_a4_pages_with_its_title_and_every_value_whole(office, printed, name):
    content, pdf = printed[name]
    pages = int(re.search(r"Pages:\s+(\d+)", run(office["pdfinfo"], str(pdf))).group(1))
    info = run(office["pdfinfo"], "-f", "1", "-l", str(pages), str(pdf))
    sizes = {(round(float(width)), round(float(height)))
             for width, height in re.findall(r"Page +\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)}
    assert sizes <= {(842, 595), (595, 842)} and sizes                # every page A4, landscape or portrait
    first_page = run(office["pdftotext"], "-f", "1", "-l", "1", "-layout", str(pdf), "-")
    assert "青山镇" in first_page and re.search(r"\b1 ?/ ?\d+\s*$", first_page.strip("\x0c\n "))  # title, page 1 of n
    everything = run(office["pdftotext"], "-layout", str(pdf), "-")
    assert all(text in everything for text in PRINTED.get(name, ())), everything
    # Every value whole: in the text of the pages read cell by cell (a wrapped cell's lines one after another).
    text = squeezed(run(office["pdftotext"], str(pdf), "-"))
    assert "###" not in text
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    missing = [(sheet.title, cell.coordinate, shown(cell)) for sheet in workbook.worksheets
               for row in sheet.iter_rows() for cell in row
               if shown(cell) is not None and not printed_whole(shown(cell), text)]
    assert missing == [], (missing, text)
    for page in everything.split("\f"):   # no section of the service counts split between pages, down or across
        for section in SERVICES if name == "monthly_change" else ():
            if section.title in page:
                below = page.split(section.title, 1)[1]
                assert "合计 Total" in below and section.columns[-1].split()[0][:4] in below, page


def test_a_sheet_of_many_pages_repeats_its_headers_on_each(office, printed):
    pages = run(office["pdftotext"], "-layout", str(printed["register_export_long"][1]), "-").split("\f")
    pages = [page for page in pages if page.strip()]
    assert len(pages) >= 4                        # the index, then the group's 150 people over three pages or more
    assert all("身份证号 ID number" in page and "青山镇 东村 第一组 台账 Register" in page for page in pages[1:])
    assert [squeezed(page.strip().splitlines()[-1]) for page in pages] == [f"{n}/{len(pages)}"
                                                                         for n in range(1, len(pages) + 1)]


@pytest.mark.parametrize("name", ["monthly_change", "coverage", "register_export"])
def test_first_pages_as_pictures(office, printed, name):
    """The first page of the main reports as a PNG in tests/artifacts, for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    run(office["pdftoppm"], "-png", "-r", "50", "-f", "1", "-l", "1", str(printed[name][1]),
        str(ARTIFACTS / f"report-{name}"))
    assert list(ARTIFACTS.glob(f"report-{name}*.png"))


def test_a_cut_value_is_found(office, tmp_path):
    """The check above can fail: a column too narrow for its text next to a filled cell prints it cut."""
    import xlsxwriter
    path = tmp_path / "cut.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.set_column(0, 0, 4)
    sheet.write_row(0, 0, ("青山镇卫生院妇幼保健科", "下一格"))
    workbook.close()
    run(office["soffice"], f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "pdf",
        "--outdir", str(tmp_path), str(path))
    text = squeezed(run(office["pdftotext"], str(tmp_path / "cut.pdf"), "-"))
    assert printed_whole("下一格", text) and not printed_whole("青山镇卫生院妇幼保健科", text)
