"""The merge worker tells a database outage (wait, count no attempt) from a submission that cannot be merged (count
an attempt, give up after three): the classification it relies on."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from server.database import database_unavailable
from sync.errors import BadRequest, ServiceUnavailable


@pytest.mark.parametrize(("error", "outage"), [
    (OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")), True),
    (OperationalError("SELECT 1", {}, psycopg.errors.AdminShutdown("terminating connection")), True),
    (ServiceUnavailable(), True),
    (IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")), False),
    (DataError("INSERT", {}, psycopg.errors.StringDataRightTruncation("value too long")), False),
    (BadRequest(), False),
    (TypeError("a bug"), False),
], ids=["connection refused", "server shut down", "service unavailable", "unique violation", "value too long",
        "bad request", "bug"])
def test_outages_are_told_from_bad_submissions(error, outage):
    assert database_unavailable(error) is outage
