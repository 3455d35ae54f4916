#!/usr/bin/env python3
"""Named-register benchmark: each register's page and workbook for a town of ~40,000 people with a year of visits.

    .venv/bin/python bench/register_pages.py [--requests 20] [--reader town|village] [--villages 10] [--reuse]

Builds a town straight into the tables (COPY, like bench/schedules.py; the merge is measured by bench/register.py):
10 villages × 30 groups, ~133 people per group in households of 1–6, 18 % of the people working away (most
registered so, some having left during the year), and a year of visits (December 2025 – November 2026): a
household visit in three months of four, carrying the service record in realistic shares (services on 30 % of
visits, supplies on 8 %, a referral on 2 %, a pre-pregnancy check on 0.5 %, a support request on 1 %), life events
(births, deaths, marriages, moves in and out, departures and returns), follow-ups after births and operations
(15 % of them attempts), follow-ups of referrals closing about half of them, and the town office's outcomes of
40 % of the support requests. Then, through the app (the Flask test client, signed in as a town officer, or a
village cadre with `--reader village`), `--requests` times each: every register's page for November 2026 and its
workbook, and as the same-run floor the sign-in page, in a process of its own (not the one that built the town).
Prints p50 and p95 per page and the p95's ratio to the 300 ms limit and to the floor.

PostgreSQL database `taizhang_bench_pages` (dropped and recreated). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

import psycopg
from flask_migrate import upgrade
from sqlalchemy import select, text

from server import create_app
from server.areas.operations import ensure_area
from server.database import commit
from server.extensions import db
from server.forms.models import Form, FormVersion
from server.forms.operations import publish_form
from server.register import summaries
from server.register.models import (
    Household,
    LifeEventRecord,
    Person,
    RegisterDecision,
    RegisterFieldValue,
    ServiceItemRecord,
    Visit,
)
from server.register.queries import bulk_insert
from server.storage import blob_store
from server.submissions.models import Submission
from server.users.operations import add_user
from sync.registers import REGISTERS
from sync.services import SUPPLY_ITEMS

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/taizhang_bench_pages"
MONTHS = [dt.date(2025, 12, 1)] + [dt.date(2026, month, 1) for month in range(1, 12)]
PERIOD = {"since": "2026-11-01", "until": "2026-11-30"}
LIMIT_MS = 300
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林"
GIVEN = "秀英兰芳丽华玉桂琴霞建国明伟军强平德文志勇"
PLACES = ("广东省深圳市", "广东省东莞市", "浙江省杭州市", "江苏省苏州市", "四川省成都市", "福建省厦门市")
PASSWORD = "bench-password-1"


def bench_app(*, fresh: bool):
    if fresh:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS taizhang_bench_pages WITH (FORCE)")
            conn.execute("CREATE DATABASE taizhang_bench_pages")
    return create_app({"SQLALCHEMY_DATABASE_URI": PG_BENCH, "INSTANCE_DIR": tempfile.mkdtemp(), "SECRET_KEY": "b",
                       "TAIZHANG_LOGIN_LIMIT": "100000 per minute"})


class Town:
    """The rows of a synthetic town, made in memory and written with COPY."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.submissions: list[dict] = []
        self.visits: list[dict] = []
        self.events: list[dict] = []
        self.items: list[dict] = []
        self.decisions: list[dict] = []
        self.values: list[dict] = []

    def day_in(self, month: dt.date) -> dt.date:
        return month.replace(day=self.rng.randint(1, 28))

    def visit(self, form: str, version: str, household: str, person: str | None, day: dt.date, group: int,
              outcome: str = "completed", followup_type: str | None = None) -> int:
        submission_id = len(self.submissions) + 1
        at = dt.datetime.combine(day, dt.time(1 + self.rng.randrange(9)), tzinfo=dt.timezone.utc)
        self.submissions.append(dict(id=submission_id, instance_id=f"b{submission_id}",
                                     root_instance_id=f"b{submission_id}", form=form, xml=b"", xml_sha256="-",
                                     area_id=group, collector_name=f"c{group}", received_at=at))
        self.visits.append(dict(submission_id=submission_id, form=form, household_uuid=household, person_uuid=person,
                                visited_at=at, visit_date=day, outcome=outcome, completed=outcome == "completed",
                                followup_type=followup_type, form_version=version,
                                next_visit=day + dt.timedelta(days=30) if outcome == "completed" else None))
        return submission_id

    def item(self, submission_id: int, seq: int, kind: str, household: str, person: str | None, day: dt.date,
             **values) -> str:
        key = f"b{submission_id}#{seq}"
        self.items.append(dict(submission_id=submission_id, seq=seq, item_key=key, kind=kind, household_uuid=household,
                               person_uuid=person, visit_date=day,
                               visited_at=dt.datetime.combine(day, dt.time(3), tzinfo=dt.timezone.utc), **values))
        return key

    def decide(self, kind: str, key: str, target: str, field: str | None, day: dt.date, path: str) -> None:
        self.decisions.append(dict(uuid=str(uuid.UUID(int=self.rng.getrandbits(128))), kind=kind, subject_uuid=key,
                                   target=target, field=field, after_submission_id=len(self.submissions),
                                   decided_at=dt.datetime.combine(day, dt.time(6), tzinfo=dt.timezone.utc),
                                   area_path=path))


def build_town(rng: random.Random, villages: int = 10) -> dict:
    """Areas, a town officer and a village cadre, the forms, and a year of the register's rows."""
    upgrade(directory=str(ROOT / "server" / "migrations"))
    areas = {(village, group): ensure_area(f"青山镇/{village + 1}村/{group + 1}组")
             for village in range(villages) for group in range(30)}
    commit()
    add_user("officer", "town_officer", "青山镇", realm="taizhang", password=PASSWORD)
    add_user("cadre", "village_cadre", "青山镇/1村", realm="taizhang", password=PASSWORD)
    media = list((ROOT / "xlsforms" / "fixtures").glob("*.csv"))
    for source in ("household_visit.xlsx", "followup.xlsx"):
        publish_form(ROOT / "xlsforms" / source, blob_store(), media=media, validate=False)
    commit()
    forms = {row.xml_form_id: (row.id, row.current_version_id, row.version) for row in db.session.execute(
        select(Form.xml_form_id, Form.id, Form.current_version_id, FormVersion.version)
        .join(FormVersion, FormVersion.id == Form.current_version_id))}

    town, households, people = Town(rng), [], []
    for (village, group), area in areas.items():
        number = in_group = 0
        while in_group < 133:
            number += 1
            household = f"{area.id}-{number}"
            households.append(dict(uuid=household, group_id=area.id, household_no=f"{number:03d}",
                                   address=f"{village + 1}村{number}号", version=1))
            size = rng.randint(1, 6)
            in_group += size
            surname = rng.choice(SURNAMES)
            members = []
            for index in range(size):
                person = f"{household}-{index}"
                members.append(person)
                away = rng.random() < 0.18
                people.append(dict(uuid=person, household_uuid=household, name=surname + rng.choice(GIVEN),
                                   sex=rng.choice(("male", "female")), birth_date=f"{rng.randint(1940, 2020)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                                   relationship="head" if index == 0 else "child",
                                   phone=f"139{rng.randrange(10 ** 8):08d}", residence="working_away" if away else "here",
                                   hukou="here", status="living", version=1))
            _household_year(town, rng, forms, household, members, people[-size:], area)
    bulk_insert(Submission, _with_form_ids(town.submissions, forms))
    bulk_insert(Household, households)
    bulk_insert(Person, people)
    bulk_insert(Visit, town.visits)
    bulk_insert(LifeEventRecord, town.events)
    bulk_insert(ServiceItemRecord, town.items)
    bulk_insert(RegisterDecision, town.decisions)
    bulk_insert(RegisterFieldValue, town.values)
    summaries.refresh(None, None)   # the schedule summary the merge keeps: the due list and home pages read it
    commit()
    db.session.execute(text("ANALYZE"))
    commit()
    kinds: dict[str, int] = {}
    for item in town.items:
        kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
    return dict(groups=len(areas), households=len(households), people=len(people),
                away=sum(person["residence"] == "working_away" for person in people), visits=len(town.visits),
                events=len(town.events), items=kinds, decisions=len(town.decisions), field_values=len(town.values))


def _with_form_ids(submissions: list[dict], forms: dict) -> list[dict]:
    rows = []
    for row in submissions:
        form_pk, version_pk, _ = forms[row["form"]]
        rows.append({**{key: value for key, value in row.items() if key != "form"}, "form_id": form_pk,
                     "form_version_id": version_pk})
    return rows


def _household_year(town: Town, rng: random.Random, forms: dict, household: str, members: list[str],
                    people: list[dict], area) -> None:
    """A household's year: its registration (field values), visits with their service records, events, follow-ups."""
    visit_version, followup_version = forms["household_visit"][2], forms["followup"][2]
    registered = town.visit("household_visit", visit_version, household, None, dt.date(2025, 6, 1), area.id)
    for person in people:
        for field in ("name", "sex", "birth_date", "phone", "residence", "status"):
            town.values.append(dict(record_kind="person", record_uuid=person["uuid"], field=field,
                                    value=person[field], version=1, submission_id=registered,
                                    instance_id=f"b{registered}",
                                    visited_at=dt.datetime(2025, 6, 1, 2, tzinfo=dt.timezone.utc)))
    away = [person["uuid"] for person in people if person["residence"] == "working_away"]
    for month in MONTHS:
        if rng.random() >= 0.75:
            continue
        day = town.day_in(month)
        visit = town.visit("household_visit", visit_version, household, None, day, area.id)
        seq = 0

        def add(kind: str, person: str | None, **values) -> str:
            nonlocal seq
            seq += 1
            return town.item(visit, seq, kind, household, person, day, **values)

        if rng.random() < 0.30:
            add("service", rng.choice(members), code=rng.choice(("health_guidance", "benefit_information")))
        if rng.random() < 0.08:
            for _ in range(rng.choice((1, 1, 2))):
                add("supply", rng.choice(members), code=rng.choices(SUPPLY_ITEMS, (40, 35, 10, 5, 5, 5))[0],
                    quantity=rng.randint(1, 10), given=rng.random() < 0.85)
        if rng.random() < 0.02:
            person = rng.choice(members)
            key = add("referral", person, code="antenatal_guidance")
            add("pregnancy_guidance", person, refers_to=key)
            _referral_followup(town, rng, followup_version, household, person, key, day, area)
        if rng.random() < 0.005:
            key = add("referral", None, code="prepregnancy_check")
            add("prepregnancy_check", None, text="、".join(p["name"] for p in people[:2]), consent=True, refers_to=key)
            _referral_followup(town, rng, followup_version, household, members[0], key, day, area)
        if rng.random() < 0.01:
            code = rng.choice(("family_benefit", "elderly_support", "hardship_support", "other"))
            key = add("support_request", rng.choice(members), code=code, text="需要帮助",
                      detail=rng.choice(("reward", "special")) if code == "family_benefit" else None)
            if rng.random() < 0.4:
                decided = day + dt.timedelta(days=20)
                for field, value in (("outcome", rng.choice(("granted", "not_granted"))),
                                     ("decided_on", decided.isoformat()), ("paid_on", decided.isoformat()),
                                     ("amount", "1200")):
                    town.decide("support_outcome", key, value, field, decided, area.path)
        _events(town, rng, followup_version, household, members, away, visit, day, area)


def _referral_followup(town: Town, rng: random.Random, version: str, household: str, person: str, key: str,
                       day: dt.date, area) -> None:
    if rng.random() < 0.5:
        later = day + dt.timedelta(days=14)
        followup = town.visit("followup", version, household, person, later, area.id, followup_type="referral")
        town.item(followup, 1, "referral_result", household, person, later, code=rng.choice(("attended", "declined")),
                  refers_to=key)


def _events(town: Town, rng: random.Random, version: str, household: str, members: list[str], away: list[str],
            visit: int, day: dt.date, area) -> None:
    """Life events told at a visit (a town of 40,000: ~400 births, ~280 deaths, ~300 marriages, ~300 moves each
    way, ~1,500 departures and ~800 returns a year), and the follow-ups after births and operations."""
    draw = rng.random() * 8250   # ≈ household visits a month in the town

    def event(kind: str, person: str, **values) -> None:
        town.events.append(dict(person_uuid=person, kind=kind, event_date=day - dt.timedelta(days=rng.randint(0, 5)),
                                submission_id=visit, **values))

    if draw < 33:
        event("birth", rng.choice(members))
        for weeks, outcome in ((1, "completed"), (6, rng.choice(("completed",) * 5 + ("nobody_home",)))):
            later = day + dt.timedelta(weeks=weeks)
            followup = town.visit("followup", version, household, members[0], later, area.id, outcome,
                                  "postpartum")
            if outcome == "completed":
                town.item(followup, 1, "service", household, members[0], later, code="postpartum_care")
                if rng.random() < 0.3:
                    town.item(followup, 2, "supply", household, members[0], later, code="folic_acid", quantity=2,
                              given=True)
    elif draw < 40:
        later = day + dt.timedelta(days=10)
        followup = town.visit("followup", version, household, members[0], later, area.id,
                              rng.choice(("completed",) * 6 + ("refused",)), "post_operation")
        town.item(followup, 1, "service", household, members[0], later, code="recovery_check")
    elif draw < 63:
        event("death", rng.choice(members))
    elif draw < 88:
        event("marriage", rng.choice(members), spouse_name=rng.choice(SURNAMES) + rng.choice(GIVEN))
    elif draw < 113:
        event("moved_in", rng.choice(members), place=rng.choice(PLACES))
    elif draw < 138:
        event("moved_out", rng.choice(members), place=rng.choice(PLACES))
    elif draw < 263:
        event("left_for_work", rng.choice(away) if away and rng.random() < 0.8 else rng.choice(members),
              place=rng.choice(PLACES))
    elif draw < 330:
        event("returned", rng.choice(members), place=rng.choice(PLACES))


def sign_in(client, username: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def timed(client, path: str, params: dict, requests: int) -> tuple[list[float], int]:
    """Milliseconds of each request (after one untimed warm-up), and the size of the last answer."""
    timings, size = [], 0
    for attempt in range(requests + 1):
        started = time.perf_counter()
        response = client.get(path, query_string=params)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
        size = len(response.data)
        if attempt:
            timings.append(elapsed)
    return sorted(timings), size


def p95(timings: list[float]) -> float:
    return timings[max(0, -(-len(timings) * 95 // 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (after one warm-up)")
    parser.add_argument("--reader", choices=("town", "village"), default="town")
    parser.add_argument("--villages", type=int, default=10, help="villages of 30 groups (1: a quick trial)")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--reuse", action="store_true", help="measure the town the previous run built")
    args = parser.parse_args()
    if not args.reuse:
        print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL")
        app = bench_app(fresh=True)
        with app.app_context():
            started = time.perf_counter()
            built = build_town(random.Random(args.seed), args.villages)
            print(f"town: {built['groups']} groups, {built['households']:,} households, {built['people']:,} people "
                  f"({built['away']:,} working away), {built['visits']:,} visits, {built['events']:,} life events, "
                  f"service items {built['items']}, {built['decisions']:,} decisions, {built['field_values']:,} "
                  f"field values; built in {time.perf_counter() - started:.0f} s (untimed)", flush=True)
            db.session.remove()
            db.engine.dispose()
        # Measured in a process of its own, as a server would be: not one holding what building the town left behind.
        sys.exit(subprocess.run([sys.executable, __file__, "--reuse", "--requests", str(args.requests),
                                 "--reader", args.reader]).returncode)
    measure(bench_app(fresh=False), args.requests, args.reader)


def measure(app, requests: int, reader_kind: str) -> None:
    client = app.test_client()
    sign_in(client, "officer" if reader_kind == "town" else "cadre")
    floor, _ = timed(client, "/login", {}, requests)
    floor_p95 = p95(floor)
    reader = "a town officer (the whole town)" if reader_kind == "town" else "a village cadre (one village)"
    print(f"\npages for November 2026 as {reader}, {requests} requests each (Flask test client, one process);"
          f" limit {LIMIT_MS} ms")
    print(f"{'page':40} {'rows':>6} {'p50 ms':>8} {'p95 ms':>8} {'p95/limit':>10} {'p95/floor':>10}")
    print(f"{'/login (floor)':40} {'':>6} {statistics.median(floor):8.1f} {floor_p95:8.1f} "
          f"{floor_p95 / LIMIT_MS:10.2f} {1:10.1f}")
    worst = 0.0
    for name in REGISTERS:
        for path in (f"/registers/{name}", f"/registers/{name}.xlsx"):
            timings, _ = timed(client, path, PERIOD, requests)
            rows = ""
            if not path.endswith(".xlsx"):
                summary = re.search(r"of ([\d,]+)|共 ([\d,]+) 条", client.get(path, query_string=PERIOD)
                                    .get_data(as_text=True))
                rows = next(group for group in summary.groups() if group) if summary else "0"
                worst = max(worst, p95(timings))
            print(f"{path:40} {rows:>6} {statistics.median(timings):8.1f} {p95(timings):8.1f} "
                  f"{p95(timings) / LIMIT_MS:10.2f} {p95(timings) / floor_p95:10.1f}")
    print(f"\nslowest page p95: {worst:.1f} ms ({worst / LIMIT_MS:.2f} of the {LIMIT_MS} ms limit)")


if __name__ == "__main__":
    main()
