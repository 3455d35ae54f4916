"""Consent withdrawn, through HTTP on SQLite and PostgreSQL: a household visit sent as Collect sends it records
王秀英's antenatal guidance (with a referral, by her consent) and the household's free pre-pregnancy check (the
couple's names, by their consent); they show on her page, the household's, the visit's, the named registers and
their workbooks, the due list and the phone's due.csv. 东村's cadre records that she withdrew her consent: all of it
is gone from every one of them (her folic acid, asked for, stays), a replay of another member's records does not
bring it back, a rebuild gives the same register, the raw answers it covers are listed for the purge; a later visit
with her consent again is recorded. Another village's cadre or another town's office is refused (403), bad input is
refused with a message, nothing changed; undone, it is all back."""

# ruff: noqa: F811 - the fixtures imported from the tests that define them are the tests' arguments
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from types import SimpleNamespace

import openpyxl
from lxml import etree
from sqlalchemy import select

from server import clock
from server.copies.operations import copy_content
from server.database import commit
from server.extensions import db
from server.privacy.consent import consent_scrubs, withdraw_consent
from server.privacy.operations import plan, purge
from server.register.models import RegisterDecision, ServiceAnchor, ServiceItemRecord
from server.register.replays import rebuild_register
from server.submissions.models import Submission
from server.users.queries import principal_by_username
from sync.consent import scrub_submission
from tests.conftest import merge_all
from tests.integration.test_moves_web import visible
from tests.integration.test_transfer_replicate import (  # noqa: F401 - the county and its towns
    county,
    replicator,
    settled,
    town_servers,
    towns,
)
from tests.integration.test_write_scope import (  # noqa: F401 - the fixture world
    PASSWORD,
    place_uuid,
    send,
    signed_in,
    snapshot,
    world,
)
from tests.register_visits import Member, household_visit

NOW = dt.datetime(2026, 11, 22, 4, 0, tzinfo=dt.timezone.utc)     # 2026-11-22 12:00 in China
HEAD, CHILD, HOUSEHOLD = place_uuid("own", "head"), place_uuid("own", "child"), place_uuid("own", "household")
NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"
COUPLE = "王刚、李娜"
GUIDANCE = "孕期保健指导（本人自愿告知）"          # the item's kind, as pages name it
CHECK = "免费孕前优生健康检查"
CONSENT_QUESTION = "本人同意登记，以便安排孕期保健指导"  # the visit page's answer of the pregnancy group


def items() -> list[tuple]:
    """The service items of the register: (kind, person, household, code, text)."""
    found = sorted((row.kind, row.person_uuid or "", row.household_uuid or "", row.code or "", row.text or "")
                   for row in db.session.scalars(select(ServiceItemRecord)))
    db.session.rollback()
    return found


def anchors() -> list[tuple]:
    found = sorted((row.person_uuid, row.kind, str(row.anchor_date)) for row in db.session.scalars(
        select(ServiceAnchor)))
    db.session.rollback()
    return found


def decisions() -> list[tuple]:
    rows = [(row.kind, row.subject_uuid, row.target, row.field, row.note, row.undone_at is not None)
            for row in db.session.scalars(select(RegisterDecision).order_by(RegisterDecision.id))]
    db.session.rollback()
    return rows


def table_rows(page: str) -> list[list[str]]:
    """The register table's rows as the cells' text (none: the page says the register has no rows)."""
    if '<table id="register">' not in page:
        assert "这段时间没有记录。" in page
        return []
    body = page.split('<table id="register">', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def workbook_rows(client, name: str) -> list[tuple]:
    response = client.get(f"/registers/{name}.xlsx", params=NOVEMBER)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [tuple(cell for cell in row if cell is not None) for row in sheet.iter_rows(values_only=True)]


def due_csv(phone) -> list[dict]:
    """The due.csv a collector's phone downloads with the follow-up form."""
    listed = etree.fromstring(phone.form_list().content)
    for url in listed.iterfind(".//{http://openrosa.org/xforms/xformsList}manifestUrl"):
        for media in etree.fromstring(phone.get(url.text).content).findall(f"{MANIFEST}mediaFile"):
            if media.findtext(f"{MANIFEST}filename") == "due.csv":
                content = phone.get(media.findtext(f"{MANIFEST}downloadUrl")).content
                return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    raise AssertionError("no due.csv")


def due_flags(client) -> list[tuple]:
    flags = client.get("/api/v1/due", params={"status": ["upcoming", "due", "overdue"]}).json()["flags"]
    return sorted((flag["person"], flag["rule"], flag["status"]) for flag in flags)


def visit_id() -> int:
    (found,) = {row.submission_id for row in db.session.scalars(
        select(ServiceItemRecord).where(ServiceItemRecord.kind == "pregnancy_guidance"))}
    db.session.rollback()
    return found


def seen(cadre, phone, visit: int) -> dict:
    """What each page and export shows of the consented records."""
    person = visible(cadre.get(f"/people/{HEAD}").text)
    household = visible(cadre.get(f"/households/{HOUSEHOLD}").text)
    page = visible(cadre.get(f"/visits/{visit}").text)
    return {
        "person": (GUIDANCE in person, "叶酸" in person),
        "household": (GUIDANCE in household, CHECK in household),
        "visit": (GUIDANCE in page, CONSENT_QUESTION in page, COUPLE in page, "叶酸" in page),
        "referrals": [row[4] for row in table_rows(cadre.get("/registers/referrals", params=NOVEMBER).text)],
        "checks": [row[3] for row in table_rows(cadre.get("/registers/prepregnancy-checks", params=NOVEMBER).text)],
        "checks.xlsx": [row for row in workbook_rows(cadre, "prepregnancy-checks") if COUPLE in row],
        "referrals.xlsx": [cell for row in workbook_rows(cadre, "referrals") for cell in row
                           if cell in ("孕期保健指导", CHECK)],
        "due": due_flags(cadre),
        "due.csv": sorted((row["person"], row["due_type"]) for row in due_csv(phone)),
    }


CONSENTED = {
    "person": (True, True), "household": (True, True), "visit": (True, True, True, True),
    "referrals": ["孕期保健指导", "免费孕前优生健康检查"], "checks": [COUPLE],
    "checks.xlsx": [("东村", "第一组", "01", COUPLE, "是", "是", "否", dt.datetime(2026, 11, 5))],
    "referrals.xlsx": ["孕期保健指导", "免费孕前优生健康检查"],
    # Her referral is due (the couple's is the household's: no one's flag), her pregnancy's outcome to come.
    "due": [(HEAD, "pregnancy_outcome", "upcoming"), (HEAD, "referral", "due")],
    "due.csv": [(HEAD, "referral")],
}
WITHDRAWN = {
    "person": (False, True), "household": (False, False), "visit": (False, False, False, True),
    "referrals": [], "checks": [], "checks.xlsx": [], "referrals.xlsx": [], "due": [], "due.csv": [],
}


def refused(client, path: str, data: dict, status: int, code: str | None = None, text: str | None = None) -> None:
    """A post refused with this status (error code, message), and the register and the decisions as they were."""
    before, made, held = snapshot(), decisions(), items()
    response = client.post(path, data, allow_redirects=False)
    assert response.status_code == status, response.text[:500]
    if code is not None:
        assert code in response.text
    if text is not None:
        assert text in visible(response.text)
    assert (snapshot(), decisions(), items()) == (before, made, held)


def rebuilt_agrees() -> None:
    live = (snapshot(), items(), anchors())
    rebuild_register()
    commit()
    assert (snapshot(), items(), anchors()) == live


def test_consent_withdrawn_hides_everything_it_covered_until_undone(server, world, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    phone = world["own"]
    send(phone, household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-05T09:00:00.000+08:00",
                                pregnancy=(HEAD, "yes", "yes"), prepregnancy=(COUPLE, "yes"),
                                supplies=[(HEAD, "folic_acid", "3", "yes"), (CHILD, "condoms", "5", "yes")]))
    merge_all(NOW)
    visit = visit_id()
    dongcun, xicun = signed_in(server, "dongcun_cadre"), signed_in(server, "xicun_cadre")
    qingshan, baishui = signed_in(server, "qingshan_officer"), signed_in(server, "baishui_officer")
    assert seen(dongcun, phone, visit) == CONSENTED
    assert anchors() == [(HEAD, "pregnancy_reported", "2026-11-05")]

    # The form, from her page.
    assert f'href="/people/{HEAD}/consent" id="withdraw-consent"' in dongcun.get(f"/people/{HEAD}").text
    assert 'id="consent-withdrawn"' not in dongcun.get(f"/people/{HEAD}").text
    form = dongcun.get(f"/people/{HEAD}/consent")
    assert form.status_code == 200
    assert 'name="day" value="2026-11-22"' in form.text and 'name="confirm" value="yes"' in form.text
    path, good = f"/people/{HEAD}/consent", {"day": "2026-11-20", "note": "本人电话要求", "confirm": "yes"}

    # Another village's cadre, another town's office: refused before anything is read or written.
    for client in (xicun, baishui):
        assert client.get(path).status_code == 403
        refused(client, path, good, 403)
    # Bad input: refused with a message, nothing changed.
    refused(dongcun, path, {**good, "day": "2026-11-23"}, 400, "400.90", "请填写本人撤回同意的日期")
    refused(dongcun, path, {**good, "day": "20/11/2026"}, 400, "400.90")
    refused(dongcun, path, {**good, "day": ""}, 400, "400.90")
    refused(dongcun, path, {**good, "note": "长" * 201}, 400, "400.91", "备注太长")
    refused(dongcun, path, {"day": "2026-11-20"}, 400, "400.92", "请先勾选确认")
    refused(dongcun, f"/people/{place_uuid('own', 'nobody')}/consent", good, 404)
    # 第二组's head: nothing recorded by her consent (nor her household's).
    refused(dongcun, f"/people/{place_uuid('group', 'head')}/consent", good, 409, "409.90", "无需撤回")
    refused(dongcun, path, {**good, "csrf_token": "forged"}, 400)
    assert seen(dongcun, phone, visit) == CONSENTED

    # 东村's cadre records it: everything it covers is gone, from every page and export.
    done = dongcun.post(path, good, allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"].endswith(path)
    after = dongcun.get(path)
    assert "已登记撤回同意：王秀英" in visible(after.text) and 'id="undo"' in after.text
    ((kind, subject, target, day, note, undone),) = [row for row in decisions() if row[0] == "withdraw_consent"]
    assert (subject, target, day, note, undone) == (HEAD, HOUSEHOLD, "2026-11-20", "本人电话要求", False)
    assert seen(dongcun, phone, visit) == WITHDRAWN
    assert seen(qingshan, phone, visit) == WITHDRAWN          # the town office reads the same
    listed = visible(qingshan.get(path).text)                 # her consent page lists it, to undo
    assert "已登记的撤回 2026-11-20 · 本人电话要求 · 登记人：" in listed and "撤销" in listed
    refused(dongcun, path, good, 409, "409.90")               # withdrawn already: nothing left to withdraw
    # Her own copy lists the withdrawal (and none of what it covered).
    asked = SimpleNamespace(requested_by="王秀英", requester="self", requested_on=dt.date(2026, 11, 22), format="xlsx")
    copy = copy_content(principal_by_username("dongcun_cadre"), HEAD, asked, NOW)
    (consent_table,) = [table for table in copy.tables if table.title == "撤回同意记录"]
    assert [row[:2] for row in consent_table.rows] == [("2026-11-20", "本人电话要求")]
    assert not [table for table in copy.tables if any(GUIDANCE in str(cell) for row in table.rows for cell in row)]
    db.session.rollback()
    # Her page says so, with the way to her consent page (to see or undo it).
    assert ("本人已于 2026-11-20 撤回同意：凭同意登记的敏感服务记录已隐藏。 查看或撤销"
            in visible(dongcun.get(f"/people/{HEAD}").text))
    assert anchors() == []
    assert items() == sorted([("supply", CHILD, HOUSEHOLD, "condoms", ""), ("supply", HEAD, HOUSEHOLD, "folic_acid", "")])

    # The purge's list: the visit, with the answers to blank; blanked, none of it is in the stored bytes.
    db.session.rollback()
    ((submission_id, scrub),) = consent_scrubs()
    assert submission_id == visit
    assert scrub.codes == (("service_needs", ("pregnancy_reported", "prepregnancy_check")),)
    assert "prepregnancy/prepregnancy_names" in scrub.blank and "pregnancy/pregnant_person" in scrub.blank
    raw = db.session.scalar(select(Submission.xml).where(Submission.id == visit))
    db.session.rollback()
    assert COUPLE.encode() in bytes(raw) and COUPLE.encode() not in scrub_submission(bytes(raw), scrub)

    # A replay of another member's records (his visit is hers too) does not bring it back; nor does a rebuild.
    assert dongcun.post(f"/people/{CHILD}/tier", {"tier": "key"}, allow_redirects=False).status_code == 302
    assert seen(dongcun, phone, visit) == WITHDRAWN
    rebuilt_agrees()
    assert seen(dongcun, phone, visit) == WITHDRAWN

    # A later visit with her consent again is recorded (the withdrawal covers what was recorded before it).
    send(phone, household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-21T09:00:00.000+08:00",
                                pregnancy=(HEAD, "yes", "no")))
    merge_all(NOW)
    assert GUIDANCE in visible(dongcun.get(f"/people/{HEAD}").text)
    assert anchors() == [(HEAD, "pregnancy_reported", "2026-11-21")]
    assert seen(dongcun, phone, visit)["visit"] == (False, False, False, True)   # the first visit stays covered
    rebuilt_agrees()

    # Undone: everything is back, and a rebuild agrees.
    (decision_id,) = [row.id for row in db.session.scalars(select(RegisterDecision).where(
        RegisterDecision.kind == "withdraw_consent"))]
    db.session.rollback()
    for client in (xicun, baishui):    # not by another area
        refused(client, f"/decisions/{decision_id}/undo", {"back": path}, 403)
    assert dongcun.post(f"/decisions/{decision_id}/undo", {"back": path}, allow_redirects=False).status_code == 302
    assert "已登记的撤回" not in visible(dongcun.get(path).text)
    assert 'id="consent-withdrawn"' not in dongcun.get(f"/people/{HEAD}").text
    back = seen(dongcun, phone, visit)
    assert back == {**CONSENTED, "due": back["due"]}
    assert (HEAD, "referral", "due") in back["due"]
    assert anchors() == [(HEAD, "pregnancy_reported", "2026-11-05"), (HEAD, "pregnancy_reported", "2026-11-21")]
    assert consent_scrubs() == []
    rebuilt_agrees()


def test_a_withdrawal_follows_to_the_county(county, towns, settled, tmp_path):
    """Recorded in the town, replicated with the visits: the county's register holds none of it either, and its
    purge list names the same visit."""
    qingshan, _ = towns
    mother, father = Member("孙丽", "female", "1996-03-04"), Member("赵明", "male", "1994-05-06", relationship="spouse")
    qingshan.send("东村/第一组", household_visit(household="h-c", new=("001", "门牌"), members=[mother, father],
                                              start="2026-11-01T09:00:00.000+08:00"))
    qingshan.send("东村/第一组", household_visit(
        household="h-c", base_version=1, start="2026-11-02T09:00:00.000+08:00", instance_id="uuid:consent-visit",
        pregnancy=(mother.uuid, "yes", "yes"), prepregnancy=("赵明、孙丽", "yes"),
        supplies=[(father.uuid, "condoms", "5", "yes")]))
    qingshan.merge()
    with qingshan.live.app.app_context():
        withdraw_consent(principal_by_username("qingshan-office"), mother.uuid, "2026-11-20", confirmed=True,
                         now=NOW)
        commit()
        in_town = items()
    assert in_town == [("supply", father.uuid, "h-c", "condoms", "")]
    state = tmp_path / "state.json"
    replicator(qingshan, county, state).run()
    merge_all(NOW)
    sent = replicator(qingshan, county, state).run()
    assert (len(sent.decisions_sent), sent.decisions_refused) == (1, [])
    assert items() == in_town
    assert anchors() == []
    ((submission_id, scrub),) = consent_scrubs()
    assert db.session.scalar(select(Submission.instance_id).where(Submission.id == submission_id)) == \
        "uuid:consent-visit"
    assert scrub.codes == (("service_needs", ("pregnancy_reported", "prepregnancy_check")),)
    db.session.rollback()
    rebuilt_agrees()


def test_a_withdrawal_is_purged_on_the_next_run(server, world, monkeypatch):
    """The purge's next run (rule consent_withdrawn, period 0) blanks the raw answers the withdrawal covers: its dry
    run names her village once, the run blanks the couple's names and her pregnancy, a second dry run finds nothing,
    a rebuild agrees, and undoing the withdrawal afterwards brings nothing back (the answers are gone)."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    phone = world["own"]
    send(phone, household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-05T09:00:00.000+08:00",
                                pregnancy=(HEAD, "yes", "yes"), prepregnancy=(COUPLE, "yes"),
                                supplies=[(HEAD, "folic_acid", "3", "yes")]))
    merge_all(NOW)
    visit = visit_id()
    dongcun = signed_in(server, "dongcun_cadre")
    assert dongcun.post(f"/people/{HEAD}/consent", {"day": "2026-11-20", "confirm": "yes"},
                        allow_redirects=False).status_code == 302
    as_of = dt.date(2026, 11, 22)
    planned = plan(as_of)
    assert planned.counts() == {("青山镇/东村", "consent_withdrawn"): 1}
    assert planned.people("consent_withdrawn") == {HEAD}
    held = (snapshot(), items(), anchors())

    done = purge(as_of, by=None)
    commit()
    assert done.counts() == planned.counts() and done.people() == planned.people()
    raw = bytes(db.session.scalar(select(Submission.xml).where(Submission.id == visit)))
    db.session.rollback()
    answers = {etree.QName(node).localname: node.text for node in etree.fromstring(raw).iter()
               if isinstance(node.tag, str) and len(node) == 0}
    assert COUPLE.encode() not in raw
    assert (answers["pregnant_person"], answers["pregnancy_consent"], answers["prepregnancy_names"]) == \
        (None, None, None)
    assert answers["service_needs"] is None or "pregnancy_reported" not in answers["service_needs"]
    assert (snapshot(), items(), anchors()) == held          # what the pages show is what they showed
    assert plan(as_of).counts() == {}                         # nothing left for the next run
    rebuilt_agrees()

    (decision_id,) = db.session.scalars(select(RegisterDecision.id).where(RegisterDecision.kind == "withdraw_consent"))
    db.session.rollback()
    assert dongcun.post(f"/decisions/{decision_id}/undo", {"back": f"/people/{HEAD}"},
                        allow_redirects=False).status_code == 302
    assert anchors() == [] and [item for item in items() if item[0] != "supply"] == []
    assert GUIDANCE not in visible(dongcun.get(f"/people/{HEAD}").text)
