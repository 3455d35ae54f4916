"""Retention and purge end to end (docs/retention.md): visits sent through Collect's HTTP; a woman of 东村 who died
long ago, a woman of 西村 who moved out of the county long ago, a man of 东村 long past the service age and an old GPS
point; `taizhang privacy purge --dry-run` lists per village and rule exactly what the real run then removes; after
it their rows and their names, ID numbers and phones in the raw XML are gone, everyone else is as they were, the
archived monthly report keeps its bytes, `taizhang rebuild` gives the same register, and a later visit from a phone
with an old list naming the dead woman is refused; a period under its rule's minimum is refused, nothing changed."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import func, or_, select

from server import clock
from server.archive.models import ArchivedReport
from server.areas.operations import ensure_area
from server.audit.models import AuditEvent
from server.copies.models import PersonCopy
from server.database import commit
from server.extensions import db
from server.notices.models import ServiceNotice
from server.register import queries as register_queries
from server.register.decisions import set_tier
from server.register.models import (
    LifeEventRecord,
    Person,
    PersonMatchKey,
    PurgedRecord,
    RegisterDecision,
    RegisterFieldValue,
    ScheduleSummary,
    ServiceAnchor,
    ServiceItemRecord,
    SubmissionRecord,
    Visit,
)
from server.replication import queries as replication_queries
from server.schedules.current import current_schedule
from server.submissions.models import Submission
from server.users.models import User
from server.users.operations import add_user
from server.users.queries import principal_by_username
from tests.conftest import REALM, ROOT, command_env, merge_all, taizhang
from tests.register_visits import Member, followup_visit, household_visit
from tests.web import WebClient

XLSFORMS = ROOT / "xlsforms"
DONG_HOUSEHOLD = "99999999-0000-4000-8000-000000000001"
XI_HOUSEHOLD = "99999999-0000-4000-8000-000000000002"
HEAD = Member("张伟", "male", "1960-03-04", id_number="330102196003041234", phone="13900001111",
              uuid="99999999-0000-4000-8000-0000000000a1")
WIFE = Member("李芳", "female", "1990-01-02", relationship="spouse", phone="13900002222",
              uuid="99999999-0000-4000-8000-0000000000a2")
MOTHER = Member("王秀英", "female", "1950-05-06", relationship="parent", id_number="330102195005062228",
                phone="13700003333", uuid="99999999-0000-4000-8000-0000000000a3")
XI_HEAD = Member("赵强", "male", "1985-07-07", uuid="99999999-0000-4000-8000-0000000000b1")
XI_WIFE = Member("孙梅", "female", "1987-08-08", relationship="spouse", id_number="330102198708081245",
                 phone="13600004444", uuid="99999999-0000-4000-8000-0000000000b2")
AS_OF = "2026-12-01"
PASSWORD = "purge-staff-password"
PURGED_WORDS = ("王秀英", "330102195005062228", "13700003333", "孙梅", "330102198708081245", "13600004444")


@pytest.fixture
def county(server, create_collector, publish):
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    dong = server.client(token=create_collector("青山镇/东村/第一组").token)
    xi = server.client(token=create_collector("青山镇/西村/第一组").token)
    sent = [
        (dong, household_visit(household=DONG_HOUSEHOLD, new=("001", "东村一组1号"), members=[HEAD, WIFE, MOTHER],
                               start="2019-06-10T09:00:00.000+08:00",
                               supplies=[(MOTHER.uuid, "topical", "2", "yes"), (HEAD.uuid, "condoms", "10", "yes"),
                                         (WIFE.uuid, "folic_acid", "1", "yes")],
                               notes="王秀英腿脚不便", location="30.1 120.2 10 5")),
        (dong, followup_visit(person=MOTHER.uuid, household=DONG_HOUSEHOLD, followup_type="referral",
                              start="2019-08-01T09:00:00.000+08:00", notes="王秀英已去卫生院",
                              referral=("health_centre", "镇卫生院", "血压高"))),
        (dong, household_visit(household=DONG_HOUSEHOLD, base_version=1, start="2020-03-05T09:00:00.000+08:00",
                               updates=[dict(person_uuid=MOTHER.uuid, base_version=1, change="died",
                                             event_date="2020-03-01", place="家中")])),
        (xi, household_visit(household=XI_HOUSEHOLD, new=("001", "西村一组1号"), members=[XI_HEAD, XI_WIFE],
                             start="2020-05-01T09:00:00.000+08:00")),
        (xi, household_visit(household=XI_HOUSEHOLD, base_version=1, start="2021-01-10T09:00:00.000+08:00",
                             updates=[dict(person_uuid=XI_WIFE.uuid, base_version=1, change="moved_out",
                                           event_date="2021-01-05", destination="outside", place="广东省深圳市")])),
        # recent: a GPS point kept, and a death too recent to purge
        (xi, household_visit(household=XI_HOUSEHOLD, base_version=2, start="2026-11-20T09:00:00.000+08:00",
                             location="30.2 120.3 11 4", services=("health_guidance",))),
    ]
    for phone, xml in sent:
        assert phone.submit(xml).status_code == 201
    merge_all()
    village = ensure_area("青山镇/东村")
    ensure_area("白水镇/南村")
    db.session.add(ArchivedReport(kind="monthly_change", area_id=village.id, period_start=dt.date(2020, 3, 1),
                                  period_end=dt.date(2020, 3, 31), version=1, file_name="东村_2020-03_月变更报告单.xlsx",
                                  content=b"PK\x03\x04 the workbook as submitted",
                                  sha256=hashlib.sha256(b"PK\x03\x04 the workbook as submitted").hexdigest(),
                                  figures='{"deaths": 1}', created_at=dt.datetime(2020, 4, 1, tzinfo=dt.timezone.utc)))
    for username, role, area in (("qingshan_officer", "town_officer", "青山镇"), ("baishui_officer", "town_officer",
                                 "白水镇"), ("dongcun_cadre", "village_cadre", "青山镇/东村")):
        add_user(username, role, area, realm=REALM, password=PASSWORD)
    commit()
    # The cadre gave the old woman a tier (with a note naming her) before she died.
    set_tier(principal_by_username("dongcun_cadre"), MOTHER.uuid, "key", tiers=current_schedule().tier_names,
             note="王秀英行动不便")
    commit()
    return {"server": server, "dong": dong, "xi": xi, "env": command_env(server.app)}


def everything() -> dict:
    """The register, service record, visits, raw submissions and tombstones as plain values."""
    found = register_queries.register_snapshot()
    found["items"] = sorted((r.item_key, r.kind, r.person_uuid or "", r.code or "", r.quantity or 0)
                            for r in db.session.scalars(select(ServiceItemRecord)))
    found["visits"] = sorted((r.submission_id, r.person_uuid or "", r.refusal or "", r.latitude or 0.0)
                             for r in db.session.scalars(select(Visit)))
    found["xml"] = sorted((r.id, r.xml_sha256) for r in db.session.scalars(select(Submission)))
    found["tombstones"] = sorted((r.uuid, r.rule) for r in db.session.scalars(select(PurgedRecord)))
    found["schedule_summary"] = sorted((r.record_kind, r.record_uuid, r.visits, r.tiers, r.anchors, r.died_on,
                                        r.moved_out_on) for r in db.session.scalars(select(ScheduleSummary)))
    db.session.rollback()
    return found


def rows_naming(uuid: str) -> int:
    count = sum(db.session.scalar(select(func.count()).select_from(model).where(column == uuid)) for model, column in (
        (Person, Person.uuid), (RegisterFieldValue, RegisterFieldValue.record_uuid),
        (LifeEventRecord, LifeEventRecord.person_uuid), (ServiceAnchor, ServiceAnchor.person_uuid),
        (ServiceItemRecord, ServiceItemRecord.person_uuid), (SubmissionRecord, SubmissionRecord.record_uuid),
        (PersonMatchKey, PersonMatchKey.person_uuid), (Visit, Visit.person_uuid),
        (ScheduleSummary, ScheduleSummary.record_uuid)))
    db.session.rollback()
    return count


DRY_RUN = ["would purge as of 2026-12-01:",
           "  青山镇/东村\t超出服务年龄人员的服务记录 (aged_out)\t1",
           "  青山镇/东村\t已死亡人员 (died)\t1",
           "  青山镇/东村\t访视定位 (location)\t1",
           "  青山镇/西村\t迁出本县人员 (moved_out_of_county)\t1",
           "total 4"]


def test_dry_run_then_purge_removes_exactly_that_and_rebuild_keeps_it_out(county):
    env = county["env"]
    # A visit received before the purge, not merged yet, gave her something: scrubbed with the rest.
    queued = household_visit(household=DONG_HOUSEHOLD, base_version=1, start="2026-11-25T09:00:00.000+08:00",
                             supplies=[(MOTHER.uuid, "topical", "1", "yes"), (WIFE.uuid, "folic_acid", "1", "yes")],
                             notes="王秀英要药膏")
    assert county["dong"].submit(queued).status_code == 201
    # A service notice about the dead woman, and her own copy handed to her son: records of work done.
    sent = dt.datetime(2019, 6, 1, 2, 0, tzinfo=dt.timezone.utc)
    db.session.add(ServiceNotice(uuid="5e5e5e5e-0000-4000-8000-000000000001", from_place="青山镇", from_outside=False,
                                 to_place="红山镇", to_outside=False, person_uuid=MOTHER.uuid, name=MOTHER.name,
                                 sex="female", birth_date=dt.date(1950, 5, 6), id_number=MOTHER.id_number,
                                 address="红山镇某村", phone=MOTHER.phone, service="postpartum_visit",
                                 service_note="请随访王秀英", reply_by=dt.date(2019, 7, 1), sent_at=sent, sent_by="王主任"))
    db.session.add(PersonCopy(person_uuid=MOTHER.uuid, area_path=ensure_area("青山镇/东村/第一组").path,
                              requested_on=dt.date(2019, 6, 1), requested_by="张伟", requester="representative",
                              format="pdf", recorded_at=sent, produced_at=sent, sha256="0" * 64, size=1, handed_at=sent,
                              handed_to="张伟"))
    commit()
    before = everything()
    dry = taizhang(env, "privacy", "purge", "--dry-run", "--as-of", AS_OF)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == DRY_RUN
    assert everything() == before      # a dry run changes nothing

    run = taizhang(env, "privacy", "purge", "--as-of", AS_OF, "--by", "qingshan_officer")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "purged as of 2026-12-01:"
    assert lines[1:-1] == DRY_RUN[1:-1]   # the same per village and rule as the dry run
    assert lines[-1].startswith("total 4; ")

    # The purged people's rows are gone (their schedule summaries too), with their content in every raw
    # submission; the XML stays well formed.
    assert rows_naming(MOTHER.uuid) == 0 and rows_naming(XI_WIFE.uuid) == 0
    for row in db.session.scalars(select(Submission)):
        text = bytes(row.xml).decode("utf-8")
        assert [word for word in PURGED_WORDS if word in text] == []
        assert row.xml_sha256 == hashlib.sha256(bytes(row.xml)).hexdigest()
    # Her notice and her copy's request stay (they were work done) without who she was.
    (notice,) = db.session.scalars(select(ServiceNotice))
    assert (notice.name, notice.sex, notice.birth_date, notice.id_number, notice.address, notice.phone,
            notice.service_note, notice.service, notice.reply_by) == (
        "已清除", None, None, None, "已清除", None, None, "postpartum_visit", dt.date(2019, 7, 1))
    (copy,) = db.session.scalars(select(PersonCopy))
    assert (copy.requested_by, copy.handed_to, copy.requested_on) == ("已清除", None, dt.date(2019, 6, 1))
    people = {row.uuid: (row.name, row.id_number, row.phone, row.status)
              for row in db.session.scalars(select(Person))}
    assert people == {HEAD.uuid: ("张伟", "330102196003041234", "13900001111", "living"),
                      WIFE.uuid: ("李芳", None, "13900002222", "living"),
                      XI_HEAD.uuid: ("赵强", None, None, "living")}
    assert merge_all() == 1   # the queued visit, without her
    # 张伟 is past the service age: his supply went, not his record; 李芳's supplies stay.
    items = sorted((r.kind, r.person_uuid, r.code) for r in db.session.scalars(select(ServiceItemRecord)))
    assert items == [("service", None, "health_guidance"), ("supply", WIFE.uuid, "folic_acid"),
                     ("supply", WIFE.uuid, "folic_acid")]
    # The visits stay (the monthly counts read them): the follow-up of the dead woman without her, the old GPS
    # point gone, the recent one kept.
    visits = sorted((r.form, r.person_uuid or "", r.outcome, r.latitude or 0.0)
                    for r in db.session.scalars(select(Visit)))
    assert visits == [("followup", "", "completed", 0.0), ("household_visit", "", "completed", 0.0),
                      ("household_visit", "", "completed", 0.0), ("household_visit", "", "completed", 0.0),
                      ("household_visit", "", "completed", 0.0), ("household_visit", "", "completed", 0.0),
                      ("household_visit", "", "completed", 30.2)]
    (archived,) = db.session.scalars(select(ArchivedReport))
    assert bytes(archived.content) == b"PK\x03\x04 the workbook as submitted" and archived.figures == '{"deaths": 1}'
    # Audited per village and rule, by whom, never the content.
    officer = db.session.scalar(select(User.id).where(User.username == "qingshan_officer"))
    dong, xi = ensure_area("青山镇/东村").path, ensure_area("青山镇/西村").path
    audit = sorted((r.action, r.user_id, r.area_path, r.reason, r.records, r.subject) for r in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "purge")))
    assert audit == sorted([("purge", officer, dong, "aged_out", 1, "aged_out as of 2026-12-01"),
                            ("purge", officer, dong, "died", 1, "died as of 2026-12-01"),
                            ("purge", officer, dong, "location", 1, "location as of 2026-12-01"),
                            ("purge", officer, xi, "moved_out_of_county", 1, "moved_out_of_county as of 2026-12-01")])
    # The tier decision stays (it was taken) without its note, is not replicated, and every replay skips it.
    (tier,) = db.session.scalars(select(RegisterDecision))
    assert (tier.kind, tier.subject_uuid, tier.target, tier.note) == ("set_tier", MOTHER.uuid, "key", None)
    assert replication_queries.decisions_after(0, 100) == []
    db.session.rollback()

    # A rebuild gives the register minus them: never brings them back.
    after = everything()
    rebuilt = taizhang(env, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert everything() == after
    # Nothing left to purge.
    again = taizhang(env, "privacy", "purge", "--dry-run", "--as-of", AS_OF)
    assert again.stdout.splitlines() == ["would purge as of 2026-12-01:", "total 0"]

    # A phone with an old list names the dead woman: the visit is refused, kept for the cadre; she is not back.
    late = household_visit(household=DONG_HOUSEHOLD, base_version=2, start="2026-12-02T09:00:00.000+08:00",
                           updates=[dict(person_uuid=MOTHER.uuid, base_version=2, change="details_corrected",
                                         phone_now="13700009999")])
    assert county["dong"].submit(late).status_code == 201
    merge_all()
    (refused,) = db.session.scalars(select(Visit).where(Visit.refusal.is_not(None)))
    assert refused.refusal == "person_purged"
    assert db.session.scalar(select(func.count()).select_from(Person).where(Person.uuid == MOTHER.uuid)) == 0
    db.session.rollback()


def test_a_period_under_the_minimum_is_refused_and_nothing_changes(county):
    env = county["env"]
    before = everything()
    refused = taizhang(env, "privacy", "purge", "--as-of", AS_OF, "--days", "died=100")
    assert refused.returncode == 1
    assert "保存期限短于该规则允许的最短期限" in refused.stderr and "died: 100 < 730" in refused.stderr
    refused = taizhang(env, "privacy", "purge", "--as-of", AS_OF, "--days", "forever=1000")
    assert refused.returncode == 1 and "没有这个保存期限规则" in refused.stderr
    configured = taizhang({**env, "TAIZHANG_RETAIN_LOCATION_DAYS": "7"}, "privacy", "purge", "--as-of", AS_OF)
    assert configured.returncode == 1 and "location: 7 < 30" in configured.stderr
    assert everything() == before
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        or_(AuditEvent.action == "purge"))) == 0
    db.session.rollback()


def page_rows(text: str) -> list[list[str]]:
    body = re.search(r'<table id="purge">.*?<tbody>(.*?)</tbody>', text, re.S).group(1)
    return [[re.sub(r"<[^>]*>|\s+", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_the_town_office_sees_the_dry_run_of_its_own_villages(county, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.timezone.utc))
    before = everything()
    officer = WebClient(county["server"].url)
    assert officer.sign_in("qingshan_officer", PASSWORD).status_code == 302
    page = officer.get("/privacy/purge")
    assert page.status_code == 200
    assert page_rows(page.text) == [["青山镇›东村", "超出服务年龄人员的服务记录", "1"], ["青山镇›东村", "已死亡人员", "1"],
                                    ["青山镇›东村", "访视定位", "1"], ["青山镇›西村", "迁出本县人员", "1"]]
    assert "王秀英" not in page.text and "孙梅" not in page.text
    other = WebClient(county["server"].url)
    assert other.sign_in("baishui_officer", PASSWORD).status_code == 302
    page = other.get("/privacy/purge")
    assert page.status_code == 200 and 'id="purge-none"' in page.text and 'id="purge"' not in page.text
    cadre = WebClient(county["server"].url)
    assert cadre.sign_in("dongcun_cadre", PASSWORD).status_code == 302
    assert cadre.get("/privacy/purge").status_code == 403
    assert everything() == before
