"""The reports as they print: each one converted to PDF by LibreOffice (headless) and its first page to PNG by
pdftoppm, as the town office would print them; pages must be A4 landscape with the title in the page header."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from reports.coverage import build_coverage_report
from reports.monthly_change import build_monthly_change_report
from reports.register_export import register_export_bytes
from sync.service_counts import ChoiceWords, ItemRow, service_counts, summary_tables
from tests.unit.test_reports import COVERAGE, MONTHLY, register_groups
from tests.unit.test_service_counts import ITEMS, LABELS, NOVEMBER, VISITS

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def office():
    tools = [shutil.which(name) for name in ("soffice", "pdftoppm", "pdfinfo", "pdftotext")]
    if not all(tools):
        if os.environ.get("TAIZHANG_REQUIRE_OFFICE"):
            pytest.fail("LibreOffice and poppler are needed: apt-get install libreoffice-calc-nogui poppler-utils")
        pytest.skip("LibreOffice or poppler-utils are not installed")
    return tools


# A town of eleven villages: the service counts' sections take more than a page; an item not on the list widens the
# supplies' section to ten columns.
SERVICES = summary_tables(
    service_counts(VISITS, [*ITEMS, ItemRow("西村", "supply", "vitamins", NOVEMBER, quantity=2, given=True)], NOVEMBER),
    ["东村", "西村", *(f"第{n}村" for n in range(3, 12))], ChoiceWords([LABELS]))
REPORTS = {
    "monthly_change": lambda: build_monthly_change_report(replace(MONTHLY, services=SERVICES)),
    "coverage": lambda: build_coverage_report(COVERAGE),
    "register_export": lambda: register_export_bytes(register_groups(), exported_at=dt.datetime(2026, 11, 22, 8)),
}


# What must be legible on the printed pages (each on one line of the PDF's text).
PRINTED = {
    "monthly_change": ("青山镇 服务情况 Services — 2026年11月 (2026-11)", "访视 Visits (by outcome)",
                       "青山镇 东村 变更名单 Changes, person by person — 2026年11月 (2026-11)", "配偶 Spouse: 陈静",
                       "去向 To: 广东省深圳市", "2026-11-12", "访视 #19", "本月没有变更 No changes this month"),
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_each_report_prints_on_a4_landscape_pages_with_its_title(office, tmp_path, name):
    soffice, pdftoppm, pdfinfo, pdftotext = office
    source = tmp_path / f"{name}.xlsx"
    source.write_bytes(REPORTS[name]())
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / f"{name}.pdf"
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True,
                                                            text=True).stdout).group(1))
    info = subprocess.run([pdfinfo, "-f", "1", "-l", str(pages), str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    sizes = {(round(float(width)), round(float(height)))
             for width, height in re.findall(r"Page +\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)}
    assert sizes == {(842, 595)}                                # every page A4, landscape
    first_page = subprocess.run([pdftotext, "-f", "1", "-l", "1", "-layout", str(pdf), "-"], check=True,
                                capture_output=True, text=True).stdout
    assert "青山镇" in first_page and re.search(r"\b1 ?/ ?\d+\s*$", first_page.strip("\x0c\n "))  # title, page 1 of n
    everything = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True,
                                text=True).stdout
    assert all(text in everything for text in PRINTED.get(name, ())), everything
    for page in everything.split("\f"):   # no section of the service counts split between pages, down or across
        for section in SERVICES if name == "monthly_change" else ():
            if section.title in page:
                below = page.split(section.title, 1)[1]
                assert "合计 Total" in below and section.columns[-1].split()[0][:4] in below, page
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / f"report-{name}")],
                   check=True, timeout=60)
    assert list(ARTIFACTS.glob(f"report-{name}*.png"))
