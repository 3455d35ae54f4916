"""A person's own copy (个人信息副本) as a printable PDF (A4, reportlab's built-in Chinese font) or an xlsx workbook:
plain data in (every word already in Chinese), bytes out."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from reports.workbook import ColumnWidths, new_workbook, print_setup, sheet_name, standard_formats, table_head

__all__ = ["CopyTable", "PersonCopy", "build_copy_workbook", "build_copy_pdf", "TITLE", "FONT"]

CHINA = ZoneInfo("Asia/Shanghai")
TITLE = "个人信息副本"
FONT = "STSong-Light"          # one of the CID fonts every PDF reader has for Chinese (Adobe's Asian font packs)
_HEADER_ROWS = 3


@dataclass(frozen=True)
class CopyTable:
    """One section of the copy: a heading, its columns and rows (all text), and what to say when it has none."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    empty: str = "无"


@dataclass(frozen=True)
class PersonCopy:
    """Everything held about one person, in words: who they are (label, value), then the sections; who produced the
    copy and when (an aware instant, shown in China time) and the request it answers (label, value)."""

    name: str
    produced_at: dt.datetime
    produced_by: str
    request: list[tuple[str, str]]
    details: list[tuple[str, str]]
    tables: list[CopyTable] = field(default_factory=list)


def _wall(moment: dt.datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _produced(copy: PersonCopy) -> str:
    return f"生成时间：{_wall(copy.produced_at)}（北京时间）；生成人：{copy.produced_by}"


# ---- xlsx ---------------------------------------------------------------------------------------------------------

def build_copy_workbook(copy: PersonCopy) -> bytes:
    """The copy as xlsx bytes: a first sheet of who the person is and the request, then a sheet per section; each
    A4, one page wide, its header rows repeated, text stored as text. The same copy gives the same bytes."""
    output = io.BytesIO()
    workbook = new_workbook(output)
    workbook.set_properties({"title": f"{TITLE} · {copy.name}", "created": copy.produced_at.replace(tzinfo=None)})
    formats = standard_formats(workbook)
    title, subtitle = f"{TITLE} · {copy.name}", _produced(copy)
    used: set[str] = set()
    _sheet(workbook, formats, sheet_name("基本信息", used), title, subtitle, ("项目", "内容"),
           [*copy.request, *copy.details])
    for table in copy.tables:
        rows = table.rows or [(table.empty, *("" for _ in table.columns[1:]))]
        _sheet(workbook, formats, sheet_name(table.title, used), f"{title} · {table.title}", subtitle, table.columns,
               rows)
    workbook.close()
    return output.getvalue()


def _sheet(workbook, formats, name: str, title: str, subtitle: str, headers, rows) -> None:
    worksheet = workbook.add_worksheet(name)
    widths = ColumnWidths(minimum=8, maximum=50)
    widths.see_headers(0, headers)
    for values in rows:
        widths.see_row(0, values)
    width = table_head(worksheet, formats, widths, list(headers), title, subtitle)
    for number, values in enumerate(rows, start=_HEADER_ROWS):
        worksheet.set_row(number, widths.height(values))
        worksheet.write_row(number, 0, list(values), formats.wrap)
    print_setup(worksheet, header_rows=_HEADER_ROWS, title=title, last_row=_HEADER_ROWS - 1 + len(rows),
                last_col=len(headers) - 1, width=width)


# ---- PDF ----------------------------------------------------------------------------------------------------------

def _styles() -> dict[str, ParagraphStyle]:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("copy", fontName=FONT, fontSize=9, leading=12, alignment=TA_LEFT, wordWrap="CJK")
    return {"title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, spaceAfter=4),
            "name": ParagraphStyle("name", parent=base, fontSize=13, leading=18),
            "small": ParagraphStyle("small", parent=base, textColor=colors.HexColor("#444444")),
            "heading": ParagraphStyle("heading", parent=base, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4,
                                      keepWithNext=1),
            "cell": base,
            "head": ParagraphStyle("head", parent=base, textColor=colors.HexColor("#111111"))}


def _numbered(footer: str):
    """A canvas that writes "第 n 页 / 共 m 页" and the footer at the foot of every page (pages counted first)."""
    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 8)
                self.setFillColor(colors.HexColor("#444444"))
                self.drawString(18 * mm, 10 * mm, footer.translate(_UNPRINTABLE))
                self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {self._pageNumber} 页 / 共 {total} 页")
                super().showPage()
            super().save()
    return NumberedCanvas


_UNPRINTABLE = str.maketrans({"·": "・", "•": "・", "›": ">"})
"""Characters the built-in font has no glyph for, and the ones printed instead."""


def _text(value) -> str:
    """A value as a paragraph's markup: escaped, printable in the built-in font, its line breaks kept."""
    return escape(str(value).translate(_UNPRINTABLE)).replace("\n", "<br/>")


def _table(headers, rows, widths: list[float], styles) -> LongTable:
    """A table that splits across pages, its header row repeated on each."""
    data = [[Paragraph(_text(value), styles["head"]) for value in headers]]
    data += [[Paragraph(_text(value), styles["cell"]) for value in row] for row in rows]
    table = LongTable(data, colWidths=widths, repeatRows=1, splitByRow=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    return table


_CHARACTER = 4.6          # points: the width of a narrow character at 9 points (a Chinese one counts two)
_PADDING = 8


def _column_widths(headers, rows, room: float) -> list[float]:
    """Each column as wide as its longest line when all fit; else the narrow columns (dates, names) keep their width
    and the wide ones share the rest by how much they hold."""
    def wide(text: str) -> int:
        return max((len(line) + (len(line.encode()) - len(line)) // 2 for line in str(text).split("\n")), default=0)
    natural = [max([wide(headers[col]), *(min(wide(row[col]), 80) for row in rows)]) * _CHARACTER + _PADDING
               for col in range(len(headers))]
    if sum(natural) <= room:
        return [width * room / sum(natural) for width in natural]
    fair = room / len(natural)
    fixed = sum(width for width in natural if width <= fair)
    rest = sum(width for width in natural if width > fair)
    return [width if width <= fair else width * (room - fixed) / rest for width in natural]


def build_copy_pdf(copy: PersonCopy) -> bytes:
    """The copy as PDF bytes: A4, the heading 个人信息副本 with the person's name and who produced it when (China
    time), who they are, then each section as a table that splits across pages; the page number on every page. The
    same copy gives the same bytes."""
    styles = _styles()
    output = io.BytesIO()
    document = SimpleDocTemplate(output, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                                 bottomMargin=18 * mm, title=f"{TITLE} · {copy.name}", author=copy.produced_by,
                                 invariant=1)
    room = A4[0] - 36 * mm
    story = [Paragraph(TITLE, styles["title"]), Paragraph(_text(copy.name), styles["name"]),
             Paragraph(_text(_produced(copy)), styles["small"]), Spacer(1, 4 * mm)]
    pairs = [*copy.request, *copy.details]
    story.append(_table(("项目", "内容"), pairs, [room * 0.3, room * 0.7], styles))
    for table in copy.tables:
        story.append(Paragraph(_text(table.title), styles["heading"]))
        if table.rows:
            story.append(_table(table.columns, table.rows, _column_widths(table.columns, table.rows, room), styles))
        else:
            story.append(Paragraph(_text(table.empty), styles["cell"]))
    document.build(story, canvasmaker=_numbered(f"{TITLE}：{copy.name}"))
    return output.getvalue()
