"""The reports as they print: each one converted to PDF by LibreOffice (headless) and its first page to PNG by
pdftoppm, as the town office would print them; pages must be A4 landscape with the title in the page header."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reports.coverage import build_coverage_report
from reports.monthly_change import build_monthly_change_report
from reports.register_export import register_export_bytes
from tests.unit.test_reports import COVERAGE, MONTHLY, register_groups

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def office():
    tools = [shutil.which(name) for name in ("soffice", "pdftoppm", "pdfinfo", "pdftotext")]
    if not all(tools):
        if os.environ.get("TAIZHANG_REQUIRE_OFFICE"):
            pytest.fail("LibreOffice and poppler are needed: apt-get install libreoffice-calc-nogui poppler-utils")
        pytest.skip("LibreOffice or poppler-utils are not installed")
    return tools


REPORTS = {
    "monthly_change": lambda: build_monthly_change_report(MONTHLY),
    "coverage": lambda: build_coverage_report(COVERAGE),
    "register_export": lambda: register_export_bytes(register_groups(), exported_at=dt.datetime(2026, 11, 22, 8)),
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_each_report_prints_on_a4_landscape_pages_with_its_title(office, tmp_path, name):
    soffice, pdftoppm, pdfinfo, pdftotext = office
    source = tmp_path / f"{name}.xlsx"
    source.write_bytes(REPORTS[name]())
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / f"{name}.pdf"
    info = subprocess.run([pdfinfo, str(pdf)], check=True, capture_output=True, text=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert (round(width), round(height)) == (842, 595)          # A4, landscape
    first_page = subprocess.run([pdftotext, "-f", "1", "-l", "1", "-layout", str(pdf), "-"], check=True,
                                capture_output=True, text=True).stdout
    assert "青山镇" in first_page and re.search(r"\b1 ?/ ?\d+\s*$", first_page.strip("\x0c\n "))  # title, page 1 of n
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / f"report-{name}")],
                   check=True, timeout=60)
    assert list(ARTIFACTS.glob(f"report-{name}*.png"))
