"""The merge worker: the queue of submissions waiting to be merged into the register, taken in arrival order.

Submissions are merged in arrival order (submission id), one at a time: the merge worker locks the oldest queue
entry (FOR UPDATE, not SKIP LOCKED: a second worker waits instead of overtaking, which keeps record versions
deterministic, so a rebuild reproduces the live register exactly). Intake only stores and queues, so Collect gets
its 201 at once and a crash between acceptance and merge leaves the entry queued. A new submission is merged into
the stored records directly; an edit (or an original arriving after its edit) is a replay (server.register.replays).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server import clock
from server.register import queries
from server.register.duplicates import check_duplicates, check_households
from server.register.replays import chain_uuids, replay_records
from server.register.stores import DatabaseStore, StoredAliases
from sync.replay import apply_visit, named_uuids, raw_uuids, register_visit

__all__ = ["MergeOutcome", "merge_next", "note_merge_failure"]


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
            apply_visit(store, claimed.id, visit, claimed.area_id, StoredAliases(named_uuids(visit)), only=None)
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
