"""Collector monitoring: each collector of the reader's area with their last sync, the forms on their phone, the
phone itself, submissions per week and the share of visits completed; and recording a phone's form download."""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass

from server import clock
from server.areas.operations import DrillDown, drill_down
from server.areas.queries import AreaRow
from server.monitoring import queries
from server.principal import Principal
from server.schedules.counted import counted
from sync.access import STAFF_ROLES
from sync.dashboard import not_synced_since
from sync.errors import Forbidden
from sync.monitoring import Week, collect_device, completed_share, weeks_back

__all__ = ["WEEKS", "record_form_download", "CollectorMonitor", "TownMonitor", "Monitoring", "collector_monitoring"]

WEEKS = 4
"""How many weeks (the current one included) submissions and visits are counted over."""


def record_form_download(principal: Principal, form_pk: int, version: str, user_agent: str | None) -> None:
    """A collector's phone downloaded a form version (other roles' downloads are not monitored)."""
    if principal.role == "collector":
        queries.record_form_download(principal.id, form_pk, version, clock.now(), user_agent)


@dataclass(frozen=True)
class CollectorMonitor:
    """One collector as the monitoring page shows them."""

    collector: queries.MonitoredCollector
    last_sync: dt.datetime | None           # their latest submission's arrival
    silent: bool                            # not synced for the alert's days (or never)
    device: str | None                      # "ODK Collect v2024.3.2 · Android 13 · SM-A135F"
    device_id: str | None
    last_download: dt.datetime | None
    forms: tuple[queries.FormOnPhone, ...]  # per form: the version held, the current one
    weekly: tuple[int, ...]                 # submissions per week, oldest first
    outcomes: dict[str, int]                # visits of the weeks by outcome
    completed_share: float | None

    @property
    def attempted(self) -> int:
        return sum(self.outcomes.values())

    @property
    def outdated_forms(self) -> int:
        return sum(1 for form in self.forms if form.current_version is not None
                   and form.version != form.current_version)


@dataclass(frozen=True)
class TownMonitor:
    """A town's collectors in sum, as the county's monitoring page shows them before a town is chosen."""

    town: AreaRow
    active: int
    revoked: int
    silent: int                             # active and not synced for the alert's days (or never)
    weekly: tuple[int, ...]
    outcomes: dict[str, int]

    @property
    def attempted(self) -> int:
        return sum(self.outcomes.values())

    @property
    def completed_share(self) -> float | None:
        return completed_share(self.outcomes)


@dataclass(frozen=True)
class Monitoring:
    rows: list[CollectorMonitor]            # the collectors of the area shown (none for the whole county)
    towns: list[TownMonitor]                # the whole county: its towns in sum, each to be chosen
    weeks: list[Week]
    days: int                               # the sync alert's days
    view: DrillDown


def _device(user_agent: str | None) -> str | None:
    device = collect_device(user_agent)
    return device.describe() if device else None


def _submission_figures(path: str | None, instants: tuple, first: dt.date, last: dt.date) -> tuple[dict, dict, dict]:
    """Each collector's latest submission, submissions per week and visits by outcome from `first` to `last`."""
    return (queries.latest_submissions(path), queries.submissions_per_week(path, list(instants)),
            queries.visit_outcomes(path, first, last))


def collector_monitoring(principal: Principal, *, days: int, area: str | None = None,
                         now: dt.datetime | None = None) -> Monitoring:
    """The collectors of an area of the reader's (by full name; by default their own: a cadre's village, a town's),
    each figure counted in one grouped query for all of them; for the whole county, its towns in sum (six thousand
    collectors are not read on one page: the reader picks a town, then a village)."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden("collector monitoring is for village cadres and the town office")
    view = drill_down(principal, area, refusal="collector monitoring is for village cadres and the town office")
    now = now or clock.now()
    path, timezone = view.path, clock.timezone()
    weeks = weeks_back(clock.date_of(now), WEEKS)
    instants = tuple(week.instants(timezone) for week in weeks)
    # Read from every submission and visit of the area's weeks (at county size, hundreds of thousands): kept while
    # they are unchanged (server.schedules.counted), as the home pages' figures.
    first, last = weeks[0].start, weeks[-1].end
    latest, weekly, outcomes = counted(("monitoring", path, instants),
                                       functools.partial(_submission_figures, path, instants, first, last)).value
    if path is None:
        return Monitoring([], _towns(view.inside, latest, weekly, outcomes, now, days, len(weeks)), weeks, days,
                          view)
    forms: dict[int, list[queries.FormOnPhone]] = {}
    for form in queries.forms_on_phones(path):
        forms.setdefault(form.user_id, []).append(form)
    rows = []
    for collector in queries.collectors_in(path):
        last = latest.get(collector.id)
        held = tuple(forms.get(collector.id, ()))
        downloaded = max(held, key=lambda form: form.downloaded_at, default=None)
        by_outcome = outcomes.get(collector.id, {})
        rows.append(CollectorMonitor(
            collector=collector, last_sync=last.received_at if last else None,
            silent=collector.active and not_synced_since(last.received_at if last else None, now, days),
            device=_device(last.user_agent if last else None) or _device(downloaded.user_agent if downloaded else None),
            device_id=last.device_id if last else None,
            last_download=downloaded.downloaded_at if downloaded else None, forms=held,
            weekly=weekly.get(collector.id, (0,) * len(weeks)), outcomes=by_outcome,
            completed_share=completed_share(by_outcome)))
    return Monitoring(rows, [], weeks, days, view)


def _towns(towns: list[AreaRow], latest: dict, weekly: dict, outcomes: dict, now: dt.datetime, days: int,
           weeks: int) -> list[TownMonitor]:
    """Each town's collectors in sum: active and revoked, silent, submissions per week and visits by outcome."""
    active, revoked, silent = Counter(), Counter(), Counter()
    per_week = {town.path: [0] * weeks for town in towns}
    by_outcome: dict[str, Counter] = {town.path: Counter() for town in towns}
    for collector in queries.collectors_in(None):
        town = "/" + collector.group_path.strip("/").split("/")[0] + "/"
        if town not in per_week:
            continue
        last = latest.get(collector.id)
        (active if collector.active else revoked)[town] += 1
        silent[town] += collector.active and not_synced_since(last.received_at if last else None, now, days)
        for index, count in enumerate(weekly.get(collector.id, ())):
            per_week[town][index] += count
        by_outcome[town].update(outcomes.get(collector.id, {}))
    return [TownMonitor(town, active[town.path], revoked[town.path], silent[town.path], tuple(per_week[town.path]),
                        dict(by_outcome[town.path])) for town in towns]
