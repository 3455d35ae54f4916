#!/usr/bin/env python3
"""Indicators benchmark: every indicator of a synthetic county (800,000 people, a year of visits) for one month, on
PostgreSQL.

    .venv/bin/python bench/indicators.py [--towns 20] [--month 2026-10] [--reuse]

Builds the county of bench/schedules.py (its `build_county`: towns × 10 villages × 30 groups, ~133 people per group,
a third with a service tier, births and operations told for 1 %, a year of completed household visits and
follow-ups) in a database of its own, `taizhang_bench_indicators`, and adds a month sign-off for half the villages
of every month. Then, timed, as the county administrator:

* **county indicators**: `area_indicators` for the whole county (its towns' rows and the county's total) for the
  month, as of 2026-11-22, counted afresh (nothing kept from an earlier count), against the 5 s target;
* **the floor**: the same run's time to read, with bare SELECTs and nothing else, the rows the count reads at the
  least: the scheduled people with their group, and the household visits and follow-ups dated in the month. The
  count's time is printed as a multiple of it.

Figures are printed, never asserted. The database is dropped and recreated unless --reuse.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages
sys.path.insert(0, str(ROOT / "bench"))

import psycopg
import schedules as county_bench
from flask_migrate import upgrade
from sqlalchemy import insert, select, text

from server import create_app
from server.archive.models import ArchivedReport
from server.areas.models import Area
from server.database import commit
from server.extensions import db
from server.indicators.operations import area_indicators
from server.months.models import MonthSignoff
from server.schedules.counted import forget_counts
from server.users.queries import principal_by_username
from sync.indicators import parse_period

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/taizhang_bench_indicators"
AS_OF = dt.date(2026, 11, 22)
TARGET_SECONDS = 5.0


def fresh_app(reuse: bool):
    if not reuse:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS taizhang_bench_indicators WITH (FORCE)")
            conn.execute("CREATE DATABASE taizhang_bench_indicators")
    return create_app({"SQLALCHEMY_DATABASE_URI": PG_BENCH, "INSTANCE_DIR": tempfile.mkdtemp(), "SECRET_KEY": "b"})


def sign_offs(rng: random.Random) -> int:
    """Half the villages' months of the year submitted (one in five of them late)."""
    villages = list(db.session.scalars(select(Area.id).where(Area.kind == "village")))
    at = dt.datetime(2026, 11, 2, 1, tzinfo=dt.timezone.utc)
    report = db.session.execute(insert(ArchivedReport).returning(ArchivedReport.id), [dict(
        kind="monthly_change", area_id=villages[0], period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 1, 31),
        version=1, file_name="-.xlsx", content=b"-", sha256="-", figures="{}", created_at=at)]).scalar_one()
    rows = [dict(village_id=village, month=dt.date(2026, month, 1), state="submitted", version=1, report_id=report,
                 first_submitted_at=at, late=rng.random() < 0.2, submitted_at=at)
            for village in villages for month in range(1, 12) if rng.random() < 0.5]
    db.session.execute(insert(MonthSignoff), rows)
    commit()
    return len(rows)


def floor_seconds(period) -> float:
    """Bare SELECTs of the least the count reads: scheduled people with their group, the month's visits."""
    started = time.perf_counter()
    with db.engine.connect() as connection:
        connection.execute(text(
            "SELECT p.uuid, h.group_id FROM person p JOIN household h ON h.uuid = p.household_uuid "
            "WHERE p.tier IS NOT NULL")).all()
        connection.execute(text(
            "SELECT household_uuid, person_uuid, visit_date, followup_type FROM visit "
            "WHERE visit_date BETWEEN :start AND :end AND completed"), dict(start=period.start, end=period.end)).all()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=20)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--reuse", action="store_true", help="measure the county built by the previous run")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL")
    rng = random.Random(args.seed)
    app = fresh_app(args.reuse)
    period = parse_period(args.month)
    with app.app_context():
        if args.reuse:
            upgrade(directory=str(ROOT / "server" / "migrations"))
        else:
            started = time.perf_counter()
            county_bench.build_county(args.towns, rng)
            print(f"{sign_offs(rng):,} village months signed off; built in {time.perf_counter() - started:.0f} s "
                  f"(untimed)")
            db.session.execute(text("ANALYZE"))
            commit()
        admin = principal_by_username("admin")
        floor = min(floor_seconds(period) for _ in range(2))
        timings = []
        for _ in range(3):
            forget_counts()
            started = time.perf_counter()
            table = area_indicators(admin, None, period, as_of=AS_OF)
            timings.append(time.perf_counter() - started)
            db.session.rollback()
        best = min(timings)
        total = table.total.values
        print(f"\ncounty indicators for {period.label('en')} as of {AS_OF}, {len(table.rows)} towns: "
              + ", ".join(f"{code} {value.numerator:,}/{value.denominator:,}" for code, value in total.items()
                          if value.denominator is not None))
        print(f"  counted in {best:.2f} s (runs: {', '.join(f'{t:.2f}' for t in timings)}), "
              f"{best / TARGET_SECONDS:.2f} of the {TARGET_SECONDS:.0f} s target; "
              f"floor (bare SELECTs of the people and the month's visits) {floor:.2f} s, so the count is "
              f"{best / floor:.1f}× the floor")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
