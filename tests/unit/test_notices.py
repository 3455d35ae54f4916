"""Service notices' pure rules (sync.notices): state and overdue for a day, who may bring a notice or an answer onto
a server, the checks of a notice, and its JSON and xlsx forms read back as they were written (reports.notices)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import zipfile

import pytest

from reports.notices import build_notices_workbook, read_notices_workbook
from sync.errors import NoticeFileInvalid, NoticeInvalid
from sync.notices import (
    Answer,
    Notice,
    check_notice,
    matches,
    may_take_answer,
    may_take_notice,
    notice_from_json,
    notice_to_json,
    notices_document,
    overdue,
    read_notices_json,
    same_notice,
    state,
)

SENT = dt.datetime(2026, 11, 20, 2, 30, 15, tzinfo=dt.timezone.utc)
NOTICE = Notice(uuid="6f1c2a4e-2d3b-4c5d-8e9f-0a1b2c3d4e5f", from_place="青山镇", from_outside=False,
                to_place="白水镇", to_outside=False, name="李秀兰", sex="female", birth_date=dt.date(1995, 3, 8),
                id_number="11010519950308002X", address="白水镇南村三组 12 号", phone="13800001234",
                service="postpartum_followup", service_note="产后 42 天随访", reply_by=dt.date(2026, 12, 5),
                sent_at=SENT, sent_by="青山镇计生办 王芳")
ANSWER = Answer("已入户随访，母婴平安", "served", dt.date(2026, 12, 1), "白水镇计生办 张敏",
                dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc))
ANSWERED = dataclasses.replace(NOTICE, received_at=dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.timezone.utc),
                               received_by="白水镇计生办 张敏", answer=ANSWER)


def test_state_and_overdue_for_a_day():
    assert [state(False, False), state(True, False), state(True, True)] == ["sent", "received", "answered"]
    reply_by = dt.date(2026, 12, 5)
    assert overdue(reply_by, False, dt.date(2026, 12, 5)) is False      # the reply-by day itself is in time
    assert overdue(reply_by, False, dt.date(2026, 12, 6)) is True
    assert overdue(reply_by, True, dt.date(2027, 1, 1)) is False
    assert matches("overdue", True, False, reply_by, dt.date(2026, 12, 6)) is True
    assert matches("received", True, False, reply_by, dt.date(2026, 12, 6)) is True
    assert matches("sent", True, False, reply_by, dt.date(2026, 12, 6)) is False
    assert matches(None, False, False, reply_by, dt.date(2026, 12, 6)) is True


def test_who_may_bring_a_notice_or_an_answer():
    on_county = {"青山镇", "白水镇"}.__contains__
    on_qingshan = {"青山镇"}.__contains__
    on_baishui = {"白水镇"}.__contains__
    # The county server serves both towns: each brings its own part only.
    assert may_take_notice("青山镇", NOTICE, on_county) and not may_take_notice("白水镇", NOTICE, on_county)
    assert may_take_answer("白水镇", ANSWERED, on_county) and not may_take_answer("青山镇", ANSWERED, on_county)
    assert not may_take_notice("红石镇", NOTICE, on_county) and not may_take_answer("红石镇", ANSWERED, on_county)
    assert may_take_notice(None, NOTICE, on_county) and may_take_answer(None, ANSWERED, on_county)
    # A town's own server: the receiver brings the notice from the county, the sender brings the answer back.
    assert may_take_notice("白水镇", NOTICE, on_baishui)
    assert may_take_answer("青山镇", ANSWERED, on_qingshan)
    assert not may_take_notice("红石镇", NOTICE, {"红石镇"}.__contains__)
    # To a place outside: its answer comes back through the sender (a file).
    outside = dataclasses.replace(NOTICE, to_place="云南省昆明市官渡区", to_outside=True)
    assert may_take_answer("青山镇", outside, on_county)


@pytest.mark.parametrize(("change", "field"), [
    ({"uuid": "not-a-uuid"}, "uuid"), ({"name": " "}, "name"), ({"sex": "x"}, "sex"),
    ({"id_number": "123"}, "id_number"), ({"service": "sterilisation"}, "service"),
    ({"service": "other", "service_note": None}, "service_note"), ({"to_place": "青山镇"}, "to"),
    ({"address": "长" * 201}, "address"), ({"reply_by": dt.date(2026, 11, 1)}, "reply_by"),
    ({"received_at": SENT}, "received"), ({"answer": dataclasses.replace(ANSWER, result="done")}, "answer.result"),
])
def test_a_notice_with_a_field_it_cannot_hold_is_refused_naming_it(change, field):
    with pytest.raises(NoticeInvalid) as refused:
        check_notice(dataclasses.replace(NOTICE, **change))
    assert refused.value.code == "400.70" and refused.value.context == {"field": field}


def test_json_reads_back_as_written():
    for notice in (NOTICE, ANSWERED):
        data = json.loads(json.dumps(notice_to_json(notice), ensure_ascii=False))
        assert notice_from_json(data) == notice
    assert notice_to_json(ANSWERED)["sent"] == {"at": "2026-11-20T02:30:15Z", "by": "青山镇计生办 王芳"}
    assert notice_to_json(ANSWERED)["to"] == {"town": "白水镇"}
    document = json.dumps(notices_document([NOTICE, ANSWERED]), ensure_ascii=False).encode()
    assert read_notices_json(document) == [NOTICE, ANSWERED]
    assert read_notices_json(json.dumps(notice_to_json(NOTICE)).encode()) == [NOTICE]


def test_bad_json_files_are_refused():
    with pytest.raises(NoticeFileInvalid):
        read_notices_json(b"\xff not json")
    with pytest.raises(NoticeFileInvalid):
        read_notices_json(b'{"format": "something else"}')
    broken = notices_document([NOTICE, ANSWERED])
    broken["notices"][1]["reply_by"] = "next week"
    with pytest.raises(NoticeInvalid) as refused:
        read_notices_json(json.dumps(broken).encode())
    assert refused.value.detail == "notice 2: reply_by: a day as YYYY-MM-DD"


def test_the_same_notice_whatever_its_answer():
    assert same_notice(NOTICE, ANSWERED)
    assert same_notice(NOTICE, dataclasses.replace(NOTICE, sent_at=SENT.replace(microsecond=5)))
    assert not same_notice(NOTICE, dataclasses.replace(NOTICE, phone="13900001234"))


def test_the_workbook_reads_back_as_written_in_either_language():
    outside = dataclasses.replace(NOTICE, uuid="0b9c2a4e-2d3b-4c5d-8e9f-0a1b2c3d4e5f", to_place="云南省昆明市",
                                  to_outside=True, sex=None, birth_date=None, id_number=None, phone=None,
                                  service_note=None)
    for language in ("zh", "en"):
        content = build_notices_workbook([ANSWERED, outside], language=language, title="协查通报",
                                         produced_at=SENT, as_of=dt.date(2026, 12, 10))
        assert read_notices_workbook(content) == [ANSWERED, outside]


def test_bad_workbooks_are_refused():
    with pytest.raises(NoticeFileInvalid):
        read_notices_workbook(b"PK not a zip")
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet xmlns='http://schemas.openxmlformats.org/"
                                                     "spreadsheetml/2006/main'><sheetData/></worksheet>")
    with pytest.raises(NoticeFileInvalid):
        read_notices_workbook(empty.getvalue())
