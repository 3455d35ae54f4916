"""`taizhang register` (and `taizhang rebuild`): the merge, rebuild, duplicate review and staff decisions."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext

from server.areas.operations import find_area
from server.cli.acting_user import as_user, principal
from server.cli.priority import lower_merge_priority
from server.database import commit
from server.register.decisions import mark_distinct, merge_candidate, move_household, set_tier, undo_decision
from server.register.duplicates import scan_duplicates
from server.register.queries import open_candidates
from server.register.replays import rebuild_register
from server.register.worker import run_merge_worker
from server.schedules.current import current_schedule
from sync.households import HOUSEHOLD_REASONS
from sync.identity import REASONS

__all__ = ["register", "register_rebuild"]


@click.group()
def register():
    """Merge submissions into the household register; review duplicates; move households; undo decisions."""


@register.command("merge")
@click.option("--loop", is_flag=True, help="keep merging as submissions arrive (the merge worker)")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls of an empty queue")
@with_appcontext
def register_merge(loop: bool, interval: float):
    """Merge queued submissions into the register, oldest first, one transaction each. With --loop the process runs
    at a lower CPU priority (TAIZHANG_MERGE_NICE, default 10), so intake comes first on a busy server."""
    if loop:
        lower_merge_priority(current_app.config["TAIZHANG_MERGE_NICE"])
    tally = run_merge_worker(loop=loop, interval=interval, warn=lambda message: click.echo(message, err=True))
    failed = f", {tally.failed} failed attempt(s)" if tally.failed else ""
    click.echo(f"merged {tally.merged} submission(s){failed}")


@register.command("rebuild")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="processes that read and replay the submissions (default: one per CPU core)")
@with_appcontext
def register_rebuild(workers: int | None):
    """Rebuild the register from every raw submission and the recorded decisions (the same result as merging
    them as they came), in several processes by village (docs/register.md § How a full rebuild runs)."""
    applied = rebuild_register(workers or os.cpu_count() or 1)
    commit()
    click.echo(f"register rebuilt from {applied} submission(s)")


@register.command("scan")
@click.option("--village", "village_name", help="only this village, e.g. 青山镇/东村 (default: every village)")
@with_appcontext
def register_scan(village_name: str | None):
    """Look for duplicate people in whole villages; sure pairs are merged, the rest queued for review."""
    villages = [find_area(village_name).id] if village_name else None
    found, merged = scan_duplicates(village_ids=villages)
    commit()
    click.echo(f"{found} candidate pair(s), {merged} merged automatically")


@register.command("duplicates")
@click.option("--area", "area_name", help="only candidates in this area (default: all)")
@with_appcontext
def register_duplicates(area_name: str | None):
    """The review queue: open candidate pairs of people and households, best first (ids, score and reasons;
    names are on the review page)."""
    for candidate in open_candidates(find_area(area_name).path if area_name else None):
        explained = REASONS if candidate.record_kind == "person" else HOUSEHOLD_REASONS
        reasons = "; ".join(explained[code][1] for code in candidate.reasons.split())
        click.echo(f"{candidate.id:6} {candidate.record_kind:9} {candidate.score:.2f} {candidate.a_uuid} "
                   f"{candidate.b_uuid}  {reasons}")


@register.command("merge-pair")
@click.argument("candidate_id", type=int)
@click.option("--keep", "kept_uuid", required=True, help="the uuid of the record kept (one of the pair)")
@as_user
@with_appcontext
def register_merge_pair(candidate_id: int, kept_uuid: str, username: str):
    """Merge a candidate pair into the record kept (undo with `register undo`)."""
    decision_id = merge_candidate(principal(username), candidate_id, kept_uuid)
    commit()
    click.echo(f"merged: decision {decision_id}")


@register.command("distinct")
@click.argument("candidate_id", type=int)
@as_user
@with_appcontext
def register_distinct(candidate_id: int, username: str):
    """Record that a candidate pair is two different people."""
    mark_distinct(principal(username), candidate_id)
    commit()
    click.echo(f"candidate {candidate_id}: two people")


@register.command("move-household")
@click.argument("household_uuid")
@click.argument("group_name")
@as_user
@with_appcontext
def register_move_household(household_uuid: str, group_name: str, username: str):
    """Move a household to another villager group, e.g. 青山镇/东村/第二组."""
    decision_id = move_household(principal(username), household_uuid, find_area(group_name).id)
    commit()
    click.echo(f"moved: decision {decision_id}")


@register.command("set-tier")
@click.argument("person_uuid")
@click.argument("tier")
@as_user
@with_appcontext
def register_set_tier(person_uuid: str, tier: str, username: str):
    """Give a person a service tier of the schedule (e.g. key, general, followup; "none" to clear), from today."""
    decision_id = set_tier(principal(username), person_uuid, "" if tier == "none" else tier,
                           tiers=current_schedule().tier_names)
    commit()
    click.echo(f"tier set: decision {decision_id}")


@register.command("undo")
@click.argument("decision_id", type=int)
@as_user
@with_appcontext
def register_undo(decision_id: int, username: str):
    """Undo a merge or a move exactly, as if it had never been made."""
    undo_decision(principal(username), decision_id)
    commit()
    click.echo(f"decision {decision_id} undone")
