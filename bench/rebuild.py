#!/usr/bin/env python3
"""Rebuild benchmark: the full rebuild in N processes against the parse-only ceiling in N processes, same run.

    .venv/bin/python bench/rebuild.py [--towns 1] [--workers N] [--updates 2000] [--no-serial] [--reuse]

Builds bench/register.py's register (its builders: areas, collectors, the household_visit form, one registration
visit per household and `--updates` later visits, services on a share of them) in a fresh PostgreSQL database
(`--pg-database`, default `taizhang_bench_rebuild`), merges it once (a rebuild in one process, timed as the
baseline unless `--no-serial`), then times, each after the same warm-up of the process pool:

* **parse only (ceiling)**: every submission streamed from the database in batches to N processes
  (ProcessPoolExecutor, forkserver, as the rebuild does), each reading its visits with the project's reader
  (`sync.replay.register_visit`, i.e. `read_visit`) and nothing else;
* **rebuild**: `server.register.rebuild.rebuild_in_parallel(N)` (`taizhang rebuild --workers N`) and its commit;

and prints the rate of each, the ratio (target ≥ 0.5), where the rebuild's time went (wall seconds of each step in
the main process, CPU seconds of the workers' steps), the peak RSS of the main process and of each worker, and the
load average before and after. It checks that the parallel rebuild gives exactly the rows the one-process rebuild
gave (every derived table, all columns but the id, in id order: a SHA-256 per table) and exits 1 otherwise.
Nothing is asserted about speed.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

from sqlalchemy import func, select, text

from bench.register import PG_SERVER, Register, ServiceAnswers, Timing, registrations, updates
from server import create_app
from server.database import commit
from server.extensions import db
from server.register import queries, rebuild, rebuild_queries
from server.register.rebuild import rebuild_in_parallel
from server.register.replays import rebuild_register
from server.submissions.models import Submission
from sync.replay import register_visit


def _parse_only(rows) -> tuple[int, float]:
    started = time.process_time()
    for row in rows:
        register_visit(row.xml)
    return len(rows), time.process_time() - started


def _peak_rss(_=None) -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _usage(_=None) -> tuple[int, float]:
    """A worker's peak RSS (KiB) and whole CPU seconds (its steps, and receiving and sending)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def _pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["server.register.rebuild"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def parse_ceiling(workers: int, batch: int = 500) -> dict:
    """Stream every submission to `workers` processes that only read them (the rebuild's batches and pool)."""
    started = time.perf_counter()
    counted, cpu, in_flight = 0, 0.0, []
    with _pool(workers) as pool:
        for rows in rebuild_queries.submission_batches(batch * workers):
            for start in range(0, len(rows), batch):
                in_flight.append(pool.submit(_parse_only, rows[start:start + batch]))
            while len(in_flight) > 4 * workers:
                done, seconds = in_flight.pop(0).result()
                counted, cpu = counted + done, cpu + seconds
        for future in in_flight:
            done, seconds = future.result()
            counted, cpu = counted + done, cpu + seconds
        usage = _each_worker(pool, workers)
    db.session.rollback()
    wall = time.perf_counter() - started
    return dict(submissions=counted, wall=wall, rate=counted / wall, cpu=cpu, rss=[rss for rss, _ in usage],
                process_cpu=sum(seconds for _, seconds in usage))


def _each_worker(pool: ProcessPoolExecutor, workers: int) -> list[tuple[int, float]]:
    """_usage of each of the pool's processes (asked until every process has answered once)."""
    found: dict[int, tuple[int, float]] = {}
    while len(found) < workers:
        for pid, usage in pool.map(_worker_usage, range(workers)):
            found.setdefault(pid, usage)
    return list(found.values())


def _worker_usage(_=None) -> tuple[int, tuple[int, float]]:
    time.sleep(0.05)   # so that each process of the pool takes one
    return os.getpid(), _usage()


def derived_digest() -> dict[str, tuple[int, str]]:
    """Rows and a SHA-256 of every derived table (all columns but the id, in id or key order)."""
    found = {}
    for model in queries.DERIVED_MODELS:
        columns = [column for column in model.__table__.columns if column.name != "id"]
        order = [model.__table__.c.id] if "id" in model.__table__.c else list(model.__table__.primary_key.columns)
        digest, count = hashlib.sha256(), 0
        for row in db.session.execute(select(*columns).order_by(*order).execution_options(yield_per=20000)):
            digest.update(repr(tuple(row)).encode())
            count += 1
        found[model.__tablename__] = (count, digest.hexdigest()[:16])
    db.session.rollback()
    return found


class Existing:
    """The database of an earlier run, in an app context (--reuse)."""

    def __init__(self, pg_database: str) -> None:
        self.instance = tempfile.mkdtemp(prefix="taizhang-bench-rebuild-")
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": PG_SERVER + pg_database, "INSTANCE_DIR": self.instance,
                               "SECRET_KEY": "bench"})
        self.context = self.app.app_context()
        self.context.push()

    def close(self) -> None:
        db.session.remove()
        self.context.pop()
        shutil.rmtree(self.instance, ignore_errors=True)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=1, help="towns of 10 villages × 30 groups (a county: 20)")
    parser.add_argument("--households-per-group", type=int, default=37, help="37 ≈ 40,000 people per town")
    parser.add_argument("--updates", type=int, default=2000, help="later visits (after the registrations)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--service-share", type=float, default=0.35)
    parser.add_argument("--no-serial", action="store_true", help="skip the one-process rebuild (the register is "
                        "merged by a parallel one first; rows are then not compared)")
    parser.add_argument("--pg-database", default="taizhang_bench_rebuild")
    parser.add_argument("--visits-in-memory", type=int, default=rebuild._VISITS_IN_MEMORY,
                        help="visits read a worker keeps in memory until replayed; the rest wait in a file "
                             "(a smaller figure shows the workers' memory bounded on a town)")
    parser.add_argument("--reuse", action="store_true", help="rebuild the register already in --pg-database "
                        "(built by an earlier run) instead of building it again")
    args = parser.parse_args()
    rebuild._VISITS_IN_MEMORY = args.visits_in_memory
    print(f"machine: {os.cpu_count()} cores; workers {args.workers}; load average before: {load()}")

    started = time.perf_counter()
    if args.reuse:
        register = Existing(args.pg_database)
        total = db.session.scalar(select(func.count()).select_from(Submission))
        db.session.rollback()
        print(f"reusing {args.pg_database}: {total:,} submissions")
    else:
        rng, services = random.Random(args.seed), ServiceAnswers(args.seed, args.service_share)
        register = Register("postgresql", args.towns, pg_database=args.pg_database)
        households, submissions = [], []
        for group, household, members, xml in registrations(rng, register.groups, args.households_per_group,
                                                            services):
            households.append((group, household, members))
            submissions.append((group, xml))
        register.store(submissions, queued=False)
        register.store(list(updates(rng, households, args.updates, services)), queued=False)
        total = len(submissions) + args.updates
        del submissions
        print(f"built {total:,} submissions ({len(households):,} households) in {time.perf_counter() - started:.0f} s")
        del households

    serial = None
    if not args.no_serial:
        started = time.perf_counter()
        applied = rebuild_register()
        commit()
        serial = dict(applied=applied, wall=time.perf_counter() - started, digest=derived_digest())
    else:   # the register as it stands before the timed rebuild, quicker
        rebuild_in_parallel(args.workers)
        commit()
    db.session.execute(text("ANALYZE"))
    commit()

    started = time.perf_counter()
    with _pool(args.workers) as pool:   # the forkserver started and the modules imported, once, for both runs
        list(pool.map(_peak_rss, range(args.workers)))
    warm_up = time.perf_counter() - started

    loads = [load()]
    with Timing(args.pg_database) as ceiling_timing:
        ceiling = parse_ceiling(args.workers)
    loads.append(load())
    started = time.perf_counter()
    with Timing(args.pg_database) as rebuild_timing:
        tally = rebuild_in_parallel(args.workers)
        commit()
    rebuild_wall = time.perf_counter() - started
    loads.append(load())
    parallel_digest = derived_digest()
    db.session.execute(text("SELECT 1"))
    register.close()

    rate = tally.applied / rebuild_wall
    print(f"\n{args.towns} town(s): {total:,} submissions, {tally.applied:,} merged; "
          f"{sum(count for count, _ in parallel_digest.values()):,} derived rows "
          f"({parallel_digest['register_field_value'][0]:,} field values)")
    print(f"  process pool warm-up (forkserver, imports; once, before both): {warm_up:.1f} s")
    print(f"  parse only (ceiling), {args.workers} processes: {ceiling['rate']:8,.0f} submissions/s "
          f"({ceiling['wall']:.1f} s; CPU s: workers {ceiling['cpu']:.1f} (whole processes {ceiling['process_cpu']:.1f}), "
          f"main {ceiling_timing.cpu:.1f}, "
          f"PostgreSQL {ceiling_timing.db_cpu:.1f})   load {loads[0]}")
    print(f"  rebuild, {args.workers} processes:              {rate:8,.0f} submissions/s "
          f"({rebuild_wall:.1f} s; CPU s: workers {sum(tally.worker_cpu.values()):.1f} "
          f"(whole processes {tally.worker_process_cpu:.1f}), main {rebuild_timing.cpu:.1f}, "
          f"PostgreSQL {rebuild_timing.db_cpu:.1f})   load {loads[1]}")
    print(f"  ratio rebuild / ceiling:              {rate / ceiling['rate']:8.2f}   (target ≥ 0.5)")
    ceiling_cpu = ceiling["process_cpu"] + ceiling_timing.cpu + ceiling_timing.db_cpu
    rebuild_cpu = tally.worker_process_cpu + rebuild_timing.cpu + rebuild_timing.db_cpu
    print(f"  CPU ratio (whole processes, PostgreSQL's backend): ceiling {ceiling_cpu:.1f} s / rebuild "
          f"{rebuild_cpu:.1f} s = {ceiling_cpu / rebuild_cpu:.2f}")
    if serial is not None:
        serial_rate = serial["applied"] / serial["wall"]
        print(f"  rebuild, 1 process (before):          {serial_rate:8,.0f} submissions/s ({serial['wall']:.1f} s; "
              f"{serial_rate / ceiling['rate']:.2f} of the ceiling)")
    print("  rebuild's steps, wall s (main process): " + ", ".join(
        f"{step} {seconds:.2f}" for step, seconds in tally.wall.items()))
    print("  rebuild's steps, CPU s (main process):  " + ", ".join(
        f"{step} {seconds:.2f}" for step, seconds in tally.main_cpu.items()))
    print("  main process's peak RSS after each step, MiB (with the building or --no-serial rebuild before): " +
          ", ".join(f"{step} {kib / 1024:,.0f}" for step, kib in tally.main_peak_rss_kib.items()))
    print("  workers' CPU s (summed):                " + ", ".join(
        f"{step} {seconds:.2f}" for step, seconds in tally.worker_cpu.items()))
    print(f"  visits handed to another process (a part across villages of two processes): {tally.crossing_visits:,}")
    print(f"  visits read that waited in a file for their replay (beyond {args.visits_in_memory:,} a worker): "
          f"{tally.visits_on_disk:,}")
    print(f"  rows the workers wrote to files for the load (the main process reads them as it merges them): "
          f"{tally.spilled_bytes / 2**20:,.0f} MiB")
    print(f"  peak RSS: main {_peak_rss() / 1024:,.0f} MiB; rebuild workers "
          + ", ".join(f"{kib / 1024:,.0f}" for kib in tally.worker_peak_rss_kib)
          + " MiB; ceiling workers " + ", ".join(f"{kib / 1024:,.0f}" for kib in ceiling["rss"]) + " MiB")
    print(f"  load average after: {loads[2]}")
    if serial is not None:
        same = serial["digest"] == parallel_digest
        print(f"  rows of the parallel rebuild = rows of the one-process rebuild: {'yes' if same else 'NO'}")
        if not same:
            for table, value in serial["digest"].items():
                print(f"    {table}: {value} / {parallel_digest[table]}")
            sys.exit(1)


if __name__ == "__main__":
    main()
