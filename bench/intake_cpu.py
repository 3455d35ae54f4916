"""The app's CPU per submission in one process (HEAD + POST through the WSGI app, no HTTP server), ours and the bare app.

bench/ingest.py measures intake through gunicorn and wrk, whose rates move with anything else on the machine; this
measures only the part that differs between the bare app and ours (gunicorn's HTTP work is the same for both), with
`time.process_time` around each app call and the PostgreSQL backends' CPU from /proc. Same submission as
bench/ingest.lua (the minimal visit of household 12, a fresh instanceID and multipart boundary each).

    .venv/bin/python bench/intake_cpu.py                      # 3 rounds of 1,500 submissions, bare and ours
    .venv/bin/python bench/intake_cpu.py --head-only          # HEAD /submission alone
    .venv/bin/python bench/intake_cpu.py --reuse              # the database of the last run again

It drops and recreates the database `--pg-database` (default taizhang_bench_cpu) and runs `taizhang demo` in it.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

XML_BODY = ('<start>2026-11-20T09:00:00.000+08:00</start><end>2026-11-20T09:05:00.000+08:00</end>'
            '<deviceid>bench</deviceid><household_no>12</household_no><head_name>王秀英</head_name>'
            '<visit_date>2026-11-20</visit_date><outcome>completed</outcome><photo/><needs/><meta><instanceID>')
HEADERS = {"X-OpenRosa-Version": "1.0", "Date": "Sat, 05 Dec 2026 12:00:00 GMT", "User-Agent": "taizhang-bench"}


def prepare(admin_url: str, database: str, instance: Path) -> tuple[str, str]:
    """A new database with `taizhang demo` in it: the first collector's token and household_visit's version."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    done = subprocess.run([str(BIN / "taizhang"), "demo"], cwd=ROOT, env=environment(admin_url, database, instance),
                          capture_output=True, text=True, check=True)
    token = re.search(r"token URL: \S*/key/([A-Za-z0-9_-]{64})\b", done.stdout).group(1)
    version = re.search(r"^household_visit version (\S+) ", done.stdout, re.M).group(1)
    (instance / "bench-token").write_text(f"{token} {version}")
    return token, version


def environment(admin_url: str, database: str, instance: Path) -> dict:
    url = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{database}"
    return {**{k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_")},
            "TAIZHANG_INSTANCE_DIR": str(instance), "TAIZHANG_DATABASE_URL": url}


def post_body(version: str, instance_id: str, boundary: str) -> bytes:
    xml = (f'<?xml version="1.0"?><data id="household_visit" version="{version}" '
           f'xmlns:orx="http://openrosa.org/xforms">{XML_BODY}{instance_id}</instanceID></meta></data>')
    return (f'--{boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; '
            f'filename="submission.xml"\r\nContent-Type: text/xml\r\n\r\n{xml}\r\n--{boundary}--\r\n').encode()


def call(app, environ: dict) -> str:
    status = []
    body = app(environ, lambda line, headers, exc_info=None: status.append(line))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    return status[0]


def submissions(app, token: str, version: str, count: int, head_only: bool) -> float:
    """CPU milliseconds of the app per submission (HEAD, then POST unless head_only)."""
    path = f"/key/{token}/submission"
    spent = 0.0
    for _ in range(count):
        instance_id = f"uuid:{uuid.uuid4()}"
        boundary = instance_id[5:]   # a fresh boundary each, as Collect (OkHttp) sends
        head = EnvironBuilder(path=path, method="HEAD", headers=HEADERS,
                              environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
        post = EnvironBuilder(path=path, method="POST", query_string="deviceID=bench",
                              headers={**HEADERS, "Content-Type": f"multipart/form-data; boundary={boundary}"},
                              data=post_body(version, instance_id, boundary),
                              environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
        started = time.process_time()
        statuses = [call(app, head)] + ([] if head_only else [call(app, post)])
        spent += time.process_time() - started
        if statuses != ["204 NO CONTENT"] + ([] if head_only else ["201 CREATED"]):
            raise SystemExit(f"unexpected answers: {statuses}")
    return 1000 * spent / count


def backend_ticks(admin_url: str, database: str) -> int:
    """CPU ticks used so far by the PostgreSQL backends connected to the bench database."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        pids = [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,))]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=1500, help="submissions per round and app")
    parser.add_argument("--head-only", action="store_true")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-database", default="taizhang_bench_cpu")
    parser.add_argument("--reuse", action="store_true", help="the database and instance of the last run")
    args = parser.parse_args()
    instance = Path(tempfile.gettempdir()) / f"taizhang-{args.pg_database}"
    instance.mkdir(exist_ok=True)
    if args.reuse:
        token, version = (instance / "bench-token").read_text().split()
    else:
        token, version = prepare(args.pg_admin_url, args.pg_database, instance)
    os.environ.update(environment(args.pg_admin_url, args.pg_database, instance))
    from bench.bare_app import app as bare
    from server import create_app
    ours = create_app()
    for app in (bare, ours):   # warm: caches, prepared statements, the pool
        submissions(app, token, version, 200, args.head_only)
    hz = os.sysconf("SC_CLK_TCK")
    spent: dict[str, list[float]] = {"bare": [], "ours": [], "db": []}
    for _ in range(args.rounds):
        spent["bare"].append(submissions(bare, token, version, args.count, args.head_only))
        before = backend_ticks(args.pg_admin_url, args.pg_database)
        spent["ours"].append(submissions(ours, token, version, args.count, args.head_only))
        spent["db"].append(1000 * (backend_ticks(args.pg_admin_url, args.pg_database) - before) / hz / args.count)
    what = "HEAD" if args.head_only else "HEAD + POST"
    print(f"CPU ms per submission ({what}, in one process, {args.rounds} rounds of {args.count}; load average "
          f"{os.getloadavg()[0]:.1f}): median (min–max)")
    for name, values in spent.items():
        label = {"bare": "bare app", "ours": "ours, app", "db": "ours, PostgreSQL backends"}[name]
        print(f"  {label:<26} {statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})")
    app_ms, bare_ms = statistics.median(spent["ours"]), statistics.median(spent["bare"])
    print(f"  ours, app ÷ bare app: {app_ms / bare_ms:.2f}; (app + PostgreSQL) ÷ bare: "
          f"{(app_ms + statistics.median(spent['db'])) / bare_ms:.2f} (gunicorn's HTTP work, the same for both, "
          f"and the merge worker not counted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
