"""Consent withdrawn: recorded by a cadre, and the raw answers it covers, for the purge and the visit page.

A cadre records that a person withdrew their consent (the decision withdraw_consent, which takes what it covers out
of the register: sync.consent); the raw answers the withdrawals cover are listed for the purge, which blanks them,
and hidden on the visit page until then (docs/services.md § Consent)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import NamedTuple

from server import clock
from server.privacy import consent_queries as queries
from server.register import queries as register_queries
from server.register.decisions import authorise, record_decision
from sync.access import village_of
from sync.consent import Scrub, consent_scrub, scrub_submission
from sync.decisions import WITHDRAW_CONSENT
from sync.errors import (
    ConsentDayInvalid,
    ConsentNotConfirmed,
    ConsentNoteTooLong,
    ConsentNothingRecorded,
    RecordNotFound,
)

__all__ = ["MAX_NOTE", "Withdrawn", "ConsentScrub", "PendingWithdrawal", "withdraw_consent", "withdrawals_of",
           "consent_scrubs", "pending_withdrawals", "visible_xml", "scrub_submission"]

MAX_NOTE = 200
"""The longest note a withdrawal keeps."""


class Withdrawn(NamedTuple):
    """A withdrawal recorded: the decision (undo with it) and whose it was."""

    decision_id: int
    name: str


class ConsentScrub(NamedTuple):
    """A raw submission and what the withdrawals in force cover in it (sync.consent.scrub_submission blanks it)."""

    submission_id: int
    scrub: Scrub


def withdraw_consent(principal, person_uuid: str, day: str, note: str = "", *, confirmed: bool,
                     now: dt.datetime | None = None) -> Withdrawn:
    """Record that a person of the reader's area withdrew, on `day`, the consent under which sensitive services
    were recorded about them: what the register holds by that consent is taken out (and purged on the next run).
    The person's area is checked first; then the day (today or earlier), the note, the confirmation, and that
    there is something to withdraw."""
    placed = register_queries.person_page_rows(person_uuid)
    if placed is None:
        raise RecordNotFound(person_uuid)
    authorise(principal, WITHDRAW_CONSENT, placed.group.path)
    now = now or clock.now()
    try:
        withdrawn_on = dt.date.fromisoformat((day or "").strip())
    except ValueError:
        raise ConsentDayInvalid() from None
    if withdrawn_on > clock.date_of(now):
        raise ConsentDayInvalid(withdrawn_on.isoformat())
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ConsentNoteTooLong()
    if not confirmed:
        raise ConsentNotConfirmed()
    household = placed.household.uuid
    if not queries.holds_consent_records(person_uuid, household):
        raise ConsentNothingRecorded()
    decision = record_decision(WITHDRAW_CONSENT, person_uuid, household, field=withdrawn_on.isoformat(),
                               note=note or None, by=principal.id, now=now, area_path=village_of(placed.group.path))
    return Withdrawn(decision, placed.person.name or "")


def withdrawals_of(person_uuid: str) -> list[queries.WithdrawalShown]:
    """The person's withdrawals in force (the caller has checked the person is in the reader's area)."""
    return queries.withdrawals_of(person_uuid)


def _with_merged(uuids: set[str]) -> set[str]:
    """These uuids and those merged into them: the uuids a phone may have written for them."""
    return uuids | register_queries.merged_away_into(uuids)


def _covered(withdrawals) -> dict[int, tuple[set[str], set[str]]]:
    """For each submission the withdrawals may cover: the uuids of the people who withdrew and of their households
    (with the records merged into them), of the withdrawals recorded after it."""
    covered: dict[int, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for withdrawal in withdrawals:
        people = _with_merged({withdrawal.person_uuid})
        households = _with_merged({withdrawal.household_uuid})
        named = register_queries.submissions_touching(people | households, up_to=withdrawal.after_submission_id)
        for submission_id in register_queries.chain_ids(named):
            covered[submission_id][0].update(people)
            covered[submission_id][1].update(households)
    return covered


def _scrubs(covered: dict[int, tuple[set[str], set[str]]]) -> list[ConsentScrub]:
    found = []
    for row in register_queries.submission_rows(set(covered)):
        people, households = covered[row.id]
        scrub = consent_scrub(row.xml, people=people, households=households)
        if scrub:
            found.append(ConsentScrub(row.id, scrub))
    return found


def consent_scrubs() -> list[ConsentScrub]:
    """Every raw submission holding answers the withdrawals in force cover (with the names told with a consent
    refused), and what to blank in it: the purge's list (sync.consent.scrub_submission blanks one)."""
    return _scrubs(_covered(queries.withdrawals()))


class PendingWithdrawal(NamedTuple):
    """A withdrawal in force whose raw answers are not blanked yet: the person, the day they withdrew, the
    submissions to blank (the purge's rule consent_withdrawn)."""

    person_uuid: str
    withdrawn_on: dt.date
    scrubs: list[ConsentScrub]


def pending_withdrawals() -> list[PendingWithdrawal]:
    """The withdrawals in force that a purge has still to act on (their covered raw answers not yet blanked)."""
    pending = []
    for withdrawal in queries.withdrawals():
        scrubs = _scrubs(_covered([withdrawal]))
        if scrubs:
            day = dt.date.fromisoformat(withdrawal.day) if withdrawal.day else dt.date.min
            pending.append(PendingWithdrawal(withdrawal.person_uuid, day, scrubs))
    return pending


def visible_xml(submission_id: int, xml: bytes) -> bytes:
    """A raw submission as staff may read it: without the answers the withdrawals in force cover, nor the names
    told with a consent refused."""
    people: set[str] = set()
    households: set[str] = set()
    for withdrawal in queries.withdrawals(covering=submission_id):
        people |= _with_merged({withdrawal.person_uuid})
        households |= _with_merged({withdrawal.household_uuid})
    return scrub_submission(xml, consent_scrub(xml, people=people, households=households))
