"""Template filters every page uses: an area by its names (青山镇 › 东村 › 第一组), an instant in China time, an ID
number or phone masked."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from server import clock
from sync.privacy import mask_value

__all__ = ["register_filters", "area_name", "when", "day", "masked"]

AREA_SEPARATOR = " › "


def area_name(full_name: str | None) -> str:
    """An area's full name as people read it: "青山镇/东村/第一组" → "青山镇 › 东村 › 第一组"."""
    return AREA_SEPARATOR.join(part for part in (full_name or "").split("/") if part)


def when(instant: dt.datetime | None) -> str:
    """An instant as the town's clocks show it, to the minute ("" for none). Naive instants are UTC."""
    if instant is None:
        return ""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.timezone.utc)
    return clock.wall_time(instant).strftime("%Y-%m-%d %H:%M")


def day(value: dt.date | dt.datetime | None) -> str:
    """A date as YYYY-MM-DD; an instant as the town's date ("" for none)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return clock.date_of(value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).isoformat()
    return value.isoformat()


def masked(value: str | None, field: str) -> str:
    """A value of `field` as lists show it: an ID number or phone masked (`{{ person.phone|masked("phone") }}`), any
    other field's as it is ("" for none)."""
    return mask_value(field, value) or ""


def register_filters(app: Flask) -> None:
    app.add_template_filter(masked, "masked")
    app.add_template_filter(area_name, "area")
    app.add_template_filter(when, "when")
    app.add_template_filter(day, "day")
