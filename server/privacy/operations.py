"""The purge: the retention rules applied on a day, as a dry run (what would go, per village and rule) or for real
(in one transaction: tombstones, raw submissions scrubbed, the register replayed without what went, audited)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app

from server.audit.queries import record
from server.database import on_postgresql
from server.principal import Principal
from server.privacy import queries
from server.privacy.consent import ConsentScrub, pending_withdrawals
from server.privacy.consent import scrub_submission as blank_consented
from server.register import queries as register_queries
from server.register.matching import index_people
from server.register.replays import replay_records
from server.schedules.counted import counted
from sync.access import TOWN_OFFICE_ROLES
from sync.errors import Forbidden, RetentionPeriodTooShort, RetentionRuleUnknown
from sync.privacy import RETENTION_RULES, PeriodTooShort
from sync.retention import PURGE_RULES, ScrubTarget, Selection, check_periods, plan_purge, scrub_submission

__all__ = ["PurgeReport", "PreviewRow", "retention_periods", "plan", "purge", "purge_preview"]


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a purge removes (a dry run: would remove): the selections, counted per village and rule."""

    as_of: dt.date
    periods: dict[str, int]
    selections: tuple[Selection, ...]
    village_names: dict[int, str]
    dry_run: bool
    scrubbed_submissions: int = 0
    consent_scrubs: dict[str, tuple[ConsentScrub, ...]] = field(default_factory=dict)   # by person (consent rule)

    def counts(self) -> dict[tuple[str, str], int]:
        """(village's full name, rule) → how many, in that order."""
        tally = Counter((self.village_names.get(selection.village_id, "-"), selection.rule)
                        for selection in self.selections)
        return dict(sorted(tally.items()))

    def people(self, rule: str | None = None) -> set[str]:
        return {selection.uuid for selection in self.selections
                if selection.uuid is not None and (rule is None or selection.rule == rule)}


def retention_periods(overrides: Mapping[str, int] | None = None) -> dict[str, int]:
    """The period of every rule (days): the configured one, or an override; each checked against its minimum
    (RetentionPeriodTooShort, RetentionRuleUnknown: nothing is done)."""
    unknown = set(overrides or {}) - set(RETENTION_RULES)
    if unknown:
        raise RetentionRuleUnknown(", ".join(sorted(unknown)))
    periods = {name: int(current_app.config[rule.config_key]) for name, rule in RETENTION_RULES.items()}
    periods.update(overrides or {})
    try:
        return check_periods(periods)
    except PeriodTooShort as exc:
        raise RetentionPeriodTooShort(f"{exc.rule.name}: {exc.days} < {exc.rule.minimum_days}") from exc


def plan(as_of: dt.date, overrides: Mapping[str, int] | None = None) -> PurgeReport:
    """What a purge on `as_of` would remove (changes nothing)."""
    periods = retention_periods(overrides)
    pending: dict[str, tuple[dt.date, list[ConsentScrub]]] = {}
    for withdrawal in pending_withdrawals():
        day, scrubs = pending.get(withdrawal.person_uuid, (withdrawal.withdrawn_on, []))
        pending[withdrawal.person_uuid] = (min(day, withdrawal.withdrawn_on), scrubs + withdrawal.scrubs)
    selections = plan_purge(queries.person_facts({uuid: day for uuid, (day, _) in pending.items()}),
                            queries.location_facts(), periods, as_of,
                            service_age=int(current_app.config["TAIZHANG_SERVICE_AGE_LIMIT"]))
    return PurgeReport(as_of, periods, tuple(selections),
                       queries.village_names(selection.village_id for selection in selections), dry_run=True,
                       consent_scrubs={uuid: tuple(scrubs) for uuid, (_, scrubs) in pending.items()})


def purge(as_of: dt.date, *, by: int | None, overrides: Mapping[str, int] | None = None) -> PurgeReport:
    """Remove what the retention rules select on `as_of` (the caller commits: one transaction). `by`: the user
    running it (None: the system)."""
    report = plan(as_of, overrides)
    whole = {selection.uuid for selection in report.selections
             if selection.uuid is not None and PURGE_RULES[selection.rule].removes == "person"}
    by_service = [selection for selection in report.selections
                  if selection.uuid is not None and selection.uuid not in whole]
    locations = {selection.submission_id for selection in report.selections if selection.submission_id is not None}
    aliases = {uuid: register_queries.merged_away_into({uuid}) for uuid in whole}
    every_whole = whole | {alias for found in aliases.values() for alias in found}
    people = every_whole | {selection.uuid for selection in by_service}
    queries.add_tombstones(report.selections, aliases, day=as_of, after_submission_id=queries.last_submission_id())

    words = queries.identifying_words(every_whole)
    targets = [ScrubTarget(uuid, selection.rule, tuple(sorted(words.get(uuid, ()))))
               for selection in report.selections if selection.uuid is not None
               for uuid in {selection.uuid} | aliases.get(selection.uuid, set())]
    # Withdrawn consents: the answers they cover blanked (sync.consent), before the other rules' scrubs read them.
    scrubbed = 0
    consented = {submission.submission_id: submission.scrub
                 for selection in report.selections if selection.rule == "consent_withdrawn"
                 for submission in report.consent_scrubs.get(selection.uuid, ())}
    for row in queries.submission_xml(set(consented)):
        xml = blank_consented(row.xml, consented[row.id])
        if xml != row.xml:
            queries.replace_xml(row.id, xml, hashlib.sha256(xml).hexdigest())
            scrubbed += 1
    # (with the submissions still queued: merged later, they are applied without what was purged)
    touched = register_queries.chain_ids(register_queries.submissions_touching(people) | locations) | (
        queries.queued_submissions() if people else set())
    for row in queries.submission_xml(touched):
        xml = scrub_submission(row.xml, targets, location=row.id in locations)
        if xml != row.xml:
            queries.replace_xml(row.id, xml, hashlib.sha256(xml).hexdigest())
            scrubbed += 1
    queries.clear_locations(locations)
    queries.scrub_decisions(every_whole)
    if people:
        replayed = replay_records(set(people))
        queries.forget_people(every_whole)
        index_people({uuid for kind, uuid in replayed if kind == "person"} - every_whole)

    paths = queries.village_paths(selection.village_id for selection in report.selections)
    tally = Counter((selection.village_id, selection.rule) for selection in report.selections)
    for (village_id, rule), count in sorted(tally.items(), key=lambda item: (str(item[0][0]), item[0][1])):
        record(by, "purge", area_path=paths.get(village_id), subject=f"{rule} as of {as_of.isoformat()}",
               records=count, reason=rule)
    return PurgeReport(as_of, report.periods, report.selections, report.village_names, dry_run=False,
                       scrubbed_submissions=scrubbed, consent_scrubs=report.consent_scrubs)


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """A line of the town office's purge page: a village of its area, a rule, how many would go."""

    village: str
    rule: str
    count: int


def purge_preview(principal: Principal, as_of: dt.date) -> tuple[PurgeReport, list[PreviewRow]]:
    """The dry run as the town office (or the county) sees it: counts per village of its area and rule, no person
    named (the run itself is the administrator's command)."""
    if principal.role not in TOWN_OFFICE_ROLES:
        raise Forbidden("the purge's dry run is for the town office")
    # The plan reads every person of the county (seconds at county size), and its tally per village and rule walks
    # the county's selections: on PostgreSQL both made once and kept while the register is unchanged
    # (server.schedules.counted: its fingerprint there sees every write to visits, submissions (a scrub too),
    # decisions and reviews; SQLite's counts rows and would miss a scrub, so there they are made afresh).
    if on_postgresql():
        return counted(("purge preview", principal.area_path, as_of),
                       functools.partial(_preview, principal.area_path, as_of)).value
    return _preview(principal.area_path, as_of)


def _preview(area_path: str | None, as_of: dt.date) -> tuple[PurgeReport, list[PreviewRow]]:
    """The plan (the county's: on PostgreSQL kept once for every area) and an area's tally of it."""
    report = (counted(("purge plan", as_of), functools.partial(plan, as_of)).value
              if on_postgresql() else plan(as_of))
    paths = queries.village_paths(selection.village_id for selection in report.selections)
    tally = Counter((selection.village_id, selection.rule) for selection in report.selections
                    if area_path is None or paths.get(selection.village_id, "").startswith(area_path))
    rows = sorted((PreviewRow(report.village_names.get(village_id, "-"), rule, count)
                   for (village_id, rule), count in tally.items()), key=lambda row: (row.village, row.rule))
    return report, rows
