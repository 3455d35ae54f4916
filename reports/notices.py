"""Service notices (协查通报) as an xlsx workbook, and read back: one row per notice, codes in words (the reader's
language; either language read back), instants in China time, so a system outside can read it, fill in the answer
and send the same sheet back."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from zoneinfo import ZoneInfo

from reports.workbook import ColumnWidths, new_workbook, print_setup, standard_formats, table_head
from sync.code_labels import CODE_LABELS, code_label
from sync.errors import NoticeFileInvalid, NoticeInvalid, TaizhangError
from sync.notices import FORMAT, VERSION, notice_from_json, overdue, state
from sync.notices import Notice as NoticeData
from sync.xmlsafe import local_name, parse_untrusted

__all__ = ["COLUMNS", "build_notices_workbook", "read_notices_workbook"]

CHINA = ZoneInfo("Asia/Shanghai")
_HEADER_ROWS = 3
_OUTSIDE = ("县外：", "Outside: ")
_MAX_PART = 20 * 1024 * 1024          # an xlsx part larger than this unpacked is refused (a zip bomb)
_MAX_ROWS = 5000

COLUMNS = (("uuid", "通报编号 Notice id"), ("from", "发文单位 From"), ("to", "收文单位 To"), ("name", "姓名 Name"),
           ("sex", "性别 Sex"), ("birth_date", "出生日期 Birth date"), ("id_number", "身份证号 ID number"),
           ("address", "现住址 Lives now at"), ("phone", "联系电话 Phone"), ("service", "需要的服务 Service due"),
           ("service_note", "服务说明 About the service"), ("reply_by", "反馈期限 Reply by"),
           ("sent_at", "发出时间 Sent"), ("sent_by", "发文人 Sent by"), ("received_at", "签收时间 Received"),
           ("received_by", "签收人 Received by"), ("state", "状态 State"), ("answer_done", "办理情况 What was done"),
           ("answer_result", "办理结果 Result"), ("answer_day", "办理日期 Day done"),
           ("answer_by", "答复人 Answered by"), ("answer_at", "答复时间 Answered"))
"""The columns (a key, the bilingual header the sheet is read back by)."""


def _wall(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") if moment else None


def _place_words(place: str, outside: bool, language: str) -> str:
    return (_OUTSIDE[0] if language == "zh" else _OUTSIDE[1]) + place if outside else place


def _row(notice: NoticeData, language: str, as_of: dt.date) -> list[str | None]:
    answer = notice.answer
    shown_state = ("overdue" if overdue(notice.reply_by, answer is not None, as_of)
                   else state(notice.received_at is not None, answer is not None))
    return [notice.uuid, _place_words(notice.from_place, notice.from_outside, language),
            _place_words(notice.to_place, notice.to_outside, language), notice.name,
            code_label("sex", notice.sex, language), notice.birth_date and notice.birth_date.isoformat(),
            notice.id_number, notice.address, notice.phone, code_label("service_needs", notice.service, language),
            notice.service_note, notice.reply_by.isoformat(), _wall(notice.sent_at), notice.sent_by,
            _wall(notice.received_at), notice.received_by, code_label("notice_state", shown_state, language),
            answer and answer.done, answer and code_label("notice_result", answer.result, language),
            answer and answer.day.isoformat(), answer and answer.by, answer and _wall(answer.at)]


def build_notices_workbook(notices: list[NoticeData], *, language: str, title: str, produced_at: dt.datetime,
                           as_of: dt.date) -> bytes:
    """The notices as xlsx bytes: A4 landscape one page wide, the header rows repeated, text stored as text."""
    output = io.BytesIO()
    workbook = new_workbook(output)
    formats = standard_formats(workbook)
    worksheet = workbook.add_worksheet("协查通报")
    headers = [header for _key, header in COLUMNS]
    rows = [_row(notice, language, as_of) for notice in notices]
    widths = ColumnWidths(minimum=6, maximum=40)
    widths.see_headers(0, headers)
    for values in rows:
        widths.see_row(0, values)
    subtitle = (f"制表时间：{_wall(produced_at)[:16]}（北京时间）" if language == "zh"
                else f"Produced: {_wall(produced_at)[:16]} (China time)")
    width = table_head(worksheet, formats, widths, headers, title, subtitle)
    for number, values in enumerate(rows, start=_HEADER_ROWS):
        worksheet.set_row(number, widths.height(values))
        worksheet.write_row(number, 0, values, formats.wrap)
    print_setup(worksheet, header_rows=_HEADER_ROWS, title=title, last_row=_HEADER_ROWS - 1 + len(rows),
                last_col=len(headers) - 1, width=width)
    workbook.close()
    return output.getvalue()


# ---- reading the sheet back -------------------------------------------------------------------------------------

def _part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _MAX_PART:
        raise NoticeFileInvalid("the workbook is too large")
    return archive.read(info)


def _column_number(reference: str) -> int:
    number = 0
    for letter in re.match(r"[A-Z]+", reference).group(0):
        number = number * 26 + ord(letter) - 64
    return number - 1


def _cells(content: bytes) -> list[list[str | None]]:
    """The first sheet's rows as text (shared strings resolved; a number as Excel wrote it)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError):
        raise NoticeFileInvalid("not an xlsx workbook") from None
    with archive:
        sheet = _part(archive, "xl/worksheets/sheet1.xml")
        if sheet is None:
            raise NoticeFileInvalid("the workbook has no sheet")
        shared_part = _part(archive, "xl/sharedStrings.xml")
        try:
            shared = ["".join(text.text or "" for text in item.iter() if local_name(text.tag) == "t")
                      for item in parse_untrusted(shared_part)] if shared_part else []
            root = parse_untrusted(sheet)
        except TaizhangError:
            raise NoticeFileInvalid("the workbook's XML is damaged") from None
    rows: list[list[str | None]] = []
    for row in (element for element in root.iter() if local_name(element.tag) == "row"):
        number = int(row.get("r", len(rows) + 1)) - 1
        if number >= _MAX_ROWS + _HEADER_ROWS:
            raise NoticeFileInvalid(f"more than {_MAX_ROWS} rows")
        while len(rows) <= number:
            rows.append([])
        values = rows[number]
        for cell in (element for element in row if local_name(element.tag) == "c"):
            column = _column_number(cell.get("r", "A"))
            kind = cell.get("t")
            if kind == "inlineStr":
                value = "".join(text.text or "" for text in cell.iter() if local_name(text.tag) == "t")
            else:
                found = next((element.text for element in cell if local_name(element.tag) == "v"), None)
                if kind == "s" and found is not None:
                    try:
                        value = shared[int(found)]
                    except (ValueError, IndexError):
                        raise NoticeFileInvalid("the workbook's strings are damaged") from None
                else:
                    value = found
            while len(values) <= column:
                values.append(None)
            values[column] = value
    return rows


def _code(list_name: str, value: str | None, field: str) -> str | None:
    """A code from the words of either language (or the code itself)."""
    if value is None:
        return None
    for code, words in CODE_LABELS[list_name].items():
        if value in (code, *words):
            return code
    raise NoticeInvalid(f"{field}: {value!r} is not one of the list", field=field)


def _day(value: str | None) -> str | None:
    """A day as written, or as Excel keeps a date someone typed (days since 1899-12-30)."""
    if value is None:
        return None
    if re.fullmatch(r"\d+(\.0+)?", value):
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(float(value)))).isoformat()
    return value[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00:00)?", value) else value


def _instant(value: str | None) -> str | None:
    """China time as written ("2026-11-22 20:00:00") → ISO 8601 with its offset."""
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=CHINA).isoformat()
    except ValueError:
        return value


def _place(value: str | None) -> dict | None:
    if value is None:
        return None
    for prefix in _OUTSIDE:
        if value.startswith(prefix):
            return {"outside": value.removeprefix(prefix)}
    return {"town": value}


def _notice(values: dict[str, str | None]) -> dict:
    """A row as the notice's JSON form (checked by sync.notices)."""
    received = {"at": _instant(values["received_at"]), "by": values["received_by"]} \
        if values["received_at"] or values["received_by"] else None
    answered = any(values[key] for key in ("answer_done", "answer_result", "answer_day", "answer_by"))
    return {
        "format": FORMAT, "version": VERSION, "uuid": values["uuid"], "from": _place(values["from"]),
        "to": _place(values["to"]),
        "person": {"name": values["name"], "sex": _code("sex", values["sex"], "sex"),
                   "birth_date": _day(values["birth_date"]), "id_number": values["id_number"],
                   "address": values["address"], "phone": values["phone"]},
        "service": {"code": _code("service_needs", values["service"], "service"), "note": values["service_note"]},
        "reply_by": _day(values["reply_by"]), "sent": {"at": _instant(values["sent_at"]), "by": values["sent_by"]},
        "received": received,
        "answer": {"done": values["answer_done"],
                   "result": _code("notice_result", values["answer_result"], "answer.result"),
                   "day": _day(values["answer_day"]), "by": values["answer_by"],
                   # An answer filled in outside has no time of its own: its day, at noon China time.
                   "at": _instant(values["answer_at"]) or _instant(f"{_day(values['answer_day'])} 12:00:00")}
        if answered else None,
    }


def read_notices_workbook(content: bytes) -> list[NoticeData]:
    """The notices of a workbook as build_notices_workbook writes it (the header row found by its words; rows
    below it, blank ones skipped). NoticeFileInvalid: not such a workbook; NoticeInvalid: a row that is not a
    valid notice (its row number said)."""
    rows = _cells(content)
    headers = [header for _key, header in COLUMNS]
    start = next((number for number, row in enumerate(rows[:10])
                  if [(value or "").strip() for value in row[:len(headers)]] == headers), None)
    if start is None:
        raise NoticeFileInvalid("no header row of a notices export")
    notices = []
    for number, row in enumerate(rows[start + 1:], start=start + 2):
        values = [(value.strip() or None) if isinstance(value, str) else value for value in row]
        values += [None] * (len(COLUMNS) - len(values))
        if not any(values):
            continue
        try:
            notices.append(notice_from_json(_notice({key: values[index] for index, (key, _header)
                                                     in enumerate(COLUMNS)})))
        except TaizhangError as refused:
            raise NoticeInvalid(f"row {number}: {refused.detail}", **refused.context) from None
    if not notices:
        raise NoticeFileInvalid("no notice in the workbook")
    return notices
