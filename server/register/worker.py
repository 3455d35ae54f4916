"""The merge worker: the queue of submissions waiting to be merged into the register, in batches of one village.

A worker claims a batch (up to TAIZHANG_MERGE_BATCH, default 50) of one village's queued submissions, oldest first,
and merges them in one transaction. Several workers (processes, TAIZHANG_MERGE_WORKERS) run side by side on
PostgreSQL, which is the lock manager: a batch holds the register shared and its village exclusively
(transaction-level advisory locks, server.register.queries.claim_batch), so two workers never merge the same
village at once and each village is merged in arrival order (submission id). Record versions then come out as a
rebuild numbers them. What crosses villages is merged holding the whole register: a replay (an edit, an original
arriving after its edit, an automatic merge, a decision) takes it exclusively unless its records all live in the
worker's village, and so does a visit confirming an arrival; a batch that meets one is rolled back and merged again
so (NeedsWholeRegister). A submission merged after something placed later in
arrival order touched its records (another village's visit, a decision taken while it waited) is merged as a
replay of those records, as an edit is, so the register stays what a rebuild gives. On SQLite one worker runs (its
write lock serialises anyway).

A batch that fails is rolled back and merged again one submission per transaction, so only the bad one has its
attempt counted (after MAX_ATTEMPTS it is left for a person); a database outage is waited out and counts none.
Intake only stores and queues, so Collect gets its 201 at once and a crash between acceptance and merge leaves the
entry queued. A new submission is merged into the stored records directly (server.register.stores.DatabaseStore).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from server import clock
from server.database import commit, database_unavailable
from server.extensions import db
from server.register import queries
from server.register.duplicates import check_duplicates, check_households
from server.register.replays import chain_uuids, replay_records
from server.register.stores import DatabaseStore
from sync.decisions import DECISION_KINDS
from sync.replay import ReplayAliases, StoredSubmission, apply_visit, named_uuids, raw_uuids, register_visit

__all__ = ["DEFAULT_BATCH", "MergeOutcome", "MergeTally", "merge_batch", "merge_next", "note_merge_failure",
           "run_merge_worker"]

# The longest wait between tries while the database is unavailable, in seconds.
LONGEST_OUTAGE_WAIT = 30
DEFAULT_BATCH = 50   # submissions merged in one transaction (TAIZHANG_MERGE_BATCH)
# A looping worker whose batch was not full (it caught up with its village) lets the queue gather until its oldest
# entry has waited this long (at most its polling interval) before it claims again, in seconds. A batch's fixed cost
# (its transaction, locks, claim, reads, duplicate check and commit) is several milliseconds: chasing every few
# arrivals of a busy village with a batch of their own cost more than the visits themselves (docs/benchmarks.md §
# Issue 22 (round 3), item 6). An entry older than this is claimed at once, so a worker that is behind never waits.
GATHER_WAIT = 0.25


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    submission_id: int
    applied: bool
    replayed_records: int = 0


def merge_next(*, now: dt.datetime | None = None) -> MergeOutcome | None:
    """Merge the oldest queued submission (the caller commits); None when the queue is empty."""
    claimed = queries.claim_next()
    if claimed is None:
        return None
    (outcome,) = merge_batch([claimed], now=now)
    return outcome


def merge_batch(batch: list[StoredSubmission], *, now: dt.datetime | None = None) -> list[MergeOutcome]:
    """Merge these claimed submissions (of one village, in arrival order) and take them off the queue; the caller
    commits. Raises NeedsWholeRegister when one of them needs the register whole and it is held shared."""
    if not batch:
        return []
    visits = {claimed.id: register_visit(claimed.xml) for claimed in batch}
    names = {claimed.id: named_uuids(visit) for claimed in batch if (visit := visits[claimed.id]) is not None}
    steps = queries.merge_steps(set().union(*names.values()))
    named = {submission_id: _with_merged(uuids, steps) for submission_id, uuids in names.items()}
    every = set().union(*named.values())   # the uuids the batch names and those they were merged into
    touched = queries.touched_after(every)
    placed_after = queries.decisions_placed_after(batch[0].id)
    superseded = queries.superseded({visit.instance_id for visit in visits.values() if visit is not None})
    aliases = ReplayAliases(steps)   # every step of every uuid the batch names: no decision is taken meanwhile
    purged = queries.purged_records(every)
    outcomes, changed, created = [], set(), set()
    store = DatabaseStore()
    store.read(every)
    now = now or clock.now()
    for claimed in batch:
        visit = visits[claimed.id]
        outcome = MergeOutcome(claimed.id, applied=False)
        if visit is not None:
            records = named[claimed.id]
            late = (any(touched.get(uuid, 0) > claimed.id for uuid in records)
                    or any(_concerns(decision, records) for decision in placed_after
                           if decision.after_submission_id >= claimed.id))
            if claimed.deprecated_id or late or visit.instance_id in superseded:
                _flush(store, changed, created)   # the replay reads what the visits before it wrote
                replayed = replay_records(raw_uuids(visit) | chain_uuids(claimed.id),
                                          extra_submissions=queries.chain_ids({claimed.id}) | {claimed.id})
                store = DatabaseStore()           # and rewrites records this store may have read
                outcome = MergeOutcome(claimed.id, applied=True, replayed_records=len(replayed))
                changed |= {uuid for kind, uuid in replayed if kind == "person"}
            else:
                if any(observation.arrival for observation in visit.people):
                    queries.lock_register()   # it may change a record of the village the person left
                apply_visit(store, claimed.id, visit, claimed.area_id, aliases, only=None, purged=purged)
                outcome = MergeOutcome(claimed.id, applied=True)
        outcomes.append(outcome)
    _flush(store, changed, created)
    # The duplicate check once for the batch, after its last visit (its automatic merges are placed there).
    check_households(created, now=now)
    check_duplicates(changed, after=batch[-1].id, now=now)
    queries.dequeue(*(claimed.id for claimed in batch))
    return outcomes


def _flush(store: DatabaseStore, changed: set[str], created: set[str]) -> None:
    """Write what the store's visits derived; note the people whose identity changed and the households created."""
    store.flush()
    changed |= store.identity_changed
    created |= store.created_households


def _with_merged(names: set[str], steps: dict[str, str]) -> set[str]:
    """These uuids and the records they were merged into, at any depth."""
    found, pending = set(names), list(names)
    while pending:
        step = steps.get(pending.pop())
        if step is not None and step not in found:
            found.add(step)
            pending.append(step)
    return found


def _concerns(decision, uuids: set[str]) -> bool:
    """Whether a decision placed later in arrival order may change how a visit naming these records merges: any
    but another village's automatic merge (it joins two people of its own village only)."""
    automatic = DECISION_KINDS[decision.kind].automatic and decision.decided_by is None
    return not automatic or bool({decision.subject_uuid, decision.target} & uuids)


def note_merge_failure(error: BaseException, submission_id: int | None = None) -> int | None:
    """After a failed merge was rolled back: count the attempt on its queue entry (the error's type only: messages
    can quote personal data; None: the oldest eligible entry). After MAX_ATTEMPTS the entry is left for a person and
    the worker moves on."""
    return queries.note_failure(type(error).__name__, submission_id)


@dataclass
class MergeTally:
    """What a run of the merge worker did: submissions merged and failed attempts (outages count none)."""

    merged: int = 0
    failed: int = 0


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone with the database
        db.session.remove()


def _gathering_wait(longest: float) -> float:
    """How long to let the queue gather: until its oldest entry has waited `longest` seconds (all of it when the
    queue is empty; none when that entry has waited so long already). Read in a transaction of its own, ended before
    the worker waits; a database gone meanwhile is left for the next claim to meet (no wait)."""
    try:
        waited = queries.oldest_queued_wait(clock.now())
    except Exception:  # noqa: BLE001 - the claim that follows waits an outage out
        return 0.0
    finally:
        _rollback()
    return longest if waited is None else min(max(longest - waited, 0.0), longest)


def run_merge_worker(*, loop: bool, interval: float, warn: Callable[[str], None],
                     batch_size: int = DEFAULT_BATCH) -> MergeTally:
    """Merge queued submissions, a batch of one village per transaction, until the queue is empty (or every
    village left is held by another worker); with `loop`, for ever, polling every `interval` seconds when there is
    nothing to take, and letting the queue gather (GATHER_WAIT) once it has caught up. A batch that fails is merged
    again one submission at a time: one that fails alone is noted for a retry and the worker goes on; a database
    outage is waited out (the wait doubling up to LONGEST_OUTAGE_WAIT) and counts no attempt. Both are told to
    `warn`."""
    tally = MergeTally()
    outages = 0
    singles = 0             # submissions of `village` to merge one per transaction (after a batch failed)
    village = None          # the village to take next (None: any)
    exclusive = False       # the next batch holds the whole register
    while True:
        batch: list[StoredSubmission] = []
        try:
            batch = queries.claim_batch(1 if singles else batch_size, village_id=village, exclusive=exclusive)
            merge_batch(batch)
            commit()
        except queries.NeedsWholeRegister:
            _rollback()
            exclusive = True
            village = queries.village_of(batch[0].id) if batch else None
            continue
        except Exception as exc:  # noqa: BLE001 - one bad submission must not stop the register
            _rollback()
            if database_unavailable(exc):  # not the submission's fault: wait, and count no attempt
                outages += 1
                warn(f"database unavailable ({type(exc).__name__}); merging resumes when it is back")
                time.sleep(min(interval * 2 ** min(outages, 5), LONGEST_OUTAGE_WAIT))
                continue
            if len(batch) > 1:   # find the bad one: merge the batch again, one at a time
                singles, village, exclusive = len(batch), queries.village_of(batch[0].id), False
                continue
            submission_id = note_merge_failure(exc, batch[0].id if batch else None)
            commit()
            tally.failed += 1
            warn(f"merge of submission {submission_id} failed ({type(exc).__name__}); will retry")
            singles = max(singles - 1, 0)
            village = village if singles else None
            exclusive = False
            continue
        outages = 0
        tally.merged += len(batch)
        singles = max(singles - 1, 0) if batch else 0
        village = village if singles else None
        exclusive = False
        if batch and loop and not singles and len(batch) < batch_size:
            if wait := _gathering_wait(min(interval, GATHER_WAIT)):
                time.sleep(wait)
            continue
        if batch:
            continue
        if not loop and not queries.queued_entries(1):
            return tally
        time.sleep(interval)
