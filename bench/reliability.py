#!/usr/bin/env python3
"""Proof under load and faults: Collect-like clients send a synthetic county's submissions to gunicorn + PostgreSQL,
then every submission the server acknowledged is checked to be stored exactly once and the register to equal a
rebuild from the raw submissions.

    .venv/bin/python bench/reliability.py load   [--submissions 100000] [--clients 8] [--rate 30] [--app-servers 1|2]
    .venv/bin/python bench/reliability.py faults --fault kill-server      [--submissions 10000]
    .venv/bin/python bench/reliability.py faults --fault restart-postgres [--submissions 10000]

* **Submissions**: bench/county.py's synthetic county (seed 1), in the order phones sync them: registrations, a
  year of visits and follow-ups, typos, people registered twice, late syncs, edits and Collect's retries.
* **Clients**: `--clients` threads, each owning some collectors' phones (a phone sends its forms one after the
  other, as Collect does): `HEAD /key/<token>/submission`, then the multipart POST. A connection error, a timeout
  or a 5xx is retried with backoff (0.25 s doubling to 4 s) until a 201 or `--give-up` seconds.
* **Servers**: `--app-servers` gunicorn instances (gthread 2x4 each), each with `--merge-workers` merge workers of
  its own (`taizhang register merge --loop --workers 1`; several merge side by side, a village each at a
  time), sharing one PostgreSQL database and one attachment folder; with two, nginx in front balances them (installed from Debian if missing). Nothing one process needs lives in another.
* **Faults** (`faults`): `kill-server` SIGKILLs every gunicorn and merge-worker process every `--every` seconds
  and starts them again; `restart-postgres` restarts the PostgreSQL cluster (`pg_ctlcluster … restart -m
  immediate`, a crash for the clients) every `--every` seconds.
* **Checks** (the exit status is non-zero if any fails): every submission that got a 201 is stored exactly once
  with the bytes sent; every submission got a 201 in the end; the merge queue drains with no failed merges; the
  register equals a rebuild of it from the raw submissions (`rebuild_register`, compared with
  `register_snapshot`).
* **Figures**: submissions/s, POST latency percentiles, the merge worker's lag, and the app servers' resident
  memory (sampled every 2 s; growth is judged between the second fifth and the end of the run).

PostgreSQL database `taizhang_reliability` is dropped and recreated. Results also go to bench/results/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

import psycopg
from flask_migrate import upgrade
from sqlalchemy import func, select

from bench.county import plan_county
from bench.county import submissions as county_submissions
from bench.ingest import Processes, ServerSpec, free_port, tail
from server import create_app
from server.areas.operations import ensure_area
from server.database import commit
from server.extensions import db
from server.forms.operations import publish_form
from server.register import queries as register_queries
from server.register.replays import rebuild_register
from server.storage import blob_store
from server.submissions.models import Submission
from server.users.operations import add_user

BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "taizhang_reliability"
PG_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
RESULTS = ROOT / "bench" / "results"
SERVER = ServerSpec("gthread", 2, 4)


# ---- the county on the server ------------------------------------------------------------------------------

def prepare(instance: Path, groups: dict[str, str]) -> dict[str, str]:
    """A fresh database with the real forms, the county's areas and a collector per group; collector → token."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    app = create_app({"SQLALCHEMY_DATABASE_URI": PG_URL, "INSTANCE_DIR": instance})
    with app.app_context():
        upgrade(directory=str(ROOT / "server" / "migrations"))
        fixtures = list((ROOT / "xlsforms" / "fixtures").glob("*.csv"))
        for form in ("household_visit", "followup"):
            publish_form(ROOT / "xlsforms" / f"{form}.xlsx", blob_store(), media=fixtures, validate=False)
        tokens = {}
        for collector, group in groups.items():
            ensure_area(group)
            tokens[collector] = add_user(collector, "collector", group, realm=app.config["TAIZHANG_REALM"],
                                         with_token=True).token
        commit()
        db.engine.dispose()
    return tokens


class Servers:
    """The app servers (gunicorn + `merge_workers` merge workers each, all merging side by side, one village each
    at a time: server.register.worker) and, with two, nginx in front."""

    def __init__(self, procs: Processes, work: Path, count: int, merge_workers: int = 1) -> None:
        self.procs, self.work, self.count, self.merge_workers = procs, work, count, merge_workers
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_")},
                    "TAIZHANG_DATABASE_URL": PG_URL, "TAIZHANG_INSTANCE_DIR": str(work / "instance"),
                    "TAIZHANG_MIGRATE_ON_START": "0", "PYTHONUNBUFFERED": "1"}
        self.ports = [free_port() for _ in range(count)]
        self.apps: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        self.proxy = None
        self.url = f"http://127.0.0.1:{self.ports[0]}"
        if count > 1:
            self.proxy_port = free_port()
            self.url = f"http://127.0.0.1:{self.proxy_port}"

    def start(self) -> None:
        log = self.work / "servers.log"
        for port in self.ports:
            with open(log, "ab") as out:
                self.apps.append(self.procs.start(
                    [str(BIN / "gunicorn"), *SERVER.gunicorn_args(), "-b", f"127.0.0.1:{port}", "--timeout", "120",
                     "--graceful-timeout", "5", "--log-level", "warning", "server.wsgi:app"],
                    cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT))
                for _ in range(self.merge_workers):   # one process each (a SIGKILL then leaves no orphan)
                    self.workers.append(self.procs.start(
                        [str(BIN / "taizhang"), "register", "merge", "--loop", "--workers", "1"], cwd=ROOT,
                        env=self.env, stdout=out, stderr=subprocess.STDOUT))
        if self.count > 1 and self.proxy is None:
            self.proxy = self.procs.start(["nginx", "-c", str(self._nginx_conf()), "-g", "daemon off;"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in self.ports:
            self._wait(f"http://127.0.0.1:{port}")
        self._wait(self.url)

    def kill(self) -> None:
        """SIGKILL every app-server and merge-worker process at once (gunicorn masters and workers)."""
        for proc in self.apps + self.workers:
            for pid in self.procs.group_members(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            proc.wait()
            self.procs.procs.remove(proc)
        self.apps, self.workers = [], []

    def stop(self) -> None:
        for proc in self.apps + self.workers:
            self.procs.stop(proc)
        self.apps, self.workers = [], []

    def resident_bytes(self) -> int:
        """The app servers' resident memory (gunicorn masters and workers; not the merge workers)."""
        total = 0
        for proc in self.apps:
            for pid in self.procs.group_members(proc.pid):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                total += next((int(line.split()[1]) * 1024 for line in status.splitlines()
                               if line.startswith("VmRSS:")), 0)
        return total

    def _wait(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/login", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{url} not answering after {timeout:.0f} s:\n{tail(self.work / 'servers.log')}")

    def _nginx_conf(self) -> Path:
        if shutil.which("nginx") is None:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], check=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        upstream = "".join(f"server 127.0.0.1:{port} max_fails=0;\n" for port in self.ports)
        conf = self.work / "nginx.conf"
        conf.write_text(f"""
pid {self.work}/nginx.pid;
error_log {self.work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {self.work}/nginx-body;
    proxy_temp_path {self.work}/nginx-proxy;
    client_max_body_size 60m;
    upstream taizhang {{ {upstream} keepalive 32; }}
    server {{
        listen 127.0.0.1:{self.proxy_port};
        location / {{
            proxy_pass http://taizhang;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto http;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_read_timeout 120s;
        }}
    }}
}}
""")
        return conf


# ---- Collect-like clients ----------------------------------------------------------------------------------

@dataclass
class Tally:
    acknowledged: dict[str, str] = field(default_factory=dict)     # instanceID → sha256 of the bytes sent
    latencies: list[float] = field(default_factory=list)           # seconds per POST answered 201
    retries: int = 0
    given_up: list[str] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Pace:
    """Submissions started at most `rate` a second overall (None: as fast as the clients go)."""

    def __init__(self, rate: float | None) -> None:
        self.rate, self.started, self.count, self.lock = rate, time.monotonic(), 0, threading.Lock()

    def wait(self) -> None:
        if self.rate is None:
            return
        with self.lock:
            due = self.started + self.count / self.rate
            self.count += 1
        time.sleep(max(0.0, due - time.monotonic()))


def phone(base: str, work: queue.Queue, tally: Tally, give_up: float, pace: Pace) -> None:
    """One client thread: sends the forms of the phones it owns, in order, until told to stop (None)."""
    session = requests.Session()
    session.headers["X-OpenRosa-Version"] = "1.0"
    while (item := work.get()) is not None:
        pace.wait()
        token, instance_id, xml = item
        url = f"{base}/key/{token}/submission"
        deadline, wait = time.monotonic() + give_up, 0.25
        while True:
            try:
                head = session.head(url, timeout=30)
                if head.status_code == 204:
                    started = time.perf_counter()
                    answer = session.post(url, files={"xml_submission_file": ("submission.xml", xml, "text/xml")},
                                          timeout=60)
                    with tally.lock:
                        tally.answers[answer.status_code] += 1
                    if answer.status_code == 201:
                        with tally.lock:
                            tally.latencies.append(time.perf_counter() - started)
                            tally.acknowledged[instance_id] = hashlib.sha256(xml).hexdigest()
                        break
                    if answer.status_code < 500:
                        raise RuntimeError(f"{instance_id}: {answer.status_code} {answer.text[:300]}")
            except requests.RequestException:
                session.close()
                session = requests.Session()
                session.headers["X-OpenRosa-Version"] = "1.0"
            if time.monotonic() > deadline:
                with tally.lock:
                    tally.given_up.append(instance_id)
                break
            with tally.lock:
                tally.retries += 1
            time.sleep(wait)
            wait = min(wait * 2, 4.0)


# ---- checks ------------------------------------------------------------------------------------------------

def queue_depth() -> tuple[int, int]:
    """(entries waiting to be merged, entries given up after failed attempts) — (-1, -1) while unreachable."""
    try:
        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3) as connection:
            return connection.execute("SELECT count(*) FILTER (WHERE attempts < 3), count(*) FILTER "
                                      "(WHERE attempts >= 3) FROM merge_queue").fetchone()
    except psycopg.Error:
        return -1, -1


def autovacuum_is_on() -> bool:
    with psycopg.connect(PG_ADMIN) as connection:
        return connection.execute("SHOW autovacuum").fetchone()[0] == "on"


def analyze() -> None:
    """What autovacuum would do as the tables grow: without statistics PostgreSQL plans the merge's look-ups as if
    the tables were empty, and a merge takes a hundred times longer."""
    try:
        with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True, connect_timeout=3) as connection:
            connection.execute("ANALYZE")
    except psycopg.Error:
        pass


def verify(instance: Path, tally: Tally, sent: dict[str, str]) -> tuple[list[str], dict]:
    """Every acknowledged submission stored once with its bytes; the register equal to a rebuild."""
    problems = []
    app = create_app({"SQLALCHEMY_DATABASE_URI": PG_URL, "INSTANCE_DIR": instance})
    with app.app_context():
        stored: dict[str, list[str]] = {}
        for instance_id, sha in db.session.execute(select(Submission.instance_id, Submission.xml_sha256)):
            stored.setdefault(instance_id, []).append(sha)
        missing = [i for i in tally.acknowledged if i not in stored]
        doubled = [i for i, shas in stored.items() if len(shas) > 1]
        altered = [i for i, sha in tally.acknowledged.items() if i in stored and stored[i] != [sha]]
        unknown = [i for i in stored if i not in sent]
        for label, found in (("acknowledged but not stored", missing), ("stored more than once", doubled),
                             ("stored with other bytes", altered), ("stored but never sent", unknown),
                             ("never acknowledged (client gave up)", tally.given_up)):
            if found:
                problems.append(f"{len(found)} submission(s) {label}, e.g. {found[:3]}")
        not_acknowledged = [i for i in sent if i not in tally.acknowledged]
        if not_acknowledged:
            problems.append(f"{len(not_acknowledged)} submission(s) sent without a 201 in the end")
        live = register_queries.register_snapshot()
        db.session.rollback()
        started = time.perf_counter()
        rebuild_register()
        commit()
        rebuild_seconds = time.perf_counter() - started
        rebuilt = register_queries.register_snapshot()
        counts = {key: len(value) for key, value in live.items()}
        counts["submissions"] = db.session.scalar(select(func.count()).select_from(Submission))
        db.session.rollback()
        if rebuilt != live:
            differing = [key for key in live if live[key] != rebuilt[key]]
            problems.append(f"the register differs from its rebuild in {differing}")
        db.engine.dispose()
    return problems, {**counts, "rebuild_seconds": round(rebuild_seconds, 1)}


# ---- the run -----------------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def run(args) -> int:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="taizhang-reliability-"))
    (work / "instance").mkdir()
    plan = plan_county(args.seed, towns=args.towns)
    stream = list(county_submissions(plan, limit=args.submissions))
    groups = {item.collector: item.group for item in stream}
    kinds = Counter(item.kind for item in stream)
    print(f"taizhang reliability: {args.command}"
          f"{' ' + args.fault + f' every {args.every:g} s' if args.command == 'faults' else ''}, "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {len(stream)} submissions from {len(groups)} "
          f"phones ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); {args.clients} clients, "
          f"{args.app_servers} app server(s); work dir {work}", flush=True)
    tokens = prepare(work / "instance", groups)
    servers = Servers(procs, work, args.app_servers, args.merge_workers)
    tally = Tally()
    sent = {item.instance_id: hashlib.sha256(item.xml).hexdigest() for item in stream}
    problems: list[str] = []
    samples: list[tuple[float, int, int]] = []      # (seconds, resident bytes, merge queue)
    faults = 0
    stand_in_for_autovacuum = not autovacuum_is_on()
    if stand_in_for_autovacuum:
        print("note: this PostgreSQL runs with autovacuum=off; the script runs ANALYZE every 20 s instead (a county "
              "server keeps autovacuum on, the default)", flush=True)
    last_analyze = time.monotonic()
    try:
        servers.start()
        queues = [queue.Queue() for _ in range(args.clients)]
        owner = {collector: index % args.clients for index, collector in enumerate(sorted(groups))}
        for item in stream:
            queues[owner[item.collector]].put((tokens[item.collector], item.instance_id, item.xml))
        for work_queue in queues:
            work_queue.put(None)
        pace = Pace(args.rate)
        threads = [threading.Thread(target=phone, args=(servers.url, work_queue, tally, args.give_up, pace),
                                    daemon=True) for work_queue in queues]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        next_fault = started + args.every
        while any(thread.is_alive() for thread in threads):
            time.sleep(2)
            now = time.monotonic()
            samples.append((now - started, servers.resident_bytes(), queue_depth()[0]))
            if stand_in_for_autovacuum and now - last_analyze > 20:
                analyze()
                last_analyze = now
            if args.command == "faults" and now >= next_fault:
                faults += 1
                if args.fault == "kill-server":
                    servers.kill()
                    servers.start()
                else:
                    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", "restart",
                                    "-m", "immediate"], check=True, capture_output=True)
                next_fault = time.monotonic() + args.every
                print(f"  fault {faults} at {now - started:.0f} s: {len(tally.acknowledged)} acknowledged",
                      flush=True)
        load_seconds = time.monotonic() - started
        drain_started = time.monotonic()
        while (depth := queue_depth())[0] != 0:
            if stand_in_for_autovacuum and time.monotonic() - last_analyze > 20:
                analyze()
                last_analyze = time.monotonic()
            if time.monotonic() - drain_started > args.give_up:
                problems.append(f"the merge queue still holds {depth[0]} entries after {args.give_up} s")
                break
            time.sleep(1)
        drain_seconds = time.monotonic() - drain_started
        if depth[1]:
            problems.append(f"{depth[1]} submission(s) failed to merge three times")
    finally:
        servers.stop()
        procs.stop_all()
    found, counts = verify(work / "instance", tally, sent)
    problems += found

    rss = [sample[1] for sample in samples if sample[1]]
    early = rss[len(rss) // 5: 2 * len(rss) // 5] or rss[:1]
    figures = {
        "command": args.command, "fault": args.fault if args.command == "faults" else None, "faults": faults,
        "submissions": len(stream), "acknowledged": len(tally.acknowledged), "app_servers": args.app_servers,
        "clients": args.clients, "rate_limit": args.rate, "seconds": round(load_seconds, 1),
        "submissions_per_second": round(len(tally.acknowledged) / load_seconds, 1),
        "post_latency_ms": {name: round(percentile(tally.latencies, share) * 1000, 1)
                            for name, share in (("p50", .5), ("p95", .95), ("p99", .99), ("max", 1.0))},
        "retries": tally.retries, "answers": dict(tally.answers),
        "merge_drain_seconds_after_load": round(drain_seconds, 1),
        "merge_queue_max": max((sample[2] for sample in samples), default=0),
        "merge_queue_at_fifths": [samples[min(len(samples) - 1, len(samples) * k // 5)][2] for k in range(1, 6)]
        if samples else [],
        "resident_mib": {"second_fifth_median": round(statistics.median(early) / 2**20, 1) if early else None,
                         "end": round(rss[-1] / 2**20, 1) if rss else None,
                         "max": round(max(rss) / 2**20, 1) if rss else None},
        "register": counts, "problems": problems,
    }
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"reliability-{args.command}-{figures['fault'] or 'none'}-{args.app_servers}.json").write_text(
        json.dumps(figures, ensure_ascii=False, indent=1))
    print("PASSED: every acknowledged submission stored exactly once; the register equals its rebuild"
          if not problems else "FAILED:\n  " + "\n  ".join(problems))
    if not args.keep and not problems:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if problems else 0


def pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


def main() -> int:
    global DATABASE, PG_URL   # --pg-database
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("load", "faults"))
    parser.add_argument("--submissions", type=int, help="how many (default: 100000 for load, 10000 for faults)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, help="submissions a second at most, all clients together (default: "
                                                   "as fast as they go)")
    parser.add_argument("--app-servers", type=int, default=1, choices=(1, 2))
    parser.add_argument("--merge-workers", type=int, default=1,
                        help="merge worker processes beside each app server (all against the one database)")
    parser.add_argument("--pg-database", default=DATABASE, help="the database (dropped and recreated)")
    parser.add_argument("--fault", choices=("kill-server", "restart-postgres"), default="kill-server")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between faults (default 15)")
    parser.add_argument("--towns", type=int, default=2, help="towns of the synthetic county to draw from")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--give-up", type=float, default=300.0,
                        help="seconds a client keeps retrying one submission, and the merge queue may take to drain")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs) even when all is well")
    args = parser.parse_args()
    DATABASE, PG_URL = args.pg_database, PG_URL.replace(DATABASE, args.pg_database)
    args.submissions = args.submissions or (100_000 if args.command == "load" else 10_000)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
