#!/usr/bin/env python3
"""Register benchmark: rebuild rate and merge-worker rate on a synthetic town or county register.

    .venv/bin/python bench/register.py [--towns 1] [--updates 2000] [--backend postgresql|sqlite]

Builds a register the way production does: areas (towns × 10 villages × 30 groups), one collector per group,
the real household_visit form, and one registration visit per household (1–6 members with Chinese names, birth
dates, valid resident ID numbers for most, phones for most adults), stored as raw submissions. Then, timed:

* **rebuild**: `taizhang rebuild`'s `rebuild_register()` over every submission, against the same-run ceiling of
  only parsing those submissions (`read_visit`), which any rebuild must do;
* **merge workers**: `--updates` visits to existing households (phone numbers corrected, people leaving to work,
  births, moves within the group; households drawn from every village, so the queue spreads over the villages),
  queued as intake queues them and merged by `--merge` runs `WORKERSxBATCH` (default `1x1,1x50,2x50,3x50`): that
  many worker processes (`--merge-worker`, the worker's own loop `run_merge_worker`, duplicate check included),
  connected first and then timed from a go to the last one's exit; every run but the last on a copy of the queued
  database (`CREATE DATABASE … TEMPLATE`), the last on the register itself. Each prints visits/s as a ratio to
  500/s and to the parse-only ceiling of the same update visits (`read_visit`, one process, same run), the workers'
  CPU a visit, their PostgreSQL backends' CPU a visit (each worker's backend read from /proc) and the largest
  worker's peak RSS (its VmHWM). The one-village baseline (`--skip-baseline` leaves it
  out) shows what the register's size costs;
* **rebuild after the updates**: `rebuild_register()` again, over the registration and the update visits, and a
  check that it gives back exactly the derived rows the merge worker wrote for every visit: the `visit` rows and,
  where the code has them, the `service_item` rows (every column but the id).

A share of the visits (`--service-share`, registrations and updates alike) carry a service record as the
household_visit form writes it: supplies given on request (the `supplies` repeat: item, quantity, given), support
requested (family benefit, elderly support, hardship help: `support/support_details`), the free pre-pregnancy check
(names, consent), antenatal guidance she chose to tell (consent, referral), other needs; every visit may carry the
closing answers (agreed next visit, notes, GPS point). The service answers come from a random generator of their
own, so the register (households, people, updates) is the same for a seed whatever the share; `--service-share 0`
writes the visits of earlier runs. Code from before the service record ignores these answers.

Each step prints its rate (wall clock) and its CPU per visit: this process's, and the PostgreSQL server processes' of
the bench database (CPU time hardly moves when other work shares the machine; wall time does).

PostgreSQL uses database `taizhang_bench_register` (`--pg-database`; dropped and recreated). Figures are printed,
never asserted; the script exits 1 if the rebuild after the updates does not give back the same rows or the same
register (`register_snapshot`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

import psycopg
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from bench.county import GIVEN, SURNAMES, phone_time, random_member
from server import create_app
from server.areas.operations import ensure_area
from server.database import commit
from server.extensions import db
from server.forms.models import Form
from server.forms.operations import publish_form
from server.register import models as register_models
from server.register import queries as register_queries
from server.register.models import Household, Person, RegisterFieldValue, Visit
from server.register.replays import rebuild_register
from server.register.worker import run_merge_worker
from server.storage import blob_store
from server.submissions.models import MergeQueueEntry, Submission
from server.users.models import User
from sync.submission import parse_submission
from sync.visits import read_visit
from tests.register_visits import Member, household_visit
from tests.submission_xml import JAVAROSA_DECLARATION, E, submission_bytes

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"

# The service record's table, where the code has one (it came with issue 17).
SERVICE_ITEMS = getattr(register_models, "ServiceItemRecord", None)

# Supply items as handed out on request, by weight, with the quantities usually given.
SUPPLIES = (("condoms", 40, (10, 10, 20, 30)), ("folic_acid", 25, (30, 30, 60, 90)), ("oral_pills", 15, (1, 3, 3)),
            ("emergency", 5, (1, 1, 2)), ("topical", 5, (1, 2)), ("other", 10, (1, 2, 5)))
SUPPORT_DETAILS = {"family_benefit": "申请计生家庭奖励扶助，{name}年满60岁", "elderly_support": "{name}独居，需要养老关爱",
                   "hardship_support": "{name}因病致困，申请困难家庭帮扶"}
NOTES = ("户主外出，由配偶接受访视", "已告知免费孕前检查的时间和地点", "下次带叶酸", "老人行动不便，请上门",
         "电话已更新", "留了宣传资料")


class Timing:
    """A step's wall seconds and CPU seconds: this process's, and those of the PostgreSQL server processes serving
    the bench database (read from /proc; 0 when not readable, and for SQLite, which runs in this process). CPU
    seconds hardly move when other work shares the machine; wall seconds do."""

    def __init__(self, pg_database: str | None) -> None:
        self.pg_database = pg_database
        self.wall = self.cpu = self.db_cpu = 0.0

    def __enter__(self) -> Timing:
        self._started = (time.perf_counter(), time.process_time(), self._database_cpu())
        return self

    def __exit__(self, *exc) -> None:
        wall, cpu, db_cpu = self._started
        self.wall, self.cpu = time.perf_counter() - wall, time.process_time() - cpu
        self.db_cpu = self._database_cpu() - db_cpu

    def _database_cpu(self) -> float:
        if not self.pg_database:
            return 0.0
        ticks, title = 0, f" {self.pg_database} ".encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if title not in Path(f"/proc/{entry}/cmdline").read_bytes():
                    continue
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue   # gone meanwhile, or not ours to read
            fields = stat[stat.rindex(")") + 2:].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def per(self, count: int) -> str:
        """CPU milliseconds per item: this process + the database."""
        return f"CPU {1000 * self.cpu / count:.2f} + {1000 * self.db_cpu / count:.2f} ms (db) each"


class ServiceAnswers:
    """Adds a realistic service record to a share of household visits (and closing answers to any), by rewriting
    the XML tests.register_visits writes, in the form's order; its own random generator."""

    def __init__(self, seed: int, share: float) -> None:
        self.rng, self.share = random.Random(f"{seed}-services"), share

    def add(self, xml: bytes, members: list[Member], *, new: bool, start: str) -> bytes:
        if self.share <= 0:
            return xml
        rng = self.rng
        root = etree.fromstring(xml)
        needs_element = root.find("service_needs")
        closing = root.find("closing")
        answers = self._needs(members, new=new) if rng.random() < self.share else ({}, [])
        needs, elements = answers
        needs_element.text = " ".join(needs) or None
        for element in reversed(elements):
            needs_element.addnext(element)
        visited = dt.date.fromisoformat(start[:10])
        next_visit = (visited + dt.timedelta(days=rng.choice((30, 60, 90, 90, 180)))).isoformat() \
            if rng.random() < 0.3 else None
        location = (f"{30.5 + rng.random() / 2:.6f} {103.8 + rng.random() / 2:.6f} {rng.randrange(400, 700)}.0 "
                    f"{rng.choice((3.9, 4.7, 5.0, 8.0, 12.5))}") if rng.random() < 0.5 else None
        notes = rng.choice(NOTES) if rng.random() < 0.2 else None
        closing.getparent().replace(closing, E.closing(
            *(E(name, value) if value else E(name) for name, value in (
                ("next_visit", next_visit), ("location", location), ("notes", notes)))))
        return submission_bytes(root, JAVAROSA_DECLARATION)

    def _needs(self, members: list[Member], *, new: bool) -> tuple[list[str], list]:
        """The service needs ticked (at least one) and their answers' elements, in the form's order."""
        rng = self.rng
        women = [member for member in members if member.sex == "female" and "1980" <= member.birth_date <= "2006"]
        needs = [need for need, share in (
            ("pregnancy_reported", 0.08 if women else 0), ("prepregnancy_check", 0.08), ("supplies", 0.6),
            ("family_benefit", 0.15), ("elderly_support", 0.12), ("hardship_support", 0.05), ("other", 0.05))
            if rng.random() < share] or ["supplies"]
        elements = []
        if "pregnancy_reported" in needs:
            woman = rng.choice(women)
            consent = rng.random() < 0.9
            elements.append(E.pregnancy(
                E.pregnant_person(*([] if new else [woman.uuid])), E.pregnant_person_name(*([woman.name] if new else [])),
                E.pregnancy_consent("yes" if consent else "no"),
                E.antenatal_referral(*(["yes" if rng.random() < 0.6 else "no"] if consent else []))))
        if "prepregnancy_check" in needs:
            couple = "、".join(rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) for _ in range(2))
            elements.append(E.prepregnancy(E.prepregnancy_names(couple),
                                           E.prepregnancy_consent("yes" if rng.random() < 0.8 else "no")))
        if "supplies" in needs:
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                item, _, quantities = rng.choices(SUPPLIES, weights=[weight for _, weight, _ in SUPPLIES])[0]
                quantity = "0" if rng.random() < 0.01 else str(rng.choice(quantities))   # 1 %: flagged (not positive)
                elements.append(E.supplies(E.supply(E.item(item), E.quantity(quantity),
                                                    E.given("yes" if rng.random() < 0.9 else "no"))))
        support = [need for need in SUPPORT_DETAILS if need in needs]
        if support:
            name = rng.choice(members).name
            elements.append(E.support(E.support_details("；".join(SUPPORT_DETAILS[need].format(name=name)
                                                                  for need in support))))
        if "other" in needs:
            elements.append(E.needs_text(rng.choice(("希望组织一次健康讲座", "想了解新农合报销", "需要残疾证办理咨询"))))
        return needs, elements


def registrations(rng: random.Random, groups: list[int], households_per_group: int, services: ServiceAnswers):
    """(group, household uuid, members, xml) for every household of every group."""
    for group in groups:
        for number in range(1, households_per_group + 1):
            household = f"{rng.getrandbits(128):032x}"
            surname = rng.choice(SURNAMES)
            members = [random_member(rng, surname, "head")] + [
                random_member(rng, surname if rng.random() < 0.6 else rng.choice(SURNAMES), "child")
                for _ in range(rng.choice((0, 1, 2, 2, 3, 3, 3, 4, 5)))]
            start = phone_time(rng, rng.randrange(100))
            xml = household_visit(household=household, new=(f"{number:03d}", f"{number}号"), start=start,
                                  members=members)
            yield group, household, members, services.add(xml, members, new=True, start=start)


def updates(rng: random.Random, households: list[tuple[int, str, list[Member]]], count: int,
            services: ServiceAnswers):
    """(group, xml) of visits to existing households, made after every registration."""
    for index in range(count):
        group, household, members = rng.choice(households)
        person = rng.choice(members)
        kind = rng.random()
        start = phone_time(rng, 200 + index * 100 // max(count, 1))
        if kind < 0.5:
            change = dict(change="details_corrected", phone_now=f"139{rng.randrange(10**8):08d}")
        elif kind < 0.8:
            change = dict(change="left_for_work", event_date="2026-10-01", place="广东省东莞市")
        else:
            baby = random_member(rng, members[0].name[0], "grandchild")
            xml = household_visit(household=household, base_version=1, start=start, members=[
                Member(baby.name, baby.sex, "2026-10-01", relationship="grandchild", reason="birth")])
            yield group, services.add(xml, members, new=False, start=start)
            continue
        xml = household_visit(household=household, base_version=1, start=start,
                              updates=[dict(person_uuid=person.uuid, base_version=1, **change)])
        yield group, services.add(xml, members, new=False, start=start)


class Register:
    """A fresh database with areas, collectors and the household_visit form, inside an app context."""

    def __init__(self, backend: str, towns: int, villages_only: int | None = None,
                 pg_database: str = "taizhang_bench_register") -> None:
        self.instance = tempfile.mkdtemp(prefix="taizhang-bench-register-")
        if backend == "postgresql":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_database}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{pg_database}"')
            url = PG_SERVER + pg_database
        else:
            url = f"sqlite:///{self.instance}/bench.sqlite3"
        self.url, self.backend, self.pg_database = url, backend, pg_database
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": self.instance, "SECRET_KEY": "bench"})
        self.context = self.app.app_context()
        self.context.push()
        upgrade(directory=str(ROOT / "server" / "migrations"))
        self.groups = self._areas(towns, villages_only)
        self.collectors = self._collectors()
        self.form_id, self.version_id = self._form()

    def _areas(self, towns: int, villages_only: int | None) -> list[int]:
        groups = []
        for town in range(1, towns + 1):
            for village in range(1, (villages_only or 10) + 1):
                for group in range(1, 31):
                    groups.append(ensure_area(f"镇{town:02d}/村{village:02d}/组{group:02d}").id)
        commit()
        return groups

    def _collectors(self) -> dict[int, int]:
        db.session.execute(insert(User), [dict(username=f"c{group}", display_name=f"c{group}", role="collector",
                                               area_id=group, password_hash="-", digest_ha1="-", digest_realm="-")
                                          for group in self.groups])
        commit()
        return {area: user for user, area in db.session.execute(select(User.id, User.area_id))}

    def _form(self) -> tuple[int, int]:
        publish_form(ROOT / "xlsforms" / "household_visit.xlsx", blob_store(),
                     media=list((ROOT / "xlsforms" / "fixtures").glob("*.csv")), validate=False)
        commit()
        form = db.session.scalar(select(Form).where(Form.xml_form_id == "household_visit"))
        return form.id, form.current_version_id

    def store(self, submissions: list[tuple[int, bytes]], *, queued: bool) -> None:
        """Store raw submissions as intake stores them (and queue them for the merge worker, if asked)."""
        now = dt.datetime.now(dt.timezone.utc)
        rows = []
        for group, xml in submissions:
            instance_id = parse_submission(xml).instance_id
            rows.append(dict(instance_id=instance_id, root_instance_id=instance_id, form_id=self.form_id,
                             form_version_id=self.version_id, xml=xml, xml_sha256=hashlib.sha256(xml).hexdigest(),
                             submitter_id=self.collectors[group], area_id=group, collector_name=f"c{group}",
                             received_at=now))
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Submission), rows[start:start + 5000])
        if queued:
            ids = db.session.scalars(select(Submission.id).where(
                Submission.instance_id.in_([row["instance_id"] for row in rows])))
            db.session.execute(insert(MergeQueueEntry), [dict(submission_id=i, enqueued_at=now) for i in ids])
        commit()

    def counts(self) -> tuple[int, int, int]:
        counted = tuple(db.session.scalar(select(func.count()).select_from(model))
                        for model in (Household, Person, RegisterFieldValue))
        db.session.rollback()
        return counted

    def service_items(self) -> dict[str, int]:
        """Service items stored, by kind (empty where the code has no service record)."""
        if SERVICE_ITEMS is None:
            return {}
        counted = dict(db.session.execute(select(SERVICE_ITEMS.kind, func.count()).group_by(SERVICE_ITEMS.kind)).all())
        db.session.rollback()
        return counted

    def derived_snapshot(self) -> dict[str, list[tuple]]:
        """Every `visit` row and (where the code has them) every `service_item` row, all columns but the id, in
        order: what a rebuild must give back."""
        snapshot = {"visit": [tuple(row) for row in db.session.execute(
            select(*Visit.__table__.columns).order_by(Visit.submission_id))]}
        if SERVICE_ITEMS is not None:
            columns = [column for column in SERVICE_ITEMS.__table__.columns if column.name != "id"]
            snapshot["service_item"] = [tuple(row) for row in db.session.execute(
                select(*columns).order_by(SERVICE_ITEMS.submission_id, SERVICE_ITEMS.seq))]
        db.session.rollback()
        return snapshot

    def close(self) -> None:
        db.session.remove()
        db.engine.dispose()
        self.context.pop()


@dataclass
class MergeRun:
    """One merge of the queued updates: `workers` processes, `batch` submissions a transaction."""

    workers: int
    batch: int
    merged: int
    failed: int
    timing: Timing
    peak_rss_mib: float         # the largest worker's peak RSS
    load: tuple[float, float, float]
    db_cpu: float = 0.0         # the CPU seconds of the workers' PostgreSQL backends

    @property
    def rate(self) -> float:
        return self.merged / self.timing.wall


def merge_runs(register: Register, configs: tuple[tuple[int, int], ...], queued: int) -> list[MergeRun]:
    """Merge the queue once per (workers, batch): every run but the last on a copy of the database as it stands
    (PostgreSQL: CREATE DATABASE … TEMPLATE; SQLite: a copy of the file), the last on the register itself."""
    runs = []
    db.session.remove()
    db.engine.dispose()   # a template database must have no other sessions
    for number, (workers, batch) in enumerate(configs):
        last = number == len(configs) - 1
        if register.backend == "postgresql":
            database = register.pg_database if last else f"{register.pg_database}_copy"
            if not last:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                    conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{register.pg_database}"')
            url = PG_SERVER + database
        else:
            workers = 1   # SQLite's write lock serialises merges: one worker
            source = Path(register.instance) / "bench.sqlite3"
            target = source if last else Path(register.instance) / "copy.sqlite3"
            if not last:
                shutil.copyfile(source, target)
            url, database = f"sqlite:///{target}", None
        runs.append(_merge_with_workers(url, database, workers, batch))
        if register.backend == "postgresql" and not last:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if runs[-1].merged != queued:
            print(f"  !! {workers} worker(s), batch {batch}: merged {runs[-1].merged} of {queued}")
    return runs


def _merge_with_workers(url: str, database: str | None, workers: int, batch: int) -> MergeRun:
    """Start the worker processes, let them connect, then time them from the go to the last one's exit."""
    processes = [subprocess.Popen([sys.executable, __file__, "--merge-worker", url, "--batch", str(batch)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for _ in range(workers)]
    for process in processes:
        assert process.stdout.readline().strip() == "ready"
    with Timing(database) as timing:
        started = time.process_time()
        for process in processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        peaks, tallies = [], []
        for process in processes:
            process.wait()
            tallies.append(json.loads(process.stdout.read().strip().splitlines()[-1]))
            peaks.append(tallies[-1]["peak_kib"] / 1024)
    # The workers' CPU (this process does nothing meanwhile) as the step's own; the database's is not known (the
    # workers' server processes are gone by the end).
    timing.cpu = sum(tally["cpu"] for tally in tallies) + (time.process_time() - started)
    return MergeRun(workers, batch, sum(tally["merged"] for tally in tallies),
                    sum(tally["failed"] for tally in tallies), timing, max(peaks), os.getloadavg(),
                    sum(tally["db_cpu"] for tally in tallies))


def merge_worker_process(url: str, batch: int) -> None:
    """One merge worker (`--merge-worker`): connect, say ready, wait for the go, drain the queue, print a tally."""
    instance = tempfile.mkdtemp(prefix="taizhang-bench-worker-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": instance, "SECRET_KEY": "bench"})
    with app.app_context():
        backend = db.session.scalar(text("SELECT pg_backend_pid()")) if url.startswith("postgresql") else None
        db.session.rollback()
        print("ready", flush=True)
        sys.stdin.readline()
        started, backend_started = time.process_time(), _process_cpu(backend)
        tally = run_merge_worker(loop=False, interval=0.02, batch_size=batch,
                                 warn=lambda message: print(message, file=sys.stderr))
        db_cpu = _process_cpu(backend) - backend_started
        # VmHWM: this program's own peak (ru_maxrss would keep the bench process's, copied by the fork before exec).
        peak_kib = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                        if line.startswith("VmHWM:"))
        print(json.dumps(dict(merged=tally.merged, failed=tally.failed, cpu=time.process_time() - started,
                              db_cpu=db_cpu, peak_kib=peak_kib)), flush=True)
        db.session.remove()
    shutil.rmtree(instance, ignore_errors=True)


def _process_cpu(pid: int | None) -> float:
    """CPU seconds of a process of this machine (the worker's PostgreSQL backend; 0 for none, or when not
    readable)."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build(backend: str, towns: int, households_per_group: int, update_count: int, seed: int,
          villages_only: int | None = None, *, service_share: float, pg_database: str,
          merge_configs: tuple[tuple[int, int], ...] = ((1, 1),)) -> dict:
    """Build a register, rebuild it, queue the updates and merge them with each (workers, batch) of
    `merge_configs` (each on a copy of the queued register but the last, which merges the register itself), then
    rebuild again and compare."""
    rng = random.Random(seed)
    services = ServiceAnswers(seed, service_share)
    register = Register(backend, towns, villages_only, pg_database)
    households, submissions = [], []
    for group, household, members, xml in registrations(rng, register.groups, households_per_group, services):
        households.append((group, household, members))
        submissions.append((group, xml))
    register.store(submissions, queued=False)

    database = pg_database if backend == "postgresql" else None
    with Timing(database) as parse:
        for _, xml in submissions:
            read_visit(xml)

    with Timing(database) as rebuild:
        applied = rebuild_register()
        commit()
    households_n, people_n, values_n = register.counts()
    items_after_rebuild = register.service_items()

    updates_stored = list(updates(rng, households, update_count, services))
    register.store(updates_stored, queued=True)
    if backend == "postgresql":   # the planner's statistics of the rebuilt tables, as autovacuum would gather them
        db.session.execute(text("ANALYZE"))
        commit()
    update_xml = [xml for _, xml in updates_stored]
    with Timing(database) as update_parse:
        for xml in update_xml:
            read_visit(xml)
    merges = merge_runs(register, merge_configs, len(update_xml))
    merge, merged = merges[-1].timing, merges[-1].merged
    live = register_queries.register_snapshot()
    db.session.rollback()

    merged_rows = register.derived_snapshot()
    items_after_merge = register.service_items()
    with Timing(database) as second:
        reapplied = rebuild_register()
        commit()
    rebuilt_rows = register.derived_snapshot()
    same_register = register_queries.register_snapshot() == live
    db.session.rollback()
    register.close()
    return dict(submissions=len(submissions), applied=applied, households=households_n, people=people_n,
                field_values=values_n, parse=parse, parse_rate=len(submissions) / parse.wall,
                rebuild=rebuild, rebuild_rate=applied / rebuild.wall, merged=merged, merge=merge,
                merge_rate=merged / merge.wall, merges=merges, same_register=same_register,
                update_parse_rate=len(update_xml) / update_parse.wall, items_after_rebuild=items_after_rebuild,
                items_after_merge=items_after_merge, reapplied=reapplied, second=second,
                second_rate=reapplied / second.wall,
                same_rows={table: (rows == rebuilt_rows.get(table), len(rows)) for table, rows in merged_rows.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=1, help="towns of 10 villages × 30 groups (a county: 20)")
    parser.add_argument("--households-per-group", type=int, default=37, help="37 ≈ 40,000 people per town")
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--service-share", type=float, default=0.35,
                        help="share of the visits with a service record (0: none, nor closing answers)")
    parser.add_argument("--pg-database", default="taizhang_bench_register")
    parser.add_argument("--merge", default="1x1,1x50,2x50,3x50",
                        help="merge runs as WORKERSxBATCH, comma-separated (each on a copy of the queued register)")
    parser.add_argument("--skip-baseline", action="store_true", help="no one-village baseline")
    parser.add_argument("--merge-worker", metavar="URL", help=argparse.SUPPRESS)   # one worker process (internal)
    parser.add_argument("--batch", type=int, default=50, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.merge_worker:
        merge_worker_process(args.merge_worker, args.batch)
        return
    configs = tuple(tuple(int(part) for part in item.split("x")) for item in args.merge.split(","))
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, backend {args.backend}; "
          f"service share {args.service_share}; service record in this code: "
          f"{'yes' if SERVICE_ITEMS is not None else 'no (its answers are ignored)'}")
    print(f"load average at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    options = dict(service_share=args.service_share, pg_database=args.pg_database, merge_configs=configs)
    runs = [] if args.skip_baseline else [("one village (baseline)", build(
        args.backend, 1, args.households_per_group, args.updates, args.seed, villages_only=1, **options))]
    full = build(args.backend, args.towns, args.households_per_group, args.updates, args.seed, **options)
    runs.append((f"{args.towns} town(s)", full))
    same = True
    for label, run in runs:
        print(f"\n{label}: {run['households']:,} households, {run['people']:,} people, "
              f"{run['field_values']:,} field values from {run['submissions']:,} registration visits")
        print(f"  parse only (ceiling):  {run['parse_rate']:8,.0f} submissions/s "
              f"({run['parse'].per(run['submissions'])})")
        print(f"  rebuild:               {run['rebuild_rate']:8,.0f} submissions/s "
              f"({run['rebuild'].wall:.1f} s; {run['rebuild_rate'] / run['parse_rate']:.2f} of the ceiling; "
              f"target 5,000/s; {run['rebuild'].per(run['applied'])})")
        print(f"  parse only, the {run['merges'][-1].merged + 0:,} update visits (merge ceiling, one process): "
              f"{run['update_parse_rate']:,.0f}/s")
        for merge in run["merges"]:
            print(f"  merge worker {merge.workers}×, batch {merge.batch:>3}: {merge.rate:8,.0f} visits/s "
                  f"= {merge.rate / 500:.2f} of 500/s, {merge.rate / run['update_parse_rate']:.3f} of the parse "
                  f"ceiling ({merge.merged:,} visits in {merge.timing.wall:.1f} s; workers' CPU "
                  f"{1000 * merge.timing.cpu / merge.merged:.2f} ms each, their PostgreSQL backends' "
                  f"{1000 * merge.db_cpu / merge.merged:.2f} ms; "
                  f"peak RSS of a worker {merge.peak_rss_mib:,.0f} MiB; load {merge.load[0]:.2f})"
                  + (f"; {merge.failed} FAILED attempt(s)" if merge.failed else ""))
        print(f"  register after the last merge = rebuild (register_snapshot): "
              f"{'yes' if run['same_register'] else 'NO'}")
        same = same and run["same_register"]
        print(f"  rebuild, all visits:   {run['second_rate']:8,.0f} submissions/s "
              f"({run['reapplied']:,} visits in {run['second'].wall:.1f} s; "
              f"{run['second_rate'] / run['parse_rate']:.2f} of the ceiling; {run['second'].per(run['reapplied'])})")
        if SERVICE_ITEMS is not None:
            print(f"  service items:         {sum(run['items_after_rebuild'].values()):8,} after the rebuild, "
                  f"{sum(run['items_after_merge'].values()):,} after the merge worker "
                  f"({', '.join(f'{kind} {n:,}' for kind, n in sorted(run['items_after_merge'].items()))})")
        for table, (equal, rows) in run["same_rows"].items():
            print(f"  {table} rows after the merge worker = after the rebuild: {'yes' if equal else 'NO'} "
                  f"({rows:,} rows)")
            same = same and equal
    if len(runs) == 2:
        print(f"\nmerge worker at {args.towns} town(s) / one village (the last merge run): "
              f"{full['merge_rate'] / runs[0][1]['merge_rate']:.2f}")
    print(f"machine busy during the run: load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"peak RSS of this process (builds, parses, rebuilds): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
