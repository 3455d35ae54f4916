#!/usr/bin/env python3
"""Schedule benchmark: every flag of a synthetic county, and one collector's phone lists, on PostgreSQL.

    .venv/bin/python bench/schedules.py [--towns 20] [--samples 200] [--pg-database NAME] [--reuse]

Builds a county register directly in the tables (COPY; the merge is measured by bench/register.py): towns × 10
villages × 30 groups, ~133 people per group in households of 1–6 (20 towns ≈ 800,000 people), a third of the
people with a service tier (key 10 %, general 15 %, follow-up 8 %, given on 1 January), a birth or an operation
told for 1 % in the last two months, and a year of completed household visits (about one a month per household,
some months missed) plus follow-ups. The schedule summary (server.register.summaries) is then filled by the code a
rebuild runs (`refresh(None, None)`), timed and reported. Then, timed:

* **county flags**: `flags_in_area` for the whole county as of today (the summary read and the pure computation),
  the path `GET /api/v1/due` takes, against its 5 s limit: the median of `--reads` reads (each printed); the pure computation (`flags_of`) on inputs already in
  memory; the same flags read the old way (every visit row: `recomputed_person_schedules`), same run, for the ratio;
* **one town's flags**: the same for the first town, against its 0.5 s limit;
* **one collector's lists**: `GET manifest` of the household form through the app (token URL, the lists
  generated for the group) for `--samples` random collectors: median and p95 against the 20 ms target.

Figures are printed, never asserted. The PostgreSQL database (`--pg-database`, `taizhang_bench_schedules` by default)
is dropped and recreated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

import psycopg
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from server import create_app
from server.areas.operations import ensure_area, find_area
from server.database import commit
from server.extensions import db
from server.forms.models import Form
from server.forms.operations import publish_form
from server.register import summaries
from server.register.models import Household, Person, RegisterFieldValue, ScheduleSummary, ServiceAnchor, Visit
from server.register.queries import bulk_insert
from server.schedules import operations
from server.storage import blob_store
from server.submissions.models import Submission
from server.users import credentials
from server.users.models import User
from server.users.queries import principal_by_username
from sync.schedules import flags_of, summarise
from xlsforms.sheets import version_of

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/{}"
COUNTY_LIMIT, TOWN_LIMIT = 5.0, 0.5   # seconds (issue 22)
TODAY = dt.date(2026, 11, 22)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林"
GIVEN = "秀英兰芳丽华玉桂琴霞建国明伟军强平德文志勇"


def fresh_app(reuse: bool, database: str):
    if not reuse:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"')
    return create_app({"SQLALCHEMY_DATABASE_URI": PG_BENCH.format(database), "INSTANCE_DIR": tempfile.mkdtemp(),
                       "SECRET_KEY": "b"})


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def build_county(towns: int, rng: random.Random) -> dict[int, str]:
    """Areas, a collector per group (token = "t<group id>"), the forms, and the register rows; {group: token}."""
    upgrade(directory=str(ROOT / "server" / "migrations"))
    groups = [ensure_area(f"镇{t:02d}/村{v:02d}/组{g:02d}").id
              for t in range(1, towns + 1) for v in range(1, 11) for g in range(1, 31)]
    commit()
    db.session.execute(insert(User), [dict(username=f"c{g}", display_name="c", role="collector", area_id=g,
                                           password_hash="-", digest_ha1="-", digest_realm="-",
                                           token_hash=credentials.token_hash(f"t{g}")) for g in groups])
    db.session.execute(insert(User), [dict(username="admin", display_name="admin", role="county_admin",
                                           password_hash="-", digest_ha1="-", digest_realm="-")])
    media = list((ROOT / "xlsforms" / "fixtures").glob("*.csv"))
    publish_form(ROOT / "xlsforms" / "household_visit.xlsx", blob_store(), media=media, validate=False)
    commit()
    form = db.session.scalar(select(Form).where(Form.xml_form_id == "household_visit"))

    households, people, tiers, anchors, visits = [], [], [], [], []
    new_year = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for group in groups:
        number = in_group = 0
        while in_group < 133:
            number += 1
            household = f"{group}-{number}"
            households.append(dict(uuid=household, group_id=group, household_no=f"{number:03d}", address="-",
                                   version=1))
            for month in range(1, 12):
                if rng.random() < 0.75:
                    visits.append((household, None, dt.date(2026, month, rng.randint(1, 28)), None))
            surname = rng.choice(SURNAMES)
            size = rng.randint(1, 6)
            in_group += size
            for index in range(size):
                uuid = f"{household}-{index}"
                people.append(dict(uuid=uuid, household_uuid=household, name=surname + rng.choice(GIVEN),
                                   sex=rng.choice(("male", "female")), birth_date="1980-01-01",
                                   relationship="head" if index == 0 else "child", residence="here", hukou="here",
                                   status="living", version=1))
                draw = rng.random()
                tier = "key" if draw < 0.10 else "general" if draw < 0.25 else "followup" if draw < 0.33 else None
                if tier:
                    people[-1]["tier"] = tier
                    tiers.append(dict(record_kind="person", record_uuid=uuid, field="tier", value=tier, version=2,
                                      instance_id="decision:0", visited_at=new_year))
                    if rng.random() < 0.3:
                        visits.append((household, uuid, dt.date(2026, rng.randint(1, 11), rng.randint(1, 28)),
                                       f"tier_{tier}"))
                if rng.random() < 0.01:
                    anchors.append((uuid, rng.choice(("birth", "operation")),
                                    TODAY - dt.timedelta(days=rng.randint(0, 60))))
    now = dt.datetime.now(dt.timezone.utc)
    version_id = form.current_version_id
    bulk_insert(Submission, [dict(id=i, instance_id=f"b{i}", root_instance_id=f"b{i}", form_id=form.id,
                                  form_version_id=version_id, xml=b"", xml_sha256="-", received_at=now)
                             for i in range(1, len(visits) + 1)])
    bulk_insert(Household, households)
    bulk_insert(Person, people)
    bulk_insert(RegisterFieldValue, tiers)
    bulk_insert(ServiceAnchor, [dict(person_uuid=p, kind=k, anchor_date=d, submission_id=1) for p, k, d in anchors])
    bulk_insert(Visit, [dict(submission_id=i, form="followup" if kind else "household_visit", household_uuid=h,
                             person_uuid=p, visit_date=d, outcome="completed", completed=True, followup_type=kind)
                        for i, (h, p, d, kind) in enumerate(visits, start=1)])
    commit()
    started = time.perf_counter()
    summaries.refresh(None, None)   # the tables were written directly: their summaries as a rebuild writes them
    commit()
    summary_seconds = time.perf_counter() - started
    db.session.execute(text("ANALYZE"))
    commit()
    print(f"schedule summary filled (server.register.summaries.refresh(None, None), as a rebuild does): "
          f"{db.session.scalar(select(func.count()).select_from(ScheduleSummary)):,} rows in {summary_seconds:.1f} s")
    print(f"county: {len(groups):,} groups, {len(households):,} households, {len(people):,} people, "
          f"{len(tiers):,} with a tier, {len(anchors):,} anchors, {len(visits):,} completed visits")
    return {group: f"t{group}" for group in groups}


def _order(flag) -> tuple:
    return flag.key, flag.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=20)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--reuse", action="store_true", help="measure the county built by the previous run")
    parser.add_argument("--pg-database", default="taizhang_bench_schedules", help="the benchmark's own database")
    parser.add_argument("--town", default="镇01", help="the town measured (full name)")
    parser.add_argument("--reader", default="admin", help="the county account that reads the flags")
    parser.add_argument("--reads", type=int, default=3, help="timed reads of each area's flags (the median counts)")
    parser.add_argument("--no-phone-lists", action="store_true",
                        help="skip the collectors' lists (a county another bench built, e.g. bench/staff_pages.py's "
                             "with a year of service records: --reuse --pg-database taizhang_bench_pages "
                             "--town 青山镇 --reader county)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL")
    rng = random.Random(args.seed)
    app = fresh_app(args.reuse, args.pg_database)
    with app.app_context():
        started = time.perf_counter()
        if args.reuse:
            upgrade(directory=str(ROOT / "server" / "migrations"))
            tokens = {area: f"t{area}" for area in db.session.scalars(select(User.area_id).where(
                User.role == "collector"))}
        else:
            tokens = build_county(args.towns, rng)
            print(f"built in {time.perf_counter() - started:.0f} s (untimed)")

        admin = principal_by_username(args.reader)
        print(f"load average before the timed runs: {load()}")
        for name, area, limit in (("county", None, COUNTY_LIMIT), (f"town {args.town}", args.town, TOWN_LIMIT)):
            path = find_area(area).path if area else "/"
            reads = []   # (wall, CPU in this process) of each read; the median is the figure
            for _ in range(args.reads):
                gc.collect()   # (untimed: as in a server process, the previous read's garbage is not this one's)
                started, cpu = time.perf_counter(), time.process_time()
                found = operations.flags_in_area(admin, area, TODAY)
                reads.append((time.perf_counter() - started, time.process_time() - cpu))
                commit()
            seconds, cpu = statistics.median(wall for wall, _ in reads), statistics.median(used for _, used in reads)
            counts = summarise(found.flags)
            # The pure computation alone, on the inputs already read (the same run), the garbage collector paused
            # as flags_of_people pauses it.
            _, schedules = operations.person_schedules(path, found.schedule)
            gc.disable()
            started = time.perf_counter()
            computed = flags_of(schedules, found.schedule, TODAY)
            compute_seconds = time.perf_counter() - started
            gc.enable()
            assert len(computed) == len(found.flags)
            # The old read (every visit row), the same run.
            started, old_cpu = time.perf_counter(), time.process_time()
            _, old = operations.flags_of_people(path, found.schedule, TODAY, recomputed=True)
            old_seconds, old_cpu = time.perf_counter() - started, time.process_time() - old_cpu
            commit()
            same = sorted(old, key=_order) == sorted(found.flags, key=_order)   # every field of every flag
            each = ", ".join(f"{wall:.2f} s ({used:.2f} s CPU)" for wall, used in reads)
            print(f"\n{name} flags as of {TODAY}: {len(found.flags):,} flags ({counts}) in {seconds:.2f} s (the median "
                  f"of {len(reads)} reads: {each}) = {seconds / limit:.2f} of the {limit:g} s limit "
                  f"({cpu:.2f} s CPU in this process); the pure computation alone {compute_seconds:.2f} s "
                  f"({len(schedules):,} people); read from the visit rows instead (the old path, same run) "
                  f"{old_seconds:.2f} s ({old_cpu:.2f} s CPU), so the summary takes {seconds / old_seconds:.2f} of it "
                  f"({cpu / old_cpu:.2f} of its CPU); same flags: {same}; "
                  f"load average {load()}")
            del found, schedules, computed, old

        # What the live merge adds: the summary of the household a visit went to, worked out again (rolled back).
        households = rng.sample(sorted(db.session.scalars(select(Household.uuid).limit(50_000))), 200)
        summaries.refresh({households[0]}, set())
        started, cpu = time.perf_counter(), time.process_time()
        for household in households[1:]:
            summaries.refresh({household}, set())
        each, each_cpu = ((time.perf_counter() - started) / 199 * 1000, (time.process_time() - cpu) / 199 * 1000)
        db.session.rollback()
        print(f"\nthe live merge's summary upkeep (one household's row worked out again): {each:.2f} ms a visit "
              f"({each_cpu:.2f} ms CPU in this process); load average {load()}")

    if args.no_phone_lists:
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
        return
    client = app.test_client()
    groups = rng.sample(sorted(tokens), min(args.samples, len(tokens)))
    timings = []
    version = version_of((ROOT / "xlsforms" / "text" / "household_visit.md").read_text())
    for group in groups:
        started = time.perf_counter()
        response = client.get(f"/key/{tokens[group]}/forms/household_visit/versions/{version}/manifest",
                              headers={"X-OpenRosa-Version": "1.0"})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.data
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"one collector's lists (manifest with households.csv and people.csv generated), {len(timings)} "
          f"collectors: median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms (target < 20 ms)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
