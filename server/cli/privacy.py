"""`taizhang privacy purge`: the retention rules applied, as a dry run or for real (docs/retention.md)."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from server import clock
from server.cli.acting_user import principal
from server.database import commit
from server.privacy.operations import PurgeReport, plan, purge
from sync.privacy import RETENTION_RULES

__all__ = ["privacy"]


@click.group()
def privacy():
    """Privacy: retention periods and the purge of what is kept longer than them."""


def _overrides(values: tuple[str, ...]) -> dict[str, int]:
    found = {}
    for value in values:
        rule, _, days = value.partition("=")
        if not days.strip().lstrip("-").isdigit():
            raise click.BadParameter(f"{value!r}: write RULE=DAYS, e.g. died=1825", param_hint="--days")
        found[rule.strip()] = int(days)
    return found


def _print(report: PurgeReport) -> None:
    verb = "would purge" if report.dry_run else "purged"
    click.echo(f"{verb} as of {report.as_of.isoformat()}:")
    counts = report.counts()
    for (village, rule), count in counts.items():
        click.echo(f"  {village}\t{RETENTION_RULES[rule].label_zh} ({rule})\t{count}")
    click.echo(f"total {sum(counts.values())}" + ("" if report.dry_run
                                                    else f"; {report.scrubbed_submissions} submission(s) scrubbed"))


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="print what would go, per village and rule; change nothing")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the day the periods are counted back from (default: today, China time)")
@click.option("--days", "days", multiple=True, metavar="RULE=N",
              help="a rule's period in days instead of the configured one (not under the rule's minimum)")
@click.option("--by", "username", default=None, help="the administrator running it (default: the system)")
@with_appcontext
def privacy_purge(dry_run: bool, as_of: dt.datetime | None, days: tuple[str, ...], username: str | None):
    """Purge people who died or moved out of the county, service records aged out or whose consent was withdrawn,
    and GPS points, kept longer than their periods: in one transaction, audited."""
    day = as_of.date() if as_of else clock.today()
    overrides = _overrides(days)
    if dry_run:
        _print(plan(day, overrides))
        return
    by = principal(username).id if username else None
    report = purge(day, by=by, overrides=overrides)
    commit()
    _print(report)
