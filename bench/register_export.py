#!/usr/bin/env python3
"""Register export benchmark: the county's and a town's 台账 through `taizhang report register`, on PostgreSQL.

    .venv/bin/python bench/register_export.py [--towns 20]        # builds ~800,000 people (~2 min), then measures
    .venv/bin/python bench/register_export.py --reuse             # measure again on the county the last run built
    .venv/bin/python bench/register_export.py --towns 1           # a town only (~40,000 people): a quick trial

Builds a county register straight into the tables (COPY, town by town; the merge is measured by
bench/register.py): towns × 10 villages × 30 groups, ~133 people per group in households of 1–6 (20 towns ≈
800,000 people), with names of two or three characters, resident ID numbers, phones (70 %), addresses, the
relationships, residence (18 % working away), hukou, status and service tiers (a third) the register holds, and a
county user. Then each export runs as a user would run it, `taizhang report register <area> --out … --user admin`,
in a child process of its own (app start, queries, workbook, audit), and is timed from the outside; its peak RSS
is the child's own (`os.wait4`). Printed:

* **county** (`全县`: one sheet per town): wall time as a ratio to the 60 s limit (and the child's own CPU time,
  user + system, which other work on the machine moves less), peak RSS to the 500 MB limit;
* **a town** (镇01, its 300 group sheets): the same figures against the same limits;
* **floor**: a child that starts the app and only reads the rows the county's export reads (the query streamed,
  nothing written): what the app's start, the database and the driver cost, in the same run.

The load average is printed before and after: figures taken while other work runs are not comparable with quiet
ones. Figures are printed, never asserted. The database (`--pg-database`, default `taizhang_bench_export`) is
dropped and recreated unless `--reuse`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

import psycopg
from flask_migrate import upgrade
from sqlalchemy import insert, text

from server import create_app
from server.areas.operations import ensure_area
from server.database import commit
from server.exports import queries
from server.extensions import db
from server.register.models import Household, Person
from server.register.queries import bulk_insert
from server.users.models import User

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
LIMIT_SECONDS, LIMIT_MB = 60.0, 500.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "秀英兰芳丽华玉桂琴霞建国明伟军强平德文志勇敏静娟涛超洋磊杰春梅海燕斌兴福红"
RELATIVES = ("spouse", "child", "child", "child", "grandchild", "parent", "child_in_law", "sibling")


def database_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def id_number(region: int, born: dt.date, rng: random.Random) -> str:
    """A resident ID number with its ISO 7064 MOD 11-2 check character."""
    body = f"{region:06d}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8,
                                                                    4, 2)))
    return body + "10X98765432"[total % 11]


def build_county(towns: int, seed: int) -> int:
    """Areas, the county user `admin`, and the register's households and people, town by town; how many people."""
    upgrade(directory=str(ROOT / "server" / "migrations"))
    db.session.execute(insert(User), [dict(username="admin", display_name="admin", role="county_admin",
                                           password_hash="-", digest_ha1="-", digest_realm="-")])
    commit()
    rng = random.Random(seed)
    total = 0
    for town in range(1, towns + 1):
        households, people = [], []
        for village in range(1, 11):
            for group in range(1, 31):
                area = ensure_area(f"镇{town:02d}/村{village:02d}/第{group}组")
                number = in_group = 0
                size_of_group = rng.randint(118, 148)
                while in_group < size_of_group:
                    number += 1
                    household = f"h{area.id}-{number}"
                    households.append(dict(uuid=household, group_id=area.id, household_no=f"{group:02d}{number:03d}",
                                           address=f"村{village:02d}{group}组{number}号", version=1))
                    surname = rng.choice(SURNAMES)
                    size = rng.randint(1, 6)
                    in_group += size
                    for index in range(size):
                        born = dt.date(rng.randint(1935, 2025), rng.randint(1, 12), rng.randint(1, 28))
                        draw = rng.random()
                        people.append(dict(
                            uuid=f"{household}-{index}", household_uuid=household,
                            name=surname + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
                            sex=rng.choice(("male", "female")), birth_date=born.isoformat(),
                            id_number=id_number(510700 + town, born, rng) if rng.random() < 0.92 else None,
                            relationship="head" if index == 0 else rng.choice(RELATIVES),
                            phone=f"13{rng.randint(0, 999999999):09d}" if rng.random() < 0.7 else None,
                            residence=rng.choices(("here", "working_away", "moved_away"), (79, 18, 3))[0],
                            hukou="here" if rng.random() < 0.95 else "elsewhere",
                            status="living" if rng.random() < 0.99 else "died",
                            tier="key" if draw < 0.10 else "general" if draw < 0.25 else "followup" if draw < 0.33
                            else None, version=1))
        commit()
        bulk_insert(Household, households)
        bulk_insert(Person, people)
        commit()
        total += len(people)
    db.session.execute(text("ANALYZE"))
    commit()
    return total


def child_env(url: str) -> dict:
    return {**os.environ, "TAIZHANG_DATABASE_URL": url, "TAIZHANG_INSTANCE_DIR": tempfile.mkdtemp(),
            "TAIZHANG_SECRET_KEY": "bench", "PYTHONPATH": str(ROOT)}


def run_child(argv: list[str], env: dict) -> tuple[float, float, float, str]:
    """Run a child process; its wall time, its own CPU time (user + system), its peak RSS (MB; both from wait4) and
    its output."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode(errors="replace").strip()
    if process.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}):\n{output}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output       # Linux reports KiB


def read_only(url: str) -> None:
    """The floor: the export's query streamed to the end, each row touched, nothing written."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": tempfile.mkdtemp(), "SECRET_KEY": "b"})
    with app.app_context():
        rows = 0
        for row in queries.register_people("/"):
            rows += 1
            row.name  # noqa: B018 (each row read as the export reads it)
    print(f"{rows:,} rows")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--pg-database", default="taizhang_bench_export")
    parser.add_argument("--reuse", action="store_true", help="measure the county the previous run built")
    parser.add_argument("--keep", action="store_true", help="keep the exported files (in the current folder)")
    parser.add_argument("--read-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = database_url(args.pg_database)
    if args.read_only:
        read_only(url)
        return
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    if not args.reuse:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.pg_database} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {args.pg_database}")
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": tempfile.mkdtemp(), "SECRET_KEY": "b"})
        started = time.perf_counter()
        with app.app_context():
            people = build_county(args.towns, args.seed)
        print(f"built {args.towns} towns, {people:,} people in {time.perf_counter() - started:.0f} s")
    env = child_env(url)
    print(f"load average before: {loadavg()}")
    directory = Path.cwd() if args.keep else Path(tempfile.mkdtemp())
    taizhang = [sys.executable, "-m", "server.cli", "report", "register"]
    for label, area in (("county 全县, one sheet per town", "全县"), ("town 镇01, one sheet per group", "镇01")):
        out = directory / f"register_{area}.xlsx"
        seconds, cpu, peak, output = run_child([*taizhang, area, "--out", str(out), "--user", "admin"], env)
        size = out.stat().st_size
        if not args.keep:
            out.unlink()
        print(f"{label}: {output.splitlines()[-1].split(': ')[-1]}, {size / 2**20:.0f} MiB\n"
              f"    {seconds:6.1f} s = {seconds / LIMIT_SECONDS:.2f} of {LIMIT_SECONDS:.0f} s (its own CPU {cpu:.1f} s = "
              f"{cpu / LIMIT_SECONDS:.2f}); peak RSS {peak:.0f} MB = {peak / LIMIT_MB:.2f} of {LIMIT_MB:.0f} MB   "
              f"(load {loadavg()})", flush=True)
    seconds, cpu, peak, output = run_child(
        [sys.executable, __file__, "--read-only", "--pg-database", args.pg_database], env)
    print(f"floor, app start and the county's rows read only ({output.splitlines()[-1]}):\n"
          f"    {seconds:6.1f} s = {seconds / LIMIT_SECONDS:.2f} of {LIMIT_SECONDS:.0f} s (its own CPU {cpu:.1f} s); "
          f"peak RSS {peak:.0f} MB = {peak / LIMIT_MB:.2f} of {LIMIT_MB:.0f} MB   (load {loadavg()})")
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()
