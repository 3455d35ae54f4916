"""The merge worker: the queue of submissions waiting to be merged into the register, taken in arrival order.

Submissions are merged in arrival order (submission id), one at a time: the merge worker locks the oldest queue
entry (FOR UPDATE, not SKIP LOCKED: a second worker waits instead of overtaking, which keeps record versions
deterministic, so a rebuild reproduces the live register exactly). Intake only stores and queues, so Collect gets
its 201 at once and a crash between acceptance and merge leaves the entry queued. A new submission is merged into
the stored records directly; an edit (or an original arriving after its edit) is a replay (server.register.replays).
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
from server.register.stores import DatabaseStore, StoredAliases
from sync.replay import apply_visit, named_uuids, raw_uuids, register_visit

__all__ = ["MergeOutcome", "MergeTally", "merge_next", "note_merge_failure", "run_merge_worker"]

# The longest wait between tries while the database is unavailable, in seconds.
LONGEST_OUTAGE_WAIT = 30


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
    visit = register_visit(claimed.xml)
    outcome = MergeOutcome(claimed.id, applied=False)
    if visit is not None:
        now = now or clock.now()
        if claimed.deprecated_id or queries.is_superseded(visit.instance_id):
            replayed = replay_records(raw_uuids(visit) | chain_uuids(claimed.id),
                                      extra_submissions=queries.chain_ids(claimed.id))
            outcome = MergeOutcome(claimed.id, applied=True, replayed_records=len(replayed))
            changed = {uuid for kind, uuid in replayed if kind == "person"}
        else:
            store = DatabaseStore()
            named = named_uuids(visit)
            aliases = StoredAliases(named)
            apply_visit(store, claimed.id, visit, claimed.area_id, aliases, only=None,
                        purged=queries.purged_records(named | {aliases.resolve(uuid) for uuid in named}))
            store.flush()
            outcome = MergeOutcome(claimed.id, applied=True)
            changed = store.identity_changed
            check_households(store.created_households, now=now)
        check_duplicates(changed, after=claimed.id, now=now)
    queries.dequeue(claimed.id)
    return outcome


def note_merge_failure(error: BaseException) -> int | None:
    """After a failed merge was rolled back: count the attempt on its queue entry (the error's type only: messages
    can quote personal data). After MAX_ATTEMPTS the entry is left for a person and the worker moves on."""
    return queries.note_failure(type(error).__name__)


@dataclass
class MergeTally:
    """What a run of the merge worker did: submissions merged and failed attempts (outages count none)."""

    merged: int = 0
    failed: int = 0


def run_merge_worker(*, loop: bool, interval: float, warn: Callable[[str], None]) -> MergeTally:
    """Merge queued submissions, oldest first, one transaction each, until the queue is empty; with `loop`, for ever,
    polling an empty queue every `interval` seconds. A submission that fails is noted for a retry and the worker goes
    on; a database outage is waited out (the wait doubling up to LONGEST_OUTAGE_WAIT) and counts no attempt. Both
    are told to `warn`."""
    tally = MergeTally()
    outages = 0
    while True:
        try:
            outcome = merge_next()
            commit()
        except Exception as exc:  # noqa: BLE001 - one bad submission must not stop the register
            try:
                db.session.rollback()
            except Exception:  # noqa: BLE001 - the connection may be gone with the database
                db.session.remove()
            if database_unavailable(exc):  # not the submission's fault: wait, and count no attempt
                outages += 1
                warn(f"database unavailable ({type(exc).__name__}); merging resumes when it is back")
                time.sleep(min(interval * 2 ** min(outages, 5), LONGEST_OUTAGE_WAIT))
                continue
            submission_id = note_merge_failure(exc)
            commit()
            tally.failed += 1
            warn(f"merge of submission {submission_id} failed ({type(exc).__name__}); will retry")
            continue
        outages = 0
        if outcome is not None:
            tally.merged += 1
            continue
        if not loop:
            return tally
        time.sleep(interval)
