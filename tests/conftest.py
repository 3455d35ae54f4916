"""Shared fixtures: a live taizhang server over real HTTP per database backend, factories, a Collect-like client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

import server.models  # noqa: F401 - every table in db.metadata
from server import create_app
from server.areas.operations import ensure_area
from server.database import commit
from server.extensions import db
from server.forms.operations import publish_form
from server.lookup_cache import lookup_cache
from server.register.worker import merge_next
from server.schedules.counted import forget_counts
from server.storage import blob_store
from server.submissions.models import Submission, SubmissionAttachment
from server.users import credentials
from server.users.operations import add_user
from tests.collect import CollectClient

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_URL = os.environ.get("TAIZHANG_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
REALM = "taizhang"

# Every table, those that refer to others first (so rows can be deleted in this order).
_TABLES = [table.name for table in reversed(db.metadata.sorted_tables) if table.name != "alembic_version"]


def fresh_postgres_database(suffix: str = "") -> str:
    """Drop and recreate the test database (optionally a sibling named with `suffix`); return its URL. Each
    pytest-xdist worker has databases of its own (taizhang_test_gw0 …)."""
    url = make_url(PG_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = url.set(database=f"{url.database}{'_' + worker if worker else ''}{suffix}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return url.render_as_string(hide_password=False)


@dataclass
class LiveServer:
    app: object
    url: str
    backend: str

    def client(self, username: str | None = None, password: str | None = None, token: str | None = None,
               **kwargs) -> CollectClient:
        base = f"{self.url}/key/{token}" if token else self.url
        return CollectClient(base, username, password, **kwargs)


def start_live_server(app) -> tuple[str, callable]:
    """Serve a WSGI app on a free loopback port in a thread (real sockets, real HTTP/1.1)."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def stop():
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()

    return f"http://127.0.0.1:{httpd.server_port}", stop


def make_test_app(tmp_path_factory, backend: str, database_suffix: str = "", **overrides):
    """An app on a new database (PostgreSQL: the test database, or a sibling named with `database_suffix`)."""
    instance = tmp_path_factory.mktemp(f"instance-{backend}")
    database_url = (fresh_postgres_database(database_suffix) if backend == "postgresql"
                    else f"sqlite:///{instance / 'test.sqlite3'}")
    config = {"INSTANCE_DIR": instance, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret",
              "TAIZHANG_REALM": REALM, "TESTING": True}
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        upgrade(directory=str(ROOT / "server" / "migrations"))
    return app


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes():
    """Web passwords hashed with a cheap method in the tests (scrypt's ~100 ms by design, times every account the
    tests create and sign in, would be minutes); test_signin_security's timing test puts scrypt back."""
    credentials.PASSWORD_METHOD = "pbkdf2:sha256:1000"
    yield
    credentials.PASSWORD_METHOD = "scrypt"


@pytest.fixture(scope="session")
def live_servers(tmp_path_factory):
    """Each database backend's app and HTTP server, started when first asked for and kept for the whole session:
    a process that runs a file's tests of both backends (pytest-xdist gives a file to one process) switches between
    them without starting either again."""
    started: dict[str, tuple[LiveServer, callable]] = {}

    def server_of(backend: str) -> LiveServer:
        if backend not in started:
            # Many tests sign in from 127.0.0.1 within a minute: the sign-in limit is tested on its own
            # (test_accounts). The home pages' figures are counted afresh on every change (their stale window is
            # tested on its own).
            app = make_test_app(tmp_path_factory, backend, TAIZHANG_LOGIN_LIMIT="100000 per minute",
                                TAIZHANG_DASHBOARD_STALE_SECONDS=0, TAIZHANG_SIGNIN_FAILURES_PER_USER=100000,
                                TAIZHANG_SIGNIN_FAILURES_PER_ADDRESS=100000,
                                TAIZHANG_MAX_SUBMISSION_BYTES=2 * 1024 * 1024,
                                TAIZHANG_MAX_XML_BYTES=256 * 1024, TAIZHANG_MAX_ATTACHMENT_BYTES=1024 * 1024)
            url, stop = start_live_server(app)
            started[backend] = (LiveServer(app=app, url=url, backend=backend), stop)
        return started[backend][0]

    yield server_of
    for server, stop in started.values():
        stop()
        with server.app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request, live_servers):
    """One app and HTTP server per database backend for the whole session; tables are emptied per test."""
    return live_servers(request.param)


def empty_tables(backend: str) -> None:
    """Delete every row and forget cached look-ups (inside the app's context)."""
    if backend == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
    else:
        db.session.execute(text("UPDATE form SET current_version_id = NULL"))
        for table in _TABLES:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()
    lookup_cache().clear()
    forget_counts()


@pytest.fixture
def server(live_server):
    """The live server with empty tables, and an app context for factories and assertions."""
    with live_server.app.app_context():
        empty_tables(live_server.backend)
        yield live_server
        db.session.remove()


# ---- factories ---------------------------------------------------------------------------------------------

@dataclass
class Collector:
    username: str
    password: str
    token: str
    area: str


@pytest.fixture
def create_collector(server):
    """create_collector(area='青山镇/东村/第一组', username=None, ...) → Collector with password and token."""
    counter = iter(range(1, 10_000))

    def factory(area: str = "青山镇/东村/第一组", username: str | None = None, role: str = "collector",
                password: str | None = None) -> Collector:
        ensure_area(area)
        creds = add_user(username or f"collector{next(counter)}", role, area, realm=REALM, password=password,
                         with_token=True)
        commit()
        return Collector(creds.username, creds.password, creds.token, area)

    return factory


@pytest.fixture(scope="session")
def household_visit_xform() -> Path:
    """A small frozen XForm (the first placeholder visit form, with a photo field) for protocol tests; the real
    questionnaires in xlsforms/ have their own tests."""
    return FIXTURES / "forms" / "household_visit_placeholder.xml"


@pytest.fixture
def publish(server):
    """publish(path, media=[...], area=None, audience='collector') → PublishResult (validated forms only)."""
    def factory(source: Path, media: list[Path] = (), **kwargs):
        result = publish_form(source, blob_store(), media=list(media), validate=False, **kwargs)
        commit()
        return result

    return factory


@pytest.fixture
def visit_form(publish, household_visit_xform):
    return publish(household_visit_xform)


@pytest.fixture
def collector(create_collector, visit_form) -> Collector:
    return create_collector()


def _rows(table) -> list[dict]:
    """Read rows as plain dicts and end the transaction (a SQLite write lock must not outlive the read)."""
    rows = [dict(row) for row in db.session.execute(select(table).order_by(table.c.id)).mappings()]
    db.session.rollback()
    return rows


def stored_submissions() -> list[dict]:
    return _rows(Submission.__table__)


def command_env(app, **changes) -> dict:
    """The environment of a `taizhang` command run beside the live app: its instance, database and blob store."""
    env = {**os.environ, "TAIZHANG_INSTANCE_DIR": str(app.instance_path),
           "TAIZHANG_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "TAIZHANG_BLOB_DIR": str(app.config["TAIZHANG_BLOB_DIR"]), "TAIZHANG_SECRET_KEY": "test-secret"}
    env.update(changes)
    return env


def taizhang(env: dict, *args: str) -> subprocess.CompletedProcess:
    """Run the `taizhang` console command as an operator does, in its own process."""
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def stored_attachments() -> list[dict]:
    return _rows(SubmissionAttachment.__table__)


def merge_all(now=None) -> int:
    """Merge every queued submission into the register as the worker does (`now` as the worker's clock), committing
    after each; how many were merged."""
    merged = 0
    while merge_next(now=now) is not None:
        commit()
        merged += 1
    commit()
    return merged


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, tries: int = 100) -> None:
    """Wait (up to `tries` tenths of a second and connection attempts) until something accepts on the loopback port,
    e.g. gunicorn's workers booting after the master printed its address."""
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)


# Test files that take a minute or more each (a pip install, gunicorn, a synthetic county, backups, the form engine,
# every route as every role): started first, so that with several processes (`make test`: pytest-xdist, a file in
# one process) the short files fill in around them and both processes finish together.
LONG_FILES = ("test_install.py", "test_synthetic_county.py", "test_bench_merge_memory.py", "test_backup_restore.py",
              "test_cli.py", "test_questionnaire_filling.py", "test_access_matrix.py", "test_crawl.py", "test_masking.py",
              "test_concurrency.py", "test_merge_worker_outages.py", "test_transfer_replicate.py")


def pytest_collection_modifyitems(config, items):
    """The long files first (in this order), then the rest as collected."""
    order = {name: position for position, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: order.get(item.path.name, len(order)))
