"""A read replica (TAIZHANG_REPLICA_DATABASE_URL): the indicators' figures read there, everything else and every
write stays on the primary (server.replica, docs/province.md). The "replica" here is a second database whose content
differs from the primary's, so where a read went shows in what it returns."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, select, text

from server import create_app
from server.areas.models import Area
from server.audit.models import AuditEvent
from server.extensions import db
from server.indicators import views as indicator_views
from server.replica import replica_configured, replica_reads
from tests.conftest import BACKENDS, REALM, make_test_app


def _town(url: str, name: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO area (id, kind, name, full_name, path) VALUES (1, 'town', :n, :n, '/1/')"),
                           {"n": name})
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def two_databases(request, tmp_path_factory):
    """The URLs of two migrated databases: the primary holds the town 青山镇, the "replica" 白云镇."""
    urls = []
    for suffix in ("_replica_primary", "_replica_copy"):
        app = make_test_app(tmp_path_factory, request.param, suffix)
        urls.append(app.config["SQLALCHEMY_DATABASE_URI"])
        with app.app_context():
            _close()
    _town(urls[0], "青山镇")
    _town(urls[1], "白云镇")
    return urls


def _app(tmp_path_factory, primary: str, replica: str | None):
    return create_app({"INSTANCE_DIR": tmp_path_factory.mktemp("instance-replica"), "SQLALCHEMY_DATABASE_URI": primary,
                       "SECRET_KEY": "test-secret", "TAIZHANG_REALM": REALM, "TESTING": True,
                       "TAIZHANG_REPLICA_DATABASE_URL": replica or ""})


def _close() -> None:
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()


def _towns() -> list[str]:
    return db.session.scalars(select(Area.name)).all()


def test_reads_in_a_replica_block_go_to_the_replica_and_writes_to_the_primary(two_databases, tmp_path_factory):
    primary, replica = two_databases
    app = _app(tmp_path_factory, primary, replica)
    with app.test_request_context("/indicators"):
        assert replica_configured()
        assert _towns() == ["青山镇"]
        with replica_reads():
            assert _towns() == ["白云镇"]
            db.session.add(AuditEvent(action="due.read", subject="replica test", at=dt.datetime.now(dt.timezone.utc)))
            db.session.commit()  # the flush: a write, on the primary
            assert db.session.scalars(select(AuditEvent.subject)).all() == []  # the replica has no such row
        assert _towns() == ["青山镇"]
        assert db.session.scalars(select(AuditEvent.subject)).all() == ["replica test"]
        _close()


def test_the_indicators_figures_read_the_replica(two_databases, tmp_path_factory, monkeypatch):
    primary, replica = two_databases
    monkeypatch.setattr(indicator_views, "area_indicators", lambda principal, area, period: _towns())
    app = _app(tmp_path_factory, primary, replica)
    with app.test_request_context("/api/v1/indicators?period=2026-11"):
        assert indicator_views._table(None) == ["白云镇"]
        assert _towns() == ["青山镇"]
        _close()


def test_without_a_replica_every_read_goes_to_the_primary(two_databases, tmp_path_factory):
    primary, _ = two_databases
    app = _app(tmp_path_factory, primary, None)
    with app.test_request_context("/indicators"):
        assert not replica_configured()
        with replica_reads():
            assert _towns() == ["青山镇"]
        _close()
