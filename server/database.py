"""Engine set-up per dialect, the one commit point, and the one place database errors become TaizhangErrors."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import any_, bindparam, event, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from server.boundary import chunks
from server.extensions import db
from sync.errors import Conflict, EditAlreadySuperseded, InstanceConflict, ServiceUnavailable, TaizhangError

__all__ = ["COUNT_CAP", "counted_up_to", "configure_engine", "commit", "database_unavailable", "driver_autocommit",
           "lookup_connection", "matching", "on_postgresql", "read_ahead", "translating_db_errors", "translate_db_error"]

# Unique constraints whose violation is a user-facing conflict, by constraint name.
_CONSTRAINT_ERRORS: dict[str, type[TaizhangError]] = {
    "uq_submission_deprecated_id": EditAlreadySuperseded,
    "uq_submission_instance_id": InstanceConflict,
}



def configure_engine(engine: Engine) -> None:
    """SQLite: WAL, full fsync, foreign keys, and BEGIN IMMEDIATE for transactions so concurrent writers queue
    instead of failing (autocommit lookups excepted). PostgreSQL: no JIT compilation (a page's queries take
    milliseconds; compiling the larger ones took most of their time), and a plan for each statement's own values,
    never a generic one: psycopg prepares a statement run five times, and PostgreSQL's generic plan of an area's
    path prefix (`path LIKE :p || '%'`) cannot use the path's index (4–5× slower: docs/benchmarks.md § Issue 18).
    And random reads priced as on an SSD (random_page_cost 1.1, not the default 4 of spinning disks): with 4, a
    village's inbox on a county read all 2.25 million submissions (400 ms) instead of its 31 groups' by the index
    (12 ms; docs/benchmarks.md § Issue 22)."""
    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "connect")
        def _postgresql_settings(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("SET jit = off")
            cursor.execute("SET plan_cache_mode = force_custom_plan")
            cursor.execute("SET random_page_cost = 1.1")
            cursor.close()
            dbapi_connection.commit()
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":  # lookups take no lock
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def translate_db_error(exc: DBAPIError) -> TaizhangError:
    """Map a database exception to the user-facing error it means."""
    if isinstance(exc, IntegrityError):
        text = str(exc.orig)
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        for name, error in _CONSTRAINT_ERRORS.items():
            if constraint == name or (constraint is None and _sqlite_names(name, text)):
                return error()
        return Conflict()
    if isinstance(exc, OperationalError) or exc.connection_invalidated:
        return ServiceUnavailable()
    return TaizhangError()


def database_unavailable(error: BaseException) -> bool:
    """Whether an error means the database cannot be reached or is busy (worth waiting for), not a bad request."""
    return isinstance(error, ServiceUnavailable) or (
        isinstance(error, DBAPIError) and isinstance(translate_db_error(error), ServiceUnavailable))


def _sqlite_names(constraint: str, message: str) -> bool:
    """SQLite reports `UNIQUE constraint failed: submission.deprecated_id` instead of the constraint name."""
    table_column = constraint.removeprefix("uq_").replace("submission_", "submission.", 1)
    return table_column in message


@contextmanager
def lookup_connection() -> Iterator[Connection]:
    """A connection for single-statement lookups that need no transaction (who is asking, which form version).

    It is an autocommit connection outside the request's transaction: on PostgreSQL no BEGIN and ROLLBACK round
    trips, so a HEAD /submission costs one query; on SQLite (WAL) the lookup takes no lock, so it never queues
    behind another request's write transaction.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


@contextmanager
def driver_autocommit() -> Iterator[Any]:
    """PostgreSQL: a pooled connection as the driver's own (psycopg) connection, in autocommit, for the one statement
    of Collect's usual POST, the hottest path of the server: SQLAlchemy's own work for a statement (execution context,
    result, setting and resetting the isolation level) cost 0.4 ms of CPU a submission, half of the app's work for the
    statement (docs/benchmarks.md § Issue 22 (round 2), intake). Statements run with the driver's parameter style and
    types. A driver error becomes a TaizhangError as translate_db_error says (a lost database: 503); a lost
    connection leaves the pool, with the others made before it."""
    pooled = db.engine.raw_connection()
    driver = pooled.driver_connection
    try:
        driver.autocommit = True
        yield driver
    except driver.Error as exc:   # psycopg.Error: the same exception classes SQLAlchemy wraps
        if driver.broken:   # the database went away: the pool's other connections are replaced too, as SQLAlchemy
            db.engine.pool._invalidate(pooled, exc)   # does on a disconnect (Connection._handle_dbapi_exception)
        raise translate_db_error(DBAPIError.instance(None, None, exc, driver.Error,
                                                     connection_invalidated=driver.broken)) from exc
    finally:
        if not driver.closed:
            driver.autocommit = False   # as the pool hands its connections out
        pooled.close()


def on_postgresql() -> bool:
    """Whether the database is PostgreSQL (advisory locks, TRUNCATE, catalog definitions, its own indexes); else
    SQLite."""
    return db.session.get_bind().dialect.name == "postgresql"


def read_ahead(batches: Iterator[list]) -> Iterator[list]:
    """The batches of a result streamed from a server-side cursor (Result.partitions), on PostgreSQL each next one
    fetched in a thread while the caller works on the one before: the database works out the next rows on another
    core meanwhile, instead of the caller waiting for all of them first (a county's flags read 442,000 rows in a
    second of the database's time). The caller must not use the session's connection until the batches are done.
    On SQLite (its connections stay in their own thread, and it reads in the caller's process anyway) as they come."""
    if not on_postgresql():
        yield from batches
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as fetcher:
        pending = fetcher.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = fetcher.submit(next, batches, None)
            yield batch


def matching(column, values) -> list:
    """Conditions `column in values`, one per statement to run, each looked up by index: on PostgreSQL one array
    parameter (`= ANY(:values)`, one statement, one plan whatever their number), on SQLite IN lists of
    server.boundary.chunks; none for no values."""
    ordered = sorted(set(values))
    if not ordered:
        return []
    if on_postgresql():
        return [column == any_(bindparam(None, ordered, type_=ARRAY(column.type)))]
    return [column.in_(chunk) for chunk in chunks(ordered)]


@contextmanager
def translating_db_errors():
    """Run a block of database work; roll back and raise the matching TaizhangError if the database refuses."""
    try:
        yield
    except DBAPIError as exc:
        db.session.rollback()
        raise translate_db_error(exc) from exc


def commit() -> None:
    """The single commit point of a request or command; nothing to do when no transaction began and nothing waits to
    be flushed (Collect's usual POST wrote on a connection of its own: an empty commit cost it 70 µs of CPU), nor when
    the request opened no session at all (making one to find it empty was 4 % of that POST's CPU in the app)."""
    if not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction() and not (session.new or session.dirty or session.deleted):
        return
    with translating_db_errors():
        session.commit()


# Lists count what they find only up to this many rows past the page shown (a county's inbox holds millions): a page
# then says "more than 10,000" instead of reading every row on every request.
COUNT_CAP = 10_000


def counted_up_to(query, offset: int, limit: int, cap: int | None = None) -> tuple[int, bool]:
    """How many rows `query` finds, and whether there are more: counted exactly up to `cap` (None: COUNT_CAP) or
    the end of the page asked for (whichever is further); beyond that (cap, True)."""
    cap = max(COUNT_CAP if cap is None else cap, offset + limit)
    found = db.session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery()))
    return (cap, True) if found > cap else (found, False)
