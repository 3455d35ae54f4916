#!/usr/bin/env python3
"""The rebuild's PostgreSQL part alone: the derived rows COPYed back and their indexes re-created, in one or two
connections, rolled back.

    .venv/bin/python bench/rebuild_load.py --pg-database taizhang_bench_rebuild [--connections 2] [--parallel 0]

On a database `bench/rebuild.py` built: the derived tables' rows are dumped once (COPY's text format, id order,
into `--dump`), then, timed, one transaction per connection truncates its tables, drops their indexes and
constraints (read from the catalog as server.register.rebuild_queries reads them), COPYs the rows back, re-creates
the indexes and constraints, and rolls back; nothing changes. With `--connections 1` that is what the rebuild's
own transaction does after its workers have replayed the register; with 2 the field values go through one
connection and the other tables through the other, at once (a load in several transactions, which the rebuild
does not do: docs/benchmarks.md § Issue 22 (round 4), item 2). Prints each connection's wall seconds at the end of
its COPY and at its end, and its backend's CPU seconds from /proc (`--parallel 0`: no parallel index workers, so
that the backend's CPU is all of PostgreSQL's). `--no-foreign-keys` leaves the foreign keys alone: meant for a
scratch copy of the database whose derived tables' foreign keys were dropped (`CREATE DATABASE … TEMPLATE`, then
`ALTER TABLE … DROP CONSTRAINT`), since two connections dropping and adding foreign keys to the same referenced
tables wait for each other, and foreign keys kept during the COPY are checked row by row. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

import psycopg

TABLES = ["household", "person", "register_field_value", "life_event", "register_conflict", "visit",
          "service_anchor", "submission_record", "service_item", "person_match_key"]


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text()
    fields = fields[fields.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dump(url: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(url) as connection:
        for table in TABLES:
            if (folder / table).exists():
                continue
            with open(folder / table, "wb") as out, connection.cursor().copy(
                    f'COPY (SELECT * FROM "{table}" ORDER BY 1) TO STDOUT') as copy:
                for block in copy:
                    out.write(block)


def load(url: str, tables: list[str], folder: Path, parallel: int, foreign_keys: bool, found: dict) -> None:
    """One connection's share: truncate, drop, COPY, re-create, roll back."""
    with psycopg.connect(url) as connection:
        pid = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
        connection.execute("SET LOCAL synchronous_commit = off")
        connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
        connection.execute(f"SET LOCAL max_parallel_maintenance_workers = {parallel}")
        oids = "ARRAY[" + ", ".join(f"'\"{table}\"'::regclass" for table in tables) + "]"
        indexes = connection.execute(f"""
            SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = ANY({oids}) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                              AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))""").fetchall()
        kinds = "('p', 'u', 'x', 'f')" if foreign_keys else "('p', 'u', 'x')"
        constraints = connection.execute(f"""
            SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = ANY({oids}) AND contype IN {kinds} ORDER BY contype = 'f'""").fetchall()
        started, cpu = time.perf_counter(), backend_cpu(pid)
        connection.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in tables))
        for table, name, _, _ in sorted(constraints, key=lambda row: row[2] != "f"):
            connection.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for table in tables:
            with connection.cursor().copy(f'COPY "{table}" FROM STDIN') as copy, open(folder / table, "rb") as rows:
                while block := rows.read(1 << 20):
                    copy.write(block)
        copied, copy_cpu = time.perf_counter() - started, backend_cpu(pid) - cpu
        for _, definition in indexes:
            connection.execute(definition)
        for table, name, _, definition in constraints:
            connection.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        found[tuple(tables)] = (copied, copy_cpu, time.perf_counter() - started, backend_cpu(pid) - cpu)
        connection.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-database", default="taizhang_bench_rebuild")
    parser.add_argument("--connections", type=int, choices=(1, 2), default=1)
    parser.add_argument("--parallel", type=int, default=2, help="max_parallel_maintenance_workers")
    parser.add_argument("--no-foreign-keys", action="store_true")
    parser.add_argument("--dump", default="/tmp/taizhang-rebuild-load", help="where the rows are dumped once")
    args = parser.parse_args()
    url = f"postgresql://postgres@127.0.0.1:5432/{args.pg_database}"
    folder = Path(args.dump) / args.pg_database
    dump(url, folder)
    shares = [TABLES] if args.connections == 1 else [
        ["register_field_value"], [table for table in TABLES if table != "register_field_value"]]
    found: dict = {}
    started = time.perf_counter()
    threads = [threading.Thread(target=load, args=(url, tables, folder, args.parallel, not args.no_foreign_keys,
                                                   found)) for tables in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"{args.pg_database}: {args.connections} connection(s), parallel index workers {args.parallel}, "
          f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}: "
          f"{time.perf_counter() - started:.2f} s wall")
    for tables, (copied, copy_cpu, ended, cpu) in found.items():
        print(f"  {', '.join(tables)}: COPY done at {copied:.2f} s (backend CPU {copy_cpu:.2f} s), indexes and "
              f"constraints done at {ended:.2f} s (backend CPU {cpu:.2f} s, of which indexes {cpu - copy_cpu:.2f})")


if __name__ == "__main__":
    main()
