"""Flask extensions, created unbound and attached to an app in create_app()."""

import functools
from pathlib import Path

from flask import Flask, g, has_app_context, request, session
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import BigInteger, Integer, MetaData, String

__all__ = ["db", "migrate", "compress", "csrf", "babel", "limiter", "init_limiter", "LANGUAGES", "select_locale",
           "BigId", "byte_key", "MIGRATIONS_DIR", "REPLICA_BIND", "REPLICA_READS", "RoutingSession"]

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The bind key of the read replica's engine (TAIZHANG_REPLICA_DATABASE_URL), and the flag server.replica sets while
# a block's SELECTs may read there.
REPLICA_BIND = "replica"
REPLICA_READS = "taizhang_replica_reads"


class RoutingSession(Session):
    """The app's session: inside `server.replica.replica_reads()`, and only when a replica is configured, a SELECT
    goes to the replica's engine; everything else (writes, flushes, `connection()`, any statement outside such a
    block) to the primary, as always."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if (bind is None and clause is not None and getattr(clause, "is_select", False) and not self._flushing
                and has_app_context() and g.get(REPLICA_READS) and REPLICA_BIND in self._db.engines):
            return self._db.engines[REPLICA_BIND]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention), session_options={"class_": RoutingSession})
# Row ids that outgrow 32 bits (BIGINT), as SQLite's INTEGER so that its primary keys stay rowid aliases.
BigId = BigInteger().with_variant(Integer, "sqlite")


def byte_key(length: int) -> String:
    """A key compared byte by byte (a record's uuid, a match key, a field's name): on PostgreSQL the "C" collation,
    whose comparisons are memcmp whatever the database's collation (its index builds and look-ups are the cheaper
    for it: issue 22, the rebuild); SQLite compares bytes already. Migration 0028 set it on the stored columns."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


migrate = Migrate()
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
compress = Compress()

# Web forms only: OpenRosa and the Digest-authenticated JSON API carry no CSRF token (WTF_CSRF_CHECK_DEFAULT off;
# the web blueprints call csrf.protect() before each request).
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])   # storage: RATELIMIT_STORAGE_URI


def _from_collect() -> bool:
    """Whether the request is one of Collect's (an OpenRosa route, at the root or under a token URL)."""
    return request.blueprint in ("openrosa", "openrosa_token")


def init_limiter(app: Flask) -> None:
    """Attach flask-limiter, its per-request hooks (before, after and teardown) running on every request but
    Collect's. No OpenRosa route has a rate limit (only the web sign-in has one); Collect's failed sign-ins are
    limited by server.users.guard instead. A request filter alone skipped the limits, not the hooks' own work (its
    context, the endpoint's limits resolved, the deductions looked for): 0.08 ms of CPU a request, 0.16 ms of
    Collect's HEAD + POST (docs/benchmarks.md § Issue 22 (round 3), item 6). A limit put on an OpenRosa route would
    need this gone."""
    hooks = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    before = [list(registered.get(None, ())) for registered in hooks]
    limiter.init_app(app)
    for registered, kept, spare in zip(hooks, before, (_spare_before, _spare_after, _spare_teardown)):
        registered[None] = kept + [spare(hook) for hook in registered.get(None, ())[len(kept):]]


# flask-limiter's hooks, each run only when the request is not Collect's (what the hook hands on is kept).
def _spare_before(hook):
    return functools.wraps(hook)(lambda: None if _from_collect() else hook())


def _spare_after(hook):
    return functools.wraps(hook)(lambda response: response if _from_collect() else hook(response))


def _spare_teardown(hook):
    return functools.wraps(hook)(lambda error=None: None if _from_collect() else hook(error))


babel = Babel()

LANGUAGES = ("zh", "en")


def select_locale() -> str:
    """The language chosen on the page (kept in the session), else the browser's, else Chinese."""
    return session.get("lang") or request.accept_languages.best_match(LANGUAGES) or "zh"
