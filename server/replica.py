"""Reads that may go to a read replica (TAIZHANG_REPLICA_DATABASE_URL): the blocks of reports, dashboards and indicators
that only read (docs/province.md § A read replica)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g

from server.extensions import REPLICA_BIND, REPLICA_READS, db

__all__ = ["replica_configured", "replica_reads"]


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within the block the session's SELECTs read the replica, when one is configured (without one: the primary,
    as outside). Writes, flushes and `db.session.connection()` stay on the primary. Only for blocks that read nothing
    they (or the request before them) wrote: the replica does not see the request's own transaction, and lags the
    primary by the replication delay."""
    before = g.get(REPLICA_READS, False)
    setattr(g, REPLICA_READS, True)
    try:
        yield
    finally:
        setattr(g, REPLICA_READS, before)


def replica_configured() -> bool:
    return REPLICA_BIND in db.engines
