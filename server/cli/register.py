"""`taizhang register` (and `taizhang rebuild`): the merge, rebuild, duplicate review and staff decisions."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from server.areas.operations import find_area
from server.cli.acting_user import as_user, principal
from server.cli.priority import lower_merge_priority
from server.database import commit
from server.extensions import db
from server.register.decisions import mark_distinct, merge_candidate, move_household, set_tier, undo_decision
from server.register.duplicates import scan_duplicates
from server.register.queries import open_candidates
from server.register.replays import rebuild_register
from server.register.worker import run_merge_worker
from server.schedules.current import current_schedule
from sync.households import HOUSEHOLD_REASONS
from sync.identity import REASONS

__all__ = ["register", "register_rebuild", "start_merge_workers", "wait_for_workers"]


@click.group()
def register():
    """Merge submissions into the household register; review duplicates; move households; undo decisions."""


@register.command("merge")
@click.option("--loop", is_flag=True, help="keep merging as submissions arrive (the merge worker)")
@click.option("--interval", default=1.0, show_default=True, help="seconds between polls of an empty queue")
@click.option("--workers", type=int, default=None,
              help="worker processes side by side, one village each at a time (default TAIZHANG_MERGE_WORKERS; "
                   "always 1 on SQLite)")
@click.option("--batch", type=int, default=None,
              help="submissions of one village merged per transaction (default TAIZHANG_MERGE_BATCH)")
@with_appcontext
def register_merge(loop: bool, interval: float, workers: int | None, batch: int | None):
    """Merge queued submissions into the register: batches of one village, oldest first, one transaction each. With
    --loop the workers run at a lower CPU priority (TAIZHANG_MERGE_NICE, default 10), so intake comes first on a busy
    server."""
    config = current_app.config
    if loop:   # before any worker process starts: they inherit it
        lower_merge_priority(config["TAIZHANG_MERGE_NICE"])
    workers = workers or config["TAIZHANG_MERGE_WORKERS"]
    batch = batch or config["TAIZHANG_MERGE_BATCH"]
    if workers > 1 and db.engine.dialect.name != "postgresql":
        click.echo("SQLite: one merge worker (its write lock serialises merges anyway)", err=True)
        workers = 1
    if workers > 1:
        db.session.remove()
        db.engine.dispose()   # each worker opens its own connections
        processes = start_merge_workers(workers, loop=loop, interval=interval, batch=batch, tally=True,
                                        lowered=True)
        status = wait_for_workers(processes)
        tallies = [json.loads(process.stdout.read() or "{}") for process in processes]
        _echo_tally(sum(tally.get("merged", 0) for tally in tallies), sum(tally.get("failed", 0) for tally in tallies))
        sys.exit(status)
    tally = run_merge_worker(loop=loop, interval=interval, batch_size=batch,
                             warn=lambda message: click.echo(message, err=True))
    if os.environ.get(_TALLY_AS_JSON):
        click.echo(json.dumps(dict(merged=tally.merged, failed=tally.failed)))
    else:
        _echo_tally(tally.merged, tally.failed)


_TALLY_AS_JSON = "TAIZHANG_MERGE_TALLY_JSON"   # a worker started by start_merge_workers(tally=True) reports so


def _echo_tally(merged: int, failed: int) -> None:
    click.echo(f"merged {merged} submission(s)" + (f", {failed} failed attempt(s)" if failed else ""))


def start_merge_workers(count: int, *, loop: bool, interval: float = 1.0, batch: int | None = None,
                        tally: bool = False, lowered: bool = False) -> list[subprocess.Popen]:
    """Start `count` merge worker processes (`taizhang register merge --workers 1`); `tally`: each reports what it
    merged as JSON on its stdout (a pipe); `lowered`: this process runs at the merge's priority already, which they
    inherit (else each lowers its own by TAIZHANG_MERGE_NICE)."""
    command = [sys.executable, "-c", "from server.cli import main; main()", "register", "merge", "--workers", "1",
               "--interval", str(interval), *(["--loop"] if loop else []), *(["--batch", str(batch)] if batch else [])]
    env = {**os.environ, **({_TALLY_AS_JSON: "1"} if tally else {}), **({"TAIZHANG_MERGE_NICE": "0"} if lowered else {})}
    return [subprocess.Popen(command, env=env, stdout=subprocess.PIPE if tally else None, text=True,
                             preexec_fn=_end_with_parent if sys.platform == "linux" else None)
            for _ in range(count)]


def _end_with_parent() -> None:
    """In a worker process (Linux): a SIGTERM when the process that started it dies, even by SIGKILL."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def wait_for_workers(processes: list[subprocess.Popen]) -> int:
    """Wait for these worker processes, passing SIGTERM and SIGINT on to them; the first non-zero exit status."""
    def stop(signum, _frame):
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        return next((status for status in [process.wait() for process in processes] if status), 0)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


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
