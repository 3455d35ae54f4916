"""Workbook downloads: a file name people read (area, period, report: 东村_2026-11_月变更报告单.xlsx), sent as RFC 6266
says (filename*=UTF-8''…), with an ASCII name in pinyin for the clients that read only that."""

from __future__ import annotations

import os
import re
from typing import BinaryIO
from urllib.parse import quote

from flask import Response, request
from pypinyin import lazy_pinyin
from werkzeug.wsgi import wrap_file

__all__ = ["XLSX", "file_name", "content_disposition", "xlsx_download", "xlsx_file_download", "named_download",
           "full_export_asked"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]')     # what no file name may hold (Windows' list, the widest)
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._~-]+")


def file_name(area_full_name: str, period: str, report: str) -> str:
    """The area's own name (the last part of 青山镇/东村: 东村), the period and the report, e.g.
    东村_2026-11_月变更报告单.xlsx."""
    area = area_full_name.rstrip("/").rsplit("/", 1)[-1]
    return _NOT_IN_NAMES.sub("_", f"{area}_{period}_{report}") + ".xlsx"


def _ascii(name: str) -> str:
    """The name in ASCII: Chinese in pinyin (东村 → dongcun), anything else not safe in a quoted header as _."""
    words = lazy_pinyin(name, errors=lambda text: list(text))
    return _NOT_ASCII_SAFE.sub("_", "".join(words)).strip("_") or "report.xlsx"


def content_disposition(area_full_name: str, period: str, report: str, ascii_report: str) -> str:
    """attachment; filename="<ASCII>"; filename*=UTF-8''<file_name, percent-encoded> (RFC 6266, RFC 5987); the ASCII
    name is the area in pinyin, the period and `ascii_report` (e.g. dongcun_2026-11_monthly-change.xlsx)."""
    return _disposition(file_name(area_full_name, period, report),
                        _ascii(file_name(area_full_name, period, ascii_report)))


def _disposition(name: str, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def xlsx_download(content: bytes, area_full_name: str, period: str, report: str, ascii_report: str) -> Response:
    """The workbook as a download named by file_name."""
    return Response(content, mimetype=XLSX, headers={
        "Content-Disposition": content_disposition(area_full_name, period, report, ascii_report)})


def xlsx_file_download(file: BinaryIO, area_full_name: str, period: str, report: str, ascii_report: str) -> Response:
    """A workbook written to a file (a temporary one: a county's register is tens of MB) as a download named by
    file_name, sent from the file in blocks; the file is closed when the response is."""
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    return Response(wrap_file(request.environ, file), mimetype=XLSX, direct_passthrough=True, headers={
        "Content-Disposition": content_disposition(area_full_name, period, report, ascii_report),
        "Content-Length": str(size)})


def named_download(content: bytes, name: str, mimetype: str = XLSX) -> Response:
    """A workbook kept with its file name (an archived report: 东村_2026-11_月变更报告单.xlsx) as a download of that
    name, its ASCII name in pinyin (dongcun_2026-11_yuebiangengbaogaodan.xlsx); another kind of file (a PDF) with its
    own `mimetype`."""
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": _disposition(name, _ascii(name))})


def full_export_asked() -> tuple[bool, str | None]:
    """Whether a download asks for ID numbers and phones in full, and the reason given: only a posted form asks
    (`full=1`, `reason`; templates/_full_export.html), so a link or a bookmark always gets them masked."""
    if request.method != "POST":
        return False, None
    return request.form.get("full") == "1", request.form.get("reason")
