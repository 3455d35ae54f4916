#!/usr/bin/env python3
"""Staff-page benchmark: every page a village cadre and a town officer work from, on a town of ~40,000 people.

    .venv/bin/python bench/staff_pages.py [--requests 20] [--reuse] [--only inbox,audit] [--villages 10]
    .venv/bin/python bench/staff_pages.py --towns 20 --pg-database taizhang_bench_pages   # the county (issue 22)

Builds the town of bench/register_pages.py (its `build_town`: 300 groups, ~40,000 people, a year of visits with
their service records, life events, follow-ups) in a fresh database `taizhang_bench_staff`, then adds what the
staff pages read and that builder leaves out, with a random generator of its own: three-character names for 60 % of
the people and valid resident ID numbers for 92 %; the match-key index search reads; 300 people registered twice
(a few with their household) and the open candidate pairs the real scorer finds among them; 220 open conflicts and
300 settled ones; service tiers (key 10 %, general 15 %, follow-up 8 %), the anchors of births and operations and a
next visit agreed on 30 % of the visits (that builder gives every completed visit one) for the due list; a
collector account per group and a cadre per village; reviews of most visits older than a month; an audit log of
100,000 events over the year; and the XML of the few visits whose pages are timed (a registration, a visit with its
service record, a follow-up, an attempt).

With `--towns N` the town is then cloned in SQL into N-1 more (clone_towns: ~800,000 people for 20), and a county
account is added.

Then, in a process of its own (as a server would be), signed in through the Flask test client (no network) as a
village cadre (青山镇/1村), as a town officer (青山镇) and as the county, it requests every page of PAGES `--requests` times after
one untimed request and prints p50 and p95 per page, slowest first, with the p95 as a share of the 300 ms limit and
as a multiple of the same run's floor (the sign-in page, which reads no data), and the SQL statements a request
runs and the time they take. Exits 0: figures are printed, never asserted. `--only` keeps the pages whose name or
path holds the text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

import psycopg
from register_pages import GIVEN, LIMIT_MS, PASSWORD, PERIOD, SURNAMES, build_town, p95, sign_in
from sqlalchemy import event, text

from server import create_app
from server.audit.models import AuditEvent
from server.database import commit
from server.extensions import db
from server.register import summaries
from server.register.models import (
    DuplicateCandidate,
    Household,
    Person,
    PersonMatchKey,
    RegisterConflict,
    RegisterFieldValue,
    ServiceAnchor,
    VisitReview,
)
from server.register.queries import bulk_insert
from server.users import credentials
from server.users.models import User
from server.users.operations import add_user
from sync.identity import PersonRecord, block_keys, candidate_pairs, id_check_character, name_key
from sync.registers import REGISTERS
from sync.search_keys import person_search_columns
from tests.register_visits import Member, followup_visit, household_visit

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = os.environ.get("TAIZHANG_BENCH_STAFF_DB", "taizhang_bench_staff")   # --pg-database sets it
PG_BENCH = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
AS_OF = "2026-12-04"       # the due list's day: the town's year of visits ends in November 2026
GIVEN_SECOND = "兰英华芳珍梅凤云红霞平明军伟林"
REGION = "510722"          # a Sichuan county's region code, for the ID numbers

# BOTH: every staff reader (the name is from when there were two); OFFICER: the town office and the county.
BOTH, CADRE, OFFICER = ("cadre", "officer", "county"), ("cadre",), ("officer", "county")
READERS = {"cadre": "cadre", "officer": "officer", "county": "county"}   # reader → account

# The pages: (name, path, query arguments, who requests it). `{name}` in a path or an argument is filled from the
# samples `choose_samples` picks (`{area}` is the reader's area one level down: a group for the cadre, a village for
# the officer). A page answering 404 (e.g. a route another branch adds) is skipped with a note.
PAGES: list[tuple[str, str, dict, tuple[str, ...]]] = [
    ("root (→ home)", "/", {}, BOTH),
    ("home", "/home", {}, BOTH),
    ("due", "/due", {"as_of": AS_OF}, BOTH),
    ("due, an area", "/due", {"as_of": AS_OF, "area": "{area}"}, BOTH),
    ("inbox", "/inbox", {}, BOTH),
    ("inbox, group + not reviewed", "/inbox", {"group_id": "{group_id}", "state": "received"}, BOTH),
    ("inbox, collector + period", "/inbox", {"collector": "{collector}", "since": "2026-11-01",
                                             "until": "2026-11-30"}, BOTH),
    ("inbox, page 20", "/inbox", {"page": "20"}, BOTH),
    ("inbox, page 50", "/inbox", {"page": "50"}, BOTH),
    ("inbox, a village", "/inbox", {"village_id": "{village_id}"}, BOTH),
    ("visit: registration", "/visits/{registration}", {}, BOTH),
    ("visit: services", "/visits/{services_visit}", {}, BOTH),
    ("visit: follow-up", "/visits/{followup}", {}, BOTH),
    ("visit: attempt", "/visits/{attempt}", {}, BOTH),
    ("person (many visits)", "/people/{person}", {}, BOTH),
    ("household (many visits)", "/households/{household}", {}, BOTH),
    ("search: Chinese name", "/search", {"q": "{name}"}, BOTH),
    ("search: pinyin", "/search", {"q": "{pinyin}"}, BOTH),
    ("search: pinyin, no spaces", "/search", {"q": "{pinyin_joined}"}, BOTH),
    ("search: initials", "/search", {"q": "{initials}"}, BOTH),
    ("search: surname", "/search", {"q": "{surname}"}, BOTH),
    ("search: phone start", "/search", {"q": "{phone_start}"}, BOTH),
    ("search: ID number start", "/search", {"q": "{id_start}"}, BOTH),
    ("duplicates", "/duplicates", {}, BOTH),
    ("conflicts", "/conflicts", {}, BOTH),
    ("registers", "/registers/", {}, BOTH),
    *((f"register {name}", f"/registers/{name}", PERIOD, BOTH) for name in REGISTERS),
    ("register working-away, a town", "/registers/working-away", {**PERIOD, "area": "{town_id}"}, OFFICER),
    ("reports", "/reports", {}, BOTH),
    ("collectors", "/collectors", {}, OFFICER),
    ("collectors, an area", "/collectors", {"area": "{area}"}, OFFICER),   # the county: a town, the office: a village
    ("audit", "/audit", {}, OFFICER),
    ("password", "/account/password", {}, BOTH),
    ("month sign-off (a village)", "/months/{village_id}/2026-11", {}, BOTH),
    ("months", "/months", {}, BOTH),
    ("archive", "/archive", {}, BOTH),
    ("indicators (last month)", "/indicators", {"period": "2026-11"}, BOTH),
    ("indicators (a quarter)", "/indicators", {"period": "2026-Q4"}, BOTH),
    ("meeting sheet (a village)", "/meetings", {"area": "青山镇/1村", "month": "2026-11"}, BOTH),
    ("re-checks", "/rechecks", {"month": "2026-11"}, OFFICER),
    ("collector monitoring", "/monitoring", {}, BOTH),
    ("collector monitoring, an area", "/monitoring", {"area": "{area}"}, BOTH),
    ("re-checks of a village", "/rechecks/{village_id}/2026-11", {}, OFFICER),
    ("moves", "/moves", {}, BOTH),
    ("notices", "/notices", {}, BOTH),
    ("new notice", "/notices/new", {"person": "{person}"}, OFFICER),
    ("purge (dry run)", "/privacy/purge", {}, OFFICER),
    ("person: own copies", "/people/{person}/copies", {}, BOTH),
    ("person: correct", "/people/{person}/correct", {}, BOTH),
    ("person: tier", "/people/{person}/tier", {}, BOTH),
    ("person: consent", "/people/{person}/consent", {}, BOTH),
    ("person: move out", "/people/{person}/move", {}, BOTH),
    ("household: new member", "/households/{household}/members/new", {}, BOTH),
    ("due, page 2", "/due", {"as_of": AS_OF, "page": "2"}, BOTH),
    ("duplicates, page 2", "/duplicates", {"page": "2"}, BOTH),
    ("audit, page 50", "/audit", {"page": "50"}, OFFICER),
]


def bench_app(*, fresh: bool):
    if fresh:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DATABASE}")
    return create_app({"SQLALCHEMY_DATABASE_URI": PG_BENCH, "INSTANCE_DIR": tempfile.mkdtemp(), "SECRET_KEY": "b",
                       "TAIZHANG_LOGIN_LIMIT": "100000 per minute"})


# ---- what the staff pages read, added to the register_pages town ------------------------------------------------

def add_staff_work(rng: random.Random) -> dict:
    """Names, ID numbers, the match keys, duplicates, conflicts, tiers and anchors, accounts, reviews, the audit log
    and the XML of the timed visits (see the module docstring)."""
    groups = {row.id: row for row in db.session.execute(text(
        "SELECT g.id, g.path, g.full_name, g.parent_id, v.path AS village_path, v.full_name AS village_name "
        "FROM area g JOIN area v ON v.id = g.parent_id WHERE g.kind = 'group' ORDER BY g.id"))}
    households = [dict(row._mapping) for row in db.session.execute(text("SELECT * FROM household ORDER BY uuid"))]
    people = [dict(row._mapping) for row in db.session.execute(text("SELECT * FROM person ORDER BY uuid"))]
    household_group = {row["uuid"]: row["group_id"] for row in households}
    for person in people:
        if rng.random() < 0.6:
            person["name"] += rng.choice(GIVEN_SECOND)
        if rng.random() < 0.92:
            person["id_number"] = _id_number(rng, person["birth_date"], person["sex"])
    duplicates, duplicate_households = _plant_duplicates(rng, people, households, household_group, groups)
    for person in people:     # the search columns, as the merge writes them
        person.update(person_search_columns(person))
    db.session.execute(text("TRUNCATE person"))
    bulk_insert(Person, people)
    bulk_insert(Household, duplicate_households)

    records = {}
    for person in people:
        group = groups[household_group[person["household_uuid"]]]
        records[person["uuid"]] = (PersonRecord(
            id=person["uuid"], village=str(group.parent_id), household=person["household_uuid"], name=person["name"],
            sex=person["sex"], birth_date=dt.date.fromisoformat(person["birth_date"]), id_number=person["id_number"],
            phone=person["phone"]), group.parent_id)
    bulk_insert(PersonMatchKey, [dict(person_uuid=uuid, key=key, village_id=village)
                                 for uuid, (record, village) in records.items()
                                 for key in dict.fromkeys(block_keys(record))])
    found_at = dt.datetime(2026, 11, 20, 3, tzinfo=dt.timezone.utc)
    pairs = [dict(record_kind="person", village_id=int(candidate_record.village), a_uuid=pair.a, b_uuid=pair.b,
                  score=pair.score.score, reasons=" ".join(pair.score.reasons), automatic=pair.score.automatic,
                  state="open", found_at=found_at)
             for pair in candidate_pairs(record for record, _ in records.values())
             for candidate_record in (records[pair.a][0],)]
    for duplicate in duplicate_households:
        original = duplicate["uuid"].removesuffix("-twice")
        a, b = sorted((original, duplicate["uuid"]))
        pairs.append(dict(record_kind="household", village_id=groups[duplicate["group_id"]].parent_id, a_uuid=a,
                          b_uuid=b, score=0.6, reasons="same_household_no same_address", automatic=False,
                          state="open", found_at=found_at))
    bulk_insert(DuplicateCandidate, pairs)

    # A next visit agreed on 30 % of the visits, as bench/register.py writes them (the register_pages builder gives
    # every completed visit one, which would put every household on the due list as an agreed visit).
    db.session.execute(text("UPDATE visit SET next_visit = NULL WHERE submission_id % 10 >= 3"))
    submissions = _visits_by_household()
    conflicts = _conflicts(rng, people, households, submissions)
    bulk_insert(RegisterConflict, conflicts)
    tiers, anchors = _tiers_and_anchors(rng, people)
    users = _accounts(rng, groups)
    reviews = _reviews(rng, users, groups)
    audit = _audit_log(rng, users, groups, people, household_group)
    xml = _visit_xml(people, households)
    commit()
    return dict(duplicates=duplicates, pairs=len(pairs), open_conflicts=sum(c["state"] == "open" for c in conflicts),
                tiers=tiers, anchors=anchors, users=len(users["collectors"]) + len(users["cadres"]) + 1,
                reviews=reviews, audit=audit, xml=xml)


def _id_number(rng: random.Random, birth_date: str, sex: str) -> str:
    order = rng.randrange(1, 500) * 2 + (1 if sex == "male" else 0)
    first = f"{REGION}{birth_date.replace('-', '')}{order:03d}"
    return first + id_check_character(first)


def _plant_duplicates(rng: random.Random, people: list[dict], households: list[dict], household_group: dict,
                      groups: dict) -> tuple[int, list[dict]]:
    """300 people registered a second time in another household of their village (no ID number, the same name or
    a name one character off with the same phone); one in ten with their whole household registered twice."""
    by_village: dict[int, list[dict]] = {}
    for household in households:
        by_village.setdefault(groups[household["group_id"]].parent_id, []).append(household)
    twice = []
    for number, original in enumerate(rng.sample(people, 300)):
        group = groups[household_group[original["household_uuid"]]]
        if number % 10 == 0:
            home = next(row for row in households if row["uuid"] == original["household_uuid"])
            copy = dict(home, uuid=home["uuid"] + "-twice")
            twice.append(copy)
            household_group[copy["uuid"]] = copy["group_id"]
        else:
            copy = rng.choice(by_village[group.parent_id])
        name = original["name"]
        phone = original["phone"] if rng.random() < 0.5 else f"138{rng.randrange(10 ** 8):08d}"
        if rng.random() < 0.25:
            name, phone = name[:-1] + rng.choice(GIVEN), original["phone"]
        people.append(dict(original, uuid=f"{original['uuid']}-again", household_uuid=copy["uuid"], name=name,
                           id_number=None, phone=phone, relationship="head" if number % 10 == 0 else "other"))
    return 300, twice


def _visits_by_household() -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for household, submission_id, instance_id in db.session.execute(text(
            "SELECT v.household_uuid, s.id, s.instance_id FROM visit v JOIN submission s ON s.id = v.submission_id "
            "WHERE v.form = 'household_visit' ORDER BY s.id")):
        found.setdefault(household, []).append((submission_id, instance_id))
    return found


def _conflicts(rng: random.Random, people: list[dict], households: list[dict], submissions: dict) -> list[dict]:
    """220 open conflicts (a phone or a birth date told two ways by two visits, an address of a household) and 300
    settled ones."""
    rows = []
    for number in range(520):
        state = "open" if number < 220 else "resolved"
        if number % 10 == 9:
            household = rng.choice(households)
            visits = submissions.get(household["uuid"], [])
            kind_uuid, field, value, other = household["uuid"], "address", household["address"], household["address"] + "附1号"
        else:
            person = rng.choice(people)
            visits = submissions.get(person["household_uuid"], [])
            if rng.random() < 0.7:
                kind_uuid, field, value, other = person["uuid"], "phone", person["phone"], f"137{rng.randrange(10 ** 8):08d}"
            else:
                kind_uuid, field, value = person["uuid"], "birth_date", person["birth_date"]
                other = value[:-1] + str((int(value[-1]) + 1) % 10)
        if len(visits) < 2:
            continue
        first, second = rng.sample(visits, 2)
        rows.append(dict(record_uuid=kind_uuid, field=field, value=value, instance_id=first[1], other_value=other,
                         other_instance_id=second[1], state=state))
    return rows


def _tiers_and_anchors(rng: random.Random, people: list[dict]) -> tuple[int, int]:
    """Tiers given on 1 January 2026 (as bench/schedules.py), and the anchors of the births and operations the
    town's visits told (the register_pages builder writes the events and follow-ups, not the anchors)."""
    new_year = dt.datetime(2025, 12, 31, 16, tzinfo=dt.timezone.utc)
    tiers = []
    for person in people:
        draw = rng.random()
        tier = "key" if draw < 0.10 else "general" if draw < 0.25 else "followup" if draw < 0.33 else None
        if tier:
            tiers.append(dict(record_kind="person", record_uuid=person["uuid"], field="tier", value=tier, version=2,
                              instance_id="decision:0", visited_at=new_year))
    bulk_insert(RegisterFieldValue, tiers)
    db.session.execute(text(
        "UPDATE person SET tier = f.value FROM register_field_value f "
        "WHERE f.field = 'tier' AND f.record_uuid = person.uuid"))
    anchors = [dict(person_uuid=row.person_uuid, kind="birth", anchor_date=row.event_date,
                    submission_id=row.submission_id) for row in db.session.execute(text(
                        "SELECT person_uuid, event_date, submission_id FROM life_event WHERE kind = 'birth'"))]
    anchors += [dict(person_uuid=row.person_uuid, kind="operation", anchor_date=row.visit_date - dt.timedelta(days=10),
                     submission_id=row.submission_id) for row in db.session.execute(text(
                         "SELECT person_uuid, visit_date, submission_id FROM visit "
                         "WHERE followup_type = 'post_operation'"))]
    bulk_insert(ServiceAnchor, anchors)
    return len(tiers), len(anchors)


def _accounts(rng: random.Random, groups: dict) -> dict:
    """A collector account a group (the user names the visits name: c<group id>), a cadre a village (`cadre` is
    the first village's, made by build_town)."""
    password = credentials.hash_web_password(PASSWORD)
    collectors = [dict(username=f"c{group_id}", display_name=rng.choice(SURNAMES) + rng.choice(GIVEN)
                       + rng.choice(GIVEN_SECOND), role="collector", area_id=group_id, password_hash=password,
                       digest_ha1=credentials.digest_ha1(f"c{group_id}", "taizhang", PASSWORD),
                       digest_realm="taizhang", token_hash=hashlib.sha256(f"token-{group_id}".encode()).hexdigest(),
                       active=rng.random() < 0.97) for group_id in groups]
    bulk_insert(User, collectors)
    villages = sorted({row.village_name for row in groups.values()})
    for number, village in enumerate(villages[1:], start=2):
        add_user(f"cadre{number}", "village_cadre", village, realm="taizhang", password=PASSWORD)
    staff = {row.username: row.id for row in db.session.execute(text("SELECT id, username FROM app_user"))}
    cadres = {village: staff["cadre" if number == 1 else f"cadre{number}"]
              for number, village in enumerate(villages, start=1)}
    return dict(collectors={f"c{group_id}": staff[f"c{group_id}"] for group_id in groups}, cadres=cadres,
                officer=staff["officer"])


def _reviews(rng: random.Random, users: dict, groups: dict) -> int:
    """The village cadre reviewed 85 % of the visits older than a month (approved, 6 % with issues) and 30 % of
    November's."""
    rows = []
    for submission_id, group_id, day in db.session.execute(text(
            "SELECT v.submission_id, s.area_id, v.visit_date FROM visit v JOIN submission s ON s.id = v.submission_id")):
        if rng.random() < (0.30 if day >= dt.date(2026, 11, 1) else 0.85):
            issues = rng.random() < 0.06
            rows.append(dict(submission_id=submission_id, state="has_issues" if issues else "approved",
                             comment="请核对电话号码" if issues else None,
                             reviewed_by=users["cadres"][groups[group_id].village_name],
                             reviewed_at=dt.datetime.combine(day + dt.timedelta(days=rng.randint(1, 20)), dt.time(2),
                                                             tzinfo=dt.timezone.utc)))
    bulk_insert(VisitReview, rows)
    return len(rows)


AUDIT_ACTIONS = (("person.read", 30), ("household.read", 15), ("inbox.read", 15), ("visit.read", 15),
                 ("due.read", 8), ("person.search", 8), ("duplicates.read", 3), ("conflicts.read", 2),
                 ("register.review", 3), ("export.monthly_change", 1))


def _audit_log(rng: random.Random, users: dict, groups: dict, people: list[dict], household_group: dict) -> int:
    """100,000 events over the year: the cadres' reads and reviews in their villages, the officer's in the town."""
    actions, weights = zip(*AUDIT_ACTIONS)
    group_list = list(groups.values())
    rows = []
    start = dt.datetime(2025, 12, 1, tzinfo=dt.timezone.utc)
    for number in sorted(rng.random() for _ in range(100_000)):
        action = rng.choices(actions, weights)[0]
        group = rng.choice(group_list)
        officer = rng.random() < 0.15
        user = users["officer"] if officer else users["cadres"][group.village_name]
        subject = None
        if action in ("person.read", "household.read"):
            person = rng.choice(people)
            group = groups[household_group[person["household_uuid"]]]
            subject = person["uuid"] if action == "person.read" else person["household_uuid"]
            path = group.path
        elif action in ("visit.read", "register.review"):
            path, subject = group.path, str(rng.randrange(1, 100_000))
        else:
            path = "/" + group.path.split("/")[1] + "/" if officer else group.village_path
        rows.append(dict(at=start + dt.timedelta(days=365 * number), user_id=user, action=action, area_path=path,
                         subject=subject, records=rng.randint(1, 50)))
    bulk_insert(AuditEvent, rows)
    return len(rows)


def _visit_xml(people: list[dict], households: list[dict]) -> int:
    """The XML of the visits whose pages are timed (`choose_samples` picks them by their XML): the registration of
    the largest household of 1村/1组, the household visit of 1村 with the most service items, a completed follow-up
    and an attempt of 1村."""
    samples = _visit_samples()
    members = [person for person in people if person["household_uuid"] == samples["registration_household"]]
    household = next(row for row in households if row["uuid"] == samples["registration_household"])
    written = {samples["registration"]: household_visit(
        household=household["uuid"], start="2025-06-01T09:30:00.000+08:00", new=(household["household_no"],
                                                                                 household["address"]),
        members=[Member(name=p["name"], sex=p["sex"], birth_date=p["birth_date"], id_number=p["id_number"] or "",
                        phone=p["phone"], relationship=p["relationship"], uuid=p["uuid"]) for p in members],
        instance_id=f"b{samples['registration']}", username="c1")}
    items = db.session.execute(text("SELECT kind, code, person_uuid, quantity, given FROM service_item "
                                    "WHERE submission_id = :id ORDER BY seq"), {"id": samples["services_visit"]}).all()
    row = db.session.execute(text("SELECT household_uuid, visit_date FROM visit WHERE submission_id = :id"),
                             {"id": samples["services_visit"]}).one()
    written[samples["services_visit"]] = household_visit(
        household=row.household_uuid, start=f"{row.visit_date}T10:00:00.000+08:00",
        services=tuple(dict.fromkeys(item.code for item in items if item.kind == "service")) or ("health_guidance",),
        supplies=[(item.person_uuid, item.code, str(item.quantity), "yes" if item.given else "no")
                  for item in items if item.kind == "supply"],
        next_visit="2026-12-15", notes="家中老人行动不便，下次上午来", location="30.6 104.1 500 5",
        instance_id=f"b{samples['services_visit']}", username="c1")
    for key, outcome in (("followup", "completed"), ("attempt", "nobody_home")):
        row = db.session.execute(text("SELECT household_uuid, person_uuid, visit_date, followup_type FROM visit "
                                      "WHERE submission_id = :id"), {"id": samples[key]}).one()
        written[samples[key]] = followup_visit(
            person=row.person_uuid, household=row.household_uuid, followup_type=row.followup_type,
            start=f"{row.visit_date}T15:00:00.000+08:00", outcome=outcome, supplies=[("folic_acid", "2")]
            if outcome == "completed" else [], instance_id=f"b{samples[key]}", username="c1")
    for submission_id, xml in written.items():
        db.session.execute(text("UPDATE submission SET xml = :xml, xml_sha256 = :sha WHERE id = :id"),
                           {"xml": xml, "sha": hashlib.sha256(xml).hexdigest(), "id": submission_id})
    return len(written)


def _visit_samples() -> dict:
    """The visits whose pages are timed, all of the first village (the cadre's)."""
    village = "SELECT path FROM area WHERE full_name = '青山镇/1村'"
    in_village = (f"JOIN submission s ON s.id = v.submission_id JOIN area g ON g.id = s.area_id "
                  f"WHERE g.path LIKE ({village}) || '%'")
    registration_household = db.session.scalar(text(
        "SELECT p.household_uuid FROM person p JOIN household h ON h.uuid = p.household_uuid "
        "JOIN area g ON g.id = h.group_id WHERE g.full_name = '青山镇/1村/1组' "
        "GROUP BY p.household_uuid ORDER BY count(*) DESC, p.household_uuid LIMIT 1"))
    return dict(
        registration_household=registration_household,
        registration=db.session.scalar(text(
            "SELECT min(submission_id) FROM visit WHERE household_uuid = :h"), {"h": registration_household}),
        services_visit=db.session.scalar(text(
            f"SELECT v.submission_id FROM visit v {in_village} AND v.form = 'household_visit' "
            "AND v.visit_date >= '2026-11-01' ORDER BY (SELECT count(*) FROM service_item i "
            "WHERE i.submission_id = v.submission_id) DESC, v.submission_id LIMIT 1")),
        followup=db.session.scalar(text(
            f"SELECT v.submission_id FROM visit v {in_village} AND v.form = 'followup' AND v.completed "
            "ORDER BY v.visit_date DESC, v.submission_id LIMIT 1")),
        attempt=db.session.scalar(text(
            f"SELECT v.submission_id FROM visit v {in_village} AND v.outcome = 'nobody_home' "
            "ORDER BY v.visit_date DESC, v.submission_id LIMIT 1")))


# ---- the county: the town cloned in SQL ------------------------------------------------------------------------

TOWN_NAMES = ("青山镇", "白鹤镇", "金桥镇", "柳溪镇", "石门镇", "龙泉镇", "新店镇", "桂花镇", "永兴镇", "太平镇",
              "安乐镇", "红岩镇", "三江镇", "黄桷镇", "清平镇", "双河镇", "兴隆镇", "高桥镇", "万福镇", "长乐镇")
AREA_STEP, ID_STEP = 10_000, 10_000_000    # town k's area and user ids are town 1's + (k-1)·AREA_STEP, other ids +ID_STEP

# Per table, how town k's copy of a column is made from town 1's (other columns are copied as they are):
# area/user: id + (k-1)·AREA_STEP; id: + (k-1)·ID_STEP; key: a record's uuid, an instanceID or an item key with
# "t<k>." before it (a prefix keeps the order of a candidate pair's two uuids); path: a materialised path with every id moved; uuid4: a new uuid; hash: a
# new SHA-256 (a token's).
CLONED = {
    "area": dict(id="area", parent_id="area", path="path"),
    "app_user": dict(id="user", area_id="area", token_hash="hash"),
    "household": dict(uuid="key", group_id="area"),
    "person": dict(uuid="key", household_uuid="key"),
    "submission": dict(id="id", instance_id="key", root_instance_id="key", deprecated_id="key", submitter_id="user",
                       area_id="area"),
    "visit": dict(submission_id="id", household_uuid="key", person_uuid="key"),
    "visit_review": dict(submission_id="id", reviewed_by="user"),
    "service_item": dict(id="id", submission_id="id", item_key="key", household_uuid="key", person_uuid="key",
                         refers_to="key"),
    "life_event": dict(id="id", person_uuid="key", submission_id="id", decision_id="id", group_id="area",
                       destination_id="area"),
    "register_field_value": dict(id="id", record_uuid="key", submission_id="id", instance_id="key",
                                 decision_id="id"),
    "register_decision": dict(id="id", subject_uuid="key", after_submission_id="id", candidate_id="id",
                              decided_by="user", undone_by="user", uuid="uuid4", area_path="path"),
    "register_conflict": dict(id="id", record_uuid="key", instance_id="key", other_instance_id="key"),
    "duplicate_candidate": dict(id="id", village_id="area", a_uuid="key", b_uuid="key", departed_uuid="key",
                                decided_by="user"),
    "person_match_key": dict(person_uuid="key", village_id="area"),
    "service_anchor": dict(id="id", person_uuid="key", submission_id="id"),
    "audit_event": dict(id="id", user_id="user", area_path="path"),
    "submission_record": dict(submission_id="id", record_uuid="key"),
}
CLONE_FUNCTIONS = r"""
CREATE FUNCTION pg_temp.moved_path(p text, k int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p IS NULL OR p = '/' THEN p ELSE '/' || (
    SELECT string_agg((x::int + (k - 1) * {step})::text, '/' ORDER BY n)
    FROM unnest(string_to_array(trim(both '/' from p), '/')) WITH ORDINALITY t(x, n)) || '/' END $$;
CREATE FUNCTION pg_temp.town_key(x text, k int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT 't' || k || '.' || x $$;
"""


def clone_towns(database_url: str, towns: int) -> dict:
    """Towns 2…`towns` as copies of the first (青山镇), in SQL: every row of the register, its visits and service
    record, decisions, reviews, duplicates, conflicts, accounts and audit log, with new ids, record keys, paths and
    names; one statement a table. Deterministic (the first town's rows and k only)."""
    if towns <= 1:
        return {}
    counts = {}
    with psycopg.connect(database_url) as conn:
        conn.execute(CLONE_FUNCTIONS.format(step=AREA_STEP))
        columns = {}
        for table, column in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "ORDER BY table_name, ordinal_position"):
            columns.setdefault(table, []).append(column)
        expressions = {
            "area": "{c} + (k - 1) * %d" % AREA_STEP, "user": "{c} + (k - 1) * %d" % AREA_STEP,
            "id": "{c} + (k - 1)::bigint * %d" % ID_STEP, "key": "pg_temp.town_key({c}, k)",
            "path": "pg_temp.moved_path({c}, k)", "uuid4": "CASE WHEN {c} IS NULL THEN NULL ELSE "
            "(md5({c} || '~' || k))::uuid::text END",
            "hash": "encode(sha256(convert_to({c} || '~' || k, 'UTF8')), 'hex')"}
        names = "(ARRAY[%s])[k]" % ", ".join(f"'{name}'" for name in TOWN_NAMES)
        for table, kinds in CLONED.items():
            made = []
            for column in columns[table]:
                if column in kinds:
                    made.append(expressions[kinds[column]].format(c=column))
                elif (table, column) == ("area", "name"):
                    made.append(f"CASE WHEN kind = 'town' THEN {names} ELSE name END")
                elif (table, column) == ("area", "full_name"):
                    made.append(f"{names} || substr(full_name, {len(TOWN_NAMES[0]) + 1})")
                elif (table, column) == ("app_user", "username"):
                    made.append(f"CASE WHEN role = 'collector' THEN 'c' || (area_id + (k - 1) * {AREA_STEP}) "
                                "ELSE username || '_t' || k END")
                elif (table, column) == ("submission", "collector_name"):
                    made.append(f"'c' || (area_id + (k - 1) * {AREA_STEP})")
                elif (table, column) == ("audit_event", "subject"):
                    made.append("CASE WHEN action IN ('person.read', 'household.read') "
                                "THEN pg_temp.town_key(subject, k) ELSE subject END")
                else:
                    made.append(column)
            where = " WHERE role <> 'county_admin'" if table == "app_user" else ""
            started = time.perf_counter()
            cursor = conn.execute(f"INSERT INTO {table} ({', '.join(columns[table])}) SELECT {', '.join(made)} "
                                  f"FROM {table}, generate_series(2, {towns}) k{where}")
            counts[table] = cursor.rowcount
            print(f"  cloned {table}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
        for table, column in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND column_default LIKE 'nextval%'").fetchall():
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                         f"(SELECT coalesce(max({column}), 1) FROM {table}))")
    return counts


# ---- measuring --------------------------------------------------------------------------------------------------

def choose_samples() -> dict:
    """The records and arguments the pages are requested with (all of the cadre's village, so both readers may
    read them)."""
    samples = {key: value for key, value in _visit_samples().items() if key != "registration_household"}
    village_path = db.session.scalar(text("SELECT path FROM area WHERE full_name = '青山镇/1村'"))
    person = db.session.execute(text(
        "SELECT p.uuid, p.household_uuid FROM person p JOIN household h ON h.uuid = p.household_uuid "
        "JOIN area g ON g.id = h.group_id WHERE g.path LIKE :path "
        "ORDER BY (SELECT count(*) FROM visit v WHERE v.person_uuid = p.uuid) DESC, "
        "(SELECT count(*) FROM visit v WHERE v.household_uuid = p.household_uuid) DESC, p.uuid LIMIT 1"),
        {"path": village_path + "%"}).one()
    household = db.session.scalar(text(
        "SELECT h.uuid FROM household h JOIN area g ON g.id = h.group_id WHERE g.path LIKE :path "
        "ORDER BY (SELECT count(*) FROM visit v WHERE v.household_uuid = h.uuid) "
        "+ (SELECT count(*) FROM person p WHERE p.household_uuid = h.uuid) DESC, h.uuid LIMIT 1"),
        {"path": village_path + "%"})
    named = db.session.execute(text(
        "SELECT p.name, p.phone, p.id_number FROM person p JOIN household h ON h.uuid = p.household_uuid "
        "JOIN area g ON g.id = h.group_id WHERE g.path LIKE :path AND char_length(p.name) = 3 "
        "AND p.id_number IS NOT NULL ORDER BY p.uuid LIMIT 1"), {"path": village_path + "%"}).one()
    group = db.session.execute(text("SELECT id, full_name FROM area WHERE full_name = '青山镇/1村/1组'")).one()
    pinyin = name_key(named.name).pinyin
    samples.update(
        person=person.uuid, household=household, name=named.name, pinyin=pinyin, pinyin_joined=pinyin.replace(" ", ""),
        initials="".join(syllable[0] for syllable in pinyin.split()), surname=named.name[0],
        phone_start=named.phone[:7], id_start=named.id_number[:10], group_id=str(group.id), collector=f"c{group.id}",
        village_id=str(db.session.scalar(text("SELECT id FROM area WHERE full_name = '青山镇/1村'"))),
        town_id=str(db.session.scalar(text("SELECT id FROM area WHERE full_name = '青山镇'"))))
    return samples


def area_of(reader: str) -> str:
    return {"cadre": "青山镇/1村/1组", "officer": "青山镇/1村", "county": "青山镇"}[reader]


class StatementCounter:
    """SQL statements run and the time they took, since the last reset."""

    def __init__(self, engine) -> None:
        self.count, self.seconds, self._started = 0, 0.0, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *args) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *args) -> None:
        self.count += 1
        self.seconds += time.perf_counter() - self._started.pop()

    def reset(self) -> None:
        self.count, self.seconds = 0, 0.0


def timed(client, path: str, params: dict, requests: int, counter: StatementCounter) -> dict:
    """Milliseconds of each request after one untimed one, the status, and per request the SQL statements, the
    median time in them and the median CPU time of this process (the app's own work: less moved by other work on
    the machine than the wall clock, and without PostgreSQL's); a page not answering 200 is not timed."""
    started = time.perf_counter()
    first = client.get(path, query_string=params, follow_redirects=True)
    first_ms = (time.perf_counter() - started) * 1000
    if first.status_code != 200:
        return dict(status=first.status_code)
    timings, statements, sql, cpu = [], [], [], []
    for _ in range(requests):
        counter.reset()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path, query_string=params, follow_redirects=True)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        statements.append(counter.count)
        sql.append(counter.seconds * 1000)
    return dict(status=200, timings=sorted(timings), statements=max(statements), sql=statistics.median(sql),
                cpu=statistics.median(cpu), size=len(response.data), final=response.request.path, first=first_ms)


def fill(value: str, samples: dict, reader: str) -> str:
    return value.format(**samples, area=area_of(reader))


def measure(app, requests: int, only: str | None) -> None:
    load_before = os.getloadavg()
    results, notes = [], []
    with app.app_context():
        samples = choose_samples()
        settings = ", ".join(f"{name} {db.session.scalar(text('SHOW ' + name))}" for name in ("server_version", "jit"))
        counter = StatementCounter(db.engine)
        db.session.remove()
    floors = {}
    for reader in BOTH:
        client = app.test_client()
        sign_in(client, READERS[reader])
        floor = timed(client, "/login", {}, requests, counter)
        floors[reader] = p95(floor["timings"])
        results.append((reader, "sign-in (floor)", "/login", floor))
        for name, path, params, readers in PAGES:
            if reader not in readers or (only and not any(part in name or part in path for part in only.split(","))):
                continue
            url = fill(path, samples, reader)
            arguments = {key: fill(value, samples, reader) for key, value in params.items()}
            found = timed(client, url, arguments, requests, counter)
            if found["status"] != 200:
                notes.append(f"{reader}: {name} ({url}) answered {found['status']}: not timed")
                continue
            results.append((reader, name, url, found))
            print(f"  measured {reader} {name}: p50 {statistics.median(found['timings']):.1f} ms, p95 "
                  f"{p95(found['timings']):.1f} ms, first {found['first']:.0f} ms, load {os.getloadavg()[0]:.1f}",
                  flush=True)
    load_after = os.getloadavg()
    with app.app_context():
        towns = db.session.scalar(text("SELECT count(*) FROM area WHERE kind = 'town'"))
        people = db.session.scalar(text("SELECT count(*) FROM person"))
        db.session.remove()
    print(f"\nstaff pages, {requests} requests each after one untimed (Flask test client, one process); limit "
          f"{LIMIT_MS} ms; cadre = 青山镇/1村, officer = 青山镇 (a town), county = all {towns} towns "
          f"({people:,} people)")
    print(f"peak RSS of the measuring process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"PostgreSQL: {settings} (PGOPTIONS={os.environ.get('PGOPTIONS', '')!r})")
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in load_before)} before, "
          f"{', '.join(f'{x:.2f}' for x in load_after)} after ({os.cpu_count()} cores)")
    for note in notes:
        print("note:", note)
    print(f"\n{'reader':8} {'page':32} {'p50 ms':>8} {'p95 ms':>8} {'p95/limit':>10} {'p95/floor':>10} "
          f"{'SQL':>5} {'SQL ms':>7} {'CPU ms':>7} {'KB':>6} {'first ms':>9}")
    ordered = sorted(results, key=lambda row: -p95(row[3]["timings"]))
    for reader, name, url, found in ordered:
        timing = p95(found["timings"])
        print(f"{reader:8} {name:32} {statistics.median(found['timings']):8.1f} {timing:8.1f} "
              f"{timing / LIMIT_MS:10.2f} {timing / floors[reader]:10.1f} {found['statements']:5d} "
              f"{found['sql']:7.1f} {found['cpu']:7.1f} {found['size'] / 1024:6.0f} {found['first']:9.0f}")
    over = [row for row in ordered if p95(row[3]["timings"]) >= LIMIT_MS]
    print("first ms: the untimed first request of the page (the home figures and due lists are worked out then and "
          "kept while the register is unchanged: server.schedules.counted)")
    print(f"\n{len(over)} of {len(results) - 2} pages at or over the limit" + (
        ": " + ", ".join(f"{reader} {name}" for reader, name, _, _ in over) if over else ""))
    print("samples:", ", ".join(f"{key}={value}" for key, value in sorted(samples.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (after one untimed)")
    parser.add_argument("--villages", type=int, default=10, help="villages of 30 groups (1: a quick trial)")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--only", help="only the pages whose name or path holds this text (or one of these, "
                        "comma-separated)")
    parser.add_argument("--reuse", action="store_true", help="measure the town the previous run built")
    parser.add_argument("--towns", type=int, default=1, help="towns (20: the county, ~800,000 people): the first "
                        "built, the others cloned from it in SQL")
    parser.add_argument("--pg-database", default=DATABASE, help="the benchmark database (dropped and made again)")
    args = parser.parse_args()
    if args.pg_database != DATABASE:    # a fresh process, so that the module's names follow
        os.environ["TAIZHANG_BENCH_STAFF_DB"] = args.pg_database
        os.execv(sys.executable, [sys.executable, __file__, *sys.argv[1:]])
    if not args.reuse:
        print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL; "
              f"load average {os.getloadavg()[0]:.2f}")
        app = bench_app(fresh=True)
        with app.app_context():
            started = time.perf_counter()
            built = build_town(random.Random(args.seed), args.villages)
            added = add_staff_work(random.Random(args.seed + 1))
            db.session.remove()
            db.engine.dispose()
        cloned_at = time.perf_counter()
        cloned = clone_towns(PG_BENCH.replace("+psycopg", ""), args.towns)
        with app.app_context():
            add_user("county", "county_admin", None, realm="taizhang", password=PASSWORD)
            # The schedule summary the merge keeps (the rows above were written directly, towns cloned by SQL):
            # the due lists, the home pages and the indicators read it.
            summaries.refresh(None, None)
            commit()
            db.session.remove()
            db.engine.dispose()
        if cloned:
            print(f"county: {args.towns} towns, cloned in {time.perf_counter() - cloned_at:.0f} s: "
                  + ", ".join(f"{table} {rows:,}" for table, rows in cloned.items()), flush=True)
        with psycopg.connect(PG_BENCH.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(f"town: {built['groups']} groups, {built['households']:,} households, {built['people']:,} people "
              f"+ {added['duplicates']} registered twice, {built['visits']:,} visits, {built['events']:,} life "
              f"events, {sum(built['items'].values()):,} service items; {added['pairs']} open candidate pairs, "
              f"{added['open_conflicts']} open conflicts, {added['tiers']:,} people with a tier, {added['anchors']:,} "
              f"anchors, {added['users']} accounts, {added['reviews']:,} reviews, {added['audit']:,} audit events; "
              f"built in {time.perf_counter() - started:.0f} s (untimed)", flush=True)
        # Measured in a process of its own, as a server would be: not one holding what building the town left behind.
        command = [sys.executable, __file__, "--reuse", "--requests", str(args.requests)]
        subprocess.run(command + (["--only", args.only] if args.only else []))
        sys.exit(0)
    measure(bench_app(fresh=False), args.requests, args.only)


if __name__ == "__main__":
    main()
