"""The schedule in force: the town's schedule file (TAIZHANG_SCHEDULE_FILE), else the default; it also names the
town's time zone (server.clock reads it from here)."""

from __future__ import annotations

import functools
from pathlib import Path

from flask import current_app

from sync.schedules import Schedule, default_schedule, parse_schedule

__all__ = ["current_schedule"]


def current_schedule() -> Schedule:
    """The schedule in force: TAIZHANG_SCHEDULE_FILE if set, else the default shipped with taizhang."""
    return _load(current_app.config.get("TAIZHANG_SCHEDULE_FILE") or "")


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Schedule:
    if not path:
        return default_schedule()
    return parse_schedule(Path(path).read_text("utf-8"), source=path)
