"""The merge worker's loop: queued submissions merged into the register one transaction each, through outages."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from server.database import commit, database_unavailable
from server.extensions import db
from server.register.operations import merge_next, note_merge_failure

__all__ = ["MergeTally", "run_merge_worker"]

# The longest wait between tries while the database is unavailable, in seconds.
LONGEST_OUTAGE_WAIT = 30


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
