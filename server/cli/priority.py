"""The merge worker's CPU priority: intake comes first on a busy server (Collect waits for its 201; merging may lag)."""

from __future__ import annotations

import os

__all__ = ["lower_merge_priority"]


def lower_merge_priority(niceness: int) -> int:
    """Raise this process's nice value by `niceness` (0: unchanged), so that on a busy server the gunicorn workers
    answering Collect get the CPU first and the merge worker takes what is left (it catches up when intake is
    quiet). Returns the nice value now in force; a platform without `os.nice` keeps its priority."""
    if not hasattr(os, "nice"):
        return 0
    return os.nice(max(niceness, 0))
