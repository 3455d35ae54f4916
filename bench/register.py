#!/usr/bin/env python3
"""Register benchmark: rebuild rate and merge-worker rate on a synthetic town or county register.

    .venv/bin/python bench/register.py [--towns 1] [--updates 2000] [--backend postgresql|sqlite]

Builds a register the way production does: areas (towns × 10 villages × 30 groups), one collector per group,
the real household_visit form, and one registration visit per household (1–6 members with Chinese names, birth
dates, valid resident ID numbers for most, phones for most adults), stored as raw submissions. Then, timed:

* **rebuild**: `taizhang rebuild`'s `rebuild_register()` over every submission, against the same-run ceiling of
  only parsing those submissions (`read_visit`), which any rebuild must do;
* **merge worker**: `--updates` visits to existing households (phone numbers corrected, people leaving to work,
  births, moves within the group), queued as intake queues them and merged one transaction each by the merge
  worker's own loop (`merge_next` + commit, duplicate check included), into the full register and, as the
  baseline, into a register of one village made the same way: the ratio shows what the register's size costs.

PostgreSQL uses database `taizhang_bench_register` (dropped and recreated). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
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

import psycopg
from flask_migrate import upgrade
from sqlalchemy import func, insert, select

from bench.county import SURNAMES, phone_time, random_member
from server import create_app
from server.areas.operations import ensure_area
from server.database import commit
from server.extensions import db
from server.forms.models import Form
from server.forms.operations import publish_form
from server.register.models import Household, Person, RegisterFieldValue
from server.register.replays import rebuild_register
from server.register.worker import merge_next
from server.storage import blob_store
from server.submissions.models import MergeQueueEntry, Submission
from server.users.models import User
from sync.submission import parse_submission
from sync.visits import read_visit
from tests.register_visits import Member, household_visit

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/taizhang_bench_register"


def registrations(rng: random.Random, groups: list[int], households_per_group: int):
    """(group, household uuid, members, xml) for every household of every group."""
    for group in groups:
        for number in range(1, households_per_group + 1):
            household = f"{rng.getrandbits(128):032x}"
            surname = rng.choice(SURNAMES)
            members = [random_member(rng, surname, "head")] + [
                random_member(rng, surname if rng.random() < 0.6 else rng.choice(SURNAMES), "child")
                for _ in range(rng.choice((0, 1, 2, 2, 3, 3, 3, 4, 5)))]
            yield group, household, members, household_visit(
                household=household, new=(f"{number:03d}", f"{number}号"), start=phone_time(rng, rng.randrange(100)),
                members=members)


def updates(rng: random.Random, households: list[tuple[int, str, list[Member]]], count: int):
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
            yield group, household_visit(household=household, base_version=1, start=start, members=[
                Member(baby.name, baby.sex, "2026-10-01", relationship="grandchild", reason="birth")])
            continue
        yield group, household_visit(household=household, base_version=1, start=start,
                                     updates=[dict(person_uuid=person.uuid, base_version=1, **change)])


class Register:
    """A fresh database with areas, collectors and the household_visit form, inside an app context."""

    def __init__(self, backend: str, towns: int, villages_only: int | None = None) -> None:
        self.instance = tempfile.mkdtemp(prefix="taizhang-bench-register-")
        if backend == "postgresql":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS taizhang_bench_register WITH (FORCE)")
                conn.execute("CREATE DATABASE taizhang_bench_register")
            url = PG_BENCH
        else:
            url = f"sqlite:///{self.instance}/bench.sqlite3"
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

    def close(self) -> None:
        db.session.remove()
        db.engine.dispose()
        self.context.pop()


def build(backend: str, towns: int, households_per_group: int, update_count: int, seed: int,
          villages_only: int | None = None) -> dict:
    rng = random.Random(seed)
    register = Register(backend, towns, villages_only)
    households, submissions = [], []
    for group, household, members, xml in registrations(rng, register.groups, households_per_group):
        households.append((group, household, members))
        submissions.append((group, xml))
    register.store(submissions, queued=False)

    started = time.perf_counter()
    for _, xml in submissions:
        read_visit(xml)
    parse_seconds = time.perf_counter() - started

    started = time.perf_counter()
    applied = rebuild_register()
    commit()
    rebuild_seconds = time.perf_counter() - started
    households_n, people_n, values_n = register.counts()

    register.store(list(updates(rng, households, update_count)), queued=True)
    started = time.perf_counter()
    merged = 0
    while merge_next() is not None:
        commit()
        merged += 1
    commit()
    merge_seconds = time.perf_counter() - started
    register.close()
    return dict(submissions=len(submissions), applied=applied, households=households_n, people=people_n,
                field_values=values_n, parse_rate=len(submissions) / parse_seconds,
                rebuild_seconds=rebuild_seconds, rebuild_rate=applied / rebuild_seconds, merged=merged,
                merge_rate=merged / merge_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=1, help="towns of 10 villages × 30 groups (a county: 20)")
    parser.add_argument("--households-per-group", type=int, default=37, help="37 ≈ 40,000 people per town")
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, backend {args.backend}")

    baseline = build(args.backend, 1, args.households_per_group, args.updates, args.seed, villages_only=1)
    full = build(args.backend, args.towns, args.households_per_group, args.updates, args.seed)
    for label, run in (("one village (baseline)", baseline), (f"{args.towns} town(s)", full)):
        print(f"\n{label}: {run['households']:,} households, {run['people']:,} people, "
              f"{run['field_values']:,} field values from {run['submissions']:,} registration visits")
        print(f"  parse only (ceiling):  {run['parse_rate']:8,.0f} submissions/s")
        print(f"  rebuild:               {run['rebuild_rate']:8,.0f} submissions/s "
              f"({run['rebuild_seconds']:.1f} s; {run['rebuild_rate'] / run['parse_rate']:.2f} of the ceiling; "
              f"target 5,000/s)")
        print(f"  merge worker:          {run['merge_rate']:8,.0f} submissions/s ({run['merged']:,} visits)")
    print(f"\nmerge worker at {args.towns} town(s) / one village: {full['merge_rate'] / baseline['merge_rate']:.2f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
