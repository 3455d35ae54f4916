"""The merge worker's CPU priority: intake comes first on a busy server (Collect waits for its 201; merging may lag)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["lower_merge_priority"]


def lower_merge_priority(niceness: int) -> int:
    """Raise this process's nice value by `niceness` (0: unchanged), so that on a busy server the gunicorn workers
    answering Collect get the CPU first and the merge worker takes what is left (it catches up when intake is
    quiet). Returns the nice value now in force; a platform without `os.nice` keeps its priority.

    A nice value only counts against processes of the same scheduling group. `taizhang serve` starts the merge worker
    in gunicorn's session, where it does. A merge worker started in a session of its own (Linux autogroups: one
    group per session) also lowers its session's group, which holds only itself. Under systemd, where each unit has
    its own cgroup, give the merge worker's unit a lower `CPUWeight=` (docs/deploy.md)."""
    if not hasattr(os, "nice"):
        return 0
    value = os.nice(max(niceness, 0))
    if niceness > 0 and os.getsid(0) == os.getpid():
        try:
            Path("/proc/self/autogroup").write_text(str(min(niceness, 19)))
        except OSError:
            pass  # no autogroups (not Linux, or disabled): the nice value above is all there is
    return value
