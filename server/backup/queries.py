"""What backup and restore ask a database: rows per table, the Alembic revision, the tables present, files named."""

from __future__ import annotations

from sqlalchemy import column, func, inspect, select, table, text
from sqlalchemy.engine import Connection

from server.blobs.queries import named_blobs_select
from server.extensions import db

__all__ = ["table_names", "row_counts", "holds_data", "alembic_revision", "named_blobs", "export_snapshot"]

_ALEMBIC_VERSION = table("alembic_version", column("version_num"))


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def row_counts(connection: Connection) -> dict[str, int]:
    """Rows in each of taizhang's tables present in this database."""
    present = table_names(connection)
    return {model_table.name: connection.scalar(select(func.count()).select_from(model_table))
            for model_table in db.metadata.sorted_tables if model_table.name in present}


def holds_data(connection: Connection) -> bool:
    """Whether any of taizhang's tables has a row (a freshly migrated database has none)."""
    return any(row_counts(connection).values())


def alembic_revision(connection: Connection) -> str | None:
    if "alembic_version" not in table_names(connection):
        return None
    return connection.scalar(select(_ALEMBIC_VERSION.c.version_num))


def named_blobs(connection: Connection) -> set[str]:
    """SHA-256 of every file the database refers to: received attachments and published form media."""
    return set(connection.scalars(named_blobs_select()))


def export_snapshot(connection: Connection) -> str:
    """PostgreSQL: the id of this transaction's snapshot, for pg_dump --snapshot (valid while it stays open)."""
    return connection.scalar(text("SELECT pg_export_snapshot()"))
