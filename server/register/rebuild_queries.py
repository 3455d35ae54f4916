"""The SQL of the full rebuild: the derived tables emptied, their indexes and constraints read from the catalog,
dropped and re-created, the submissions streamed, the areas copied, and rows bulk-loaded.

The derived tables are `queries.DERIVED_MODELS` (what `queries.forget_everything` empties, with the merge queue).
Their indexes, primary keys, unique constraints and foreign keys are read from PostgreSQL's catalog
(`pg_get_indexdef`, `pg_get_constraintdef`), so an index a migration adds is dropped and re-created like the others
(a primary key too: kept up to date row by row during the load, that of the match keys cost six times its COPY).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from sqlalchemy import Row, delete, func, insert, select, text

from server.areas.models import Area
from server.database import on_postgresql
from server.extensions import db
from server.register import queries
from server.register.models import RegisterDecision
from server.submissions.models import MergeQueueEntry, Submission
from sync.replay import StoredSubmission

__all__ = ["DerivedDefinition", "AreaRow", "bulk_transaction", "empty_derived",
           "derived_definitions", "drop_definitions", "create_definitions", "area_rows", "submission_counts",
           "submission_batches", "copy_blocks", "insert_rows", "decisions_in_force"]



class DerivedDefinition(NamedTuple):
    """An index or a constraint of a derived table, as the catalog defines it."""

    table: str          # as regclass prints it (quoted when needed)
    name: str           # the index's or constraint's name (unquoted)
    kind: str           # "index", or the constraint's type: "p" primary key, "u" unique, "x" exclusion,
                        # "f" foreign key
    definition: str     # CREATE INDEX … (an index) or the constraint's definition (ALTER TABLE … ADD CONSTRAINT)


class AreaRow(NamedTuple):
    id: int
    kind: str
    path: str
    parent_id: int | None
    full_name: str


def bulk_transaction() -> None:
    """Settings for the rest of the rebuild's transaction (PostgreSQL): its commit does not wait for the WAL to
    reach the disk (the rebuild is one transaction: after a crash it is there whole or not at all, and a rebuild
    lost can be run again), and the indexes are sorted in memory."""
    if on_postgresql():
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
        db.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))


def empty_derived() -> None:
    """forget_everything for a full rebuild: on PostgreSQL the derived tables are truncated (no table refers to
    them), which leaves no dead rows behind; the merge queue is emptied as forget_everything empties it."""
    if not on_postgresql():
        queries.forget_everything()
        return
    names = ", ".join(f'"{model.__tablename__}"' for model in queries.DERIVED_MODELS)
    db.session.execute(text(f"TRUNCATE {names}"))
    db.session.execute(delete(MergeQueueEntry))


def _table_oids() -> str:
    return "ARRAY[" + ", ".join(f"'\"{model.__tablename__}\"'::regclass" for model in queries.DERIVED_MODELS) + "]"


def derived_definitions() -> list[DerivedDefinition]:
    """Every index, primary key, unique or exclusion constraint and foreign key of the derived tables (PostgreSQL),
    in an order they can be re-created in: indexes, then primary keys and unique constraints, then foreign keys."""
    tables = _table_oids()
    indexes = db.session.execute(text(f"""
        SELECT i.indrelid::regclass::text AS "table", c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = ANY({tables}) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                          AND k.contype IN ('p', 'u', 'x'))
        ORDER BY 1, 2""")).all()
    constraints = db.session.execute(text(f"""
        SELECT k.conrelid::regclass::text AS "table", k.conname AS name, k.contype AS kind,
               pg_get_constraintdef(k.oid) AS definition
        FROM pg_constraint k WHERE k.conrelid = ANY({tables}) AND k.contype IN ('p', 'u', 'x', 'f')
        ORDER BY k.contype = 'f', 1, 2""")).all()
    return ([DerivedDefinition(row.table, row.name, "index", row.definition) for row in indexes]
            + [DerivedDefinition(row.table, row.name, row.kind, row.definition) for row in constraints])


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def drop_definitions(definitions: Iterable[DerivedDefinition]) -> None:
    """Drop them (foreign keys first), in the rebuild's transaction."""
    for item in sorted(definitions, key=lambda item: item.kind != "f"):
        if item.kind == "index":
            db.session.execute(text(f"DROP INDEX {_quoted(item.name)}"))
        else:
            db.session.execute(text(f"ALTER TABLE {item.table} DROP CONSTRAINT {_quoted(item.name)}"))


def create_definitions(definitions: Iterable[DerivedDefinition]) -> None:
    """Re-create them as they were (indexes, unique constraints, then foreign keys, which are checked here)."""
    for item in definitions:
        if item.kind == "index":
            db.session.execute(text(item.definition))
        else:
            db.session.execute(text(f"ALTER TABLE {item.table} ADD CONSTRAINT {_quoted(item.name)} "
                                    f"{item.definition}"))


def area_rows() -> list[AreaRow]:
    return [AreaRow(row.id, row.kind, row.path, row.parent_id, row.full_name) for row in db.session.execute(
        select(Area.id, Area.kind, Area.path, Area.parent_id, Area.full_name).order_by(Area.id))]


def submission_counts() -> dict[int | None, int]:
    """How many submissions each group (the collector's area) sent."""
    return dict(db.session.execute(select(Submission.area_id, func.count()).group_by(Submission.area_id)).all())


def submission_batches(size: int) -> Iterator[list[StoredSubmission]]:
    """Every submission as a replay reads it, in arrival order, streamed in batches (never all in memory)."""
    query = (select(Submission.id, Submission.xml, Submission.instance_id, Submission.deprecated_id,
                    Submission.area_id).order_by(Submission.id).execution_options(yield_per=size))
    for batch in db.session.execute(query).partitions(size):
        yield [StoredSubmission(r.id, bytes(r.xml), r.instance_id, r.deprecated_id, r.area_id) for r in batch]


_COPY_BUFFER = 1 << 20   # bytes of COPY text gathered before they are sent (a block is often one short row)


def copy_blocks(table: str, columns: list[str], blocks: Iterable[bytes]) -> None:
    """COPY blocks of rows already in COPY's text format into a table (PostgreSQL), sent a megabyte at a time (one
    message and one round of psycopg's and the server's per-message work, not one a block)."""
    names = ", ".join(_quoted(column) for column in columns)
    connection = db.session.connection()
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {_quoted(table)} ({names}) FROM STDIN") as copy:
            gathered = bytearray()
            for block in blocks:
                gathered += block
                if len(gathered) >= _COPY_BUFFER:
                    copy.write(gathered)
                    gathered = bytearray()
            if gathered:
                copy.write(gathered)


def insert_rows(table: str, rows: list[dict]) -> None:
    """Insert rows of a derived table (SQLite: executemany)."""
    if rows:
        model = next(model for model in queries.DERIVED_MODELS if model.__tablename__ == table)
        db.session.execute(insert(model.__table__), rows)


def decisions_in_force() -> list[Row]:
    """The decisions in force in the order a replay applies them, as rows of sync.decisions.DecisionRow's columns
    (rows, not ORM objects: they are sent to the worker processes)."""
    decision = RegisterDecision
    return db.session.execute(
        select(decision.id, decision.kind, decision.subject_uuid, decision.target, decision.field,
               decision.after_submission_id, decision.decided_at)
        .where(decision.undone_at.is_(None)).order_by(decision.id)).all()
