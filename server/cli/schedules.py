"""`taizhang schedule`: check a visit schedule file, and show the rules in force."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from server.schedules.current import current_schedule
from sync.schedules import parse_schedule

__all__ = ["schedule"]


@click.group()
def schedule():
    """The visit schedule: tiers and event windows (TAIZHANG_SCHEDULE_FILE, else the default)."""


@schedule.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def schedule_check(path: Path):
    """Validate a schedule file before pointing TAIZHANG_SCHEDULE_FILE at it."""
    parsed = parse_schedule(path.read_text("utf-8"), source=path.name)
    click.echo(f"{path.name}: {len(parsed.tiers)} tier rule(s), {len(parsed.events)} event rule(s), "
               f"timezone {parsed.timezone}")


@schedule.command("show")
@with_appcontext
def schedule_show():
    """The rules in force."""
    parsed = current_schedule()
    click.echo(f"timezone {parsed.timezone}")
    for rule in parsed.tiers:
        click.echo(f"{rule.code:18} tier {rule.tier:9} once a {rule.period:8} {rule.label_zh}")
    for rule in parsed.events:
        click.echo(f"{rule.code:18} after {rule.anchor:18} days {rule.due_from_day}-{rule.overdue_after_day}, "
                   f"until day {rule.expires_after_day}  {rule.label_zh}")
