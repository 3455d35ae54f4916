#!/usr/bin/env python3
"""Merge-worker memory benchmark: the worker's peak RSS stays flat however many large submissions it merges.

    .venv/bin/python bench/merge_memory.py [--count 10000] [--baseline 100] [--size-mib 4] [--limit 1.25]
                                           [--backend postgresql|sqlite]

Stores `--baseline` registration visits of the real household_visit form, each padded to `--size-mib` MiB by a
long free-text answer (what a worker holds is the raw XML it claims and parses), queued as intake queues them,
and runs the merge worker (`taizhang register merge`, its own process, the loop that `taizhang serve` runs) until
the queue is empty. Then stores `--count` more and runs a new worker over them. Each worker's peak RSS is read
from the kernel (wait4's ru_maxrss). The figure is the ratio of the peak over `--count` to the peak over
`--baseline`, measured in the same run; the exit status is 1 when it is above `--limit`.

PostgreSQL (the default) uses database `taizhang_bench_merge_memory` (dropped and recreated); TOAST compresses the
padding, so 10,000 × 4 MiB take little disk. SQLite keeps every byte: `--count` × `--size-mib` MiB in a temporary
folder. `--quick` (a few small submissions on SQLite) checks that the script runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

from sqlalchemy import create_engine, text

from server import create_app
from server.database import commit
from server.extensions import db
from server.storage import blob_store
from server.submissions.operations import receive_submission
from server.users.queries import principal_by_username
from tests.register_visits import Member, household_visit

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/taizhang_bench_merge_memory"
GROUP = "青山镇/东村/第一组"
MiB = 1024 * 1024


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国玉文红"


def person_name(number: int) -> str:
    """One of 20 × 30 × 30 distinct names."""
    return (SURNAMES[number % 20] + GIVEN[number // 20 % 30] + GIVEN[number // 600 % 30])


def padded_visit(number: int, size: int) -> bytes:
    """A new household's registration, `size` bytes long: the head's phone note carries the padding."""
    # Distinct households and people (numbers, names, birth dates), as a real register holds: a register of
    # 10,000 namesakes born the same day would measure the duplicate queue, not the worker's memory.
    born = dt.date(1940, 1, 1) + dt.timedelta(days=number * 7 % 25_000)
    xml = household_visit(household=str(uuid.uuid4()), new=(f"{number:05d}", f"东村一组{number}号"),
                          start="2026-11-01T09:00:00.000+08:00",
                          members=[Member(person_name(number), "female" if number % 2 else "male", born.isoformat())])
    padding = size - len(xml) - len("<remarks></remarks>")
    return xml.replace(b"</closing>", b"</closing><remarks>" + b"x" * max(padding, 0) + b"</remarks>")


def prepare(database_url: str, instance: Path) -> dict:
    """A migrated database with the visit form and one collector; the environment a `taizhang` command needs."""
    env = {**os.environ, "TAIZHANG_INSTANCE_DIR": str(instance), "TAIZHANG_DATABASE_URL": database_url,
           "TAIZHANG_SECRET_KEY": "bench", "TAIZHANG_MAX_XML_BYTES": str(64 * MiB)}
    media = [arg for path in sorted((ROOT / "xlsforms" / "fixtures").glob("*.csv")) for arg in ("--media", str(path))]
    for args in (["db", "upgrade"], ["area", "add", GROUP],
                 ["user", "add", "bench_collector", "--role", "collector", "--area", GROUP],
                 ["form", "publish", str(ROOT / "xlsforms" / "household_visit.xlsx"), *media]):
        subprocess.run([sys.executable, "-m", "server.cli", *args], env=env, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    return env


def store(env: dict, first: int, count: int, size: int) -> float:
    """Store and queue `count` submissions through the intake service (as a POST does, without HTTP)."""
    os.environ.update({key: env[key] for key in ("TAIZHANG_INSTANCE_DIR", "TAIZHANG_DATABASE_URL",
                                                  "TAIZHANG_SECRET_KEY", "TAIZHANG_MAX_XML_BYTES")})
    started = time.perf_counter()
    app = create_app()
    with app.app_context():
        principal = principal_by_username("bench_collector")
        for number in range(first, first + count):
            receive_submission(principal, padded_visit(number, size), [], blobs=blob_store(),
                               max_attachment_bytes=MiB, device_id="bench", user_agent="bench",
                               now=_now())
            commit()
            db.session.expunge_all()
        db.session.remove()
        db.engine.dispose()
    return time.perf_counter() - started


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def analyze(database_url: str) -> None:
    """Refresh the planner's statistics, as autovacuum does on a real server (it is off on these machines): planned
    on the statistics of an empty register, the worker's duplicate look-up slows down about tenfold by 500 people."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def merge(env: dict) -> tuple[int, float, str]:
    """Run the merge worker until the queue is empty: (peak RSS in KiB, seconds, its last line)."""
    started = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "-m", "server.cli", "register", "merge", "--workers", "1"], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = worker.stdout.read().decode()
    _pid, status, usage = os.wait4(worker.pid, 0)
    worker.returncode = os.waitstatus_to_exitcode(status)
    if worker.returncode != 0:
        raise SystemExit(f"merge worker failed ({worker.returncode}):\n{output}")
    return usage.ru_maxrss, time.perf_counter() - started, output.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--size-mib", type=float, default=4.0)
    parser.add_argument("--limit", type=float, default=1.25, help="highest accepted peak RSS ratio")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--quick", action="store_true", help="30 submissions of 1 MiB after 5, on SQLite")
    args = parser.parse_args()
    if args.quick:
        args.count, args.baseline, args.size_mib, args.backend = 30, 5, 1.0, "sqlite"
    size = int(args.size_mib * MiB)
    with tempfile.TemporaryDirectory(prefix="taizhang-merge-memory-") as folder:
        instance = Path(folder)
        if args.backend == "postgresql":
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text("DROP DATABASE IF EXISTS taizhang_bench_merge_memory WITH (FORCE)"))
                connection.execute(text("CREATE DATABASE taizhang_bench_merge_memory"))
            admin.dispose()
            database_url = PG_BENCH
        else:
            database_url = f"sqlite:///{instance / 'bench.sqlite3'}"
        env = prepare(database_url, instance)
        print(f"merge worker memory: {args.backend}, submissions of {size / MiB:g} MiB, Python "
              f"{platform.python_version()}, {os.cpu_count()} CPUs", flush=True)
        rows = []
        first = 0
        for count in (args.baseline, args.count):
            stored = store(env, first, count, size)
            first += count
            if args.backend == "postgresql":
                analyze(database_url)
            peak, seconds, last = merge(env)
            rows.append((count, peak))
            print(f"  {count:>6} submissions: stored in {stored:6.1f} s, merged in {seconds:6.1f} s "
                  f"({last}); worker peak RSS {peak / 1024:7.1f} MiB", flush=True)
    ratio = rows[1][1] / rows[0][1]
    verdict = "ok" if ratio <= args.limit else "OVER THE LIMIT"
    print(f"peak RSS over {args.count} / over {args.baseline}: {ratio:.2f} (limit {args.limit:.2f}): {verdict}")
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
