"""Pruning the attachment store: files no row names and nobody stored for a while are removed.

Intake and publishing write a file before the row naming it commits, so a refused or interrupted upload (an
instanceID clash, a crash, a database outage) leaves a file no row names. Rows naming files are never deleted, so
a named file stays named and is never removed; a backup's database snapshot therefore never names a pruned file.
A file stored within the grace period is spared, and storing the same content again refreshes its time, so an
upload still in its transaction keeps its file (see BlobStore.remove_unless_touched for the race)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from server.blobs import queries
from server.storage import BlobStore

__all__ = ["DEFAULT_GRACE", "PruneResult", "prune_blobs"]

# Longer than any upload's transaction could last, with a wide margin.
DEFAULT_GRACE = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class PruneResult:
    files: int  # files in the store before pruning
    unnamed: int  # of them, older than the grace period and named by no row
    removed: int  # removed now (0 on a dry run; fewer than unnamed if some were stored again meanwhile)
    bytes_removed: int
    partial_removed: int  # partial uploads left in staging/ by a crash
    put_back: int  # files an interrupted earlier prune had set aside, returned first


def prune_blobs(store: BlobStore, *, now: dt.datetime, grace: dt.timedelta = DEFAULT_GRACE,
                dry_run: bool = False) -> PruneResult:
    """Remove the store's files that no row names and that were last stored before `now - grace`."""
    put_back = 0 if dry_run else store.put_back_set_aside()
    cutoff_ns = int((now - grace).timestamp() * 1e9)
    files, old = 0, {}
    for sha256, path in store.stored():
        files += 1
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if stat.st_mtime_ns < cutoff_ns:
            old[sha256] = (stat.st_mtime_ns, stat.st_size)
    # The names are read after the listing: a row committed before this read is seen; one committed later belongs
    # to an upload that stored its file after the listing, which moved its mtime.
    unnamed = sorted(set(old) - queries.named_among(old))
    removed = bytes_removed = partial_removed = 0
    if not dry_run:
        for sha256 in unnamed:
            mtime_ns, size = old[sha256]
            if store.remove_unless_touched(sha256, mtime_ns):
                removed += 1
                bytes_removed += size
        for path, mtime_ns in store.staging_leftovers():
            if mtime_ns < cutoff_ns:
                path.unlink(missing_ok=True)
                partial_removed += 1
    return PruneResult(files=files, unnamed=len(unnamed), removed=removed, bytes_removed=bytes_removed,
                       partial_removed=partial_removed, put_back=put_back)
