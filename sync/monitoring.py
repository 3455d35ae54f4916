"""What collector monitoring reads (pure): the phone a Collect User-Agent names, the China-time weeks counted, the
share of visits completed."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = ["CollectDevice", "collect_device", "Week", "weeks_back", "completed_share"]

# ODK Collect's User-Agent: the system's http.agent, then its application id and version name, e.g.
# "Dalvik/2.1.0 (Linux; U; Android 13; SM-A135F Build/TP1A.220624.014) org.odk.collect.android/v2024.3.2".
_COLLECT = re.compile(r"org\.odk\.collect\.android/(v?[0-9][\w.\-]*)")
_ANDROID = re.compile(r"Android ([0-9][0-9.]*)(?:;\s*([^;)]*?))?(?:\s+Build/[^;)]*)?[;)]")


@dataclass(frozen=True)
class CollectDevice:
    """The phone as its User-Agent describes it: the Collect version, Android version and model when given."""

    collect_version: str | None
    android: str | None = None
    model: str | None = None

    def describe(self) -> str:
        """"ODK Collect v2024.3.2 · Android 13 · SM-A135F" (the parts known), or the app's name alone."""
        app = f"ODK Collect {self.collect_version}" if self.collect_version else "ODK Collect"
        parts = [app] + ([f"Android {self.android}"] if self.android else []) + ([self.model] if self.model else [])
        return " · ".join(parts)


def collect_device(user_agent: str | None) -> CollectDevice | None:
    """The Collect phone a User-Agent names, or None when it is not Collect's (a browser, a script, nothing)."""
    if not user_agent:
        return None
    app = _COLLECT.search(user_agent)
    if app is None:
        return None
    version = app.group(1)
    if not version.startswith("v"):
        version = f"v{version}"
    android = _ANDROID.search(user_agent)
    model = android.group(2).strip() if android and android.group(2) else None
    return CollectDevice(version, android.group(1) if android else None, model or None)


@dataclass(frozen=True)
class Week:
    """A calendar week, Monday to Sunday (in the town's time zone): its first and last day."""

    start: dt.date
    end: dt.date

    def label(self) -> str:
        return f"{self.start:%m-%d}–{self.end:%m-%d}"

    def instants(self, timezone: str) -> tuple[dt.datetime, dt.datetime]:
        """The week as [first instant, first instant of the next week) in UTC, midnights where the town is."""
        zone = ZoneInfo(timezone)
        return tuple(dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.timezone.utc)
                     for day in (self.start, self.end + dt.timedelta(days=1)))


def weeks_back(today: dt.date, count: int = 4) -> list[Week]:
    """The last `count` weeks up to and including the one `today` falls in, oldest first."""
    monday = today - dt.timedelta(days=today.weekday())
    return [Week(monday - dt.timedelta(weeks=back), monday - dt.timedelta(weeks=back) + dt.timedelta(days=6))
            for back in range(count - 1, -1, -1)]


def completed_share(by_outcome: dict[str, int]) -> float | None:
    """Visits with outcome "completed" ÷ all visits (attempted); None when there were none."""
    attempted = sum(by_outcome.values())
    return by_outcome.get("completed", 0) / attempted if attempted else None
