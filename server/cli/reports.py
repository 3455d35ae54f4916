"""`taizhang report`: the town office's Excel reports, written to a file (only the area the --user may see)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import with_appcontext

from server.cli.acting_user import as_user, principal
from server.database import commit
from server.exports.operations import coverage_report, monthly_change_report, register_export

__all__ = ["report"]


@click.group()
def report():
    """The town office's Excel reports (only the area the --user may see; every export is audited)."""


def _write_monthly_report(build, area_name: str, month: str, out: Path, username: str) -> None:
    content = build(principal(username), area_name, dt.datetime.strptime(month, "%Y-%m").date())
    out.write_bytes(content)
    commit()
    click.echo(f"{out}: {len(content):,} bytes")


@report.command("monthly-change")
@click.argument("area_name")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@as_user
@with_appcontext
def report_monthly_change(area_name: str, month: str, out: Path, username: str):
    """月变更报告单 of a town or village, e.g. 青山镇 --month 2026-10."""
    _write_monthly_report(monthly_change_report, area_name, month, out, username)


@report.command("coverage")
@click.argument("area_name")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@as_user
@with_appcontext
def report_coverage(area_name: str, month: str, out: Path, username: str):
    """随访情况: visits due, done on time, late and overdue per group, and each collector's overdue list."""
    _write_monthly_report(coverage_report, area_name, month, out, username)


@report.command("register")
@click.argument("area_name")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="ID numbers and phones in full (masked otherwise); needs --reason.")
@click.option("--reason", default=None, help="Why the full values are needed (recorded in the audit log).")
@as_user
@with_appcontext
def report_register(area_name: str, out: Path, username: str, full: bool, reason: str | None):
    """台账: the register of an area, one sheet per group (streamed: a county fits in little memory); ID numbers and
    phones masked unless --full with a --reason."""
    people = register_export(principal(username), area_name, str(out), full=full, reason=reason)
    commit()
    click.echo(f"{out}: {people:,} people")
