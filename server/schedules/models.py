"""The register's change counter: one row per shard, bumped (on PostgreSQL, by a statement trigger) whenever a visit,
submission, decision or review is written, so that counted figures know cheaply whether anything changed."""

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db

__all__ = ["RegisterChange", "CHANGE_SHARDS"]

# A writing connection bumps the row of its backend's pid modulo this: two concurrent writers share a row (and wait
# for each other's commit) only when their pids fall on the same shard.
CHANGE_SHARDS = 1024


class RegisterChange(db.Model):
    """How many write statements the connections of a shard ran on visit, submission, register_decision and
    visit_review (migration 0023's trigger `register_changed`). The sum grows with every committed change and is
    seen together with it; server.schedules.queries.register_fingerprint reads it instead of counting rows."""

    __tablename__ = "register_change"

    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    changes: Mapped[int] = mapped_column(BigInteger, default=0)
