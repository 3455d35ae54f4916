"""`taizhang serve` and `taizhang demo`: migrate, seed the demo, and run gunicorn beside the merge workers."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import text

from server import MIGRATIONS_DIR
from server.cli.forms import print_publish
from server.cli.register import start_merge_workers
from server.cli.users import print_credentials
from server.demo import DemoResult, seed_demo
from server.extensions import db
from server.wsgi import run_gunicorn

__all__ = ["demo_command", "serve"]

# The PostgreSQL advisory lock app servers starting together take in turn to migrate.
MIGRATION_LOCK = 72240001


@click.command("demo")
@with_appcontext
def demo_command():
    """Create (or refresh) the demo town, its collectors and forms; print credentials."""
    _upgrade()
    _print_demo(seed_demo())


def _print_demo(demo: DemoResult) -> None:
    for result in demo.forms:
        print_publish(result)
    click.echo("\nDemo collectors (ODK Collect → Settings → Project → Server):")
    for creds, area_name in demo.collectors:
        click.echo(f"- {area_name}")
        print_credentials(creds)
    if demo.cadre is not None:
        creds, area_name = demo.cadre
        click.echo(f"\nDemo village cadre of {area_name} (due and overdue lists at /due, JSON at /api/v1/due):")
        print_credentials(creds)
    if demo.officer is not None:
        creds, area_name = demo.officer
        click.echo(f"\nDemo town officer of {area_name} (the town's dashboard at /, collectors at /collectors):")
        print_credentials(creds)
    for what, creds in demo.more_staff:
        click.echo(f"\nDemo {what}:")
        print_credentials(creds)
    if demo.county is not None:
        click.echo("\nDemo county administrator (every town's figures at /, indicators per town at /indicators):")
        print_credentials(demo.county)
    if demo.visits:
        click.echo(f"\nDemo register: {demo.visits} visit(s) merged")


def _upgrade() -> None:
    """Migrate to the newest schema; on PostgreSQL under an advisory lock, so app servers that start together
    (several machines, one database) migrate one after the other."""
    directory = str(MIGRATIONS_DIR)
    if db.engine.dialect.name != "postgresql":
        upgrade(directory=directory)
        return
    with db.engine.connect() as connection:
        connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        try:
            upgrade(directory=directory)
        finally:
            connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})"))


@click.command("serve")
@click.option("--demo", is_flag=True, help="create the demo town, collectors and forms first")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--threads", default=4, show_default=True, type=int, help="threads per worker")
@with_appcontext
def serve(demo, host, port, workers, threads):
    """Apply migrations, then serve with gunicorn (worker processes whose event loop reads each request whole before
    a thread runs it: slow clients hold no thread) and the register merge workers (TAIZHANG_MERGE_WORKERS)."""
    current_app.config["TAIZHANG_PUBLIC_URL"] = current_app.config["TAIZHANG_PUBLIC_URL"] or f"http://{host}:{port}"
    if current_app.config["TAIZHANG_MIGRATE_ON_START"]:
        _upgrade()
    if demo:
        _print_demo(seed_demo())
    click.echo(f"\nServing on http://{host}:{port}/  (Ctrl+C to stop)")
    sys.stdout.flush()
    db.session.remove()  # ends the demo's last lookup: on SQLite its transaction would hold the write lock
    db.engine.dispose()  # workers open their own connections
    merge_workers = start_merge_workers(current_app.config["TAIZHANG_MERGE_WORKERS"], loop=True,
                                        batch=current_app.config["TAIZHANG_MERGE_BATCH"])
    try:
        run_gunicorn(f"{host}:{port}", workers=workers, threads=threads)
    finally:
        for merge_worker in merge_workers:
            merge_worker.terminate()
        for merge_worker in merge_workers:
            merge_worker.wait(timeout=30)
