"""The schedule summary (one row per person and household, kept at merge time) gives the same flags as the register's
visit rows for any as-of date, after visits, follow-ups, tiers, births and operations, deaths and moves, an edit
and an undo, next visits agreed (with a household whose head changes, on a follow-up), referral results recorded
on the web (and undone) and on a follow-up; a rebuild writes the same summary the live merge kept."""

from __future__ import annotations

import datetime as dt
import gc
import random

import pytest
from sqlalchemy import select

from server.areas.operations import find_area
from server.corrections.operations import correct_person
from server.database import commit
from server.extensions import db
from server.register import summaries
from server.register.decisions import set_tier, undo_decision
from server.register.models import Person, ScheduleSummary, ServiceItemRecord
from server.register.replays import rebuild_register
from server.schedules import operations, queries
from server.services.operations import record_referral_result
from server.users.queries import principal_by_username
from sync.schedules import default_schedule, flags_of
from tests.conftest import ROOT, merge_all
from tests.register_visits import Member, followup_visit, household_visit

XLSFORMS = ROOT / "xlsforms"
SCHEDULE = default_schedule()
TIERS = SCHEDULE.tier_names
H1, H2, H3, H4 = (f"33333333-0000-4000-8000-00000000000{n}" for n in (1, 2, 3, 4))
FIRST, SECOND = "青山镇/东村/第一组", "青山镇/东村/第二组"
REFERRING = "uuid:33333333-refer-4000-8000-000000000001"   # 王秀英's follow-up that referred her


@pytest.fixture
def phones(server, create_collector, publish):
    media = list((XLSFORMS / "fixtures").glob("*.csv"))
    publish(XLSFORMS / "household_visit.xlsx", media=media)
    publish(XLSFORMS / "followup.xlsx", media=media)
    phones = {area: server.client(token=create_collector(area).token) for area in (FIRST, SECOND)}
    create_collector("青山镇/东村", username="dongcun_cadre", role="village_cadre")
    return phones


def send(phone, xml: bytes) -> None:
    assert phone.submit(xml).status_code == 201


def at(day: str) -> str:
    return f"{day}T09:00:00.000+08:00"


def utc(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=2, tzinfo=dt.timezone.utc)


def flags(path: str, as_of: dt.date, *, recomputed: bool, people: dict | None = None) -> list:
    _, found = operations.flags_of_people(path, SCHEDULE, as_of, recomputed=recomputed, people=people)
    return sorted(found, key=lambda flag: (flag.key, flag.status))


SUMMARY_COLUMNS = ("record_kind", "record_uuid", "visits", "tiers", "anchors", "died_on", "moved_out_on", "scheduled",
                   "agreed", "referrals", "head")


def summary_table() -> list[tuple]:
    return sorted(tuple(getattr(row, name) for name in SUMMARY_COLUMNS)
                  for row in db.session.scalars(select(ScheduleSummary)))


def build_register(phones) -> dict[str, Member]:
    """Three households over two groups and a year: household visits (some months missed), follow-ups, tiers
    given, changed and taken away, a birth and an operation, a death and a move away, an edit, referrals and their
    results (on the web, undone, and on a follow-up), next visits agreed (on household visits, one with a
    household whose head then changes, and on a follow-up) and an undone tier."""
    cadre = principal_by_username("dongcun_cadre")
    people = {name: Member(name, sex, born, relationship=relationship) for name, sex, born, relationship in (
        ("王强", "male", "1970-03-01", "head"), ("李芳", "female", "1995-01-02", "spouse"),
        ("王秀英", "female", "1940-05-06", "parent"), ("张伟", "male", "1980-07-08", "head"),
        ("张丽", "female", "1985-09-10", "spouse"), ("刘明", "male", "1950-11-12", "head"))}
    p = people
    send(phones[FIRST], household_visit(household=H1, new=("001", "东村1号"), start=at("2026-01-05"),
                                        members=[p["王强"], p["李芳"], p["王秀英"]]))
    send(phones[FIRST], household_visit(household=H2, new=("002", "东村2号"), start=at("2026-01-06"),
                                        members=[p["张伟"], p["张丽"]]))
    send(phones[SECOND], household_visit(household=H3, new=("001", "东村二组1号"), start=at("2026-01-07"),
                                         members=[p["刘明"]]))
    merge_all()
    set_tier(cadre, p["王秀英"].uuid, "key", tiers=TIERS, now=utc("2026-01-20"))
    set_tier(cadre, p["刘明"].uuid, "general", tiers=TIERS, now=utc("2026-02-03"))
    set_tier(cadre, p["张丽"].uuid, "followup", tiers=TIERS, now=utc("2026-03-15"))
    commit()
    for day in ("2026-02-10", "2026-03-12", "2026-05-20", "2026-06-02", "2026-08-30"):
        send(phones[FIRST], household_visit(household=H1, base_version=1, start=at(day)))
    send(phones[FIRST], household_visit(household=H1, base_version=1, start=at("2026-07-01"), outcome="nobody_home"))
    for day in ("2026-04-04", "2026-09-09"):
        send(phones[FIRST], household_visit(household=H2, base_version=1, start=at(day)))
    send(phones[SECOND], household_visit(household=H3, base_version=1, start=at("2026-06-15"),
                                         next_visit="2026-07-15"))
    send(phones[FIRST], household_visit(household=H2, base_version=1, start=at("2026-05-10"),
                                        next_visit="2026-06-10"))
    merge_all()
    # A birth and an operation told, their follow-ups (one done in time), a key follow-up, a referral.
    send(phones[FIRST], household_visit(household=H1, base_version=1, start=at("2026-09-20"),
                                        postpartum=(p["李芳"].uuid, "2026-09-18"),
                                        post_operation=(p["王强"].uuid, "2026-09-01")))
    merge_all()
    send(phones[FIRST], followup_visit(person=p["李芳"].uuid, household=H1, followup_type="postpartum",
                                       start=at("2026-09-25"), next_date="2026-10-25"))
    send(phones[FIRST], followup_visit(person=p["王秀英"].uuid, household=H1, followup_type="tier_key",
                                       start=at("2026-10-03"), referral=("health_centre", "青山镇卫生院", ""),
                                       instance_id=REFERRING))
    send(phones[FIRST], followup_visit(person=p["张丽"].uuid, household=H2, followup_type="tier_followup",
                                       start=at("2026-10-10")))
    merge_all()
    # A tier changed and one taken away; a death and a move away.
    set_tier(cadre, p["王秀英"].uuid, "general", tiers=TIERS, now=utc("2026-10-20"))
    set_tier(cadre, p["张丽"].uuid, "", tiers=TIERS, now=utc("2026-11-02"))
    commit()
    send(phones[SECOND], household_visit(household=H3, base_version=1, start=at("2026-11-05"), updates=[
        dict(person_uuid=p["刘明"].uuid, base_version=1, change="died", event_date="2026-11-01")]))
    send(phones[FIRST], household_visit(household=H2, base_version=1, start=at("2026-11-06"), updates=[
        dict(person_uuid=p["张伟"].uuid, base_version=1, change="moved_out", event_date="2026-11-04",
             place="广东省深圳市")]))
    merge_all()
    # An edit: a visit's date corrected (the visit of 12 March was on 12 April), replayed.
    original = "uuid:33333333-edit-4000-8000-000000000001"
    send(phones[FIRST], household_visit(household=H1, base_version=1, start=at("2026-12-01"), instance_id=original))
    merge_all()
    send(phones[FIRST], household_visit(household=H1, base_version=1, start=at("2026-12-03"),
                                        instance_id="uuid:33333333-edit-4000-8000-000000000002",
                                        deprecated_id=original))
    merge_all()
    # A next visit agreed with H1 (due for its head, 王强), then 李芳 recorded as the head instead: it is due for
    # her. 王秀英's referral attended (recorded on the web), undone, then a follow-up's result.
    send(phones[FIRST], household_visit(household=H1, base_version=1, start=at("2026-12-05"),
                                        next_visit="2026-12-20"))
    merge_all()
    correct_person(cadre, p["王强"].uuid, "relationship", "spouse", now=utc("2026-12-06"))
    correct_person(cadre, p["李芳"].uuid, "relationship", "head", now=utc("2026-12-06"))
    commit()
    assert db.session.get(ScheduleSummary, ("household", H1)).head == p["李芳"].uuid
    # 李芳 splits off a household of her own on the live merge (a visit to the new household): H1's head is 王强
    # again (neither member left is recorded as head: by name).
    version = db.session.get(Person, p["李芳"].uuid).version
    db.session.rollback()
    send(phones[FIRST], household_visit(household=H4, new=("004", "东村4号"), start=at("2026-12-07"), split_from=H1,
                                        split_members={p["李芳"].uuid: version}))
    merge_all()
    assert db.session.get(ScheduleSummary, ("household", H1)).head == p["王强"].uuid
    # She comes back to H1, told on a visit to H4 (H1 is not visited): she is H1's head again.
    version = db.session.get(Person, p["李芳"].uuid).version
    db.session.rollback()
    send(phones[FIRST], household_visit(household=H4, base_version=1, start=at("2026-12-08"), updates=[
        dict(person_uuid=p["李芳"].uuid, base_version=version, change="changed_household", to_household=H1,
             event_date="2026-12-08")]))
    merge_all()
    (referral,) = db.session.scalars(select(ServiceItemRecord.item_key).where(ServiceItemRecord.kind == "referral"))
    assert referral.startswith(REFERRING)
    result = record_referral_result(cadre, referral, "attended", now=utc("2026-10-10"))
    commit()
    assert "referral" not in {flag.rule for flag in flags("/", dt.date(2026, 10, 20), recomputed=False)}
    undo_decision(cadre, result, now=utc("2026-10-12"))
    commit()
    assert "referral" in {flag.rule for flag in flags("/", dt.date(2026, 10, 20), recomputed=False)}
    db.session.rollback()   # (the reads' transaction: SQLite's write lock, which the phones' next visit needs)
    send(phones[FIRST], followup_visit(person=p["王秀英"].uuid, household=H1, followup_type="referral",
                                       start=at("2026-10-30"), referral_result=(referral, "attended")))
    merge_all()
    # An undone tier: 王强 was made a key person by mistake.
    decision = set_tier(cadre, p["王强"].uuid, "key", tiers=TIERS, now=utc("2026-04-01"))
    commit()
    undo_decision(cadre, decision, now=utc("2026-12-04"))
    commit()
    return people


def test_summary_flags_are_the_recomputed_flags_on_ten_random_dates_and_a_rebuild_keeps_the_summary(phones,
                                                                                                    monkeypatch):
    people = build_register(phones)
    # An area's rows come in batches of two here, each next one read ahead while the ones before are worked out.
    monkeypatch.setattr(queries, "SUMMARISED_BATCH", 2)
    rng = random.Random(22)
    days = sorted([dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 450)) for _ in range(10)]
                  + [dt.date(2026, 10, 20)])   # (王秀英's referral open: its web result was undone)
    statuses = set()
    for day in days:
        expected = flags("/", day, recomputed=True)
        assert flags("/", day, recomputed=False) == expected, day
        statuses |= {flag.status for flag in expected}
        village = _group_path("青山镇/东村")
        assert flags(village, day, recomputed=False) == flags(village, day, recomputed=True)
        group = {row.uuid: row for row in queries.people_in(_group_path(FIRST), current_only=False)}
        assert flags(_group_path(FIRST), day, recomputed=False, people=group) == flags(
            _group_path(FIRST), day, recomputed=True, people=dict(group))
    assert {"done", "due", "overdue"} <= statuses
    # The rows of every person flagged come with the flags (the pages name them).
    read, found = operations.flags_of_people("/", SCHEDULE, dt.date(2026, 12, 21))
    assert {flag.person for flag in found} <= set(read) and len(found) > 2
    # The rules reach every kind of input: tiers, an event, a referral, an agreed visit.
    every = {flag.rule for day in days for flag in flags("/", day, recomputed=False)}
    assert {"tier_key", "tier_general", "postpartum", "referral", "agreed_visit"} <= every, every
    # H1's visit agreed for 20 December is due for its head as the register has it now (李芳, made head, who left
    # and came back); 李芳's follow-up agreed one for 25 October goes with her; 王秀英's referral was closed by the
    # follow-up of 30 October, not by the undone result.
    agreed = [(flag.person, flag.extra["agreed_for"]) for flag in flags("/", dt.date(2026, 12, 21), recomputed=False)
              if flag.rule == "agreed_visit"]
    assert (people["李芳"].uuid, "2026-12-20") in agreed and (people["王强"].uuid, "2026-12-20") not in agreed
    assert (people["李芳"].uuid, "2026-10-25") in [(flag.person, flag.extra["agreed_for"]) for flag in flags(
        "/", dt.date(2026, 10, 26), recomputed=False) if flag.rule == "agreed_visit"]
    row = db.session.get(ScheduleSummary, ("household", H1))
    assert (row.head, row.agreed) == (people["李芳"].uuid, "2026-12-05>2026-12-20")
    def referrals(day):
        return [flag.status for flag in flags("/", day, recomputed=False)
                if flag.rule == "referral" and flag.person == people["王秀英"].uuid]
    assert (referrals(dt.date(2026, 10, 20)), referrals(dt.date(2026, 10, 30))) == (["due"], [])

    live = summary_table()
    assert live == sorted(tuple(row[name] for name in SUMMARY_COLUMNS) for row in summaries.summary_rows(None, None))
    rebuild_register()
    commit()
    assert summary_table() == live
    db.session.rollback()


def _group_path(full_name: str) -> str:
    return find_area(full_name).path


def test_flags_are_worked_out_with_the_garbage_collector_paused_and_it_runs_again_after(phones, monkeypatch):
    cadre = principal_by_username("dongcun_cadre")
    person = Member("王秀英", "female", "1940-05-06", relationship="head")
    send(phones[FIRST], household_visit(household=H1, new=("001", "东村1号"), start=at("2026-01-05"),
                                        members=[person]))
    merge_all()
    set_tier(cadre, person.uuid, "key", tiers=TIERS, now=utc("2026-01-20"))
    commit()
    seen = []
    monkeypatch.setattr(operations, "flags_of", lambda *args: seen.append(gc.isenabled()) or flags_of(*args))
    assert gc.isenabled()
    assert [flag.status for flag in flags("/", dt.date(2026, 3, 1), recomputed=False)] == ["overdue"]
    assert seen == [False] and gc.isenabled()
    gc.disable()    # paused by someone else (another request's thread): left as it was
    try:
        flags("/", dt.date(2026, 3, 1), recomputed=False)
        assert not gc.isenabled()
    finally:
        gc.enable()
