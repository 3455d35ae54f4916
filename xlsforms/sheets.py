"""Keep each questionnaire's .xlsx (edited in Excel) and its markdown twin in text/ (reviewed in diffs) in sync.

    python -m xlsforms.sheets render   # .xlsx → text/<form>.md   (after editing in Excel)
    python -m xlsforms.sheets build    # text/<form>.md → .xlsx   (after editing the text)
    python -m xlsforms.sheets check    # exit 1 if any pair differs (the tests run this check too)
    python -m xlsforms.sheets lock     # record each form's version and content hash in versions.txt

Both files are XLSForms pyxform compiles (markdown tables are pyxform's own text format).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import sys
from pathlib import Path

import openpyxl
import xlsxwriter
from pyxform.xls2json_backends import md_to_dict

HERE = Path(__file__).resolve().parent
TEXT = HERE / "text"
VERSIONS = HERE / "versions.txt"
SHEETS = ("survey", "choices", "settings")
_FIXED_DATE = _dt.datetime(2026, 1, 1)


def forms() -> list[str]:
    return sorted(path.stem for path in TEXT.glob("*.md"))


def _cell(value) -> str:
    text = "" if value is None else str(value)
    if "|" in text or "\n" in text:
        raise ValueError(f"cell {text!r}: '|' and line breaks cannot be written in a markdown XLSForm")
    return text


def workbook_to_markdown(xlsx: Path) -> str:
    """One markdown table per sheet, columns in the workbook's order, trailing empty columns dropped."""
    book = openpyxl.load_workbook(xlsx, read_only=True, data_only=True)
    lines: list[str] = []
    for sheet_name in [name for name in SHEETS if name in book.sheetnames]:
        rows = [[_cell(v) for v in row] for row in book[sheet_name].iter_rows(values_only=True)]
        rows = [row for row in rows if any(row)]
        width = max((max((i + 1 for i, v in enumerate(row) if v), default=0) for row in rows), default=0)
        lines.append(f"| {sheet_name} |")
        for row in rows:
            lines.append("| | " + " | ".join(row[:width] + [""] * (width - len(row))) + " |")
        lines.append("")
    book.close()
    return "\n".join(lines)


def markdown_to_workbook(markdown: str, xlsx: Path) -> None:
    """Write the sheets as a plain workbook (bold frozen header, fixed metadata so rebuilds are identical)."""
    parsed = md_to_dict(markdown)
    book = xlsxwriter.Workbook(str(xlsx))
    book.set_properties({"created": _FIXED_DATE, "author": "taizhang"})
    bold = book.add_format({"bold": True})
    for sheet_name in [name for name in SHEETS if name in parsed["sheet_names"]]:
        header = list(parsed[f"{sheet_name}_header"][0])
        sheet = book.add_worksheet(sheet_name)
        sheet.write_row(0, 0, header, bold)
        for number, row in enumerate(parsed[sheet_name], start=1):
            sheet.write_row(number, 0, [row.get(column) or "" for column in header])
        sheet.freeze_panes(1, 0)
        for index, column in enumerate(header):
            longest = max([len(column)] + [len(str(row.get(column) or "")) for row in parsed[sheet_name]])
            sheet.set_column(index, index, min(max(10, longest + 2), 60))
    book.close()


def content_hash(markdown: str) -> str:
    """Hash of the form's content without its version cell, to catch a change made without a version bump."""
    parsed = md_to_dict(markdown)
    settings = dict(parsed["settings"][0])
    settings.pop("version", None)
    payload = repr(([parsed.get(s) for s in ("survey", "choices")], sorted(settings.items())))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def version_of(markdown: str) -> str:
    return str(md_to_dict(markdown)["settings"][0].get("version", ""))


def out_of_sync() -> list[str]:
    """Forms whose .xlsx and text/<form>.md differ, or whose content changed without a version bump."""
    problems = []
    recorded = dict(line.split(" ", 1) for line in VERSIONS.read_text().splitlines() if line) if VERSIONS.exists() else {}
    for name in forms():
        markdown = (TEXT / f"{name}.md").read_text()
        xlsx = HERE / f"{name}.xlsx"
        if not xlsx.exists() or workbook_to_markdown(xlsx) != markdown:
            problems.append(f"{name}: .xlsx and text/{name}.md differ (run render or build)")
        stamp = f"{version_of(markdown)} {content_hash(markdown)}"
        if name not in recorded:
            problems.append(f"{name}: not in versions.txt (run lock)")
        elif recorded[name] != stamp:
            if recorded[name].split(" ")[0] == version_of(markdown):
                problems.append(f"{name}: content changed but version {version_of(markdown)} did not: bump it")
            else:
                problems.append(f"{name}: versions.txt is stale (run lock)")
    return problems


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "render":
        for xlsx in sorted(HERE.glob("*.xlsx")):
            (TEXT / f"{xlsx.stem}.md").write_text(workbook_to_markdown(xlsx))
    elif command == "build":
        for name in forms():
            markdown_to_workbook((TEXT / f"{name}.md").read_text(), HERE / f"{name}.xlsx")
    elif command == "lock":
        VERSIONS.write_text("".join(
            f"{name} {version_of(md)} {content_hash(md)}\n"
            for name in forms() for md in [(TEXT / f"{name}.md").read_text()]))
    elif command != "check":
        print(__doc__)
        return 2
    problems = out_of_sync()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
