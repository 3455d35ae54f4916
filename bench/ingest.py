#!/usr/bin/env python3
"""Submission-intake benchmark: ODK Collect's HEAD + POST against the production server, per database backend.

    .venv/bin/python bench/ingest.py [--seconds N] [--backends postgresql,sqlite] [--concurrency 1,4,8]

For each backend: a fresh database (PostgreSQL: database `taizhang_bench` dropped and recreated; SQLite: a new
instance folder), `taizhang demo` (migrations, demo collectors, the household_visit form), then gunicorn serving
`server.wsgi:app`, loaded by wrk running bench/ingest.lua. The same load runs first against bench/bare_app.py
(Flask + gunicorn, multipart parsed, nothing stored): the ceiling each backend is reported against.

A *submission* is one HEAD /key/<token>/submission (204) followed by one multipart POST (201), as Collect sends
them. Every POST carries a fresh instanceID; after each run the rows in table `submission` are counted and must
equal the 201s: the script exits non-zero if any request got another answer or any submission is not stored
exactly once. Throughput and latency figures are printed, never asserted. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "ingest.lua"
BIN = Path(sys.executable).parent  # .venv/bin: taizhang and gunicorn live beside the interpreter
RESULTS = BENCH / "results"

TARGET_NOTE = """\
Target: >= 1,000 durable submissions/s on PostgreSQL at concurrency 4-8 (a submission = HEAD + POST).
Context: ODK Central manages ~200/s; a bare Flask app (no auth, no XML, no database) ~2,900/s on these machines.
These figures are printed, not asserted; only correctness (every submission stored exactly once) is checked."""


# ---- processes --------------------------------------------------------------------------------------------

class Processes:
    """Every child this script starts, each in its own session, so it (and its workers) can be ended by id."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, args: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(args, start_new_session=True, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = 10.0) -> None:
        """SIGTERM to the child's process group (gunicorn: master and workers), SIGKILL after `grace` seconds;
        then SIGKILL to any member of that group still alive (e.g. workers of a master that died)."""
        if proc.poll() is None:
            self._signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                self._signal_group(proc.pid, signal.SIGKILL)
                proc.wait(5)
        for pid in self.group_members(proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.procs)):
            try:
                self.stop(proc)
            except Exception as exc:  # keep going: the others must be ended too
                print(f"warning: could not stop pid {proc.pid}: {exc}", file=sys.stderr)

    @staticmethod
    def _signal_group(pgid: int, sig: int) -> None:
        try:
            os.killpg(pgid, sig)  # the group this script created for the child (pgid == the child's pid)
        except (ProcessLookupError, PermissionError):
            pass

    @staticmethod
    def group_members(pgid: int) -> list[int]:
        """Processes still in the group this script created for a child."""
        members = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    raw = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(raw[raw.rindex(")") + 2:].split()[2]) == pgid:
                    members.append(int(entry))
        return members


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---- wrk --------------------------------------------------------------------------------------------------

def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    how = "apt-get update && apt-get install -y wrk   (Debian/Ubuntu; elsewhere build https://github.com/wg/wrk)"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"wrk not found; installing it: {how.split('   ')[0]}", flush=True)
        try:
            subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        except (subprocess.CalledProcessError, OSError) as exc:
            sys.exit(f"installing wrk failed ({exc}); install it yourself: {how}")
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit(f"wrk is needed: {how}")


# ---- servers ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerSpec:
    """gunicorn settings: `gthread:2x4` (2 workers x 4 threads), `buffered:2x4` (`taizhang serve`'s worker class,
    server.wsgi.BufferedWorker: waitress reads each request whole, then one of 4 threads runs the app) or `sync:3`
    (3 sync workers)."""

    kind: str
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> "ServerSpec":
        match = re.fullmatch(r"(gthread|buffered):(\d+)x(\d+)|(sync):(\d+)", text.strip())
        if not match:
            raise argparse.ArgumentTypeError(f"server spec {text!r}: use gthread:WxT, buffered:WxT or sync:W")
        if match.group(1):
            return cls(match.group(1), int(match.group(2)), int(match.group(3)))
        return cls("sync", int(match.group(5)), 1)

    @property
    def label(self) -> str:
        return f"sync x{self.workers}" if self.kind == "sync" else f"{self.kind} {self.workers}x{self.threads}"

    def gunicorn_args(self) -> list[str]:
        args = ["-w", str(self.workers), "-k", "server.wsgi.BufferedWorker" if self.kind == "buffered" else self.kind]
        if self.kind != "sync":
            args += ["--threads", str(self.threads)]
        return args


class Server:
    """One gunicorn master (and its workers) serving `app_spec` on a free port; with `beside`, a command started
    just before gunicorn in the same session and process group, as `taizhang serve` starts its merge worker (so the
    kernel schedules both in one autogroup, where the merge worker's nice value counts against gunicorn's)."""

    def __init__(self, procs: Processes, spec: ServerSpec, app_spec: str, env: dict, log: Path,
                 extra: list[str] = (), beside: list[str] | None = None) -> None:
        self.procs, self.spec, self.app_spec, self.env, self.log = procs, spec, app_spec, env, log
        self.port = free_port()
        args = [str(BIN / "gunicorn"), *spec.gunicorn_args(), "-b", f"127.0.0.1:{self.port}", "--timeout", "120",
                "--graceful-timeout", "5", "--log-level", "warning", *extra, app_spec]
        self.command = args
        if beside:  # sh starts the command, then becomes gunicorn's master (exec): one session, one group
            args = ["/bin/sh", "-c", f'{shlex.join(beside)} & exec "$@"', "sh", *args]
        with open(log, "ab") as out:  # gunicorn's error log and anything the app writes to stderr
            self.proc = procs.start(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def url(self, token: str) -> str:
        return f"http://127.0.0.1:{self.port}/key/{token}/submission"

    def wait_ready(self, token: str, timeout: float = 60.0) -> bool:
        """True once HEAD answers 204; False if gunicorn exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                req = urllib.request.Request(self.url(token), method="HEAD",
                                             headers={"X-OpenRosa-Version": "1.0"})
                with urllib.request.urlopen(req, timeout=5) as resp:
                    if resp.status == 204:
                        return True
                    raise RuntimeError(f"HEAD answered {resp.status}, expected 204")
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                if isinstance(exc, urllib.error.HTTPError):
                    raise RuntimeError(f"HEAD answered {exc.code}, expected 204: {exc.read()[:300]!r}") from exc
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn not answering after {timeout:.0f}s; log {self.log}:\n{tail(self.log)}")

    def stop(self) -> None:
        self.procs.stop(self.proc)


class MergeWorker:
    """The register's merge worker beside the server, started as `taizhang serve` starts it (`python -c "from
    server.cli import main; main()" register merge --loop`, the same environment, in gunicorn's session; its CPU
    priority is the one TAIZHANG_MERGE_NICE gives it), and the merge queue read through its own connections."""

    @staticmethod
    def command(nice: int | None) -> list[str]:
        """What Server(beside=…) runs: `taizhang serve`'s command, TAIZHANG_MERGE_NICE set for it alone."""
        setting = ["env", f"TAIZHANG_MERGE_NICE={nice}"] if nice is not None else []
        return [*setting, sys.executable, "-c", "from server.cli import main; main()", "register", "merge", "--loop"]

    def __init__(self, server: "Server", pg_url: str) -> None:
        self.server, self.log, self.pg_url = server, server.log, pg_url
        self.pid = None
        deadline = time.monotonic() + 30
        while self.pid is None and time.monotonic() < deadline:
            for pid in Processes.group_members(server.proc.pid):
                try:
                    if b"register\0merge\0--loop" in Path(f"/proc/{pid}/cmdline").read_bytes():
                        self.pid = pid
                except OSError:
                    continue
            time.sleep(0.2)
        if self.pid is None:
            raise RuntimeError(f"no merge worker beside the server; log:\n{tail(self.log)}")

    def alive(self) -> bool:
        return Path(f"/proc/{self.pid}").exists()

    def nice(self) -> int | None:
        """The merge worker's nice value, as the kernel has it (None until the process has set it)."""
        try:
            raw = Path(f"/proc/{self.pid}/stat").read_text()
            return int(raw[raw.rindex(")") + 2:].split()[16])
        except (OSError, ValueError, IndexError):
            return None

    def probe(self) -> dict:
        """Submissions stored, queue entries (and those with failed attempts), age of the oldest entry."""
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            stored, queued, failing, oldest = conn.execute(
                "SELECT (SELECT count(*) FROM submission), count(*), count(*) FILTER (WHERE attempts > 0), "
                "coalesce(extract(epoch FROM now() - min(enqueued_at)), 0) FROM merge_queue").fetchone()
        return {"stored": stored, "queued": queued, "failing": failing, "oldest_s": float(oldest),
                "at": time.monotonic()}

    @staticmethod
    def window(before: dict | None, after: dict, seconds: float) -> dict:
        """What the merge worker did while intake was measured: merged = stored - growth of the queue."""
        if not before or seconds <= 0:
            return {}
        merged = (after["stored"] - before["stored"]) - (after["queued"] - before["queued"])
        return {"merged_per_s": round(merged / seconds, 1), "queued_start": before["queued"],
                "queued_end": after["queued"], "oldest_end_s": round(after["oldest_s"], 1),
                "failing_end": after["failing"]}

    def drain(self, timeout: float) -> dict:
        """Wait until every queue entry without a failed attempt is merged; the time it took and the rate."""
        start = self.probe()
        while True:
            now = self.probe()
            if now["queued"] - now["failing"] == 0 or now["at"] - start["at"] > timeout:
                break
            if not self.alive():
                raise RuntimeError(f"merge worker exited; log:\n{tail(self.log)}")
            time.sleep(0.5)
        seconds = now["at"] - start["at"]
        merged = start["queued"] - now["queued"]
        return {"drain_s": round(seconds, 1), "drained": now["queued"] - now["failing"] == 0,
                "drain_rate": round(merged / seconds, 1) if seconds > 0.5 else None, "left": now["queued"],
                "failing": now["failing"]}



# ---- backends ---------------------------------------------------------------------------------------------

class Backend:
    name = ""

    def __init__(self, instance_dir: Path) -> None:
        self.instance_dir = instance_dir

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_")}
        env["TAIZHANG_INSTANCE_DIR"] = str(self.instance_dir)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def prepare(self) -> None: ...

    def describe(self) -> str: ...

    def count(self, nonce: str | None = None) -> int: ...


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, instance_dir: Path, admin_url: str, database: str) -> None:
        super().__init__(instance_dir)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):
            sys.exit(f"--pg-database {database!r}: use lower-case letters, digits and _")
        self.admin_url, self.database = admin_url, database
        base = admin_url.rsplit("/", 1)[0]
        self.url = f"{base}/{database}"
        self.sqlalchemy_url = self.url.replace("postgresql://", "postgresql+psycopg://", 1)

    def env(self) -> dict:
        return {**super().env(), "TAIZHANG_DATABASE_URL": self.sqlalchemy_url}

    def prepare(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')
            settings = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                        for name in ("server_version", "synchronous_commit", "fsync", "wal_sync_method")}
        self.settings = settings

    def describe(self) -> str:
        s = self.settings
        return (f"PostgreSQL {s['server_version']} (database {self.database}, recreated; synchronous_commit="
                f"{s['synchronous_commit']}, fsync={s['fsync']}, wal_sync_method={s['wal_sync_method']})")

    def count(self, nonce: str | None = None) -> int:
        with psycopg.connect(self.url) as conn:
            if nonce is None:
                return conn.execute("SELECT count(*) FROM submission").fetchone()[0]
            return conn.execute("SELECT count(*) FROM submission WHERE instance_id LIKE %s",
                                (instance_prefix(nonce) + "%",)).fetchone()[0]


class SqliteBackend(Backend):
    name = "sqlite"

    @property
    def path(self) -> Path:
        return self.instance_dir / "taizhang.sqlite3"

    def describe(self) -> str:
        mode = "?"
        if self.path.exists():
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            finally:
                conn.close()
        return (f"SQLite {sqlite3.sqlite_version} ({self.path}, journal_mode={mode}; other pragmas as "
                f"server/database.py sets them per connection)")

    def count(self, nonce: str | None = None) -> int:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            if nonce is None:
                return conn.execute("SELECT count(*) FROM submission").fetchone()[0]
            return conn.execute("SELECT count(*) FROM submission WHERE instance_id LIKE ?",
                                (instance_prefix(nonce) + "%",)).fetchone()[0]
        finally:
            conn.close()


def instance_prefix(nonce: str) -> str:
    """The instanceID prefix bench/ingest.lua gives one run's submissions."""
    return f"uuid:{nonce[:8]}-{nonce[8:12]}-"


FORM_ID = "household_visit"
DEFAULT_FORM_VERSION = "2026112201"


def run_demo(env: dict) -> tuple[str, str]:
    """`taizhang demo` (migrations, collectors, forms): the first collector's token and the version of
    household_visit it published, from its output."""
    done = subprocess.run([str(BIN / "taizhang"), "demo"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"taizhang demo failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    match = re.search(r"token URL: \S*/key/([A-Za-z0-9_-]{64})\b", done.stdout)
    if not match:
        raise RuntimeError(f"no token URL in the output of taizhang demo:\n{done.stdout}")
    version = re.search(rf"^{FORM_ID} version (\S+) ", done.stdout, re.M)
    if not version:
        raise RuntimeError(f"taizhang demo did not publish {FORM_ID}:\n{done.stdout}")
    return match.group(1), version.group(1)


# ---- CPU accounting ---------------------------------------------------------------------------------------

# The bench database's name: PostgreSQL backends serving it (their title names it) are counted apart ("db_own"),
# since other work on the machine may use the same PostgreSQL server.
BENCH_DATABASE: str | None = None


def cpu_ticks(groups: dict[str, int], pids: dict[str, int] | None = None) -> dict[str, int] | None:
    """CPU ticks used so far: by the whole machine ("busy"), by each named process group (gunicorn and wrk
    run in groups of their own), by PostgreSQL's processes (and among them the backends of the bench database),
    and by this script."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return None
    used = {"busy": sum(fields) - fields[3] - fields[4], **{name: 0 for name in groups},
            **{name: 0 for name in (pids or {})}, "postgres": 0, "db_own": 0}
    by_pgid = {pgid: name for name, pgid in groups.items()}
    by_pid = {pid: name for name, pid in (pids or {}).items()}  # one process apart from its group
    per_process: dict[int, int] = {}  # the server's worker processes one by one
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        comm, rest = raw[raw.index("(") + 1:raw.rindex(")")], raw[raw.rindex(")") + 2:].split()
        ppid, pgid, ticks = int(rest[1]), int(rest[2]), int(rest[11]) + int(rest[12])
        # (a process counted apart counts with its children: `register merge` starts TAIZHANG_MERGE_WORKERS workers)
        name = (by_pid.get(int(entry)) or by_pid.get(ppid) or by_pgid.get(pgid)
                or ("postgres" if comm.startswith("postgres") else None))
        if name:
            used[name] += ticks
        if name == "postgres" and BENCH_DATABASE:
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                title = ""
            if f" {BENCH_DATABASE} " in title:
                used["db_own"] += ticks
        if name == "server" and int(entry) != pgid:  # the gunicorn workers, not the master
            per_process[int(entry)] = ticks
    return {**used, "server_processes": per_process}


def cpu_share(before: dict | None, after: dict | None, seconds: float) -> dict[str, float]:
    """Cores used per part between two cpu_ticks() snapshots (1.0 = one core busy); "elsewhere" is the rest."""
    if not before or not after or seconds <= 0:
        return {}
    hz = os.sysconf("SC_CLK_TCK")
    share = {k: max(after[k] - before.get(k, 0), 0) / hz / seconds for k in after if k != "server_processes"}
    share["elsewhere"] = max(share.pop("busy") - sum(v for k, v in share.items() if k != "db_own"), 0.0)
    result: dict = {k: round(v, 2) for k, v in share.items()}
    pids = after["server_processes"]
    old = before.get("server_processes", {})
    result["server_by_process"] = sorted((round((pids[p] - old.get(p, 0)) / hz / seconds, 2) for p in pids),
                                         reverse=True)
    return result


# ---- one load point ---------------------------------------------------------------------------------------

@dataclass
class Point:
    target: str          # "bare" or the backend name
    server: str
    concurrency: int
    wrk_threads: int
    seconds: float
    subs_per_s: float = 0.0
    requests_per_s: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    posts_201: int = 0
    rows: int | None = None
    ratio: float | None = None
    cpu: dict = field(default_factory=dict)  # cores used during the window: server, postgres, wrk, elsewhere
    warmup: bool = False
    problems: list[str] = field(default_factory=list)
    wrk: dict = field(default_factory=dict)
    merge: dict = field(default_factory=dict)  # the merge worker beside intake: rate, queue at the end, drain
    cpu_ratio: float | None = None  # the bare app's CPU per submission / this point's (app, merge worker, its db)
    peak_rss_mib: dict = field(default_factory=dict)  # VmHWM so far: the largest gunicorn process, the merge worker

    def cpu_ms(self) -> tuple[float, float] | None:
        """Milliseconds of CPU per submission: the app's processes (gunicorn and the merge worker), and the
        PostgreSQL backends of the bench database. Less moved by other work on the machine than the rates."""
        parts = self.cpu_ms_parts()
        return None if parts is None else (parts[0] + parts[1], parts[2])

    def cpu_ms_parts(self) -> tuple[float, float, float] | None:
        """Milliseconds of CPU per submission of gunicorn, of the merge worker (its processes), and of the
        PostgreSQL backends of the bench database (the merge worker's included)."""
        if not self.subs_per_s or "server" not in self.cpu:
            return None
        return tuple(1000 * self.cpu.get(part, 0.0) / self.subs_per_s for part in ("server", "merge", "db_own"))


def run_wrk(wrk: str, procs: Processes, url: str, *, concurrency: int, seconds: int, drain: int,
            form_version: str, fixed_boundary: bool, target: str, server: Server,
            warmup: bool = False, merger: "MergeWorker | None" = None) -> tuple[Point, str]:
    # wrk -t min(N,2); wrk gives each thread N // threads connections, so an odd N gets one thread (all N used)
    threads = 2 if concurrency % 2 == 0 else 1
    nonce = secrets.token_hex(6)
    args = [wrk, "-c", str(concurrency), "-t", str(threads), "-d", f"{seconds + drain}s", "--timeout", "30s",
            "-s", str(LUA), url, "--", nonce, str(seconds), form_version,
            *(["fixed-boundary"] if fixed_boundary else [])]
    groups = {"server": server.proc.pid, "bench": os.getpgrp()}
    pids = {"merge": merger.pid} if merger is not None else {}
    queue_before = merger.probe() if merger is not None else None
    before = cpu_ticks(groups, pids)
    t0 = time.monotonic()
    proc = procs.start(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace")
    groups["wrk"] = proc.pid
    after: dict = {}
    def window_end() -> None:
        after.update(ticks=cpu_ticks(groups, pids), at=time.monotonic())
        if merger is not None:
            after["queue"] = merger.probe()

    timer = threading.Timer(seconds, window_end)
    timer.start()
    try:
        output, _ = proc.communicate(timeout=seconds + drain + 120)
    finally:
        timer.cancel()
        procs.stop(proc)
    point = Point(target, server.spec.label, concurrency, threads, seconds, warmup=warmup)
    point.peak_rss_mib = peak_rss(server, merger)
    if after:
        point.cpu = cpu_share(before, after["ticks"], after["at"] - t0)
        if merger is not None and after.get("queue"):
            point.merge = merger.window(queue_before, after["queue"], after["at"] - t0)
    match = re.search(r"^INGEST_RESULT (\{.*\})$", output, re.M)
    if proc.returncode != 0 or not match:
        point.problems.append(f"wrk failed (exit {proc.returncode}):\n{output}")
        return point, nonce
    res = point.wrk = json.loads(match.group(1))
    point.posts_201 = res["posts_201"]
    point.subs_per_s = res["win_201"] / seconds
    point.requests_per_s = res["win_responses"] / seconds
    point.p50_ms, point.p95_ms, point.p99_ms = (res[f"p{p}_us"] / 1000 for p in (50, 95, 99))
    if res["others"]:
        by_status: dict[str, int] = {}
        for item in res["other_statuses"].split():
            code, _, count = item.partition(":")
            by_status[code] = by_status.get(code, 0) + int(count or 0)
        first = " ".join(res["other_samples"].split("\x1e")[0].split())[:300]
        point.problems.append(f"{res['others']} answers other than 204/201 "
                              f"({', '.join(f'{n} x {c}' for c, n in sorted(by_status.items()))}); first: {first}")
    unanswered = res["posts_sent"] - res["posts_201"] - res["others"]
    if unanswered > 0:
        point.problems.append(f"{res['posts_sent']} POSTs sent, {res['posts_201']} answered 201, {unanswered} "
                              f"without an answer when wrk stopped (server stuck, or slower than --drain)")
    if res["posts_201"] == 0 and not point.problems:
        point.problems.append("no submission was accepted")
    errors = {k: v for k, v in res["errors"].items() if v and k != "status"}
    if errors:
        point.wrk["note"] = f"socket errors {errors}"
    return point, nonce


def _vm_hwm_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def peak_rss(server: Server, merger: "MergeWorker | None") -> dict:
    """Peak resident memory so far (the kernel's VmHWM), MiB: the largest of gunicorn's processes, the merge
    worker."""
    merging = {merger.pid, *_children(merger.pid)} if merger is not None else set()
    found = [_vm_hwm_mib(pid) for pid in Processes.group_members(server.proc.pid) if pid not in merging]
    peaks = {"server": round(max((f for f in found if f), default=0.0), 1)}
    if merging:   # the largest of the merge processes (`register merge` and the workers it started)
        peaks["merge"] = round(max((_vm_hwm_mib(pid) or 0.0 for pid in merging), default=0.0), 1)
    return peaks


def _children(pid: int) -> list[int]:
    """The processes `pid` started (Linux: /proc/<pid>/task/*/children)."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in children.read_text().split()]
        except OSError:
            continue
    return found


def verify_rows(backend: Backend, point: Point, nonce: str, before: int) -> int:
    """The rows this run added must be exactly its 201s, all with this run's instanceIDs."""
    total = backend.count()
    mine = backend.count(nonce)
    point.rows = mine
    if mine != point.posts_201 or total - before != point.posts_201:
        point.problems.append(f"stored rows do not match: {point.posts_201} POSTs answered 201, table submission "
                              f"has {mine} rows with this run's instanceIDs and grew by {total - before}")
    return total


# ---- reporting --------------------------------------------------------------------------------------------

def point_line(point: Point) -> str:
    rows = f", rows +{point.rows}" if point.rows is not None else ""
    note = f" [{point.wrk['note']}]" if point.wrk.get("note") else ""
    status = "OK" if not point.problems else "FAILED"
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in point.cpu.items()
                    if k not in ("bench", "server_by_process") and (v or k != "postgres"))
    by_process = point.cpu.get("server_by_process", [])
    if len(by_process) > 1:
        cpu += f" (server by worker: {' + '.join(f'{v:.2f}' for v in by_process)})"
    if unbalanced(point):
        cpu += "\n          note: one worker was much busier than the other (wrk's keep-alive connections stay " \
               "with the worker that accepted them; on SQLite also lock waits)"
    m = point.merge
    if m:
        drained = (f"drained {m['drain_s']:.1f}s after the window ({m['drain_rate'] or '-'} merged/s while draining)"
                   if m.get("drained") else f"NOT drained after {m.get('drain_s')}s ({m.get('left')} left)")
        cpu += (f"\n          merge worker (nice {m.get('nice')}): {m.get('merged_per_s', 0):.1f} merged/s in the window; "
                f"queue {m.get('queued_start')} -> {m.get('queued_end')} entries, oldest {m.get('oldest_end_s')}s old "
                f"at the window's end; {drained}; entries with failed attempts {m.get('failing', 0)}")
    if point.peak_rss_mib:
        cpu += "; peak RSS " + ", ".join(f"{k} {v:.0f} MiB" for k, v in point.peak_rss_mib.items())
    return (f"    c={point.concurrency:<2} (wrk -t {point.wrk_threads}): {point.subs_per_s:7.1f} submissions/s "
            f"({point.requests_per_s:7.1f} requests/s); latency per request p50 {point.p50_ms:.2f} ms, "
            f"p95 {point.p95_ms:.2f} ms, p99 {point.p99_ms:.2f} ms\n"
            f"          {point.posts_201} x 201{rows}: {status}{note}; CPU used, in cores: {cpu or '?'}")


def unbalanced(point: Point) -> bool:
    """One worker much busier than another while there were enough connections to keep all of them busy."""
    by_process = point.cpu.get("server_by_process", [])
    return len(by_process) > 1 and point.concurrency >= len(by_process) and by_process[0] - by_process[-1] > 0.4


def table(points: list[Point], several_servers: bool) -> str:
    head = ["backend", *(["server"] if several_servers else []), "conc", "subs/s", "req/s", "p50 ms", "p95 ms",
            "p99 ms", "ratio to bare", "stored ok", "CPU app", "CPU merge", "CPU db", "CPU other", "merged/s",
            "lag end", "ms/sub app", "ms/sub merge", "ms/sub db", "CPU ratio", "workers"]
    rows = []
    for p in points:
        rows.append([p.target, *([p.server] if several_servers else []), str(p.concurrency),
                     f"{p.subs_per_s:.0f}", f"{p.requests_per_s:.0f}", f"{p.p50_ms:.2f}", f"{p.p95_ms:.2f}",
                     f"{p.p99_ms:.2f}", "1.00 (ceiling)" if p.target == "bare" else
                     (f"{p.ratio:.2f}" if p.ratio is not None else "-"),
                     ("n/a" if p.target == "bare" else "yes") if not p.problems else "NO",
                     *(f"{p.cpu[k]:.2f}" if k in p.cpu else ("-" if k == "merge" else "?")
                       for k in ("server", "merge", "postgres", "elsewhere")),
                     f"{p.merge['merged_per_s']:.0f}" if "merged_per_s" in p.merge else "-",
                     f"{p.merge['queued_end']} ({p.merge['oldest_end_s']:.0f}s)" if "queued_end" in p.merge else "-",
                     *((f"{p.cpu_ms_parts()[0]:.2f}",
                        f"{p.cpu_ms_parts()[1]:.2f}" if p.target.endswith("+merge") else "-",
                        f"{p.cpu_ms_parts()[2]:.2f}" if p.target != "bare" else "-")
                       if p.cpu_ms_parts() else ("?", "?", "?")),
                     "1.00" if p.target == "bare" else (f"{p.cpu_ratio:.2f}" if p.cpu_ratio is not None else "-"),
                     "unbalanced" if unbalanced(p) else ""])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    numeric = {i for i, h in enumerate(head) if h not in ("backend", "server", "stored ok", "workers")}

    def fmt(row):
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([fmt(head), "  ".join("-" * w for w in widths), *map(fmt, rows)])


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Fraction of all cores busy over `seconds` (from /proc/stat), to tell whether the machine is idle."""
    def sample():
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def machine() -> dict:
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty", "--exclude", "*"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"cores": os.cpu_count(), "cpu": cpu or platform.processor(), "python": platform.python_version(),
            "kernel": platform.release(), "commit": commit or "unknown", "loadavg_start": os.getloadavg(),
            "cpu_busy_start": cpu_busy()}


# ---- main -------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="measured seconds per point (default 10)")
    parser.add_argument("--drain", type=int, default=2,
                        help="seconds wrk keeps running after each window for the POSTs still in flight to be "
                             "answered; each wrk thread stops as soon as its last POST is (default 2)")
    parser.add_argument("--fixed-boundary", action="store_true",
                        help="the same multipart boundary in every POST (default: a fresh one per POST, as "
                             "ODK Collect sends; werkzeug compiles a regex per new boundary)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="unmeasured seconds of load after each server start (checked all the same)")
    parser.add_argument("--backends", default="postgresql,sqlite", help="comma list of postgresql, sqlite")
    parser.add_argument("--concurrency", default="1,4,8",
                        help="wrk connections per point (wrk -t 2, or -t 1 for an odd number)")
    parser.add_argument("--servers", default="gthread:2x4", type=lambda s: [ServerSpec.parse(x) for x in
                        s.split(",") if x.strip()],
                        help="gunicorn settings to compare, e.g. gthread:2x4,sync:3 (default gthread:2x4)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare Flask ceiling")
    parser.add_argument("--balance-tries", type=int, default=3,
                        help="measure a point again, up to this many tries in all, while one gunicorn worker was "
                             "much busier than the other (wrk's keep-alive connections all accepted by one worker: "
                             "the point measures one core, not the server); the same for the bare app and ours; "
                             "every try is checked (default 3)")
    parser.add_argument("--merge-worker", choices=("both", "with", "without"), default="both",
                        help="PostgreSQL: measure intake with the register's merge worker running beside the server "
                             "as `taizhang serve` runs it, without it, or both, one after the other (default both; "
                             "SQLite: always without)")
    parser.add_argument("--merge-nice", type=int, default=None,
                        help="TAIZHANG_MERGE_NICE for the merge worker (default: unset, i.e. the server's default)")
    parser.add_argument("--merge-drain", type=float, default=600,
                        help="after each point with the merge worker, wait at most this many seconds for the queue "
                             "to drain (default 600)")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="where to drop and create the bench database")
    parser.add_argument("--pg-database", default="taizhang_bench")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folders and logs")
    args = parser.parse_args(argv)

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"postgresql", "sqlite"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    global BENCH_DATABASE
    BENCH_DATABASE = args.pg_database if "postgresql" in backends else None
    merge_worker_modes = ["without", "with"] if args.merge_worker == "both" else [args.merge_worker]
    concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not concurrency or min(concurrency) < 1:
        parser.error("--concurrency: positive integers")
    if args.seconds < 1 or args.drain < 1 or args.warmup < 0:
        parser.error("--seconds and --drain: at least 1; --warmup: 0 or more")
    for tool in ("gunicorn", "taizhang"):
        if not (BIN / tool).exists():
            sys.exit(f"{BIN / tool} not found: run with the project's venv (.venv/bin/python bench/ingest.py) "
                     f"after `.venv/bin/pip install -e '.[test]'`")
    wrk = ensure_wrk()
    wrk_version = [line.split(" Copyright")[0] for line in
                   subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.splitlines()[:1]]

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored (`cmd &`)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="taizhang-bench-"))
    info = machine()
    started = time.monotonic()
    points: list[Point] = []
    failures: list[str] = []
    descriptions: dict[str, str] = {}
    print(f"taizhang submission-intake benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    busy = info["cpu_busy_start"]
    print(f"machine: {info['cores']} cores ({info['cpu']}), Python {info['python']}, "
          f"CPU busy before start {'?' if busy is None else f'{busy:.0%}'}; {' '.join(wrk_version)}; "
          f"commit {info['commit']}")
    if busy is not None and busy > 0.2:
        print("  warning: the machine is not idle; figures will be noisy (re-run when it is)")
    print("wrk, gunicorn and the database share the machine. A submission = HEAD (204) + POST (201) with a "
          "fresh instanceID;\nlatency is wrk's, per HTTP request (HEAD and POST mixed). Multipart boundary: "
          f"{'the same in every POST' if args.fixed_boundary else 'a fresh one per POST (as ODK Collect)'}.")
    print(f"{args.seconds}s measured per point (+ up to {args.drain}s for the last POSTs to be answered), "
          f"{args.warmup}s warm-up per server;\nwork dir {work}\n", flush=True)

    def point_done(point: Point) -> None:
        print(point_line(point), flush=True)
        for problem in point.problems:
            text = f"{point.target} {point.server} c={point.concurrency}{' (warm-up)' if point.warmup else ''}: " \
                   f"{problem}"
            failures.append(text)
            print(f"      FAILED: {problem}", flush=True)

    def load(server: Server, token: str, target: str, backend: Backend | None,
             form_version: str = DEFAULT_FORM_VERSION, merger: MergeWorker | None = None) -> None:
        rows = backend.count() if backend else 0
        plan = ([(max(concurrency), args.warmup, True)] if args.warmup > 0 else []) + \
               [(c, args.seconds, False) for c in concurrency]
        for c, seconds, warm in plan:
            for attempt in range(1, (1 if warm else args.balance_tries) + 1):
                point, nonce = run_wrk(wrk, procs, server.url(token), concurrency=c, seconds=seconds,
                                       drain=args.drain, form_version=form_version,
                                       fixed_boundary=args.fixed_boundary, target=target, server=server,
                                       warmup=warm, merger=merger)
                if backend and point.wrk:   # every try is checked: each of its POSTs stored exactly once
                    rows = verify_rows(backend, point, nonce, rows)
                if merger is not None:  # the queue must drain after the load; the next point starts with it empty
                    point.merge.update(merger.drain(args.merge_drain))
                    point.merge["nice"] = merger.nice()
                    if not merger.alive():
                        raise RuntimeError(f"merge worker exited; log:\n{tail(merger.log)}")
                if warm or point.problems or not unbalanced(point) or attempt == args.balance_tries:
                    break
                print(f"    c={c} try {attempt}: {point.subs_per_s:.1f} submissions/s with one worker much busier "
                      f"than the other (wrk's connections stayed with it): measured again", flush=True)
            if warm:
                if point.problems:
                    point_done(point)
                else:
                    print(f"    warm-up c={c} {seconds}s: {point.posts_201} x 201, stored ok", flush=True)
                continue
            point_done(point)
            points.append(point)
            if server.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({server.proc.returncode}); log:\n{tail(server.log)}")

    try:
        for spec in args.servers:
            if not args.no_bare:
                print(f"bare Flask ceiling (bench/bare_app.py), gunicorn {spec.label}", flush=True)
                log = work / f"bare-{spec.kind}-{spec.workers}x{spec.threads}.log"
                env = {k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_")}
                # bench.bare_app (a namespace package from the checkout), not --pythonpath bench: bench/reports.py
                # would hide the reports package the worker class server.wsgi.BufferedWorker imports
                server = Server(procs, spec, "bench.bare_app:app", env, log)
                token = secrets.token_urlsafe(48)[:64]
                if not server.wait_ready(token):
                    raise RuntimeError(f"bare app did not start; log:\n{tail(log)}")
                print(f"  {' '.join(server.command)}", flush=True)
                load(server, token, "bare", None)
                server.stop()

            for name in backends:
                instance = work / f"{name}-{spec.kind}-{spec.workers}x{spec.threads}"
                instance.mkdir()
                backend: Backend = (PostgresBackend(instance, args.pg_admin_url, args.pg_database)
                                    if name == "postgresql" else SqliteBackend(instance))
                backend.prepare()
                env = backend.env()
                t0 = time.monotonic()
                token, form_version = run_demo(env)
                descriptions[name] = backend.describe()
                print(f"{name}: {descriptions[name]}, gunicorn {spec.label}", flush=True)
                print(f"  taizhang demo: {time.monotonic() - t0:.1f}s, token {token[:8]}..., {FORM_ID} version "
                      f"{form_version}", flush=True)
                log = work / f"{name}-{spec.kind}-{spec.workers}x{spec.threads}.log"
                server = Server(procs, spec, "server.wsgi:app", env, log)
                if not server.wait_ready(token):
                    print(f"  gunicorn could not load server.wsgi:app (log below); trying 'server:create_app()'"
                          f"\n{tail(log, 10)}", flush=True)
                    server.stop()
                    server = Server(procs, spec, "server:create_app()", env, log)
                    if not server.wait_ready(token):
                        raise RuntimeError(f"server did not start; log:\n{tail(log)}")
                print(f"  {' '.join(server.command)}", flush=True)
                merge_modes = merge_worker_modes if name == "postgresql" else ["without"]
                if "without" in merge_modes:
                    load(server, token, name, backend, form_version)
                if "with" in merge_modes:
                    with psycopg.connect(backend.url, autocommit=True) as conn:  # earlier points' queue, unmerged
                        dropped = conn.execute("DELETE FROM merge_queue").rowcount
                    server.stop()  # again, with the merge worker in its session, as `taizhang serve` runs both
                    beside = MergeWorker.command(args.merge_nice)
                    server = Server(procs, spec, server.app_spec, env, log, beside=beside)
                    if not server.wait_ready(token):
                        raise RuntimeError(f"server did not start; log:\n{tail(log)}")
                    merger = MergeWorker(server, backend.url)
                    print(f"  again with the merge worker beside it, started as `taizhang serve` starts it, in "
                          f"gunicorn's session: {' '.join(beside)} (pid {merger.pid}; TAIZHANG_MERGE_NICE="
                          f"{args.merge_nice if args.merge_nice is not None else 'unset: the default'}; {dropped} "
                          f"queue entries of the points without it removed unmerged)", flush=True)
                    load(server, token, f"{name}+merge", backend, form_version, merger=merger)
                server.stop()
                if server.log.exists() and "Traceback" in server.log.read_text(errors="replace"):
                    print(f"  note: tracebacks in the server log {server.log}:\n{tail(server.log, 15)}")
                    if not args.keep:
                        print("  (re-run with --keep to keep the log)")
    except KeyboardInterrupt:
        print("\ninterrupted; stopping what this script started", file=sys.stderr)
        procs.stop_all()
        return 130
    except Exception as exc:
        failures.append(f"aborted: {exc}")
        print(f"\nABORTED: {exc}", file=sys.stderr)
    finally:
        procs.stop_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    ceiling = {(p.server, p.concurrency): p.subs_per_s for p in points if p.target == "bare"}
    bare_ms = {(p.server, p.concurrency): p.cpu_ms() for p in points if p.target == "bare"}
    for p in points:
        if p.target != "bare" and ceiling.get((p.server, p.concurrency)):
            p.ratio = p.subs_per_s / ceiling[(p.server, p.concurrency)]
        bare, mine = bare_ms.get((p.server, p.concurrency)), p.cpu_ms()
        if p.target != "bare" and bare and mine and sum(mine):
            p.cpu_ratio = bare[0] / sum(mine)

    elapsed = time.monotonic() - started
    several = len(args.servers) > 1
    print(f"\nResults ({info['cores']} cores; gunicorn "
          f"{', '.join(s.label for s in args.servers)}; {args.seconds}s per point; total {elapsed:.0f}s)")
    print("subs/s = submissions per second, each one HEAD (204) + one POST (201); req/s counts both requests.")
    print("p50/p95/p99 = wrk latency per HTTP request (HEAD and POST mixed); ratio = subs/s / bare Flask subs/s.")
    print("CPU = cores busy during the window: app = gunicorn and its workers, db = PostgreSQL processes, other = "
          "everything else\nexcept wrk (noise from other work on the machine; SQLite runs inside the app). "
          "workers = unbalanced when one gunicorn\nworker was much busier than another (wrk's keep-alive "
          "connections stay with the worker that accepted them).\n"
          "backend+merge = the register's merge worker running beside the server as `taizhang serve` runs it (CPU "
          "merge: its process;\nits queries are in CPU db); merged/s = its rate in the window; lag end = queue "
          "entries (and the oldest one's age) at the\nwindow's end; after each such point the queue is left to "
          "drain (see the lines above).\n"
          "ms/sub = CPU milliseconds per submission: app = gunicorn, merge = the merge worker, db = the PostgreSQL "
          "backends of the\nbench database. CPU ratio = the bare app's CPU per submission / (app + merge + db): what "
          "the ratio to bare would be on an\nidle machine where both are CPU-bound (wrk's share left out); less moved "
          "by other work than the rates.\n")
    print(table(points, several))
    print()
    print(TARGET_NOTE)
    pg = [p for p in points if p.target == "postgresql" and 4 <= p.concurrency <= 8]
    if pg:
        best = max(pg, key=lambda p: p.subs_per_s)
        print(f"Measured: best PostgreSQL figure at concurrency 4-8 is {best.subs_per_s:.0f} submissions/s "
              f"(c={best.concurrency}, {best.server}).")

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"ingest-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"machine": info, "loadavg_end": os.getloadavg(), "args": {
        k: (v if k != "servers" else [s.label for s in v]) for k, v in vars(args).items()},
        "backends": descriptions, "points": [asdict(p) for p in points], "failures": failures},
        indent=2, default=str))
    print(f"\nraw figures: {out.relative_to(ROOT)}")
    noisy = [p for p in points if p.cpu.get("elsewhere", 0) > 0.1]
    if noisy:
        print(f"\nnote: {len(noisy)} of {len(points)} points ran while other work used more than 0.1 core "
              f"(column CPU other); re-run on an idle machine for clean figures.")
    if failures:
        print(f"\nFAILED ({len(failures)}):", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print("correctness: every POST answered 201 and stored exactly once.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
