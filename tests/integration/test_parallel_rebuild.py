"""The full rebuild in two processes gives exactly the register one process gives, on SQLite and PostgreSQL: every
derived row (ids in the same order), the register snapshot, the town's register export cell for cell, and the
derived tables' indexes and constraints as they were; over several villages and towns, edits, a visit naming another
village's household, duplicates merged by a decision, a person who moved to another village merged with her arrival,
a household moved to another village's group, a purge tombstone and a consent withdrawn."""

# ruff: noqa: F811 - the fixtures imported from the tests that define them are the tests' arguments
from __future__ import annotations

import datetime as dt
import io

import openpyxl
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql

from server.areas.models import Area
from server.database import commit, on_postgresql
from server.extensions import db
from server.register import queries as register_queries
from server.register import rebuild, rebuild_queries
from server.register.decisions import record_decision
from server.register.models import PurgedRecord
from server.register.rebuild import rebuild_in_parallel
from server.register.replays import rebuild_register
from sync.decisions import MERGE_MOVED, MERGE_PEOPLE, MOVE_HOUSEHOLD, WITHDRAW_CONSENT
from tests.conftest import merge_all
from tests.integration.test_write_scope import (  # noqa: F401 - the fixture world
    NOW,
    PASSWORD,
    place_uuid,
    send,
    signed_in,
    snapshot,
    world,
)
from tests.register_visits import Member, household_visit

HEAD, CHILD, HOUSEHOLD = place_uuid("own", "head"), place_uuid("own", "child"), place_uuid("own", "household")
EDITED = "uuid:parallel-rebuild-original"


def group_id(full_name: str) -> int:
    found = db.session.scalar(select(Area.id).where(Area.full_name == full_name))
    db.session.rollback()
    return found


def derived_rows() -> dict[str, list[tuple]]:
    """Every row of every derived table, all columns but the id, in id order (the order pages read ties in)."""
    found = {}
    for model in register_queries.DERIVED_MODELS:
        columns = [column for column in model.__table__.columns if column.name != "id"]
        order = [model.__table__.c.id] if "id" in model.__table__.c else list(model.__table__.primary_key.columns)
        found[model.__tablename__] = [tuple(row) for row in db.session.execute(select(*columns).order_by(*order))]
    db.session.rollback()
    return found


def definitions() -> list:
    found = sorted(rebuild_queries.derived_definitions()) if on_postgresql() else sorted(
        tuple(row) for row in db.session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")))
    db.session.rollback()
    return found


def export_cells(client) -> dict[str, list[tuple]]:
    """The town's register export: every sheet's cell values, but the line saying when it was exported."""
    response = client.get("/reports/register.xlsx", params={"area": "青山镇"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return {sheet.title: [row for row in sheet.iter_rows(values_only=True)
                          if not any(isinstance(value, str) and ("导出" in value or "Exported" in value)
                                     for value in row)]
            for sheet in book.worksheets}


def test_a_rebuild_in_two_processes_gives_exactly_the_register_of_one(server, world, create_collector, monkeypatch):
    create_collector("白水镇/南村", username="nancun_cadre", role="village_cadre", password=PASSWORD)
    own, village, town = world["own"], world["village"], world["town"]
    # An edit: a visit and its correction.
    original = household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-03T09:00:00.000+08:00",
                               instance_id=EDITED, updates=[dict(person_uuid=CHILD, base_version=1,
                                                                 change="phone_changed", phone_now="13800000001")])
    send(own, original)
    send(own, household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-03T09:00:00.000+08:00",
                              deprecated_id=EDITED, updates=[dict(person_uuid=CHILD, base_version=1,
                                                                  change="phone_changed", phone_now="13800000002")]))
    # A duplicate of 西村's head registered again, and a consent given (then withdrawn) in 南村.
    twin = Member("李village", "female", "1975-05-06", relationship="other")
    send(village, household_visit(household=place_uuid("village", "household"), base_version=1,
                                  start="2026-11-04T09:00:00.000+08:00", members=[twin]))
    # Values COPY's text format must escape (the workers write field values' lines themselves).
    send(village, household_visit(household=place_uuid("village", "household"), base_version=1,
                                  start="2026-11-04T10:00:00.000+08:00",
                                  members=[Member("赵\\小\t红\n二\r三", "female", "1990-01-02", relationship="other")]))
    send(town, household_visit(household=place_uuid("town", "household"), base_version=1,
                               start="2026-11-05T09:00:00.000+08:00", pregnancy=(place_uuid("town", "head"), "yes", "yes"),
                               supplies=[(place_uuid("town", "child"), "condoms", "5", "yes")]))
    # 东村's head moves to 西村, where she is registered as a newcomer; a visit of 西村 names 东村's household.
    send(own, household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-12T09:00:00.000+08:00", updates=[
        dict(person_uuid=HEAD, base_version=1, change="moved_out", event_date="2026-11-11", place="青山镇西村")]))
    arrival = Member("王秀英", "female", "1975-05-06", relationship="other", reason="moved_in")
    send(village, household_visit(household=place_uuid("village", "household"), base_version=1,
                                  start="2026-11-15T09:00:00.000+08:00", members=[arrival]))
    send(village, household_visit(household=HOUSEHOLD, base_version=1, start="2026-11-16T09:00:00.000+08:00",
                                  updates=[dict(person_uuid=CHILD, base_version=1, change="phone_changed",
                                                phone_now="13800000003")]))
    merge_all(NOW)
    xicun_group, decided = group_id("青山镇/西村/第一组"), dict(by=None, now=NOW, area_path=None)
    record_decision(MERGE_PEOPLE, twin.uuid, place_uuid("village", "head"), **decided)
    record_decision(MERGE_MOVED, arrival.uuid, HEAD, **decided)
    record_decision(MOVE_HOUSEHOLD, place_uuid("group", "household"), str(xicun_group), **decided)
    record_decision(WITHDRAW_CONSENT, place_uuid("town", "head"), place_uuid("town", "household"),
                    field="2026-11-20", **decided)
    db.session.add(PurgedRecord(uuid=place_uuid("town", "child"), rule="died", purged_on=dt.date(2026, 11, 21),
                                after_submission_id=register_queries.last_merged_submission_id()))
    commit()
    send(own, household_visit(household=HOUSEHOLD, base_version=2, start="2026-11-21T09:00:00.000+08:00",
                              updates=[dict(person_uuid=CHILD, base_version=2, change="phone_changed",
                                            phone_now="13800000004")]))
    merge_all(NOW)

    officer = signed_in(server, "qingshan_officer")
    exported, indexed = export_cells(officer), definitions()
    applied = rebuild_register()
    commit()
    one, one_snapshot = derived_rows(), snapshot()
    assert export_cells(officer) == exported
    assert definitions() == indexed

    tally = rebuild_in_parallel(2)
    commit()
    assert tally.applied == applied > 0
    assert derived_rows() == one
    assert "赵\\小\t红\n二\r三" in {row[3] for row in one["register_field_value"]}
    assert snapshot() == one_snapshot
    assert export_cells(officer) == exported
    assert definitions() == indexed
    assert tally.crossing_visits > 0 and len(tally.worker_peak_rss_kib) == 2   # a part joined two villages
    assert tally.worker_process_cpu > 0
    # Replayed a part at a time in each process, and (PostgreSQL) each block of COPY text sent alone: the same again.
    monkeypatch.setattr(rebuild, "_CHUNK", 1)
    monkeypatch.setattr(rebuild_queries, "_COPY_BUFFER", 1)
    assert rebuild_in_parallel(2).applied == applied
    commit()
    assert derived_rows() == one
    assert export_cells(officer) == exported
    # Visits read beyond what a process keeps in memory wait in a file for their replay: the same again.
    assert tally.visits_on_disk == 0
    monkeypatch.setattr(rebuild, "_VISITS_IN_MEMORY", 1)
    tally = rebuild_in_parallel(2)
    commit()
    assert tally.applied == applied and tally.visits_on_disk > 0
    assert derived_rows() == one
    assert export_cells(officer) == exported
    # What the decisions did is there: the twin and the arrival merged away, the withdrawal, the purge.
    people = {row[0] for row in one["person"]}
    assert twin.uuid not in people and arrival.uuid not in people and HEAD in people
    assert place_uuid("town", "child") not in people



def test_keys_are_compared_byte_by_byte_on_postgresql(server):
    """The columns the models declare as byte keys (uuids, match keys, field names: server.extensions.byte_key)
    are those migration 0028 gave the "C" collation, and no other column has a collation of its own."""
    if server.backend != "postgresql":
        return
    declared = {(table.name, column.name) for table in db.metadata.sorted_tables for column in table.columns
                if column.type.compile(dialect=postgresql.dialect()).endswith('COLLATE "C"')}
    stored = {tuple(row) for row in db.session.execute(text(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND collation_name IS NOT NULL"))}
    collations = set(db.session.scalars(text(
        "SELECT DISTINCT collation_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND collation_name IS NOT NULL")))
    db.session.rollback()
    assert ("register_field_value", "record_uuid") in declared and ("person", "name") not in declared
    assert stored == declared and collations == {"C"}
